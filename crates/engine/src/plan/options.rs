//! How to plan and what planning reports besides the plan: the [`PlanOptions`] the planner is
//! given, the [`PlanProgress`] it reports as it reads, and the [`Timings`] of where its time went.

use std::time::Duration;

use serde::Serialize;

use super::resolve::{Directory, DirectoryChoice};
use crate::model::{Mode, PlanCounts};

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
