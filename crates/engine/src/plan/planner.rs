//! The planner as a state machine: reads go out as soon as what they need is known, and each row
//! is decided as soon as its space, its assignee and (where it needs one) its space's listing are.
//!
//! `roster plan` runs it to the end and prints the whole plan. `roster apply` feeds the rows it
//! decides straight to the executor, so the first writes leave while other names and spaces are
//! still being read: on a latency-bound run the plan then costs about two round trips instead of
//! one per phase.
//!
//! A row needs up to three facts: its space (resolved once per distinct space), its assignee
//! (resolved once per distinct user or group, in lookup batches or by paging the directory) and,
//! once both pass the checks, its space's existing assignments (one listing per space). Every
//! fact that arrives is applied to exactly the rows waiting for it, through per-space and
//! per-assignee row indexes, so a row is visited a few times at most, whatever the roster's size.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use core_api::target::{AssigneeKind, AssignmentInfo, GroupInfo, SpaceInfo, Target, TargetError, UserInfo};
use std::task::Poll;

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;

use super::decide::{check, diff, err};
use super::error::PlanError;
use super::options::{PlanOptions, PlanProgress, Timings};
use super::resolve::{self, Directory, DirectoryChoice, ResolveReport, Strategy, Thresholds};
use crate::model::{Action, AssigneeRef, Mode, ParsedRow, PlanItem, RowError, SpaceRef};

/// An index that means "none": the row was decided when it was read.
const NONE: u32 = u32::MAX;

/// With early listing, stop reading spaces ahead of their assignees once this many existing
/// assignments are held waiting for them; later spaces are read when their assignees are known,
/// and diffed (then dropped) as they arrive.
const HELD_ASSIGNMENTS_CAP: usize = 500_000;

fn index_u32(n: usize) -> u32 {
    // Rosters beyond four billion rows are refused by memory long before this.
    u32::try_from(n).unwrap_or(NONE - 1)
}

/// Users and groups are separate directories.
pub(crate) fn kind_slot(kind: AssigneeKind) -> usize {
    match kind {
        AssigneeKind::User => 0,
        AssigneeKind::Group => 1,
    }
}

/// The kind of assignee a directory slot holds (the inverse of [`kind_slot`]).
fn slot_kind(slot: usize) -> AssigneeKind {
    if slot == 0 {
        AssigneeKind::User
    } else {
        AssigneeKind::Group
    }
}

/// Rows grouped by a key (a space, an assignee), in one flat array.
#[derive(Debug, Default)]
struct Groups {
    starts: Vec<u32>,
    rows: Vec<u32>,
}

impl Groups {
    /// Group the rows `0..keys.len()` by `keys[row]` (`NONE` rows belong to no group).
    fn new(keys: impl Iterator<Item = u32> + Clone, groups: usize) -> Groups {
        let mut starts = vec![0_u32; groups + 1];
        for key in keys.clone() {
            if key != NONE {
                starts[key as usize + 1] += 1;
            }
        }
        for g in 0..groups {
            starts[g + 1] += starts[g];
        }
        let mut fill = starts.clone();
        let mut rows = vec![0_u32; starts[groups] as usize];
        for (row, key) in keys.enumerate() {
            if key != NONE {
                let at = &mut fill[key as usize];
                rows[*at as usize] = index_u32(row);
                *at += 1;
            }
        }
        Groups { starts, rows }
    }

    fn of(&self, group: u32) -> &[u32] {
        let g = group as usize;
        match (self.starts.get(g), self.starts.get(g + 1)) {
            (Some(&a), Some(&b)) => &self.rows[a as usize..b as usize],
            _ => &[],
        }
    }
}

/// Whether a name has been resolved yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    Pending,
    Found,
    Missing,
}

/// A space's existing assignments, as far as they have been read.
#[derive(Debug)]
enum Listing {
    /// Not asked for yet.
    NotAsked,
    /// Asked for (waiting for a slot, or in flight).
    Asked,
    /// Read, and kept while rows of the space are still undecided: users' and groups'
    /// assignments by assignee id.
    Held([HashMap<String, AssignmentInfo>; 2]),
    /// Could not be read: the rows that need it fail with this.
    Failed(RowError),
    /// Read and no longer needed.
    Released,
}

#[derive(Debug)]
struct SpaceSlot {
    known: Known,
    info: Option<Arc<SpaceInfo>>,
    listing: Listing,
    /// Rows of the space not decided yet.
    undecided: u32,
    /// Rows of the space whose assignee is not resolved yet.
    unsettled: u32,
    /// Rows that passed the checks and wait for the listing.
    waiting: u32,
}

/// One directory of assignees (users or groups).
#[derive(Debug, Default)]
struct Assignees {
    refs: Vec<AssigneeRef>,
    known: Vec<Known>,
    ids: Vec<Option<String>>,
    rows: Groups,
    strategy: Option<Strategy>,
    reason: String,
    /// Lookup jobs not answered yet.
    jobs_left: usize,
}

/// Where a row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowState {
    /// Waiting for its space or its assignee.
    Fresh,
    /// Passed the checks; waiting for its space's listing.
    Waiting,
    /// Has its action.
    Decided,
}

/// A read the planner sends.
enum Job {
    Spaces,
    Lookup { slot: usize, members: Vec<u32> },
    ListAll { slot: usize },
    Listing { space: u32 },
}

/// Each distinct space found (or not), and how they were resolved.
type ResolvedSpaces = (Vec<Option<Arc<SpaceInfo>>>, DirectoryChoice);

/// A read's answer.
enum Answer {
    Spaces(Result<ResolvedSpaces, TargetError>),
    Users {
        members: Option<Vec<u32>>,
        result: Result<Vec<UserInfo>, TargetError>,
    },
    Groups {
        members: Option<Vec<u32>>,
        result: Result<Vec<GroupInfo>, TargetError>,
    },
    Listing {
        space: u32,
        result: Result<Vec<AssignmentInfo>, TargetError>,
    },
}

/// A read the planner has sent and not yet applied: poll it with [`Planner::next_answer`], then
/// hand it to [`Planner::apply`].
pub(crate) struct Pending(Answer);

/// The state machine. See the module docs.
pub(crate) struct Planner<'t> {
    target: &'t dyn Target,
    mode: Mode,
    /// Read spaces before their assignees are known (apply on a target that lists whole spaces).
    list_early: bool,
    concurrency: usize,
    limits: Thresholds,
    row_state: Vec<RowState>,
    row_space: Vec<u32>,
    row_assignee: Vec<u32>,
    /// The directory of each row's assignee ([`kind_slot`]).
    row_slot: Vec<u8>,
    space_refs: Vec<SpaceRef>,
    spaces: Vec<SpaceSlot>,
    space_rows: Groups,
    space_choice: Option<DirectoryChoice>,
    assignees: [Assignees; 2],
    /// Lookups and directory pages, and the listings; listings alternate with the rest so that
    /// neither kind of fact holds the other back.
    jobs: VecDeque<Job>,
    listings: VecDeque<u32>,
    prefer_listing: bool,
    /// Reading early (apply), lookups wait until the spaces are known: the spaces request goes
    /// out alone and is answered without a burst of lookup answers in its way, and lookups sent
    /// with the first listings are still back in time for the first writes.
    hold_lookups: bool,
    /// Reads in flight on the critical path (the spaces, then their listings), sent and answered
    /// before lookups: a burst of lookup answers must not hold back the reads that the first
    /// writes wait for.
    critical: FuturesUnordered<BoxFuture<'t, Answer>>,
    /// Lookups and directory pages in flight.
    reads: FuturesUnordered<BoxFuture<'t, Answer>>,
    held: usize,
    listings_asked: usize,
    listings_done: usize,
    /// Spaces found, not asked for yet, with rows undecided: listings still to come, most likely.
    unasked: usize,
    /// The last assignments progress told, so that it is told only when it changes.
    told: Option<(usize, usize)>,
    undecided: usize,
    started: Instant,
    read_time: Duration,
    diff_time: Duration,
}

impl<'t> Planner<'t> {
    /// Read the rows (consuming them as they come) into plan items, each decided already when it
    /// cannot be done whatever the tenant says, and collect the distinct names to resolve.
    /// Sends nothing until [`Planner::start`].
    pub(crate) fn new(
        rows: impl Iterator<Item = ParsedRow>,
        reversed: bool,
        target: &'t dyn Target,
        opts: &PlanOptions,
        list_early: bool,
    ) -> (Planner<'t>, Vec<PlanItem>) {
        let started = Instant::now();
        let caps = target.capabilities();
        let hint = rows.size_hint().0;
        let mut items: Vec<PlanItem> = Vec::with_capacity(hint);
        let mut row_space: Vec<u32> = Vec::with_capacity(hint);
        let mut row_assignee: Vec<u32> = Vec::with_capacity(hint);
        let mut space_index: HashMap<SpaceRef, u32> = HashMap::new();
        let mut space_refs: Vec<SpaceRef> = Vec::new();
        let mut assignee_index: [HashMap<AssigneeRef, u32>; 2] = [HashMap::new(), HashMap::new()];
        let mut refs: [Vec<AssigneeRef>; 2] = [Vec::new(), Vec::new()];

        for parsed in rows {
            let row = match parsed.row {
                Ok(row) => row,
                Err(problem) => {
                    let message = match &problem.column {
                        Some(column) => format!("column {column}: {}", problem.message),
                        None => problem.message,
                    };
                    // Named as the row names them, so the plan shows the row the user wrote.
                    let said = *problem.said;
                    let (assignee_kind, stated_type) = if said.kind.eq_ignore_ascii_case("group") {
                        (AssigneeKind::Group, None)
                    } else if said.kind.eq_ignore_ascii_case("user") {
                        (AssigneeKind::User, None)
                    } else {
                        (AssigneeKind::User, Some(said.kind))
                    };
                    items.push(PlanItem {
                        line: parsed.line,
                        key: crate::roster::invalid_row_key(&opts.target_name, parsed.line),
                        space: SpaceRef::Name(said.space),
                        space_info: None,
                        assignee_kind,
                        assignee: AssigneeRef::Name(said.assignee),
                        stated_type,
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
                let s = *space_index.entry(row.space.clone()).or_insert_with(|| {
                    space_refs.push(row.space.clone());
                    index_u32(space_refs.len() - 1)
                });
                let k = kind_slot(row.assignee_kind);
                let a = *assignee_index[k].entry(row.assignee.clone()).or_insert_with(|| {
                    refs[k].push(row.assignee.clone());
                    index_u32(refs[k].len() - 1)
                });
                // A placeholder, replaced when the row is decided.
                (s, a, Action::Unchanged { roles: Vec::new() })
            };
            items.push(PlanItem {
                line: row.line,
                key,
                space: row.space,
                space_info: None,
                assignee_kind: row.assignee_kind,
                assignee: row.assignee,
                stated_type: None,
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

        let row_slot: Vec<u8> = items
            .iter()
            .map(|item| if kind_slot(item.assignee_kind) == 0 { 0 } else { 1 })
            .collect();
        let row_state: Vec<RowState> = row_space
            .iter()
            .map(|&s| {
                if s == NONE {
                    RowState::Decided
                } else {
                    RowState::Fresh
                }
            })
            .collect();
        let undecided = row_state.iter().filter(|r| **r != RowState::Decided).count();
        let space_rows = Groups::new(row_space.iter().copied(), space_refs.len());
        let mut assignees: [Assignees; 2] = Default::default();
        for (k, refs) in refs.into_iter().enumerate() {
            let keys = row_assignee
                .iter()
                .zip(&row_slot)
                .map(|(&a, &slot)| if usize::from(slot) == k { a } else { NONE });
            let n = refs.len();
            assignees[k] = Assignees {
                refs,
                known: vec![Known::Pending; n],
                ids: vec![None; n],
                rows: Groups::new(keys, n),
                ..Assignees::default()
            };
        }
        let space_refs_empty = space_refs.is_empty();
        let spaces = (0..space_refs.len())
            .map(|s| SpaceSlot {
                known: Known::Pending,
                info: None,
                listing: Listing::NotAsked,
                undecided: index_u32(space_rows.of(index_u32(s)).len()),
                unsettled: index_u32(space_rows.of(index_u32(s)).len()),
                waiting: 0,
            })
            .collect();
        let limits = Thresholds {
            spaces: opts.list_spaces_from,
            users: opts.list_users_from,
            groups: opts.list_groups_from,
            concurrency: opts.concurrency,
            fewest_round_trips: opts.fewest_round_trips,
            rows: items.len(),
        };
        let planner = Planner {
            target,
            mode: opts.mode,
            list_early: list_early && caps.lists_whole_space,
            concurrency: opts.concurrency.max(1),
            limits,
            row_state,
            row_space,
            row_assignee,
            row_slot,
            space_refs,
            spaces,
            space_rows,
            space_choice: None,
            assignees,
            jobs: VecDeque::new(),
            listings: VecDeque::new(),
            prefer_listing: true,
            hold_lookups: list_early && caps.lists_whole_space && !space_refs_empty,
            critical: FuturesUnordered::new(),
            reads: FuturesUnordered::new(),
            held: 0,
            listings_asked: 0,
            listings_done: 0,
            unasked: 0,
            told: None,
            undecided,
            started,
            read_time: started.elapsed(),
            diff_time: Duration::ZERO,
        };
        (planner, items)
    }

    /// How many rows the roster had, and how many distinct names of each directory.
    pub(crate) fn rows_read(&self) -> PlanProgress {
        PlanProgress::RowsRead {
            rows: self.row_state.len() as u64,
            spaces: self.space_refs.len(),
            users: self.assignees[0].refs.len(),
            groups: self.assignees[1].refs.len(),
        }
    }

    /// Choose how to resolve each directory and send the first reads. Rows named by id are
    /// settled at once when their directory is not paged (the tenant's answer to the write
    /// will tell whether the id exists).
    /// Rows decided when they were read (invalid rows, groups on targets without them) are
    /// pushed onto `decided` first.
    pub(crate) fn start(&mut self, items: &mut [PlanItem], decided: &mut Vec<usize>, progress: Progress<'_>) {
        decided.extend(
            self.row_state
                .iter()
                .enumerate()
                .filter(|(_, state)| **state == RowState::Decided)
                .map(|(i, _)| i),
        );
        progress(&self.rows_read());
        for (directory, names) in [
            (Directory::Spaces, self.space_refs.len()),
            (Directory::Users, self.assignees[0].refs.len()),
            (Directory::Groups, self.assignees[1].refs.len()),
        ] {
            if names > 0 {
                progress(&PlanProgress::Resolving { directory, names });
            }
        }
        if !self.space_refs.is_empty() {
            self.jobs.push_back(Job::Spaces);
        }
        for slot in 0..2 {
            self.plan_directory(slot, items, decided, progress);
        }
        self.fill();
    }

    /// Pick lookups or paging for one directory, queue its reads, and settle what needs none.
    fn plan_directory(
        &mut self,
        slot: usize,
        items: &mut [PlanItem],
        decided: &mut Vec<usize>,
        progress: Progress<'_>,
    ) {
        let kind = slot_kind(slot);
        let dir = &self.assignees[slot];
        let names: Vec<String> = dir.refs.iter().filter_map(|r| lookup_name(kind, r)).collect();
        let plan = resolve::assignee_strategy(self.target, kind, &names, self.limits);
        let dir = &mut self.assignees[slot];
        dir.strategy = Some(plan.strategy);
        dir.reason = plan.reason;
        let mut settle_now: Vec<(u32, Option<String>)> = Vec::new();
        match plan.strategy {
            Strategy::ListAll => {
                dir.jobs_left = 1;
                self.jobs.push_back(Job::ListAll { slot });
            }
            Strategy::Nothing | Strategy::Lookup => {
                let mut named: Vec<u32> = Vec::new();
                for (a, r) in dir.refs.iter().enumerate() {
                    match (kind, r) {
                        (AssigneeKind::User, AssigneeRef::Email(_))
                        | (AssigneeKind::Group, AssigneeRef::Name(_)) => {
                            named.push(index_u32(a));
                        }
                        (_, AssigneeRef::Id(id)) => settle_now.push((index_u32(a), Some(id.clone()))),
                        // A user named by group name or a group by email cannot be resolved.
                        _ => settle_now.push((index_u32(a), None)),
                    }
                }
                let size = resolve::lookup_batch(named.len(), plan.requests, self.limits);
                for members in named.chunks(size.max(1)) {
                    dir.jobs_left += 1;
                    self.jobs.push_back(Job::Lookup {
                        slot,
                        members: members.to_vec(),
                    });
                }
            }
        }
        for (a, id) in settle_now {
            self.settle(slot, a, id, items, decided);
        }
        self.directory_maybe_done(slot, progress);
    }

    /// Whether every read has been answered and applied.
    pub(crate) fn is_done(&self) -> bool {
        self.critical.is_empty() && self.reads.is_empty() && self.jobs.is_empty() && self.listings.is_empty()
    }

    /// Rows not decided yet.
    pub(crate) fn undecided(&self) -> usize {
        self.undecided
    }

    /// The next answer to arrive; `None` when no read is in flight.
    pub(crate) async fn next_answer(&mut self) -> Option<Pending> {
        futures::future::poll_fn(|cx| {
            let critical = self.critical.poll_next_unpin(cx);
            if let Poll::Ready(Some(answer)) = critical {
                return Poll::Ready(Some(Pending(answer)));
            }
            match self.reads.poll_next_unpin(cx) {
                Poll::Ready(Some(answer)) => Poll::Ready(Some(Pending(answer))),
                Poll::Ready(None) if critical.is_ready() => Poll::Ready(None),
                _ => Poll::Pending,
            }
        })
        .await
    }

    /// Apply an answer: settle names, decide the rows that can now be decided (their indexes
    /// are pushed onto `decided`, in no particular order), and send the reads that became
    /// possible. A directory that cannot be read is an error; a space whose assignments cannot
    /// be read fails its rows.
    pub(crate) fn apply(
        &mut self,
        answer: Pending,
        items: &mut [PlanItem],
        decided: &mut Vec<usize>,
        progress: Progress<'_>,
    ) -> Result<(), PlanError> {
        match answer.0 {
            Answer::Spaces(result) => {
                let (infos, choice) = result.map_err(|e| PlanError::resolve(Directory::Spaces, e))?;
                progress(&PlanProgress::Resolved(choice.clone()));
                self.space_choice = Some(choice);
                self.hold_lookups = false;
                for (s, info) in infos.into_iter().enumerate() {
                    if let Some(slot) = self.spaces.get_mut(s) {
                        slot.known = if info.is_some() {
                            Known::Found
                        } else {
                            Known::Missing
                        };
                        slot.info = info;
                        if slot.known == Known::Found && slot.undecided > 0 {
                            self.unasked += 1;
                        }
                    }
                }
                for s in 0..self.spaces.len() {
                    let s = index_u32(s);
                    for i in 0..self.space_rows.of(s).len() {
                        let row = self.space_rows.of(s)[i] as usize;
                        self.try_decide(row, items, decided);
                    }
                    self.maybe_list(s);
                }
            }
            Answer::Users { members, result } => {
                let users = result.map_err(|e| PlanError::resolve(Directory::Users, e))?;
                let mut by_email: HashMap<String, String> = HashMap::with_capacity(users.len());
                let mut ids: HashSet<String> = HashSet::new();
                for user in users {
                    if members.is_none() {
                        ids.insert(user.id.clone());
                    }
                    if let Some(email) = &user.email {
                        by_email.entry(email.to_lowercase()).or_insert(user.id);
                    }
                }
                self.settle_answer(0, members, &by_email, &ids, items, decided, progress);
            }
            Answer::Groups { members, result } => {
                let groups = result.map_err(|e| PlanError::resolve(Directory::Groups, e))?;
                let mut by_name: HashMap<String, String> = HashMap::with_capacity(groups.len());
                let mut ids: HashSet<String> = HashSet::new();
                for group in groups {
                    if members.is_none() {
                        ids.insert(group.id.clone());
                    }
                    by_name.entry(group.name).or_insert(group.id);
                }
                self.settle_answer(1, members, &by_name, &ids, items, decided, progress);
            }
            Answer::Listing { space, result } => {
                let diff_started = Instant::now();
                self.listings_done += 1;
                let listing = match result {
                    Ok(list) => {
                        self.held += list.len();
                        let mut held: [HashMap<String, AssignmentInfo>; 2] = Default::default();
                        for a in list {
                            held[kind_slot(a.assignee_kind)].insert(a.assignee_id.clone(), a);
                        }
                        Listing::Held(held)
                    }
                    Err(e) => {
                        let mut error = RowError::from_target(&e);
                        let name = self.spaces[space as usize]
                            .info
                            .as_ref()
                            .map_or("", |i| i.name.as_str());
                        error.message = format!("read the assignments of space {name:?}: {}", error.message);
                        Listing::Failed(error)
                    }
                };
                self.spaces[space as usize].listing = listing;
                for i in 0..self.space_rows.of(space).len() {
                    let row = self.space_rows.of(space)[i] as usize;
                    if self.row_state[row] == RowState::Waiting {
                        self.try_decide(row, items, decided);
                    }
                }
                self.release(space);
                self.diff_time += diff_started.elapsed();
            }
        }
        self.fill();
        self.tell_assignments(progress);
        Ok(())
    }

    /// Listings read of those asked for and likely to be: told when it changes, once the spaces
    /// are known.
    fn tell_assignments(&mut self, progress: Progress<'_>) {
        if self.space_choice.is_none() {
            return;
        }
        let now = (self.listings_done, self.listings_asked + self.unasked);
        if now.1 > 0 && self.told != Some(now) {
            self.told = Some(now);
            progress(&PlanProgress::Assignments {
                done: now.0,
                total: now.1,
            });
        }
    }

    /// Settle the names a users or groups answer covers: a lookup's members, or (paging) every
    /// name of the directory, ids included.
    #[expect(clippy::too_many_arguments, reason = "one call site per directory kind")]
    fn settle_answer(
        &mut self,
        slot: usize,
        members: Option<Vec<u32>>,
        by_name: &HashMap<String, String>,
        ids: &HashSet<String>,
        items: &mut [PlanItem],
        decided: &mut Vec<usize>,
        progress: Progress<'_>,
    ) {
        let kind = slot_kind(slot);
        let members: Vec<u32> =
            members.unwrap_or_else(|| (0..self.assignees[slot].refs.len()).map(index_u32).collect());
        for a in members {
            let id = match &self.assignees[slot].refs[a as usize] {
                AssigneeRef::Id(id) => ids.contains(id).then(|| id.clone()),
                r => lookup_name(kind, r).and_then(|name| by_name.get(&name).cloned()),
            };
            self.settle(slot, a, id, items, decided);
        }
        let dir = &mut self.assignees[slot];
        dir.jobs_left = dir.jobs_left.saturating_sub(1);
        self.directory_maybe_done(slot, progress);
    }

    /// Tell the reporters when a directory has every name settled.
    fn directory_maybe_done(&self, slot: usize, progress: Progress<'_>) {
        let dir = &self.assignees[slot];
        if dir.jobs_left > 0 || dir.refs.is_empty() {
            return;
        }
        progress(&PlanProgress::Resolved(self.assignee_choice(slot)));
    }

    fn assignee_choice(&self, slot: usize) -> DirectoryChoice {
        let dir = &self.assignees[slot];
        let found = dir.known.iter().filter(|k| **k == Known::Found).count();
        DirectoryChoice {
            directory: match slot_kind(slot) {
                AssigneeKind::User => Directory::Users,
                AssigneeKind::Group => Directory::Groups,
            },
            names: dir.refs.len(),
            strategy: dir.strategy.unwrap_or(Strategy::Nothing),
            reason: dir.reason.clone(),
            found,
            missing: dir.refs.len() - found,
        }
    }

    /// One assignee is resolved (or known missing): its rows may now be decided, and its
    /// spaces read.
    fn settle(
        &mut self,
        slot: usize,
        a: u32,
        id: Option<String>,
        items: &mut [PlanItem],
        decided: &mut Vec<usize>,
    ) {
        let dir = &mut self.assignees[slot];
        if dir.known[a as usize] != Known::Pending {
            return;
        }
        dir.known[a as usize] = if id.is_some() {
            Known::Found
        } else {
            Known::Missing
        };
        dir.ids[a as usize] = id;
        let count = self.assignees[slot].rows.of(a).len();
        for i in 0..count {
            let row = self.assignees[slot].rows.of(a)[i] as usize;
            let s = self.row_space[row];
            if let Some(space) = self.spaces.get_mut(s as usize) {
                space.unsettled = space.unsettled.saturating_sub(1);
            }
            self.try_decide(row, items, decided);
            self.maybe_list(s);
        }
    }

    /// Decide row `i` if everything it needs is known.
    fn try_decide(&mut self, i: usize, items: &mut [PlanItem], decided: &mut Vec<usize>) {
        let s = self.row_space[i];
        let Some(space) = self.spaces.get_mut(s as usize) else {
            return;
        };
        let item = &mut items[i];
        let action = match self.row_state[i] {
            RowState::Decided => return,
            RowState::Fresh => {
                let assignee = match space.known {
                    Known::Pending => return,
                    Known::Missing => None,
                    Known::Found => {
                        let slot = usize::from(self.row_slot[i]);
                        let a = self.row_assignee[i] as usize;
                        match self.assignees[slot].known[a] {
                            Known::Pending => return,
                            Known::Missing => None,
                            Known::Found => self.assignees[slot].ids[a].as_ref(),
                        }
                    }
                };
                item.space_info.clone_from(&space.info);
                item.assignee_id = assignee.cloned();
                if let Some(action) = check(item, space.info.as_deref(), assignee) {
                    action
                } else {
                    self.row_state[i] = RowState::Waiting;
                    space.waiting += 1;
                    match listing_action(&space.listing, self.mode, item) {
                        Some(action) => action,
                        None => return,
                    }
                }
            }
            RowState::Waiting => match listing_action(&space.listing, self.mode, item) {
                Some(action) => action,
                None => return,
            },
        };
        if self.row_state[i] == RowState::Waiting {
            space.waiting = space.waiting.saturating_sub(1);
        }
        space.undecided = space.undecided.saturating_sub(1);
        if space.undecided == 0 && space.known == Known::Found && matches!(space.listing, Listing::NotAsked) {
            self.unasked = self.unasked.saturating_sub(1);
        }
        item.action = action;
        self.row_state[i] = RowState::Decided;
        self.undecided = self.undecided.saturating_sub(1);
        decided.push(i);
        if space.undecided == 0 {
            self.release(s);
        }
    }

    /// Drop a space's listing once no row of it needs it.
    fn release(&mut self, s: u32) {
        let Some(space) = self.spaces.get_mut(s as usize) else {
            return;
        };
        if space.undecided == 0
            && let Listing::Held(held) = &space.listing
        {
            self.held = self.held.saturating_sub(held[0].len() + held[1].len());
            space.listing = Listing::Released;
        }
    }

    /// Ask for a space's listing when a row waits for it, or, reading early, when rows may.
    fn maybe_list(&mut self, s: u32) {
        let early = self.list_early && self.held < HELD_ASSIGNMENTS_CAP;
        let Some(space) = self.spaces.get_mut(s as usize) else {
            return;
        };
        if space.known != Known::Found || !matches!(space.listing, Listing::NotAsked) {
            return;
        }
        let wanted = if early {
            space.waiting > 0 || space.unsettled > 0
        } else {
            space.unsettled == 0 && space.waiting > 0
        };
        if wanted {
            if space.undecided > 0 {
                self.unasked = self.unasked.saturating_sub(1);
            }
            space.listing = Listing::Asked;
            self.listings.push_back(s);
            self.listings_asked += 1;
        }
    }

    /// Send queued reads while fewer than `concurrency` are in flight, alternating listings with
    /// lookups.
    fn fill(&mut self) {
        while self.critical.len() + self.reads.len() < self.concurrency {
            let jobs_ready = !self.jobs.is_empty()
                && (!self.hold_lookups || matches!(self.jobs.front(), Some(Job::Spaces)));
            let listing_first = self.prefer_listing || !jobs_ready;
            let job = if listing_first && let Some(s) = self.listings.pop_front() {
                Job::Listing { space: s }
            } else if jobs_ready && let Some(job) = self.jobs.pop_front() {
                job
            } else if let Some(s) = self.listings.pop_front() {
                Job::Listing { space: s }
            } else {
                break;
            };
            self.prefer_listing = !matches!(job, Job::Listing { .. });
            let critical = matches!(job, Job::Listing { .. } | Job::Spaces);
            let future = self.send(job);
            if critical {
                self.critical.push(future);
            } else {
                self.reads.push(future);
            }
        }
    }

    fn send(&self, job: Job) -> BoxFuture<'t, Answer> {
        let target = self.target;
        match job {
            Job::Spaces => {
                let refs = self.space_refs.clone();
                let limits = self.limits;
                Box::pin(async move { Answer::Spaces(resolve::spaces(target, &refs, limits).await) })
            }
            Job::ListAll { slot: 0 } => Box::pin(async move {
                Answer::Users {
                    members: None,
                    result: target.list_users().await,
                }
            }),
            Job::ListAll { .. } => Box::pin(async move {
                Answer::Groups {
                    members: None,
                    result: target.list_groups().await,
                }
            }),
            Job::Lookup { slot, members } => {
                let kind = slot_kind(slot);
                let names: Vec<String> = members
                    .iter()
                    .filter_map(|&a| lookup_name(kind, &self.assignees[slot].refs[a as usize]))
                    .collect();
                if slot == 0 {
                    Box::pin(async move {
                        Answer::Users {
                            result: target.find_users_by_email(&names).await,
                            members: Some(members),
                        }
                    })
                } else {
                    Box::pin(async move {
                        Answer::Groups {
                            result: target.find_groups_by_name(&names).await,
                            members: Some(members),
                        }
                    })
                }
            }
            Job::Listing { space } => {
                let info = self.spaces[space as usize].info.clone();
                let wanted = self.wanted_ids(space);
                Box::pin(async move {
                    let result = match &info {
                        Some(info) => target.list_assignments_of(info, &wanted).await,
                        None => Ok(Vec::new()),
                    };
                    Answer::Listing { space, result }
                })
            }
        }
    }

    /// The resolved ids of a space's rows, for targets that read members one by one.
    fn wanted_ids(&self, s: u32) -> Vec<String> {
        let mut seen: HashSet<(usize, u32)> = HashSet::new();
        let mut wanted = Vec::new();
        for &row in self.space_rows.of(s) {
            let row = row as usize;
            if self.row_state[row] == RowState::Decided {
                continue;
            }
            let a = self.row_assignee[row];
            let slot = usize::from(self.row_slot[row]);
            if seen.insert((slot, a))
                && let Some(Some(id)) = self.assignees[slot].ids.get(a as usize)
            {
                wanted.push(id.clone());
            }
        }
        wanted
    }

    /// Stop reading: what is in flight is dropped, nothing more is sent.
    pub(crate) fn stop(&mut self) {
        self.jobs.clear();
        self.listings.clear();
        self.critical = FuturesUnordered::new();
        self.reads = FuturesUnordered::new();
    }

    /// Decide every row still undecided as failed with `error` (a directory that could not be
    /// read after the run had started).
    pub(crate) fn fail_undecided(
        &mut self,
        error: &RowError,
        items: &mut [PlanItem],
        decided: &mut Vec<usize>,
    ) {
        self.stop();
        for (i, state) in self.row_state.iter_mut().enumerate() {
            if *state != RowState::Decided {
                *state = RowState::Decided;
                items[i].action = Action::Error(error.clone());
                decided.push(i);
            }
        }
        self.undecided = 0;
    }

    /// What the resolve phase did, and where the time went.
    pub(crate) fn finish(self) -> (ResolveReport, Timings) {
        let mut report = ResolveReport::default();
        if let Some(choice) = &self.space_choice {
            report.directories.push(choice.clone());
        }
        for slot in 0..2 {
            let choice = self.assignee_choice(slot);
            if choice.strategy != Strategy::Nothing {
                report.directories.push(choice);
            }
        }
        report.assignment_lists = self.listings_asked;
        let total = self.started.elapsed();
        let timings = Timings {
            read: self.read_time,
            resolve: total
                .saturating_sub(self.read_time)
                .saturating_sub(self.diff_time),
            diff: self.diff_time,
        };
        (report, timings)
    }
}

/// The progress callback (the planner prints nothing).
pub(crate) type Progress<'a> = &'a (dyn Fn(&PlanProgress) + Sync);

/// The name a lookup asks for: a lowercased email, or a group's exact name.
fn lookup_name(kind: AssigneeKind, r: &AssigneeRef) -> Option<String> {
    match (kind, r) {
        (AssigneeKind::User, AssigneeRef::Email(e)) => Some(e.to_lowercase()),
        (AssigneeKind::Group, AssigneeRef::Name(n)) => Some(n.clone()),
        _ => None,
    }
}

/// The action of a row that waits for its space's listing, once the listing is in.
fn listing_action(listing: &Listing, mode: Mode, item: &PlanItem) -> Option<Action> {
    match listing {
        Listing::Held(held) => {
            let existing = item
                .assignee_id
                .as_deref()
                .and_then(|id| held[kind_slot(item.assignee_kind)].get(id));
            Some(diff(mode, &item.roles, existing))
        }
        Listing::Failed(error) => Some(Action::Error(error.clone())),
        Listing::NotAsked | Listing::Asked | Listing::Released => None,
    }
}
