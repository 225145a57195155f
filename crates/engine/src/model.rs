//! The values that flow between the roster reader, the planner, the executor and the reporters.
//!
//! They live in one module so each stage can be built and tested on its own: the reader yields
//! [`ParsedRow`]s, the planner turns them into a [`Plan`], the executor runs the plan and emits
//! [`Event`]s, and every reporter (progress, journal, failed rows, JSON) consumes those events.

use std::sync::Arc;
use std::time::Duration;

use core_api::target::{AssigneeKind, SpaceInfo, TargetError};
use serde::{Deserialize, Serialize};

/// How a roster row names its space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "lowercase")]
pub enum SpaceRef {
    /// By exact display name (`space`, `space_name`).
    Name(String),
    /// By the tenant's id (`space_id`).
    Id(String),
}

/// How a roster row names its assignee.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "lowercase")]
pub enum AssigneeRef {
    /// A user by email, stored lowercased (emails match case-insensitively).
    Email(String),
    /// A group by exact, case-sensitive name.
    Name(String),
    /// A user or group by the tenant's id (`assignee_id`).
    Id(String),
}

/// One valid roster row: a wish that `assignee` holds `roles` in `space`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterRow {
    /// 1-based line in the file where the record starts.
    pub line: u64,
    /// The space, as the roster names it.
    pub space: SpaceRef,
    /// User or group.
    pub assignee_kind: AssigneeKind,
    /// The assignee, as the roster names it.
    pub assignee: AssigneeRef,
    /// Normalised API role names, sorted and without duplicates, never empty.
    pub roles: Vec<String>,
}

/// A problem with one row: the row fails, the rest of the file goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowProblem {
    /// 1-based line of the record.
    pub line: u64,
    /// The column's header name, where one column is to blame.
    pub column: Option<String>,
    /// A lowercase fragment, e.g. `unknown role "Can fly"`.
    pub message: String,
    /// What the row's space, type and assignee cells say, as written: reports name the row
    /// as the roster does even though it cannot be used.
    /// Boxed: most rows are valid, and a row's size counts in a million-row roster.
    #[serde(default)]
    pub said: Box<RowSaid>,
}

/// A row's space, type and assignee cells as written (trimmed), whether or not they are valid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowSaid {
    /// The space cell (name or id).
    pub space: String,
    /// The type cell (`user`, `group`, or whatever else the row says); for a roster with an
    /// email column and a group column and no type column, the kind of the filled column.
    pub kind: String,
    /// The assignee cell (email, group name or id).
    pub assignee: String,
}

/// What the reader yields for each record: the row or why it cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRow {
    /// 1-based line of the record.
    pub line: u64,
    /// The row, or the row-level problem.
    pub row: Result<RosterRow, RowProblem>,
}

/// `merge` adds the roster's roles to what an assignee has; `exact` makes them equal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Add roles, never remove one.
    #[default]
    Merge,
    /// Make the roles exactly the roster's.
    Exact,
}

/// Why a row cannot be done, in a form the failed-rows CSV, the journal and the JSON share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// Short, stable machine code: `invalid_row`, `unknown_space`, `unknown_user`, `unknown_group`,
    /// `role_not_assignable`, `space_owner`, `duplicate_conflict`, `groups_unsupported`, or a client
    /// error's kind code (`forbidden`, `server`, `rate_limited`, ...).
    pub code: String,
    /// HTTP status when the tenant answered with one.
    pub http_status: Option<u16>,
    /// A lowercase sentence fragment for people.
    pub message: String,
    /// How many HTTP attempts were made (0 when nothing was sent).
    pub attempts: u32,
}

impl RowError {
    /// How a client error is recorded for a row: its stable kind code, status, message and
    /// attempts. The planner (a failed read) and the executor (a failed write) record it alike.
    pub fn from_target(error: &TargetError) -> RowError {
        RowError {
            code: error.kind_code().to_owned(),
            http_status: error.status(),
            message: error.to_string(),
            attempts: error.attempts(),
        }
    }
}

/// What the plan says to do with one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Action {
    /// `+`: create an assignment.
    Create {
        /// Roles to grant.
        roles: Vec<String>,
    },
    /// `~`: replace the roles of an existing assignment.
    Update {
        /// The existing assignment id.
        assignment_id: String,
        /// Roles held now.
        old: Vec<String>,
        /// Roles after the write (full list).
        new: Vec<String>,
    },
    /// `=`: already as the roster says.
    Unchanged {
        /// Roles held.
        roles: Vec<String>,
    },
    /// `-`: remove an assignment the roster does not list (prune).
    Delete {
        /// The existing assignment id.
        assignment_id: String,
        /// Roles held now.
        roles: Vec<String>,
    },
    /// `!`: the row cannot be done.
    Error(RowError),
}

/// A stable key for a row: a hash of (target, space, type, assignee, roles), so a re-sorted roster
/// still resumes. The journal counts a key only within its run, whose header fixes the mode and
/// prune setting. Hex, 32 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RowKey(pub String);

/// One row of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanItem {
    /// 1-based roster line (0 for rows the roster does not list, i.e. prune deletes).
    pub line: u64,
    /// The row's resume key.
    pub key: RowKey,
    /// The space as the roster names it.
    pub space: SpaceRef,
    /// The resolved space, when it resolved.
    pub space_info: Option<Arc<SpaceInfo>>,
    /// User or group.
    pub assignee_kind: AssigneeKind,
    /// The assignee as the roster names it.
    pub assignee: AssigneeRef,
    /// The row's type as written when it is neither `user` nor `group` (the row is invalid and
    /// `assignee_kind` means nothing then).
    pub stated_type: Option<String>,
    /// The resolved user or group id, when it resolved.
    pub assignee_id: Option<String>,
    /// The roles the roster asks for (normalised).
    pub roles: Vec<String>,
    /// What to do.
    pub action: Action,
}

/// Counts of a plan, for the summary line and the JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanCounts {
    /// Rows to create.
    pub create: u64,
    /// Rows to update.
    pub update: u64,
    /// Rows already right.
    pub unchanged: u64,
    /// Assignments to delete (prune).
    pub delete: u64,
    /// Rows that cannot be done.
    pub error: u64,
    /// New members the target emails when it adds them (Alumio): the user rows to create. Zero
    /// for targets that send no email.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub emailed: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The whole comparison of a roster with a tenant. `plan` prints it; `apply` executes exactly it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The target's name as the user chose it (`--to`).
    pub target: String,
    /// Merge or exact.
    pub mode: Mode,
    /// One item per roster row (after merging exact duplicates), plus prune deletes.
    pub items: Vec<PlanItem>,
    /// Totals per action.
    pub counts: PlanCounts,
    /// How many write calls the plan needs (after batching, for bulk targets).
    pub write_calls: u64,
    /// The least time those writes take at the target's write rate limit.
    pub min_write_time: Duration,
    /// Whether writes burst within a window, so that `min_write_time` is an estimate: a window
    /// for each budget beyond the first, plus round trips for the rest.
    #[serde(default)]
    pub write_time_estimated: bool,
}

/// How one row ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RowOutcome {
    /// The assignment was created.
    Created,
    /// The roles were replaced.
    Updated,
    /// Nothing needed doing (planned so, or found so after a 409).
    Unchanged,
    /// The assignment was removed (prune).
    Deleted,
    /// The row failed; the reason goes to the failed-rows CSV.
    Failed(RowError),
}

/// Running totals carried by every event, so a reporter needs no state of its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Rows in this run (after resume: the rows still to do, plus those done earlier).
    pub total: u64,
    /// Rows finished, in any outcome (including rows done by an earlier run).
    pub done: u64,
    /// Rows done by an earlier run, skipped on resume.
    pub resumed: u64,
    /// Rows created.
    pub created: u64,
    /// Rows updated.
    pub updated: u64,
    /// Rows unchanged.
    pub unchanged: u64,
    /// Assignments deleted.
    pub deleted: u64,
    /// Rows failed.
    pub failed: u64,
    /// Rows whose write is waiting for a retry right now.
    pub retrying: u64,
    /// Write calls sent so far.
    pub writes: u64,
    /// 429 responses received so far.
    pub throttled: u64,
}

/// Writes that burst within a window: at most `budget` in any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteWindow {
    /// Writes any window may hold (`limit × window`).
    pub budget: u32,
    /// The window's length.
    pub window: Duration,
}

/// What the executor tells its reporters. Row events carry the item's index in `Plan::items`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Execution begins: what will be sent, and what an earlier run already did.
    Started {
        /// Totals at the start (`resumed` counts rows skipped from the journal).
        totals: Totals,
        /// The write rate limit, writes per minute, for "x/min of y/min".
        write_limit_per_min: u32,
        /// The window writes burst within (pace burst), for "budget left in the window"; `None`
        /// when writes are paced steadily.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        write_window: Option<WriteWindow>,
    },
    /// A row's write was sent for the first time.
    RowStarted {
        /// Index in `Plan::items`.
        index: usize,
    },
    /// A row's write failed transiently and will be tried again.
    RowRetrying {
        /// Index in `Plan::items`.
        index: usize,
        /// The attempt about to be made (2 = first retry).
        attempt: u32,
        /// How long until it is sent.
        delay: Duration,
        /// Why, as a short fragment.
        cause: String,
        /// Totals now.
        totals: Totals,
    },
    /// The tenant said 429: every write waits until the pause is over.
    Throttled {
        /// How long the pause lasts from now.
        resume_in: Duration,
        /// Totals now.
        totals: Totals,
        /// Set when this 429 refused a burst within the window: writes are paced steadily at
        /// this many per minute from now on. At most once per run.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pacing_per_min: Option<u32>,
    },
    /// A row's create made this assignment (just before its `RowFinished`), when the target
    /// said its id: the journal records it, so an undo can find what the run created.
    RowCreated {
        /// Index in `Plan::items`.
        index: usize,
        /// The created assignment's id.
        assignment_id: String,
    },
    /// A row's create found the assignment already there (a 409) and is about to update it:
    /// sent before the update, so the journal records the roles it had first.
    RowFound {
        /// Index in `Plan::items`.
        index: usize,
        /// The existing assignment's id.
        assignment_id: String,
        /// Its roles before the update.
        roles: Vec<String>,
        /// The roles the update leaves.
        new: Vec<String>,
    },
    /// A row reached its final outcome (exactly once per row).
    RowFinished {
        /// Index in `Plan::items`.
        index: usize,
        /// How it ended.
        outcome: RowOutcome,
        /// HTTP attempts spent on it.
        attempts: u32,
        /// Totals now.
        totals: Totals,
    },
    /// Ctrl-C: no new rows are taken; in-flight writes finish.
    Interrupted {
        /// Totals now.
        totals: Totals,
    },
    /// The run is over.
    Finished {
        /// Final totals.
        totals: Totals,
        /// Wall time of the execution phase.
        elapsed: Duration,
        /// True when the run stopped early (Ctrl-C) and can be resumed.
        interrupted: bool,
    },
}

/// A consumer of executor events: the progress display, the journal, the failed-rows CSV and the
/// JSON stream each implement it, and the executor feeds them all the same events in order.
pub trait Reporter: Send {
    /// Take one event. An error stops the run: a journal that cannot be written must not be ignored.
    fn on_event(&mut self, plan: &Plan, event: &Event) -> std::io::Result<()>;

    /// Make durable what the events so far recorded. The executor calls it once per turn of its
    /// loop, before any request of that turn is sent and before it waits; a reporter may hold its
    /// events' output until then (the journal does, to write them in one call).
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
