//! What was there before a run changed it: the journal's `before` lines, written when a write is
//! about to be sent (the executor's `RowStarted`), from the state the plan already read. A crash
//! between that line and the write loses nothing: the line is in the file before the request
//! leaves, and an undo compares it with the tenant as it is then.
//!
//! A line is `{"before":{"what":"assignment",...}}`. `what` names the kind of thing changed;
//! readers skip kinds they do not know, so that other changes (a tenant file's group roles, space
//! settings and descriptions) can record theirs as new kinds without a new journal version.

use serde::{Deserialize, Serialize};

use crate::model::{Action, AssigneeRef, PlanItem, RowKey};
use core_api::target::AssigneeKind;

/// One `before` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeforeLine {
    /// The state before the change.
    pub before: Before,
}

/// The state of one thing before a run changed it, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Before {
    /// A space assignment, before a create, an update or a delete.
    Assignment(Box<AssignmentBefore>),
    /// The group settings a write changes, before it (tenant files).
    GroupSettings(SettingsBefore),
    /// The license settings a write changes, before it (tenant files).
    LicenseSettings(SettingsBefore),
    /// A group, before it is created (or deleted by an undo).
    Group(GroupBefore),
    /// A group's tenant roles, before they are replaced.
    GroupRoles(GroupRolesBefore),
    /// A space, before it is created (or deleted by an undo).
    Space(SpaceBefore),
    /// A space's description, before it is replaced.
    SpaceDescription(SpaceDescriptionBefore),
    /// A kind this release does not know (written by a newer one): skipped.
    #[serde(other)]
    Unknown,
}

impl Before {
    /// Whether this is a tenant configuration kind (everything but an assignment).
    pub fn is_config(&self) -> bool {
        !matches!(self, Before::Assignment(_) | Before::Unknown)
    }

    /// When the line was written, milliseconds since the Unix epoch.
    pub fn at(&self) -> u64 {
        match self {
            Before::Assignment(a) => a.at,
            Before::GroupSettings(s) | Before::LicenseSettings(s) => s.at,
            Before::Group(g) => g.at,
            Before::GroupRoles(g) => g.at,
            Before::Space(s) => s.at,
            Before::SpaceDescription(s) => s.at,
            Before::Unknown => 0,
        }
    }
}

/// Settings before a write: the values it changes, by the tenant file's key
/// (`auto_create_groups`, `auto_assign_analyzer`, ...), and the values it leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsBefore {
    /// When the line was written, milliseconds since the Unix epoch.
    pub at: u64,
    /// The values before.
    pub before: std::collections::BTreeMap<String, bool>,
    /// The values the write leaves.
    pub after: std::collections::BTreeMap<String, bool>,
}

/// A group before a create (it did not exist) or a delete (it had these roles).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupBefore {
    /// When the line was written, milliseconds since the Unix epoch.
    pub at: u64,
    /// `create`: there was no such group; `delete`: there was, and it is removed.
    pub change: Change,
    /// The group's name.
    pub group: String,
    /// The group's id: a delete's; a create's comes with the tenant journal's record of the write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// The tenant roles it is created with, or had before its delete.
    pub roles: Vec<String>,
}

/// A group's tenant roles before a write replaces them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRolesBefore {
    /// When the line was written, milliseconds since the Unix epoch.
    pub at: u64,
    /// The group's id.
    pub group_id: String,
    /// The group's name.
    pub group: String,
    /// The roles before.
    pub roles: Vec<String>,
    /// The roles the write leaves.
    pub after: Vec<String>,
}

/// A space before a create (it did not exist) or a delete (it was there, like this).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceBefore {
    /// When the line was written, milliseconds since the Unix epoch.
    pub at: u64,
    /// `create`: there was no such space; `delete`: there was, and it is removed.
    pub change: Change,
    /// The space's name.
    pub space: String,
    /// The space's id: a delete's; a create's comes with the tenant journal's record of the write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_id: Option<String>,
    /// `shared`, `managed` or `data`.
    pub space_type: String,
    /// Its description (at creation, or before the delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A space's description before a write replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceDescriptionBefore {
    /// When the line was written, milliseconds since the Unix epoch.
    pub at: u64,
    /// The space's id.
    pub space_id: String,
    /// The space's name.
    pub space: String,
    /// The description before (`None`: it had none).
    pub description: Option<String>,
    /// The description the write leaves.
    pub after: String,
}

/// What a write does to an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// It creates the assignment: nothing was there.
    Create,
    /// It replaces the assignment's roles.
    Update,
    /// It removes the assignment.
    Delete,
}

/// An assignment before a write: who, where, and the roles before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentBefore {
    /// The row's key in its run.
    pub key: RowKey,
    /// The row's line in the run's roster (0 for a prune delete).
    pub line: u64,
    /// When the line was written, milliseconds since the Unix epoch: just before the write.
    pub at: u64,
    /// What the write does.
    pub change: Change,
    /// The space's id.
    pub space_id: String,
    /// The space's name.
    pub space: String,
    /// User or group.
    pub assignee_kind: AssigneeKind,
    /// The user's or group's id.
    pub assignee_id: String,
    /// The assignee as the roster named it (email, group name or id).
    pub assignee: String,
    /// The assignment's id, for an update or a delete (a create's comes with its record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_id: Option<String>,
    /// The roles before the write; `None`: there was no assignment.
    pub roles: Option<Vec<String>>,
    /// The roles the write leaves; `None`: the assignment is removed.
    pub after: Option<Vec<String>>,
    /// A create found the assignment already there (a 409): this line, written before the
    /// update that follows, holds the roles it had, and takes the create's line's place.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub existing: bool,
}

impl AssignmentBefore {
    /// The before-state of `item`'s write, from its plan; `None` when the item sends no write
    /// (nothing to do, an error, or no resolved space or assignee, in which case nothing is sent).
    pub fn of(item: &PlanItem, at: u64) -> Option<AssignmentBefore> {
        let space = item.space_info.as_ref()?;
        let assignee_id = item.assignee_id.clone()?;
        let (change, assignment_id, roles, after) = match &item.action {
            Action::Create { roles } => (Change::Create, None, None, Some(roles.clone())),
            Action::Update {
                assignment_id,
                old,
                new,
            } => (
                Change::Update,
                Some(assignment_id.clone()),
                Some(old.clone()),
                Some(new.clone()),
            ),
            Action::Delete { assignment_id, roles } => (
                Change::Delete,
                Some(assignment_id.clone()),
                Some(roles.clone()),
                None,
            ),
            Action::Unchanged { .. } | Action::Error(_) => return None,
        };
        let assignee = match &item.assignee {
            AssigneeRef::Email(v) | AssigneeRef::Name(v) | AssigneeRef::Id(v) => v.clone(),
        };
        Some(AssignmentBefore {
            key: item.key.clone(),
            line: item.line,
            at,
            change,
            space_id: space.id.clone(),
            space: space.name.clone(),
            assignee_kind: item.assignee_kind,
            assignee_id,
            assignee,
            assignment_id,
            roles,
            after,
            existing: false,
        })
    }
}

/// A `throttled` line: the tenant answered 429 and every write paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttled {
    /// When, milliseconds since the Unix epoch.
    pub at: u64,
    /// How long the pause lasted, milliseconds.
    pub resume_in_ms: u64,
}

/// A `retry` line: a row's write failed transiently and was tried again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retry {
    /// When, milliseconds since the Unix epoch.
    pub at: u64,
    /// The row's line.
    pub line: u64,
    /// The attempt about to be made (2 = first retry).
    pub attempt: u32,
    /// Why.
    pub cause: String,
}

/// A `finished` line: one process of the run stopped, with the totals its summary printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessEnd {
    /// When, milliseconds since the Unix epoch.
    pub at: u64,
    /// How long its execution took, milliseconds.
    pub elapsed_ms: u64,
    /// Whether it stopped early.
    pub interrupted: bool,
    /// Its final totals.
    pub totals: crate::model::Totals,
}

/// What a journal writer keeps between events for the history: the ids of rows just created,
/// and the write count its last record accounted for.
#[derive(Debug, Default)]
pub struct Pending {
    /// Created assignment ids by plan index, until the row's record takes it.
    pub created: std::collections::HashMap<usize, String>,
    writes: u64,
}

impl Pending {
    /// The writes since the last record, given the run's total so far.
    pub fn writes_until(&mut self, total: u64) -> u64 {
        let new = total.saturating_sub(self.writes);
        self.writes = self.writes.max(total);
        new
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_kind_reads_as_unknown() {
        let line: BeforeLine =
            serde_json::from_str(r#"{"before":{"what":"space_settings","space_id":"s1"}}"#).unwrap();
        assert_eq!(line.before, Before::Unknown);
    }
}
