//! Building a [`Plan`]: the options, progress and errors of planning, the checks and the diff
//! of one row, and the plan's totals. The [`Planner`] does the reading and deciding.

use std::collections::HashMap;
use std::time::Duration;

use core_api::target::{AssigneeKind, AssignmentInfo, Capabilities, SpaceInfo, Target, TargetError};
use core_api::{RateLimits, Tier};
use serde::Serialize;

use super::planner::Planner;
use super::resolve::{Directory, DirectoryChoice, ResolveReport};
use crate::model::{
    Action, AssigneeRef, Mode, ParsedRow, Plan, PlanCounts, PlanItem, RowError, SpaceRef, WriteWindow,
};

/// How to plan.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// The target's name as the user chose it (part of every row key).
    pub target_name: String,
    /// Merge or exact.
    pub mode: Mode,
    /// The target's write limit, writes per minute, for the plan's minimum write time; `None`
    /// when unlimited.
    pub write_limit_per_min: Option<u32>,
    /// Lookups and assignment listings in flight at once.
    pub concurrency: usize,
    /// List all spaces when at least this many distinct spaces are needed (one lookup each).
    pub list_spaces_from: usize,
    /// List all users when looking the emails up would take at least this many requests.
    pub list_users_from: usize,
    /// List all groups when looking the names up would take at least this many requests.
    pub list_groups_from: usize,
    /// Choose between looking names up and listing a directory by round trips rather than by
    /// requests: when writes are not paced, the run is bound by latency, and lookups sent
    /// `concurrency` at a time finish in a few round trips where paging needs one per page.
    pub fewest_round_trips: bool,
}

impl PlanOptions {
    /// Defaults: 8 requests in flight; list spaces from 5 names, users or groups from 10 lookup
    /// requests (listing then wins unless the directory holds more than 10 pages).
    pub fn new(target_name: impl Into<String>, mode: Mode) -> PlanOptions {
        PlanOptions {
            target_name: target_name.into(),
            mode,
            write_limit_per_min: None,
            concurrency: 8,
            list_spaces_from: 5,
            list_users_from: 10,
            list_groups_from: 10,
            fewest_round_trips: false,
        }
    }
}

/// Progress of the plan phase, for the reporters (the planner prints nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PlanProgress {
    /// The roster has been read; names are collected.
    RowsRead {
        /// Rows read (valid or not).
        rows: u64,
        /// Distinct spaces named.
        spaces: usize,
        /// Distinct users named.
        users: usize,
        /// Distinct groups named.
        groups: usize,
    },
    /// A directory is being resolved.
    Resolving {
        /// Which one.
        directory: Directory,
        /// Distinct names needed.
        names: usize,
    },
    /// A directory has been resolved (the choice says how, and why).
    Resolved(DirectoryChoice),
    /// Space assignments read so far.
    Assignments {
        /// Spaces read.
        done: usize,
        /// Spaces to read.
        total: usize,
    },
    /// The plan is complete.
    Done {
        /// Its counts.
        counts: PlanCounts,
    },
}

/// Where the plan's time went, for the benchmark's split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Timings {
    /// Reading rows (including the reader's parsing when it streams) and collecting names.
    pub read: Duration,
    /// Resolving names and reading assignments.
    pub resolve: Duration,
    /// Comparing rows with assignments.
    pub diff: Duration,
}

/// A plan and how it was made.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The plan.
    pub plan: Plan,
    /// Resolve strategies and their reasons.
    pub resolve: ResolveReport,
    /// Time split.
    pub timings: Timings,
}

/// Why a plan could not be made (a row's problem never is one: it becomes an error row).
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct PlanError {
    kind: Box<PlanErrorKind>,
}

/// What went wrong while planning.
#[derive(Debug, thiserror::Error)]
pub enum PlanErrorKind {
    /// A directory could not be read.
    #[error("resolve {directory}: {source}")]
    Resolve {
        /// Which directory.
        directory: Directory,
        /// The client's error.
        source: TargetError,
    },
}

impl PlanError {
    /// What went wrong.
    pub fn kind(&self) -> &PlanErrorKind {
        &self.kind
    }

    pub(crate) fn resolve(directory: Directory, source: TargetError) -> Self {
        PlanError {
            kind: Box::new(PlanErrorKind::Resolve { directory, source }),
        }
    }
}

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

/// Build the plan: every row becomes exactly one [`Action`].
///
/// Rows are consumed as they come, so a streaming reader never holds the whole file twice.
/// `progress` is called on the planning task; keep it cheap.
pub async fn build<I>(
    rows: I,
    target: &dyn Target,
    opts: &PlanOptions,
    progress: &(dyn Fn(&PlanProgress) + Sync),
) -> Result<Planned, PlanError>
where
    I: IntoIterator<Item = ParsedRow>,
{
    build_from(rows.into_iter(), false, target, opts, progress).await
}

/// [`build`] for rows already in memory: the rows' buffer shrinks as the plan's items grow, so
/// a million-row roster never holds both in full.
pub async fn build_owned(
    rows: Vec<ParsedRow>,
    target: &dyn Target,
    opts: &PlanOptions,
    progress: &(dyn Fn(&PlanProgress) + Sync),
) -> Result<Planned, PlanError> {
    build_from(ShrinkingPop::new(rows), true, target, opts, progress).await
}

/// Yields a vector's rows from the back, giving memory back every so often (the planner is told
/// they come reversed).
pub(crate) struct ShrinkingPop {
    rows: Vec<ParsedRow>,
    popped: usize,
}

impl ShrinkingPop {
    /// Pop `rows` from the back.
    pub(crate) fn new(rows: Vec<ParsedRow>) -> Self {
        ShrinkingPop { rows, popped: 0 }
    }
}

impl Iterator for ShrinkingPop {
    type Item = ParsedRow;

    fn next(&mut self) -> Option<ParsedRow> {
        let row = self.rows.pop()?;
        self.popped += 1;
        if self.popped.is_multiple_of(65_536) {
            self.rows.shrink_to_fit();
        }
        Some(row)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.rows.len(), Some(self.rows.len()))
    }
}

async fn build_from(
    rows: impl Iterator<Item = ParsedRow>,
    reversed: bool,
    target: &dyn Target,
    opts: &PlanOptions,
    progress: &(dyn Fn(&PlanProgress) + Sync),
) -> Result<Planned, PlanError> {
    let caps = target.capabilities();
    // Planning alone reads each space once its assignees are known, so that every listing is
    // diffed as it arrives and dropped: a large roster never holds all its spaces at once.
    let (mut planner, mut items) = Planner::new(rows, reversed, target, opts, false);
    let mut decided = Vec::new();
    planner.start(&mut items, &mut decided, progress);
    while let Some(answer) = planner.next_answer().await {
        decided.clear();
        planner.apply(answer, &mut items, &mut decided, progress)?;
    }
    let (resolve, timings) = planner.finish();
    let plan = finish_plan(items, opts, &caps);
    progress(&PlanProgress::Done {
        counts: plan.counts.clone(),
    });
    Ok(Planned {
        plan,
        resolve,
        timings,
    })
}

/// A plan of decided items: its counts, write calls and least write time.
pub(crate) fn finish_plan(items: Vec<PlanItem>, opts: &PlanOptions, caps: &Capabilities) -> Plan {
    let counts = count(&items, caps.emails_new_members);
    let write_calls = write_calls(&items, caps.max_batch);
    let min_write_time = min_write_time(write_calls, opts.write_limit_per_min);
    Plan {
        target: opts.target_name.clone(),
        mode: opts.mode,
        items,
        counts,
        write_calls,
        min_write_time,
        write_time_estimated: false,
    }
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

/// Totals per action; `emails_new_members` is the target's
/// [`Capabilities::emails_new_members`](core_api::target::Capabilities).
pub(crate) fn count(items: &[PlanItem], emails_new_members: bool) -> PlanCounts {
    let mut counts = PlanCounts::default();
    for item in items {
        match item.action {
            Action::Create { .. } => {
                counts.create += 1;
                if emails_new_members && item.assignee_kind == AssigneeKind::User {
                    counts.emailed += 1;
                }
            }
            Action::Update { .. } => counts.update += 1,
            Action::Unchanged { .. } => counts.unchanged += 1,
            Action::Delete { .. } => counts.delete += 1,
            Action::Error(_) => counts.error += 1,
        }
    }
    counts
}

/// The least time `write_calls` take at `limit` writes per minute (none: no limit).
pub(crate) fn min_write_time(write_calls: u64, limit: Option<u32>) -> Duration {
    match limit {
        Some(limit) if limit > 0 => Duration::from_secs_f64(write_calls as f64 * 60.0 / f64::from(limit)),
        _ => Duration::ZERO,
    }
}

/// The window writes burst within under `limits`; `None` when they are paced steadily.
pub fn write_window(limits: &RateLimits) -> Option<WriteWindow> {
    limits.budget(Tier::Tier2).map(|budget| WriteWindow {
        budget,
        window: limits.window(Tier::Tier2),
    })
}

/// The time `write_calls` take when they burst within `window`, `concurrency` at a time, each
/// taking `round_trip`: the first budget goes at once, and each further budget waits for the
/// client's window (the tenant's plus a little slack) to free up; the last budget's writes
/// then take their round trips.
pub fn burst_write_time(
    write_calls: u64,
    window: WriteWindow,
    concurrency: usize,
    round_trip: Duration,
) -> Duration {
    if write_calls == 0 {
        return Duration::ZERO;
    }
    let budget = u64::from(window.budget.max(1));
    let waits = (write_calls - 1) / budget;
    let last = write_calls - waits * budget;
    let client_window = window.window + RateLimits::window_slack(window.window);
    let trips = last.div_ceil(concurrency.max(1) as u64);
    client_window.saturating_mul(u32::try_from(waits).unwrap_or(u32::MAX))
        + round_trip.saturating_mul(u32::try_from(trips).unwrap_or(u32::MAX))
}

/// Write calls after batching writes of one space into calls of up to `max_batch`.
pub(crate) fn write_calls(items: &[PlanItem], max_batch: usize) -> u64 {
    let max_batch = max_batch.max(1) as u64;
    let mut per_space: HashMap<&str, u64> = HashMap::new();
    for item in items {
        if matches!(
            item.action,
            Action::Create { .. } | Action::Update { .. } | Action::Delete { .. }
        ) {
            let id = item.space_info.as_ref().map_or("", |s| s.id.as_str());
            *per_space.entry(id).or_default() += 1;
        }
    }
    per_space.values().map(|n| n.div_ceil(max_batch)).sum()
}
