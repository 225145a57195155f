//! What one row comes to once its facts are known: the checks a row must pass before its space's
//! assignments matter (space and assignee found, not the space's owner, roles assignable), and
//! the diff of its roles against an existing assignment. The planner applies them; the executor
//! repeats the diff when a write finds the tenant changed.

use core_api::target::{AssigneeKind, AssignmentInfo, SpaceInfo};

use crate::model::{Action, AssigneeRef, Mode, PlanItem, RowError, SpaceRef};

/// A row error decided by the planner (no request was made for it).
pub(crate) fn err(code: &str, message: String) -> Action {
    Action::Error(RowError {
        code: code.to_owned(),
        http_status: None,
        message,
        attempts: 0,
    })
}

fn describe_space(space: &SpaceRef) -> String {
    match space {
        SpaceRef::Name(name) => format!("space {name:?}"),
        SpaceRef::Id(id) => format!("space with id {id:?}"),
    }
}

fn describe_assignee(kind: AssigneeKind, assignee: &AssigneeRef) -> String {
    match assignee {
        AssigneeRef::Email(v) | AssigneeRef::Name(v) => format!("{kind} {v:?}"),
        AssigneeRef::Id(id) => format!("{kind} with id {id:?}"),
    }
}

/// Compare a row's roles with the existing assignment and decide.
pub(crate) fn diff(mode: Mode, wanted: &[String], existing: Option<&AssignmentInfo>) -> Action {
    let Some(existing) = existing else {
        return Action::Create {
            roles: wanted.to_vec(),
        };
    };
    let old = role_set(&existing.roles);
    let new = target_roles(mode, wanted, &old);
    if new == old {
        Action::Unchanged { roles: old }
    } else {
        Action::Update {
            assignment_id: existing.id.clone(),
            old,
            new,
        }
    }
}

/// The full role list an assignee should end with, given what it has (`old`, sorted).
pub(crate) fn target_roles(mode: Mode, wanted: &[String], old: &[String]) -> Vec<String> {
    let new: Vec<String> = match mode {
        Mode::Merge => old.iter().chain(wanted).cloned().collect(),
        Mode::Exact => wanted.to_vec(),
    };
    role_set(&new)
}

/// Roles sorted and deduplicated, the form roles are compared in.
pub(crate) fn role_set(roles: &[String]) -> Vec<String> {
    let mut set = roles.to_vec();
    set.sort_unstable();
    set.dedup();
    set
}

/// The row errors found before reading assignments, or `None` when the row needs a diff.
pub(crate) fn check(
    item: &PlanItem,
    space: Option<&SpaceInfo>,
    assignee_id: Option<&String>,
) -> Option<Action> {
    let Some(space) = space else {
        return Some(err(
            "unknown_space",
            format!("{} not found", describe_space(&item.space)),
        ));
    };
    let Some(assignee_id) = assignee_id else {
        let code = match item.assignee_kind {
            AssigneeKind::User => "unknown_user",
            AssigneeKind::Group => "unknown_group",
        };
        return Some(err(
            code,
            format!(
                "{} not found",
                describe_assignee(item.assignee_kind, &item.assignee)
            ),
        ));
    };
    if item.assignee_kind == AssigneeKind::User && space.owner_id.as_deref() == Some(assignee_id.as_str()) {
        return Some(err(
            "space_owner",
            format!(
                "{} owns space {:?} and holds every role already",
                describe_assignee(item.assignee_kind, &item.assignee),
                space.name
            ),
        ));
    }
    // An empty list means the vendor does not say; the write will tell.
    if !space.assignable_roles.is_empty() {
        let bad: Vec<&str> = item
            .roles
            .iter()
            .filter(|r| !space.assignable_roles.contains(r))
            .map(String::as_str)
            .collect();
        if !bad.is_empty() {
            let kind = if space.space_type.is_empty() {
                String::new()
            } else {
                format!("{} ", space.space_type)
            };
            let noun = if bad.len() == 1 { "role" } else { "roles" };
            return Some(err(
                "role_not_assignable",
                format!(
                    "{noun} {} cannot be assigned in {kind}space {:?} (assignable: {})",
                    bad.join(", "),
                    space.name,
                    space.assignable_roles.join(", ")
                ),
            ));
        }
    }
    None
}
