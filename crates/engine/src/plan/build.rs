//! Building a whole [`Plan`]: [`build`] runs the [`Planner`] to the end (`roster plan`, and
//! `roster apply` with `--prune`), then adds the plan's totals (counts, write calls and the least
//! write time). The planner does the reading and deciding.

use std::collections::HashMap;
use std::time::Duration;

use core_api::target::{AssigneeKind, Capabilities, Target};
use core_api::{RateLimits, Tier};

use super::error::PlanError;
use super::options::{PlanOptions, PlanProgress, Timings};
use super::planner::Planner;
use super::resolve::ResolveReport;
use crate::model::{Action, ParsedRow, Plan, PlanCounts, PlanItem, WriteWindow};

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
