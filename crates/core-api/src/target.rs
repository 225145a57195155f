//! The contract between the engine and a tenant.
//!
//! The engine (planner and executor in `batch-cli`) only ever talks to a tenant through
//! [`Target`]. The Qlik and Alumio clients implement it; the shapes here are the engine's needs,
//! not a vendor's payloads, so that one plan, journal and progress display serve both.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// The error every target call returns: the crate's [`crate::Error`], with its status, API code,
/// [`crate::Error::kind_code`] and retry information.
pub type TargetError = crate::Error;

/// Which vendor a target speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// Qlik Cloud: assignments per space for users and groups, one write per assignment.
    Qlik,
    /// Alumio: users assigned to spaces by email, in bulk.
    Alumio,
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TargetKind::Qlik => "qlik",
            TargetKind::Alumio => "alumio",
        })
    }
}

/// Whether an assignee is a single user or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssigneeKind {
    /// A user, named in rosters by email.
    User,
    /// A group, named in rosters by its exact name.
    Group,
}

impl fmt::Display for AssigneeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AssigneeKind::User => "user",
            AssigneeKind::Group => "group",
        })
    }
}

/// A space as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceInfo {
    /// The tenant's id for the space (Alumio: the space identifier).
    pub id: String,
    /// The display name, unique in a tenant.
    pub name: String,
    /// `shared`, `managed` or `data` on Qlik; empty where the vendor has no types.
    pub space_type: String,
    /// The owner's user id; owners hold every role and need no assignment.
    pub owner_id: Option<String>,
    /// The roles this space accepts (Qlik: `meta.assignableRoles`).
    pub assignable_roles: Vec<String>,
    /// Free text from the tenant, carried over when a migration creates the space.
    pub description: Option<String>,
}

/// A user as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// The tenant's id (Alumio: the email itself).
    pub id: String,
    /// The email, the key rosters use.
    pub email: Option<String>,
    /// The identity provider's subject, the fallback key across tenants.
    pub subject: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// `active`, `invited`, `disabled`, ... as the tenant reports it.
    pub status: Option<String>,
}

/// A group as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    /// The tenant's id.
    pub id: String,
    /// The exact, case-sensitive name.
    pub name: String,
}

/// One existing assignment of a space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentInfo {
    /// The tenant's id for the assignment (Alumio: the member's email).
    pub id: String,
    /// User or group.
    pub assignee_kind: AssigneeKind,
    /// The user or group id.
    pub assignee_id: String,
    /// The roles held, as the API spells them.
    pub roles: Vec<String>,
}

/// One write the executor asks a target to make in a space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteOp {
    /// Give an assignee roles in a space where it has none.
    Create {
        /// User or group.
        assignee_kind: AssigneeKind,
        /// The resolved user or group id.
        assignee_id: String,
        /// The roles to grant (non-empty).
        roles: Vec<String>,
    },
    /// Replace the roles of an existing assignment with a full list.
    Update {
        /// The existing assignment.
        assignment_id: String,
        /// User or group.
        assignee_kind: AssigneeKind,
        /// The resolved user or group id.
        assignee_id: String,
        /// The complete new list of roles (non-empty).
        roles: Vec<String>,
    },
    /// Remove an assignment (sync with prune).
    Delete {
        /// The existing assignment.
        assignment_id: String,
        /// User or group.
        assignee_kind: AssigneeKind,
        /// The resolved user or group id.
        assignee_id: String,
    },
}

/// What a successful write did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteOutcome {
    /// The assignment was created.
    Created(Option<AssignmentInfo>),
    /// A create found the assignment already there (a 409, or a retried create whose first
    /// response was lost). The engine compares the roles and decides to update or skip.
    AlreadyExists(AssignmentInfo),
    /// The roles were replaced.
    Updated(Option<AssignmentInfo>),
    /// The assignment was removed (or was already gone).
    Deleted,
}

/// What a target can and cannot do, so the engine can plan around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// The most writes one [`Target::write`] call may carry (1 for Qlik).
    pub max_batch: usize,
    /// Whether groups can be assigned (false for Alumio).
    pub groups: bool,
    /// Whether assignments can be deleted (prune).
    pub delete: bool,
    /// Whether adding a member sends them an email (Alumio), so the planner can warn.
    pub emails_new_members: bool,
    /// Whether [`Target::list_assignments_of`] answers with the whole space whatever ids it is
    /// given, so the planner may read a space before its assignees are resolved (Qlik). False
    /// where the listing may read just the members asked for (Alumio's fallback).
    pub lists_whole_space: bool,
}

/// How a target is driven by the engine. Every method is one logical call; the implementation
/// handles paging, rate limits and retries, and reports progress through its observer.
#[async_trait]
pub trait Target: Send + Sync {
    /// The vendor.
    fn kind(&self) -> TargetKind;

    /// What this target supports.
    fn capabilities(&self) -> Capabilities;

    /// Every space in the tenant (paging at the largest page size).
    async fn list_spaces(&self) -> Result<Vec<SpaceInfo>, TargetError>;

    /// Find one space by exact name (case-sensitive), without listing the whole tenant.
    async fn find_space_by_name(&self, name: &str) -> Result<Option<SpaceInfo>, TargetError>;

    /// Whether a roster naming a space `name` means `space`, so that matching against a full
    /// listing agrees with [`Target::find_space_by_name`]. By default the exact name.
    fn space_answers_to(&self, space: &SpaceInfo, name: &str) -> bool {
        space.name == name
    }

    /// Get one space by id; `None` when the tenant says 404.
    async fn get_space(&self, id: &str) -> Result<Option<SpaceInfo>, TargetError>;

    /// Look up users by email in as few requests as the API allows. Emails match
    /// case-insensitively; users not found are simply absent from the result.
    async fn find_users_by_email(&self, emails: &[String]) -> Result<Vec<UserInfo>, TargetError>;

    /// Every user in the tenant (paging at the largest page size).
    async fn list_users(&self) -> Result<Vec<UserInfo>, TargetError>;

    /// How many requests [`Target::find_users_by_email`] sends for these emails, so the planner
    /// can compare with paging the whole directory ([`Target::list_page_size`] users a request).
    fn user_lookup_requests(&self, emails: &[String]) -> usize {
        emails.len()
    }

    /// How many requests [`Target::find_groups_by_name`] sends for these names.
    fn group_lookup_requests(&self, names: &[String]) -> usize {
        names.len()
    }

    /// How many items one page of [`Target::list_users`] or [`Target::list_groups`] holds.
    fn list_page_size(&self) -> usize {
        100
    }

    /// Look up groups by exact name in as few requests as the API allows.
    async fn find_groups_by_name(&self, names: &[String]) -> Result<Vec<GroupInfo>, TargetError>;

    /// Every group in the tenant.
    async fn list_groups(&self) -> Result<Vec<GroupInfo>, TargetError>;

    /// Every assignment of one space (owners are not listed).
    async fn list_assignments(&self, space: &SpaceInfo) -> Result<Vec<AssignmentInfo>, TargetError>;

    /// The assignments of one space that the planner needs: those of `assignee_ids` (resolved
    /// ids). The answer may hold more (the default lists the whole space, one listing being
    /// cheaper than a read per assignee); a target that can only read one member at a time
    /// (Alumio without its list endpoint) reads just these.
    async fn list_assignments_of(
        &self,
        space: &SpaceInfo,
        assignee_ids: &[String],
    ) -> Result<Vec<AssignmentInfo>, TargetError> {
        let _ = assignee_ids;
        self.list_assignments(space).await
    }

    /// Apply up to [`Capabilities::max_batch`] writes to one space. The result has one entry per
    /// op, in order, so each roster row gets its own outcome even when the vendor writes in bulk.
    async fn write(&self, space: &SpaceInfo, ops: &[WriteOp]) -> Vec<Result<WriteOutcome, TargetError>>;

    /// Create a space (migrate with `--create-missing-spaces`).
    async fn create_space(
        &self,
        name: &str,
        space_type: &str,
        description: Option<&str>,
    ) -> Result<SpaceInfo, TargetError>;

    /// Create a group (migrate with `--create-missing-groups`).
    async fn create_group(&self, name: &str) -> Result<GroupInfo, TargetError>;

    /// The members of a group, for expanding group rows towards targets without groups.
    async fn list_group_members(&self, group: &GroupInfo) -> Result<Vec<UserInfo>, TargetError>;

    /// The tenant's settings, roles, groups' roles and spaces, for `roster tenant`; `None` where
    /// the vendor's API has no such thing (the default, Alumio's answer).
    fn tenant_config(&self) -> Option<&dyn crate::tenant::TenantConfig> {
        None
    }
}
