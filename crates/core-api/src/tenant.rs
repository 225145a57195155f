//! What configuring a whole tenant needs beyond assignments: group and license settings, tenant
//! roles, groups with their roles, spaces with descriptions, and who the credential acts as.
//!
//! A separate trait from [`crate::target::Target`], reached through
//! [`crate::target::Target::tenant_config`]: a vendor without these APIs (Alumio) answers `None`
//! there and implements nothing here. The shapes are the engine's, not a vendor's payloads.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::target::{GroupInfo, SpaceInfo, TargetError};

/// The tenant's group settings the tool manages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSettings {
    /// Create groups from the identity provider's claims when users log in.
    pub auto_create_groups: bool,
    /// Synchronise the identity provider's groups (deprecated by Qlik, still honoured).
    pub sync_idp_groups: bool,
}

/// Changes to [`GroupSettings`]: `Some` values are replaced, `None` ones left alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSettingsPatch {
    /// New `autoCreateGroups`.
    pub auto_create_groups: Option<bool>,
    /// New `syncIdpGroups`.
    pub sync_idp_groups: Option<bool>,
}

impl GroupSettingsPatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.auto_create_groups.is_none() && self.sync_idp_groups.is_none()
    }
}

/// The tenant's license auto-assignment settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseSettings {
    /// Give new users a professional license automatically.
    pub auto_assign_professional: bool,
    /// Give new users an analyzer license automatically.
    pub auto_assign_analyzer: bool,
}

/// A tenant role (`TenantAdmin`, `AnalyticsAdmin`, a custom role, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleInfo {
    /// The tenant's id for the role.
    pub id: String,
    /// The unique, case-sensitive name.
    pub name: String,
    /// `default` or `custom`.
    pub role_type: String,
    /// `admin` or `user`.
    pub level: String,
}

/// A group with the tenant roles it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupWithRoles {
    /// Id and name.
    pub group: GroupInfo,
    /// The names of its tenant roles.
    pub roles: Vec<String>,
    /// `idp` or `custom`, as the tenant reports it.
    pub provider_type: Option<String>,
}

/// The user a credential acts as, with its tenant roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// The user's id.
    pub id: String,
    /// Email, when the tenant has one.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// The tenant.
    pub tenant_id: Option<String>,
    /// The names of the user's own tenant roles (not those it holds through groups).
    pub roles: Vec<String>,
}

/// The role a credential's user needs to read or write a tenant's configuration (roles, group
/// and license settings): only a tenant admin may.
pub const ADMIN_ROLE: &str = "TenantAdmin";

/// How the engine reads and changes a tenant's configuration. Every method is one logical call;
/// the implementation handles paging, rate limits and retries as [`crate::target::Target`]'s do.
#[async_trait]
pub trait TenantConfig: Send + Sync {
    /// The group settings.
    async fn group_settings(&self) -> Result<GroupSettings, TargetError>;

    /// Replace the settings the patch names, in one request.
    async fn patch_group_settings(&self, patch: &GroupSettingsPatch) -> Result<(), TargetError>;

    /// The license settings.
    async fn license_settings(&self) -> Result<LicenseSettings, TargetError>;

    /// Write the whole license settings object (read it first: the API replaces it).
    async fn put_license_settings(&self, settings: &LicenseSettings) -> Result<LicenseSettings, TargetError>;

    /// Every tenant role.
    async fn list_roles(&self) -> Result<Vec<RoleInfo>, TargetError>;

    /// Every group, with its tenant roles.
    async fn list_groups_with_roles(&self) -> Result<Vec<GroupWithRoles>, TargetError>;

    /// Create a group (made in the tenant, not by the identity provider) holding `roles` (names).
    /// A retried create whose first response was lost finds the group and sets its roles.
    async fn create_group_with_roles(&self, name: &str, roles: &[String]) -> Result<GroupInfo, TargetError>;

    /// Make a group's tenant roles exactly `roles` (names).
    async fn set_group_roles(&self, group_id: &str, roles: &[String]) -> Result<(), TargetError>;

    /// Create a space of a type, with a description.
    async fn create_space_described(
        &self,
        name: &str,
        space_type: &str,
        description: Option<&str>,
    ) -> Result<SpaceInfo, TargetError>;

    /// Replace a space's description.
    async fn set_space_description(&self, space_id: &str, description: &str) -> Result<(), TargetError>;

    /// Delete a group (`DELETE /groups/{id}`): an undo removes the group a run created.
    async fn delete_group(&self, group_id: &str) -> Result<(), TargetError>;

    /// Delete a space (`DELETE /spaces/{id}`): an undo removes the space a run created. The
    /// tenant refuses a space that still holds content (412).
    async fn delete_space(&self, space_id: &str) -> Result<(), TargetError>;

    /// The user the credential acts as.
    async fn me(&self) -> Result<Me, TargetError>;
}
