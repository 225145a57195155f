//! The execution loop.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use core_api::target::{AssignmentInfo, SpaceInfo, Target, WriteOp, WriteOutcome};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::mpsc;

use super::interrupt::Interrupts;
use super::observe::{CTX, Ctx, Msg};
use super::row_error;
use crate::model::{Action, Event, Mode, Plan, PlanItem, Reporter, RowError, RowOutcome, Totals};
use crate::plan;

/// How to execute.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Write calls in flight at once (`--concurrency`).
    pub concurrency: usize,
    /// The write limit, writes per minute (0 when unlimited), for the progress display.
    pub write_limit_per_min: u32,
    /// After the first Ctrl-C, how long in-flight writes may take to finish.
    pub drain_timeout: Duration,
    /// Rows an earlier run already did (skipped before planning), for the totals.
    pub resumed: u64,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            concurrency: 8,
            write_limit_per_min: 0,
            drain_timeout: Duration::from_secs(15),
            resumed: 0,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunResult {
    /// Final totals.
    pub totals: Totals,
    /// Wall time of the execution.
    pub elapsed: Duration,
    /// Whether Ctrl-C stopped it early.
    pub interrupted: bool,
}

/// Why a run stopped before its end.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct ExecError {
    kind: Box<ExecErrorKind>,
}

/// What stopped the run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecErrorKind {
    /// A reporter could not record an event (a journal that cannot be written stops the run).
    #[error("record progress: {0}")]
    Report(#[source] io::Error),
}

impl ExecError {
    /// What stopped the run.
    pub fn kind(&self) -> &ExecErrorKind {
        &self.kind
    }
}

/// One row's end, as a write future reports it.
struct Finished {
    index: usize,
    outcome: RowOutcome,
    attempts: u32,
    writes: u64,
}

struct Loop<'a> {
    plan: &'a Plan,
    reporters: &'a mut [Box<dyn Reporter>],
    totals: Totals,
    retrying: Vec<bool>,
    throttled_until: Option<Instant>,
}

impl Loop<'_> {
    fn emit(&mut self, event: &Event) -> Result<(), ExecError> {
        for reporter in self.reporters.iter_mut() {
            reporter.on_event(self.plan, event).map_err(|e| ExecError {
                kind: Box::new(ExecErrorKind::Report(e)),
            })?;
        }
        Ok(())
    }

    fn set_retrying(&mut self, index: usize, on: bool) {
        if let Some(flag) = self.retrying.get_mut(index)
            && *flag != on
        {
            *flag = on;
            if on {
                self.totals.retrying += 1;
            } else {
                self.totals.retrying = self.totals.retrying.saturating_sub(1);
            }
        }
    }

    fn finish(&mut self, done: Finished) -> Result<(), ExecError> {
        self.set_retrying(done.index, false);
        let t = &mut self.totals;
        t.done += 1;
        t.writes += done.writes;
        match &done.outcome {
            RowOutcome::Created => t.created += 1,
            RowOutcome::Updated => t.updated += 1,
            RowOutcome::Unchanged => t.unchanged += 1,
            RowOutcome::Deleted => t.deleted += 1,
            RowOutcome::Failed(_) => t.failed += 1,
        }
        let event = Event::RowFinished {
            index: done.index,
            outcome: done.outcome,
            attempts: done.attempts,
            totals: self.totals,
        };
        self.emit(&event)
    }

    fn on_msg(&mut self, msg: Msg) -> Result<(), ExecError> {
        match msg {
            Msg::Got429 => {
                self.totals.throttled += 1;
                Ok(())
            }
            Msg::Resent { indices } => {
                for &i in indices.iter() {
                    self.set_retrying(i, false);
                }
                Ok(())
            }
            Msg::Retrying {
                indices,
                attempt,
                delay,
                cause,
            } => {
                for &index in indices.iter() {
                    self.set_retrying(index, true);
                    let event = Event::RowRetrying {
                        index,
                        attempt,
                        delay,
                        cause: cause.clone(),
                        totals: self.totals,
                    };
                    self.emit(&event)?;
                }
                Ok(())
            }
            Msg::Throttled { until, wait } => {
                // Every waiting write reports the same pause; tell the reporters once per pause.
                let new = self
                    .throttled_until
                    .is_none_or(|t| until > t + Duration::from_millis(500));
                if new {
                    self.throttled_until = Some(until);
                    self.emit(&Event::Throttled {
                        resume_in: wait,
                        totals: self.totals,
                    })?;
                }
                Ok(())
            }
        }
    }
}

/// Execute a plan: emit `Started`, a `RowFinished` for every row the plan already decided
/// (errors and unchanged rows), then run the writes, and end with `Finished`.
///
/// On the first interrupt no new writes start; those in flight may finish within
/// `drain_timeout`. On the second the run stops at once. Either way `Interrupted` and
/// `Finished { interrupted: true }` are emitted, and rows whose write had not finished get no
/// `RowFinished` (they are done again on resume).
pub async fn execute(
    plan: &Plan,
    target: &dyn Target,
    reporters: &mut [Box<dyn Reporter>],
    opts: &ExecOptions,
    interrupts: &mut Interrupts,
) -> Result<RunResult, ExecError> {
    let started = Instant::now();
    let totals = Totals {
        total: plan.items.len() as u64 + opts.resumed,
        done: opts.resumed,
        resumed: opts.resumed,
        ..Totals::default()
    };
    let mut state = Loop {
        plan,
        reporters,
        totals,
        retrying: vec![false; plan.items.len()],
        throttled_until: None,
    };
    state.emit(&Event::Started {
        totals: state.totals,
        write_limit_per_min: opts.write_limit_per_min,
    })?;

    for (index, item) in plan.items.iter().enumerate() {
        let outcome = match &item.action {
            Action::Error(error) => RowOutcome::Failed(error.clone()),
            Action::Unchanged { .. } => RowOutcome::Unchanged,
            _ => continue,
        };
        state.finish(Finished {
            index,
            outcome,
            attempts: 0,
            writes: 0,
        })?;
    }

    let caps = target.capabilities();
    let chunks = chunks(plan, caps.max_batch);
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut inflight = FuturesUnordered::new();
    let mut next = 0;
    let mut stopping = false;
    let mut interrupted = false;
    let mut drain_deadline: Option<tokio::time::Instant> = None;
    let concurrency = opts.concurrency.max(1);

    loop {
        while !stopping && inflight.len() < concurrency && next < chunks.len() {
            let indices: Arc<[usize]> = Arc::clone(&chunks[next]);
            next += 1;
            for &index in indices.iter() {
                state.emit(&Event::RowStarted { index })?;
            }
            let ctx = Ctx {
                indices: Arc::clone(&indices),
                tx: tx.clone(),
                requests: Arc::new(AtomicU32::new(0)),
                write_requests: Arc::new(AtomicU32::new(0)),
            };
            let counters = Counters {
                requests: Arc::clone(&ctx.requests),
                writes: Arc::clone(&ctx.write_requests),
            };
            inflight.push(CTX.scope(ctx, run_chunk(target, plan, indices, counters)));
        }
        if inflight.is_empty() {
            break;
        }
        tokio::select! {
            Some(msg) = rx.recv() => state.on_msg(msg)?,
            Some(results) = inflight.next() => {
                for done in results {
                    state.finish(done)?;
                }
            }
            () = interrupts.recv() => {
                if interrupted {
                    // Second Ctrl-C: stop now; unfinished rows are redone on resume.
                    break;
                }
                interrupted = true;
                stopping = true;
                drain_deadline = Some(tokio::time::Instant::now() + opts.drain_timeout);
                state.emit(&Event::Interrupted { totals: state.totals })?;
            }
            () = sleep_until(drain_deadline) => break,
        }
    }
    drop(inflight);
    // Count what the loop has not seen yet (a 429 answered just before the end).
    while let Ok(msg) = rx.try_recv() {
        if matches!(msg, Msg::Got429) {
            state.totals.throttled += 1;
        }
    }
    state.totals.retrying = 0;
    let elapsed = started.elapsed();
    state.emit(&Event::Finished {
        totals: state.totals,
        elapsed,
        interrupted,
    })?;
    Ok(RunResult {
        totals: state.totals,
        elapsed,
        interrupted,
    })
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The plan's writes as calls: single rows for one-at-a-time targets, otherwise rows of one space
/// in batches of up to `max_batch`, in roster order of each space's first row.
fn chunks(plan: &Plan, max_batch: usize) -> Vec<Arc<[usize]>> {
    let writes = plan
        .items
        .iter()
        .enumerate()
        .filter(|(_, item)| {
            matches!(
                item.action,
                Action::Create { .. } | Action::Update { .. } | Action::Delete { .. }
            )
        })
        .map(|(i, _)| i);
    if max_batch <= 1 {
        return writes.map(|i| Arc::from([i].as_slice())).collect();
    }
    let mut order: Vec<&str> = Vec::new();
    let mut by_space: HashMap<&str, Vec<usize>> = HashMap::new();
    for i in writes {
        let id = plan.items[i].space_info.as_ref().map_or("", |s| s.id.as_str());
        by_space
            .entry(id)
            .or_insert_with(|| {
                order.push(id);
                Vec::new()
            })
            .push(i);
    }
    order
        .iter()
        .filter_map(|id| by_space.get(id))
        .flat_map(|rows| rows.chunks(max_batch).map(Arc::from))
        .collect()
}

fn failed(code: &str, message: &str) -> RowOutcome {
    RowOutcome::Failed(RowError {
        code: code.to_owned(),
        http_status: None,
        message: message.to_owned(),
        attempts: 0,
    })
}

fn op_for(item: &PlanItem) -> Option<WriteOp> {
    let assignee_id = item.assignee_id.clone()?;
    let kind = item.assignee_kind;
    match &item.action {
        Action::Create { roles } => Some(WriteOp::Create {
            assignee_kind: kind,
            assignee_id,
            roles: roles.clone(),
        }),
        Action::Update {
            assignment_id, new, ..
        } => Some(WriteOp::Update {
            assignment_id: assignment_id.clone(),
            assignee_kind: kind,
            assignee_id,
            roles: new.clone(),
        }),
        Action::Delete { assignment_id, .. } => Some(WriteOp::Delete {
            assignment_id: assignment_id.clone(),
            assignee_kind: kind,
            assignee_id,
        }),
        Action::Unchanged { .. } | Action::Error(_) => None,
    }
}

/// What the observer counted for one chunk's rows.
struct Counters {
    /// Every HTTP request.
    requests: Arc<AtomicU32>,
    /// Write (Tier 2) requests only.
    writes: Arc<AtomicU32>,
}

/// Send one chunk's writes and settle each row, including the read-compare-update after a create
/// finds the assignment already there.
async fn run_chunk(
    target: &dyn Target,
    plan: &Plan,
    indices: Arc<[usize]>,
    counters: Counters,
) -> Vec<Finished> {
    let Counters {
        requests,
        writes: write_requests,
    } = counters;
    let mut results: Vec<Finished> = Vec::with_capacity(indices.len());
    let mut ops = Vec::with_capacity(indices.len());
    let mut sent: Vec<usize> = Vec::with_capacity(indices.len());
    for &index in indices.iter() {
        let item = &plan.items[index];
        match op_for(item) {
            Some(op) => {
                ops.push(op);
                sent.push(index);
            }
            None => results.push(Finished {
                index,
                outcome: failed("internal", "the plan has no assignee id for this write"),
                attempts: 0,
                writes: 0,
            }),
        }
    }
    let Some(space) = sent.first().and_then(|&i| plan.items[i].space_info.clone()) else {
        return results;
    };
    let outcomes = target.write(&space, &ops).await;
    let mut outcomes = outcomes.into_iter();
    // The call's requests are shared by its rows; each row counts at least one attempt.
    let call_attempts = requests.load(Ordering::Relaxed).max(1);
    // A create retried after a lost answer meets its own assignment: a 409 on a later attempt
    // with exactly the roles sent means this run created it. Only a one-row call can tell.
    let retried_alone = sent.len() == 1 && write_requests.load(Ordering::Relaxed) > 1;
    // Calls made here: the chunk's write, plus an update after each 409. A client that reports
    // its requests may show more (resends, splits); the larger count is the true one.
    let mut calls: u64 = 1;
    for &index in &sent {
        let item = &plan.items[index];
        let (outcome, attempts) = match outcomes.next() {
            None => (
                failed("internal", "the target returned no result for this write"),
                call_attempts,
            ),
            Some(Err(e)) => {
                let mut error = row_error(&e);
                error.attempts = error.attempts.max(call_attempts);
                let attempts = error.attempts;
                (RowOutcome::Failed(error), attempts)
            }
            Some(Ok(WriteOutcome::Created(_))) => (RowOutcome::Created, call_attempts),
            Some(Ok(WriteOutcome::Updated(_))) => (RowOutcome::Updated, call_attempts),
            Some(Ok(WriteOutcome::Deleted)) => (RowOutcome::Deleted, call_attempts),
            Some(Ok(WriteOutcome::AlreadyExists(existing))) => {
                if retried_alone && is_own_create(item, &existing) {
                    (RowOutcome::Created, call_attempts)
                } else {
                    let before = requests.load(Ordering::Relaxed);
                    let (outcome, updates) = settle_existing(target, &space, plan.mode, item, existing).await;
                    calls += updates;
                    let after = requests.load(Ordering::Relaxed);
                    let extra = (after - before).max(u32::try_from(updates).unwrap_or(0));
                    (outcome, call_attempts + extra)
                }
            }
        };
        results.push(Finished {
            index,
            outcome,
            attempts,
            writes: 0,
        });
    }
    // Every write request the chunk sent (resends, splits, the update after a 409) counts once,
    // on its first row, so the totals show the real write rate against the limit.
    if let Some(first) = results.first_mut() {
        first.writes = calls.max(u64::from(write_requests.load(Ordering::Relaxed)));
    }
    results
}

/// Whether an assignment found by a create holds exactly the roles that create sent.
fn is_own_create(item: &PlanItem, existing: &AssignmentInfo) -> bool {
    let Action::Create { roles } = &item.action else {
        return false;
    };
    let mut found = existing.roles.clone();
    found.sort_unstable();
    found.dedup();
    let mut sent = roles.clone();
    sent.sort_unstable();
    sent.dedup();
    found == sent
}

/// A create met an existing assignment (a 409, or a retried create whose first answer was lost):
/// compare as the plan would have, then update or leave it.
async fn settle_existing(
    target: &dyn Target,
    space: &SpaceInfo,
    mode: Mode,
    item: &PlanItem,
    existing: AssignmentInfo,
) -> (RowOutcome, u64) {
    let mut old = existing.roles.clone();
    old.sort_unstable();
    old.dedup();
    let new = plan::target_roles(mode, &item.roles, &old);
    if new == old {
        return (RowOutcome::Unchanged, 0);
    }
    let op = WriteOp::Update {
        assignment_id: existing.id,
        assignee_kind: existing.assignee_kind,
        assignee_id: existing.assignee_id,
        roles: new,
    };
    let outcome = match target
        .write(space, std::slice::from_ref(&op))
        .await
        .into_iter()
        .next()
    {
        Some(Ok(_)) => RowOutcome::Updated,
        Some(Err(e)) => RowOutcome::Failed(row_error(&e)),
        None => failed("internal", "the target returned no result for this write"),
    };
    (outcome, 1)
}
