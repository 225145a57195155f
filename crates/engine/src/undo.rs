//! Planning the reverse of a run (`roster undo`): from the before-state the run recorded for
//! each write, and the tenant as it is now, a plan the executor runs like any other.
//!
//! For every assignment the run changed (or was about to change when it stopped):
//! - now as before the run: nothing to do;
//! - now as the run left it: write it back (delete what was created, restore changed roles,
//!   create again what was deleted);
//! - anything else was changed since, by someone or something else: a `conflict` row, skipped,
//!   unless `force`, which writes the before-state over that later change.
//!
//! Rows the target cannot reverse are `cannot_undo` rows saying why (Alumio has no call that
//! removes a member, so its creates stay).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use core_api::target::{AssigneeKind, AssignmentInfo, SpaceInfo, Target};
use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::before::{AssignmentBefore, Change};
use crate::history::RunRecord;
use crate::journal::RecordOutcome;
use crate::model::{Action, AssigneeRef, Mode, Plan, PlanCounts, PlanItem, RowError, RowKey, SpaceRef};
use crate::plan::role_set;

/// Row code of a change made since the run, left alone.
pub const CONFLICT: &str = "conflict";
/// Row code of a change the target cannot reverse.
pub const CANNOT_UNDO: &str = "cannot_undo";

/// One change of the run to reverse: its before-state and how its row ended (none when the run
/// stopped before the row's record).
#[derive(Debug, Clone)]
pub struct Changed {
    /// What was there before, and what the write left.
    pub before: AssignmentBefore,
    /// The row's last outcome in the run.
    pub outcome: Option<RecordOutcome>,
}

/// The run's changes, in the order it made them: every row with a before-state whose record is
/// not `unchanged` (a create that found the assignment as the roster wanted changed nothing).
pub fn changes(run: &RunRecord) -> Vec<Changed> {
    let outcomes: HashMap<&RowKey, RecordOutcome> = run
        .final_records()
        .into_iter()
        .map(|r| (&r.key, r.outcome))
        .collect();
    let mut changes: Vec<Changed> = run
        .before_of()
        .into_values()
        .map(|before| Changed {
            before: before.clone(),
            outcome: outcomes.get(&before.key).copied(),
        })
        .filter(|c| c.outcome != Some(RecordOutcome::Unchanged))
        .collect();
    changes.sort_by_key(|c| (c.before.at, c.before.line));
    changes
}

/// A space as it is now: its assignments by assignee, or why it could not be read.
pub type Current =
    Result<Option<(Arc<SpaceInfo>, HashMap<(AssigneeKind, String), AssignmentInfo>)>, RowError>;

/// Read the spaces the changes touch, `concurrency` at a time.
pub async fn read_current(
    target: &dyn Target,
    changes: &[Changed],
    concurrency: usize,
) -> HashMap<String, Current> {
    let mut ids: Vec<&str> = changes.iter().map(|c| c.before.space_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    futures::stream::iter(ids)
        .map(|id| async move {
            let current: Current = async {
                let Some(space) = target
                    .get_space(id)
                    .await
                    .map_err(|e| RowError::from_target(&e))?
                else {
                    return Ok(None);
                };
                let assignments = target
                    .list_assignments(&space)
                    .await
                    .map_err(|e| RowError::from_target(&e))?;
                let by_assignee = assignments
                    .into_iter()
                    .map(|a| ((a.assignee_kind, a.assignee_id.clone()), a))
                    .collect();
                Ok(Some((Arc::new(space), by_assignee)))
            }
            .await;
            (id.to_owned(), current)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// Plan the rows of space `space` as if it were there and empty: an undo creates it again
/// (under a new id, [`retarget`] puts in) before it writes its assignments.
pub fn assume_empty(current: &mut HashMap<String, Current>, space: SpaceInfo) {
    current.insert(space.id.clone(), Ok(Some((Arc::new(space), HashMap::new()))));
}

/// Point the plan's rows at the new ids of spaces and groups created again since it was made
/// (old id to new space, old group id to new id).
pub fn retarget(plan: &mut Plan, spaces: &HashMap<String, SpaceInfo>, groups: &HashMap<String, String>) {
    for item in &mut plan.items {
        if let Some(new) = item.space_info.as_ref().and_then(|info| spaces.get(&info.id)) {
            item.space_info = Some(Arc::new(new.clone()));
        }
        if item.assignee_kind == AssigneeKind::Group
            && let Some(new) = item.assignee_id.as_ref().and_then(|id| groups.get(id))
        {
            item.assignee_id = Some(new.clone());
        }
    }
}

/// The key of an undo row: the reversed row's key within the reversed run.
fn undo_key(run_id: &str, key: &RowKey) -> RowKey {
    let mut hash = Sha256::new();
    hash.update(b"roster-undo/1\x00");
    hash.update(run_id.as_bytes());
    hash.update(b"\x00");
    hash.update(key.0.as_bytes());
    RowKey(hex::encode(&hash.finalize()[..16]))
}

fn error(code: &str, message: String) -> Action {
    Action::Error(RowError {
        code: code.to_owned(),
        http_status: None,
        message,
        attempts: 0,
    })
}

fn roles_text(roles: Option<&[String]>) -> String {
    roles.map_or_else(|| "no assignment".to_owned(), |r| r.join(", "))
}

/// The plan that reverses `changes` of run `run_id` against `target` as `current` says it is.
/// Row `i` is line `i + 2` of the undo's roster (after its header).
pub fn plan(
    target_name: &str,
    target: &dyn Target,
    run_id: &str,
    changes: &[Changed],
    current: &HashMap<String, Current>,
    force: bool,
) -> Plan {
    let caps = target.capabilities();
    let items = changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let b = &c.before;
            let (space_info, action) = match current.get(&b.space_id) {
                None => (None, error("internal", "the space was not read".to_owned())),
                Some(Err(e)) => (None, Action::Error(e.clone())),
                // A space gone with the assignment the run created in it: as before the run.
                Some(Ok(None)) if b.roles.is_none() => (None, Action::Unchanged { roles: Vec::new() }),
                Some(Ok(None)) => (
                    None,
                    error(
                        "unknown_space",
                        format!("space {} ({}) no longer exists", b.space, b.space_id),
                    ),
                ),
                Some(Ok(Some((space, by_assignee)))) => {
                    let now = by_assignee.get(&(b.assignee_kind, b.assignee_id.clone()));
                    let action = reverse(run_id, c, now, caps.delete, target.kind(), force);
                    (Some(Arc::clone(space)), action)
                }
            };
            let roles = match &action {
                Action::Create { roles } | Action::Unchanged { roles } => roles.clone(),
                Action::Update { new, .. } => new.clone(),
                Action::Delete { roles, .. } => roles.clone(),
                Action::Error(_) => b.roles.clone().or_else(|| b.after.clone()).unwrap_or_default(),
            };
            let assignee = match (b.assignee_kind, b.assignee.contains('@')) {
                (AssigneeKind::User, true) => AssigneeRef::Email(b.assignee.clone()),
                (AssigneeKind::Group, _) => AssigneeRef::Name(b.assignee.clone()),
                _ => AssigneeRef::Id(b.assignee.clone()),
            };
            PlanItem {
                line: i as u64 + 2,
                key: undo_key(run_id, &b.key),
                space: SpaceRef::Name(b.space.clone()),
                space_info,
                assignee_kind: b.assignee_kind,
                assignee,
                stated_type: None,
                assignee_id: Some(b.assignee_id.clone()),
                roles,
                action,
            }
        })
        .collect();
    let mut plan = Plan {
        target: target_name.to_owned(),
        mode: Mode::Exact,
        items,
        counts: PlanCounts::default(),
        write_calls: 0,
        min_write_time: Duration::ZERO,
        write_time_estimated: false,
    };
    crate::plan::prune::recount(&mut plan, &caps, None);
    plan
}

/// What to do with one change, given the assignment now (`None`: there is none).
fn reverse(
    run_id: &str,
    c: &Changed,
    now: Option<&AssignmentInfo>,
    can_delete: bool,
    kind: core_api::target::TargetKind,
    force: bool,
) -> Action {
    let b = &c.before;
    if c.before.change == Change::Create && c.outcome == Some(RecordOutcome::Updated) {
        return error(
            CANNOT_UNDO,
            "cannot be undone: the assignment already existed when the run went to create it, and \
             the roles it had then are not known"
                .to_owned(),
        );
    }
    let before = b.roles.as_deref().map(role_set);
    let after = b.after.as_deref().map(role_set);
    let current = now.map(|a| role_set(&a.roles));
    if current == before {
        return Action::Unchanged {
            roles: current.unwrap_or_default(),
        };
    }
    if current != after && !force {
        return error(
            CONFLICT,
            format!(
                "conflict: changed since run {run_id}: {} now, the run left {}; left alone (--force undoes it anyway)",
                roles_text(current.as_deref()),
                roles_text(after.as_deref())
            ),
        );
    }
    match (before, now) {
        (None, Some(now)) if !can_delete => error(
            CANNOT_UNDO,
            format!(
                "cannot be undone: {kind} has no call that removes a member, so the assignment the run \
                 created ({}) stays",
                now.roles.join(", ")
            ),
        ),
        (None, Some(now)) => Action::Delete {
            assignment_id: now.id.clone(),
            roles: now.roles.clone(),
        },
        (Some(roles), None) => Action::Create { roles },
        (Some(roles), Some(now)) => Action::Update {
            assignment_id: now.id.clone(),
            old: now.roles.clone(),
            new: roles,
        },
        (None, None) => Action::Unchanged { roles: Vec::new() },
    }
}

/// The undo's roster: one row per plan item, by ids, so the failed-rows CSV can name each
/// row's line and be applied as a roster.
pub fn roster_csv(plan: &Plan) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["space_id", "type", "assignee_id", "roles"])?;
    for item in &plan.items {
        let space_id = match (&item.space_info, &item.space) {
            (Some(info), _) => info.id.clone(),
            (None, SpaceRef::Name(v) | SpaceRef::Id(v)) => v.clone(),
        };
        out.write_record([
            space_id,
            item.assignee_kind.to_string(),
            item.assignee_id.clone().unwrap_or_default(),
            item.roles.join(";"),
        ])?;
    }
    out.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use core_api::target::TargetKind;

    fn roles(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| (*s).to_owned()).collect()
    }

    fn changed(change: Change, before: Option<&[&str]>, after: Option<&[&str]>) -> Changed {
        Changed {
            before: AssignmentBefore {
                key: RowKey("k".to_owned()),
                line: 2,
                at: 0,
                change,
                space_id: "s0".to_owned(),
                space: "Space 0".to_owned(),
                assignee_kind: AssigneeKind::User,
                assignee_id: "u0".to_owned(),
                assignee: "user0@example.com".to_owned(),
                assignment_id: None,
                roles: before.map(roles),
                after: after.map(roles),
                existing: false,
            },
            outcome: Some(RecordOutcome::Created),
        }
    }

    fn now(r: &[&str]) -> AssignmentInfo {
        AssignmentInfo {
            id: "a1".to_owned(),
            assignee_kind: AssigneeKind::User,
            assignee_id: "u0".to_owned(),
            roles: roles(r),
        }
    }

    fn code(action: &Action) -> Option<&str> {
        match action {
            Action::Error(e) => Some(e.code.as_str()),
            _ => None,
        }
    }

    #[test]
    fn each_change_is_reversed_when_the_tenant_holds_what_the_run_left() {
        let create = changed(Change::Create, None, Some(&["consumer"]));
        let a = reverse(
            "r",
            &create,
            Some(&now(&["consumer"])),
            true,
            TargetKind::Qlik,
            false,
        );
        assert!(matches!(a, Action::Delete { ref assignment_id, .. } if assignment_id == "a1"));

        let update = changed(Change::Update, Some(&["consumer"]), Some(&["producer"]));
        let a = reverse(
            "r",
            &update,
            Some(&now(&["producer"])),
            true,
            TargetKind::Qlik,
            false,
        );
        assert!(matches!(a, Action::Update { ref new, .. } if *new == roles(&["consumer"])));

        let delete = changed(Change::Delete, Some(&["consumer"]), None);
        let a = reverse("r", &delete, None, true, TargetKind::Qlik, false);
        assert!(matches!(a, Action::Create { ref roles } if *roles == vec!["consumer".to_owned()]));
    }

    #[test]
    fn later_changes_are_conflicts_unless_forced_and_the_before_state_is_unchanged() {
        let update = changed(Change::Update, Some(&["consumer"]), Some(&["producer"]));
        let later = now(&["facilitator"]);
        let a = reverse("r", &update, Some(&later), true, TargetKind::Qlik, false);
        assert_eq!(code(&a), Some(CONFLICT));
        let a = reverse("r", &update, Some(&later), true, TargetKind::Qlik, true);
        assert!(matches!(a, Action::Update { .. }));
        let a = reverse(
            "r",
            &update,
            Some(&now(&["consumer"])),
            true,
            TargetKind::Qlik,
            false,
        );
        assert!(matches!(a, Action::Unchanged { .. }));
        // A create whose assignment is gone since: already as before.
        let create = changed(Change::Create, None, Some(&["consumer"]));
        assert!(matches!(
            reverse("r", &create, None, true, TargetKind::Qlik, false),
            Action::Unchanged { .. }
        ));
    }

    #[test]
    fn what_the_target_cannot_reverse_says_why() {
        let create = changed(Change::Create, None, Some(&["ROLE_USER"]));
        let a = reverse(
            "r",
            &create,
            Some(&now(&["ROLE_USER"])),
            false,
            TargetKind::Alumio,
            false,
        );
        assert_eq!(code(&a), Some(CANNOT_UNDO));
        let mut settled = changed(Change::Create, None, Some(&["consumer"]));
        settled.outcome = Some(RecordOutcome::Updated);
        let a = reverse(
            "r",
            &settled,
            Some(&now(&["consumer"])),
            true,
            TargetKind::Qlik,
            false,
        );
        assert_eq!(code(&a), Some(CANNOT_UNDO));
    }
}
