//! Building a [`Plan`]: collect names, resolve them, read assignments, and diff every row.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use core_api::target::{AssigneeKind, AssignmentInfo, SpaceInfo, Target, TargetError};
use futures::StreamExt;
use serde::Serialize;

use super::resolve::{self, Directory, DirectoryChoice, ResolveReport, Strategy, Thresholds};
use crate::exec::row_error;
use crate::journal;
use crate::model::{Action, AssigneeRef, Mode, ParsedRow, Plan, PlanCounts, PlanItem, RowError, SpaceRef};

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
#[non_exhaustive]
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

    fn resolve(directory: Directory, source: TargetError) -> Self {
        PlanError {
            kind: Box::new(PlanErrorKind::Resolve { directory, source }),
        }
    }
}

const NONE: u32 = u32::MAX;

/// A space to list: its index, the space, and (kind slot, assignee index) of the rows asking.
type Listing = (usize, Arc<SpaceInfo>, Vec<(usize, u32)>);

fn err(code: &str, message: String) -> Action {
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
    let mut old = existing.roles.clone();
    old.sort_unstable();
    old.dedup();
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
    let mut new: Vec<String> = match mode {
        Mode::Merge => old.iter().chain(wanted).cloned().collect(),
        Mode::Exact => wanted.to_vec(),
    };
    new.sort_unstable();
    new.dedup();
    new
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
    build_from(ShrinkingPop { rows, popped: 0 }, true, target, opts, progress).await
}

/// Yields a vector's rows from the back, giving memory back every so often.
struct ShrinkingPop {
    rows: Vec<ParsedRow>,
    popped: usize,
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
    let started = Instant::now();
    let caps = target.capabilities();
    let mut items: Vec<PlanItem> = Vec::with_capacity(rows.size_hint().0);
    // Per item: the index of its distinct space and assignee, or NONE when the row already failed.
    let mut row_space: Vec<u32> = Vec::with_capacity(rows.size_hint().0);
    let mut row_assignee: Vec<u32> = Vec::with_capacity(rows.size_hint().0);
    let mut space_index: HashMap<SpaceRef, u32> = HashMap::new();
    let mut spaces: Vec<SpaceRef> = Vec::new();
    // Distinct assignees per kind: users and groups are separate directories.
    let mut assignee_index: [HashMap<AssigneeRef, u32>; 2] = [HashMap::new(), HashMap::new()];
    let mut assignees: [Vec<AssigneeRef>; 2] = [Vec::new(), Vec::new()];

    for parsed in rows {
        let row = match parsed.row {
            Ok(row) => row,
            Err(problem) => {
                let message = match &problem.column {
                    Some(column) => format!("column {column}: {}", problem.message),
                    None => problem.message,
                };
                items.push(PlanItem {
                    line: parsed.line,
                    key: journal::invalid_row_key(&opts.target_name, parsed.line),
                    space: SpaceRef::Name(String::new()),
                    space_info: None,
                    assignee_kind: AssigneeKind::User,
                    assignee: AssigneeRef::Name(String::new()),
                    assignee_id: None,
                    roles: Vec::new(),
                    action: err("invalid_row", message),
                });
                row_space.push(NONE);
                row_assignee.push(NONE);
                continue;
            }
        };
        let key = row.key(&opts.target_name);
        let (s, a, action) = if row.assignee_kind == AssigneeKind::Group && !caps.groups {
            let message = format!("{} targets cannot assign groups", target.kind());
            (NONE, NONE, err("groups_unsupported", message))
        } else {
            let s = match space_index.get(&row.space) {
                Some(&s) => s,
                None => {
                    let s = index_u32(spaces.len());
                    space_index.insert(row.space.clone(), s);
                    spaces.push(row.space.clone());
                    s
                }
            };
            let k = kind_slot(row.assignee_kind);
            let a = match assignee_index[k].get(&row.assignee) {
                Some(&a) => a,
                None => {
                    let a = index_u32(assignees[k].len());
                    assignee_index[k].insert(row.assignee.clone(), a);
                    assignees[k].push(row.assignee.clone());
                    a
                }
            };
            // A placeholder, replaced when the row is diffed.
            (s, a, Action::Unchanged { roles: Vec::new() })
        };
        items.push(PlanItem {
            line: row.line,
            key,
            space: row.space,
            space_info: None,
            assignee_kind: row.assignee_kind,
            assignee: row.assignee,
            assignee_id: None,
            roles: row.roles,
            action,
        });
        row_space.push(s);
        row_assignee.push(a);
    }
    if reversed {
        items.reverse();
        row_space.reverse();
        row_assignee.reverse();
    }
    drop(space_index);
    drop(assignee_index);
    let read_time = started.elapsed();
    progress(&PlanProgress::RowsRead {
        rows: items.len() as u64,
        spaces: spaces.len(),
        users: assignees[0].len(),
        groups: assignees[1].len(),
    });

    // Resolve the three directories concurrently: they are independent.
    let resolve_started = Instant::now();
    let limits = Thresholds {
        spaces: opts.list_spaces_from,
        users: opts.list_users_from,
        groups: opts.list_groups_from,
        concurrency: opts.concurrency,
        fewest_round_trips: opts.fewest_round_trips,
        rows: items.len(),
    };
    let user_refs: Vec<&AssigneeRef> = assignees[0].iter().collect();
    let group_refs: Vec<&AssigneeRef> = assignees[1].iter().collect();
    for (directory, names) in [
        (Directory::Spaces, spaces.len()),
        (Directory::Users, assignees[0].len()),
        (Directory::Groups, assignees[1].len()),
    ] {
        if names > 0 {
            progress(&PlanProgress::Resolving { directory, names });
        }
    }
    let (space_res, user_res, group_res) = futures::join!(
        async {
            let r = resolve::spaces(target, &spaces, limits).await;
            if let Ok((_, choice)) = &r {
                progress(&PlanProgress::Resolved(choice.clone()));
            }
            r.map_err(|e| PlanError::resolve(Directory::Spaces, e))
        },
        async {
            let r = resolve::assignees(target, AssigneeKind::User, &user_refs, limits).await;
            if let Ok((_, choice)) = &r {
                progress(&PlanProgress::Resolved(choice.clone()));
            }
            r.map_err(|e| PlanError::resolve(Directory::Users, e))
        },
        async {
            let r = resolve::assignees(target, AssigneeKind::Group, &group_refs, limits).await;
            if let Ok((_, choice)) = &r {
                progress(&PlanProgress::Resolved(choice.clone()));
            }
            r.map_err(|e| PlanError::resolve(Directory::Groups, e))
        },
    );
    let (space_infos, space_choice) = space_res?;
    let (user_ids, user_choice) = user_res?;
    let (group_ids, group_choice) = group_res?;
    let mut report = ResolveReport::default();
    for choice in [space_choice, user_choice, group_choice] {
        if choice.strategy != Strategy::Nothing {
            report.directories.push(choice);
        }
    }
    let ids = [user_ids, group_ids];

    // Checks that need no assignments; rows that pass wait for their space's listing.
    let mut diff_time = Duration::ZERO;
    let check_started = Instant::now();
    let mut by_space: Vec<Vec<u32>> = vec![Vec::new(); spaces.len()];
    // The distinct assignees each space is asked about, for targets that read members one by one.
    let mut space_assignees: Vec<Vec<(usize, u32)>> = vec![Vec::new(); spaces.len()];
    for (i, item) in items.iter_mut().enumerate() {
        let (s, a) = (row_space[i], row_assignee[i]);
        if s == NONE {
            continue;
        }
        let space = space_infos.get(s as usize).and_then(Option::as_ref);
        let assignee_id = ids[kind_slot(item.assignee_kind)]
            .get(a as usize)
            .and_then(Option::as_ref);
        item.space_info = space.map(Arc::clone);
        item.assignee_id = assignee_id.cloned();
        if let Some(action) = check(item, space.map(Arc::as_ref), assignee_id) {
            item.action = action;
        } else {
            by_space[s as usize].push(index_u32(i));
            space_assignees[s as usize].push((kind_slot(item.assignee_kind), a));
        }
    }
    drop(row_space);
    drop(row_assignee);
    diff_time += check_started.elapsed();

    // One assignment listing per touched space; each space is diffed as soon as its list arrives
    // and its index dropped, so only a few spaces' assignments are in memory at once.
    let touched: Vec<(usize, Arc<SpaceInfo>)> = by_space
        .iter()
        .enumerate()
        .filter(|(_, rows)| !rows.is_empty())
        .filter_map(|(s, _)| {
            space_infos
                .get(s)
                .and_then(Option::as_ref)
                .map(|info| (s, Arc::clone(info)))
        })
        .collect();
    let total = touched.len();
    report.assignment_lists = total;
    if total > 0 {
        progress(&PlanProgress::Assignments { done: 0, total });
    }
    let ids = &ids;
    let listings_input: Vec<Listing> = touched
        .into_iter()
        .map(|(s, info)| (s, info, std::mem::take(&mut space_assignees[s])))
        .collect();
    drop(space_assignees);
    let mut listings = futures::stream::iter(listings_input)
        .map(|(s, info, mut wanted)| async move {
            wanted.sort_unstable();
            wanted.dedup();
            let wanted: Vec<String> = wanted
                .into_iter()
                .filter_map(|(k, a)| ids[k].get(a as usize).cloned().flatten())
                .collect();
            let result = target.list_assignments_of(&info, &wanted).await;
            (s, info, result)
        })
        .buffer_unordered(opts.concurrency.max(1));
    let mut done = 0;
    while let Some((s, info, result)) = listings.next().await {
        let diff_started = Instant::now();
        let rows = std::mem::take(&mut by_space[s]);
        match result {
            Ok(list) => {
                let index: HashMap<(AssigneeKind, &str), &AssignmentInfo> = list
                    .iter()
                    .map(|a| ((a.assignee_kind, a.assignee_id.as_str()), a))
                    .collect();
                for i in rows {
                    let item = &mut items[i as usize];
                    let existing = item
                        .assignee_id
                        .as_deref()
                        .and_then(|id| index.get(&(item.assignee_kind, id)).copied());
                    item.action = diff(opts.mode, &item.roles, existing);
                }
            }
            Err(e) => {
                let mut error = row_error(&e);
                error.message = format!("read the assignments of space {:?}: {}", info.name, error.message);
                for i in rows {
                    items[i as usize].action = Action::Error(error.clone());
                }
            }
        }
        diff_time += diff_started.elapsed();
        done += 1;
        progress(&PlanProgress::Assignments { done, total });
    }
    drop(listings);
    let resolve_time = resolve_started.elapsed().saturating_sub(diff_time);

    let counts = count(&items, caps.emails_new_members);
    let write_calls = write_calls(&items, caps.max_batch);
    let min_write_time = min_write_time(write_calls, opts.write_limit_per_min);
    progress(&PlanProgress::Done {
        counts: counts.clone(),
    });
    let plan = Plan {
        target: opts.target_name.clone(),
        mode: opts.mode,
        items,
        counts,
        write_calls,
        min_write_time,
    };
    Ok(Planned {
        plan,
        resolve: report,
        timings: Timings {
            read: read_time,
            resolve: resolve_time,
            diff: diff_time,
        },
    })
}

fn index_u32(n: usize) -> u32 {
    // Rosters beyond four billion rows are refused by memory long before this.
    u32::try_from(n).unwrap_or(NONE - 1)
}

fn kind_slot(kind: AssigneeKind) -> usize {
    match kind {
        AssigneeKind::User => 0,
        AssigneeKind::Group => 1,
    }
}

/// The row errors found before reading assignments, or `None` when the row needs a diff.
fn check(item: &PlanItem, space: Option<&SpaceInfo>, assignee_id: Option<&String>) -> Option<Action> {
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
