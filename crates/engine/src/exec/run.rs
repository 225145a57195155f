//! The execution loop.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use core_api::target::{AssignmentInfo, SpaceInfo, Target, WriteOp, WriteOutcome};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::interrupt::Interrupts;
use super::observe::{CTX, Ctx, Msg};
use crate::model::{
    Action, Event, Mode, ParsedRow, Plan, PlanCounts, PlanItem, Reporter, RowError, RowOutcome, Totals,
    WriteWindow,
};
use crate::plan::{self, Pending, PlanError, PlanErrorKind, PlanOptions, PlanProgress, Planner};

/// How to execute.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Write calls in flight at once (`--concurrency`).
    pub concurrency: usize,
    /// The write limit, writes per minute (0 when unlimited), for the progress display.
    pub write_limit_per_min: u32,
    /// The window writes burst within, for the progress display; `None` when paced steadily.
    pub write_window: Option<WriteWindow>,
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
            write_window: None,
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
    /// The id of the assignment a create made, when the target said it.
    created_id: Option<String>,
}

struct Loop<'a> {
    plan: &'a mut Plan,
    totals: Totals,
    retrying: Vec<bool>,
    throttled_until: Option<Instant>,
    /// Writes now pace steadily at this rate after a refused burst, until a `Throttled` says so.
    pacing_per_min: Option<u32>,
}

impl Loop<'_> {
    fn emit(&self, reporters: &mut [Box<dyn Reporter>], event: &Event) -> Result<(), ExecError> {
        for reporter in reporters.iter_mut() {
            reporter.on_event(self.plan, event).map_err(|e| ExecError {
                kind: Box::new(ExecErrorKind::Report(e)),
            })?;
        }
        Ok(())
    }

    /// Make what the reporters recorded durable: before any request of this turn leaves, and
    /// before the loop waits.
    fn flush(&self, reporters: &mut [Box<dyn Reporter>]) -> Result<(), ExecError> {
        for reporter in reporters.iter_mut() {
            reporter.flush().map_err(|e| ExecError {
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

    fn finish(&mut self, reporters: &mut [Box<dyn Reporter>], done: Finished) -> Result<(), ExecError> {
        self.set_retrying(done.index, false);
        if let Some(assignment_id) = done.created_id {
            let event = Event::RowCreated {
                index: done.index,
                assignment_id,
            };
            self.emit(reporters, &event)?;
        }
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
        self.emit(reporters, &event)
    }

    fn on_msg(&mut self, reporters: &mut [Box<dyn Reporter>], msg: Msg) -> Result<(), ExecError> {
        match msg {
            Msg::Got429 => {
                self.totals.throttled += 1;
                Ok(())
            }
            Msg::Found {
                index,
                assignment_id,
                roles,
                new,
                ack,
            } => {
                let event = Event::RowFound {
                    index,
                    assignment_id,
                    roles,
                    new,
                };
                self.emit(reporters, &event)?;
                self.flush(reporters)?;
                // The update may go now that its before-state is recorded.
                let _ = ack.send(());
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
                    self.emit(reporters, &event)?;
                }
                Ok(())
            }
            Msg::Throttled { until, wait } => {
                // Every waiting write reports the same pause; tell the reporters once per pause
                // (and always when it is the one that ended a burst).
                let new = self
                    .throttled_until
                    .is_none_or(|t| until > t + Duration::from_millis(500));
                if new || self.pacing_per_min.is_some() {
                    self.throttled_until = Some(until);
                    let pacing_per_min = self.pacing_per_min.take();
                    self.emit(
                        reporters,
                        &Event::Throttled {
                            resume_in: wait,
                            totals: self.totals,
                            pacing_per_min,
                        },
                    )?;
                }
                Ok(())
            }
            Msg::BurstRefused { per_min } => {
                // Comes just before the `Throttled` of the same 429, which carries it.
                self.pacing_per_min = Some(per_min);
                Ok(())
            }
        }
    }
}

/// Execute a plan: emit `Started`, a `RowFinished` for every row the plan already decided
/// (errors and unchanged rows), then run the writes, and end with `Finished`.
///
/// On the first interrupt nothing new is sent: rows still queued, and calls waiting for the rate
/// limiter, a retry's backoff or a 429's pause, are dropped; only requests already on the wire
/// may finish, within `drain_timeout`. On the second the run stops at once. Either way
/// `Interrupted` and `Finished` are emitted, and rows whose write had not finished get no
/// `RowFinished` (they are done again on resume). `Finished` says `interrupted: true` only when
/// rows are left for a resume.
pub async fn execute(
    plan: &mut Plan,
    target: &dyn Target,
    reporters: &mut [Box<dyn Reporter>],
    opts: &ExecOptions,
    interrupts: &mut Interrupts,
) -> Result<RunResult, ExecError> {
    let mut run = Run::new(plan, target, opts);
    run.begin(reporters)?;
    let all: Vec<usize> = (0..run.state.plan.items.len()).collect();
    run.take_decided(reporters, &all)?;
    run.drive(reporters, None, interrupts).await
}

/// Why a planned-while-executing run stopped before its end.
#[derive(Debug)]
pub enum PipelineError<E> {
    /// The tenant could not be read before anything was decided: nothing was sent or recorded.
    Plan(PlanError),
    /// The reporters could not be set up (the journal could not be opened).
    Open(E),
    /// A reporter failed during the run.
    Exec(ExecError),
}

/// The reads of a run that plans as it executes, with how to tell the caller about them.
pub(crate) struct Planning<'a, 't> {
    /// The planner, started.
    pub planner: Planner<'t>,
    /// Resolve progress, until the first row is decided.
    pub progress: &'a (dyn Fn(&PlanProgress) + Sync),
    /// Called once, when the first row is decided: resolve progress gives way to the run's.
    pub on_started: &'a mut dyn FnMut(),
}

/// Plan `rows` and execute the plan at the same time: each row's write is sent as soon as the
/// planner has decided it, so that the first writes leave while other names and spaces are
/// still being read. `open` makes the reporters when the first row is decided, so that a tenant
/// that cannot be read at all leaves no trace (not even an opened journal) and sends nothing.
///
/// The events are those of [`execute`]. A directory that fails to read once rows have been
/// recorded fails the rows still undecided with its error, instead of stopping the run.
#[expect(
    clippy::too_many_arguments,
    reason = "one caller; the planning and the execution each bring their own options"
)]
pub async fn plan_and_execute<E>(
    rows: Vec<ParsedRow>,
    target: &dyn Target,
    plan_opts: &PlanOptions,
    progress: &(dyn Fn(&PlanProgress) + Sync),
    on_started: &mut dyn FnMut(),
    open: impl FnOnce() -> Result<Vec<Box<dyn Reporter>>, E>,
    opts: &ExecOptions,
    interrupts: &mut Interrupts,
) -> Result<RunResult, PipelineError<E>> {
    let rows = plan::ShrinkingPop::new(rows);
    let (mut planner, items) = Planner::new(rows, true, target, plan_opts, true);
    let mut plan = Plan {
        target: plan_opts.target_name.clone(),
        mode: plan_opts.mode,
        items,
        counts: PlanCounts::default(),
        write_calls: 0,
        min_write_time: Duration::ZERO,
        write_time_estimated: false,
    };
    let mut read_decided = Vec::new();
    planner.start(&mut plan.items, &mut read_decided, progress);
    // Rows that failed as they were read wait: the run starts with the tenant's first answer
    // that decides a row, so a tenant that cannot be read at all stops it before anything.
    let mut decided = Vec::new();
    let mut run = Run::new(&mut plan, target, opts);
    let mut planning = Planning {
        planner,
        progress,
        on_started,
    };
    // Read until the first row is decided; a tenant that cannot be read stops here.
    while decided.is_empty() && !planning.planner.is_done() {
        tokio::select! {
            Some(answer) = planning.planner.next_answer() => {
                planning
                    .planner
                    .apply(answer, &mut run.state.plan.items, &mut decided, progress)
                    .map_err(PipelineError::Plan)?;
            }
            () = interrupts.recv() => {
                planning.planner.stop();
                run.interrupted = true;
                break;
            }
        }
    }
    (planning.on_started)();
    let mut reporters = open().map_err(PipelineError::Open)?;
    run.begin(&mut reporters).map_err(PipelineError::Exec)?;
    if run.interrupted {
        return run.end(&mut reporters).map_err(PipelineError::Exec);
    }
    read_decided.extend_from_slice(&decided);
    run.take_decided(&mut reporters, &read_decided)
        .map_err(PipelineError::Exec)?;
    run.drive(&mut reporters, Some(planning), interrupts)
        .await
        .map_err(PipelineError::Exec)
}

/// One execution: the plan, the writes waiting for a slot, and the loop's state.
struct Run<'p, 't> {
    state: Loop<'p>,
    target: &'t dyn Target,
    max_batch: usize,
    concurrency: usize,
    drain_timeout: Duration,
    write_limit_per_min: u32,
    write_window: Option<WriteWindow>,
    queue: VecDeque<Chunk>,
    interrupted: bool,
    started: Instant,
}

impl<'p, 't> Run<'p, 't> {
    fn new(plan: &'p mut Plan, target: &'t dyn Target, opts: &ExecOptions) -> Self {
        let totals = Totals {
            total: plan.items.len() as u64 + opts.resumed,
            done: opts.resumed,
            resumed: opts.resumed,
            ..Totals::default()
        };
        let n = plan.items.len();
        Run {
            state: Loop {
                plan,
                totals,
                retrying: vec![false; n],
                throttled_until: None,
                pacing_per_min: None,
            },
            target,
            max_batch: target.capabilities().max_batch,
            concurrency: opts.concurrency.max(1),
            drain_timeout: opts.drain_timeout,
            write_limit_per_min: opts.write_limit_per_min,
            write_window: opts.write_window,
            queue: VecDeque::new(),
            interrupted: false,
            started: Instant::now(),
        }
    }

    fn begin(&mut self, reporters: &mut [Box<dyn Reporter>]) -> Result<(), ExecError> {
        self.started = Instant::now();
        let event = Event::Started {
            totals: self.state.totals,
            write_limit_per_min: self.write_limit_per_min,
            write_window: self.write_window,
        };
        self.state.emit(reporters, &event)
    }

    /// Rows the plan has decided: those with nothing to send finish now, writes are queued (a
    /// bulk target's grouped by space into batches).
    fn take_decided(
        &mut self,
        reporters: &mut [Box<dyn Reporter>],
        decided: &[usize],
    ) -> Result<(), ExecError> {
        let mut writes = Vec::new();
        for &index in decided {
            let outcome = match &self.state.plan.items[index].action {
                Action::Error(error) => RowOutcome::Failed(error.clone()),
                Action::Unchanged { .. } => RowOutcome::Unchanged,
                Action::Create { .. } | Action::Update { .. } | Action::Delete { .. } => {
                    writes.push(index);
                    continue;
                }
            };
            self.state.finish(
                reporters,
                Finished {
                    index,
                    outcome,
                    attempts: 0,
                    writes: 0,
                    created_id: None,
                },
            )?;
        }
        let plan = &*self.state.plan;
        for indices in chunks(plan, &writes, self.max_batch) {
            self.queue.push_back(Chunk::new(plan, indices));
        }
        Ok(())
    }

    /// Run the queued writes, and with `planning`, the reads that decide more rows, until
    /// both are done or an interrupt stops them.
    async fn drive(
        mut self,
        reporters: &mut [Box<dyn Reporter>],
        mut planning: Option<Planning<'_, 't>>,
        interrupts: &mut Interrupts,
    ) -> Result<RunResult, ExecError> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
        let mut inflight = FuturesUnordered::new();
        let mut stopping = false;
        // Cancelled at the first interrupt: calls with no request on the wire give up then.
        let stop = CancellationToken::new();
        let mut drain_deadline: Option<tokio::time::Instant> = None;
        let mut decided = Vec::new();
        let mode = self.state.plan.mode;
        let target = self.target;

        loop {
            // The calls that fit now: their before-states are recorded and made durable
            // together, then each is sent.
            let mut starting = Vec::new();
            while !stopping && inflight.len() + starting.len() < self.concurrency {
                let Some(chunk) = self.queue.pop_front() else {
                    break;
                };
                for &index in chunk.indices.iter() {
                    self.state.emit(reporters, &Event::RowStarted { index })?;
                }
                starting.push(chunk);
            }
            self.state.flush(reporters)?;
            let mut freed = false;
            for chunk in starting {
                let ctx = Ctx {
                    indices: Arc::clone(&chunk.indices),
                    tx: tx.clone(),
                    requests: Arc::new(AtomicU32::new(0)),
                    write_requests: Arc::new(AtomicU32::new(0)),
                    on_wire: Arc::new(AtomicBool::new(false)),
                };
                let counters = Counters {
                    requests: Arc::clone(&ctx.requests),
                    writes: Arc::clone(&ctx.write_requests),
                };
                let on_wire = Arc::clone(&ctx.on_wire);
                let call = CTX.scope(ctx, run_chunk(target, mode, chunk, counters));
                let mut call = Box::pin(unless_stopped(call, on_wire, stop.clone()));
                // Polled once now, the call hands its request to a connection at once, rather than
                // after every other answer that is ready now has been taken.
                if let Poll::Ready(results) = futures::poll!(call.as_mut()) {
                    for done in results.into_iter().flatten() {
                        self.state.finish(reporters, done)?;
                    }
                    freed = true;
                    continue;
                }
                inflight.push(call);
            }
            if freed && !stopping && !self.queue.is_empty() {
                continue;
            }
            let reading = !stopping && planning.as_ref().is_some_and(|p| !p.planner.is_done());
            if inflight.is_empty() && !reading {
                break;
            }
            self.state.flush(reporters)?;
            tokio::select! {
                // Finished writes first: each frees a slot for the next write, which should not
                // wait behind a burst of lookup answers.
                biased;
                Some(results) = inflight.next(), if !inflight.is_empty() => {
                    // `None`: a call dropped at the interrupt; its rows stay undone.
                    for done in results.into_iter().flatten() {
                        self.state.finish(reporters, done)?;
                    }
                    // Every other call answered by now is taken in the same turn, so that their
                    // records and the next calls' before-states go to the journal together.
                    while let Poll::Ready(Some(results)) = futures::poll!(inflight.next()) {
                        for done in results.into_iter().flatten() {
                            self.state.finish(reporters, done)?;
                        }
                    }
                }
                Some(msg) = rx.recv() => self.state.on_msg(reporters, msg)?,
                Some(answer) = next_answer(planning.as_mut()), if reading => {
                    if let Some(planning) = planning.as_mut() {
                        decided.clear();
                        let items = &mut self.state.plan.items;
                        if let Err(error) = planning.planner.apply(answer, items, &mut decided, planning.progress) {
                            // Rows already recorded stay so; the rest cannot be planned now.
                            let mut failure = row_error_of_plan(&error);
                            failure.message = format!("failed to plan: {}", failure.message);
                            planning.planner.fail_undecided(&failure, items, &mut decided);
                        }
                        self.take_decided(reporters, &decided)?;
                    }
                }
                () = interrupts.recv() => {
                    if self.interrupted {
                        // Second Ctrl-C: stop now; unfinished rows are redone on resume.
                        break;
                    }
                    self.interrupted = true;
                    stopping = true;
                    stop.cancel();
                    if let Some(planning) = planning.as_mut() {
                        planning.planner.stop();
                    }
                    drain_deadline = Some(tokio::time::Instant::now() + self.drain_timeout);
                    self.state.emit(reporters, &Event::Interrupted { totals: self.state.totals })?;
                }
                () = sleep_until(drain_deadline) => break,
            }
        }
        drop(inflight);
        if let Some(planning) = planning.as_mut()
            && !self.interrupted
            && planning.planner.undecided() > 0
        {
            // Every read was answered yet some row has no action: record it rather than lose it.
            let failure = RowError {
                code: "internal".to_owned(),
                http_status: None,
                message: "the planner could not decide this row".to_owned(),
                attempts: 0,
            };
            decided.clear();
            planning
                .planner
                .fail_undecided(&failure, &mut self.state.plan.items, &mut decided);
            self.take_decided(reporters, &decided)?;
            self.queue.clear();
        }
        // Count what the loop has not seen yet (a 429 answered just before the end).
        while let Ok(msg) = rx.try_recv() {
            if matches!(msg, Msg::Got429) {
                self.state.totals.throttled += 1;
            }
        }
        self.end(reporters)
    }

    fn end(mut self, reporters: &mut [Box<dyn Reporter>]) -> Result<RunResult, ExecError> {
        self.state.totals.retrying = 0;
        // An interrupt that came when every row was already done left nothing to resume: the
        // run ended as it would have.
        if self.state.totals.done >= self.state.totals.total {
            self.interrupted = false;
        }
        let elapsed = self.started.elapsed();
        self.state.emit(
            reporters,
            &Event::Finished {
                totals: self.state.totals,
                elapsed,
                interrupted: self.interrupted,
            },
        )?;
        self.state.flush(reporters)?;
        Ok(RunResult {
            totals: self.state.totals,
            elapsed,
            interrupted: self.interrupted,
        })
    }
}

/// The planner's next answer; pending forever without a planner (the branch is disabled then).
async fn next_answer(planning: Option<&mut Planning<'_, '_>>) -> Option<Pending> {
    match planning {
        Some(planning) => planning.planner.next_answer().await,
        None => std::future::pending().await,
    }
}

/// A directory error as the row error of the rows it leaves undecided.
fn row_error_of_plan(error: &PlanError) -> RowError {
    match error.kind() {
        PlanErrorKind::Resolve { directory, source } => {
            let mut row = RowError::from_target(source);
            row.message = format!("resolve {directory}: {}", row.message);
            row
        }
    }
}

/// `call`, unless `stop` is cancelled while it has no request on the wire (it waits for the rate
/// limiter, a retry's backoff or a 429's pause): then `None`, and what it would have sent next is
/// never sent. A call whose request is on the wire goes on until that request's answer.
async fn unless_stopped<F: Future>(
    call: F,
    on_wire: Arc<AtomicBool>,
    stop: CancellationToken,
) -> Option<F::Output> {
    let mut call = std::pin::pin!(call);
    let mut stopped = std::pin::pin!(stop.cancelled_owned());
    std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = call.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        // Polled again only when the call wakes (its answer came) or at the cancellation.
        if !on_wire.load(Ordering::Relaxed) && stopped.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The writes among `indices` as calls: single rows for one-at-a-time targets, otherwise rows
/// of one space in batches of up to `max_batch`, in the order of each space's first row.
fn chunks(plan: &Plan, indices: &[usize], max_batch: usize) -> Vec<Arc<[usize]>> {
    let writes = indices.iter().copied().filter(|&i| {
        matches!(
            plan.items[i].action,
            Action::Create { .. } | Action::Update { .. } | Action::Delete { .. }
        )
    });
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

/// One write call's rows, with what it sends, taken from the plan when the call is queued: the
/// plan may change (rows decided) while the call is in flight.
struct Chunk {
    indices: Arc<[usize]>,
    space: Option<Arc<SpaceInfo>>,
    /// Each row's write; `None` when the plan lacks the assignee id.
    ops: Vec<(usize, Option<WriteOp>)>,
}

impl Chunk {
    fn new(plan: &Plan, indices: Arc<[usize]>) -> Chunk {
        let ops: Vec<(usize, Option<WriteOp>)> =
            indices.iter().map(|&i| (i, op_for(&plan.items[i]))).collect();
        let space = ops
            .iter()
            .find(|(_, op)| op.is_some())
            .and_then(|&(i, _)| plan.items[i].space_info.clone());
        Chunk { indices, space, ops }
    }
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
async fn run_chunk(target: &dyn Target, mode: Mode, chunk: Chunk, counters: Counters) -> Vec<Finished> {
    let Counters {
        requests,
        writes: write_requests,
    } = counters;
    let mut results: Vec<Finished> = Vec::with_capacity(chunk.ops.len());
    let mut ops = Vec::with_capacity(chunk.ops.len());
    let mut sent: Vec<usize> = Vec::with_capacity(chunk.ops.len());
    for (index, op) in chunk.ops {
        match op {
            Some(op) => {
                ops.push(op);
                sent.push(index);
            }
            None => results.push(Finished {
                index,
                outcome: failed("internal", "the plan has no assignee id for this write"),
                attempts: 0,
                writes: 0,
                created_id: None,
            }),
        }
    }
    let Some(space) = chunk.space.filter(|_| !sent.is_empty()) else {
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
    for (&index, op) in sent.iter().zip(&ops) {
        let mut created_id = None;
        let (outcome, attempts) = match outcomes.next() {
            None => (
                failed("internal", "the target returned no result for this write"),
                call_attempts,
            ),
            Some(Err(e)) => {
                let mut error = RowError::from_target(&e);
                error.attempts = error.attempts.max(call_attempts);
                let attempts = error.attempts;
                (RowOutcome::Failed(error), attempts)
            }
            Some(Ok(WriteOutcome::Created(info))) => {
                created_id = info.map(|a| a.id);
                (RowOutcome::Created, call_attempts)
            }
            Some(Ok(WriteOutcome::Updated(_))) => (RowOutcome::Updated, call_attempts),
            Some(Ok(WriteOutcome::Deleted)) => (RowOutcome::Deleted, call_attempts),
            Some(Ok(WriteOutcome::AlreadyExists(existing))) => {
                if retried_alone && is_own_create(op, &existing) {
                    created_id = Some(existing.id);
                    (RowOutcome::Created, call_attempts)
                } else {
                    announce_found(index, mode, op, &existing).await;
                    let before = requests.load(Ordering::Relaxed);
                    let (outcome, updates) = settle_existing(target, &space, mode, op, existing).await;
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
            created_id,
        });
    }
    // Every write request the chunk sent (resends, splits, the update after a 409) counts once,
    // on its first row, so the totals show the real write rate against the limit.
    if let Some(first) = results.first_mut() {
        first.writes = calls.max(u64::from(write_requests.load(Ordering::Relaxed)));
    }
    results
}

/// Tell the loop, and wait until it has told the reporters, the roles of an assignment a
/// create found and is about to update: the journal records them before the update leaves.
async fn announce_found(index: usize, mode: Mode, op: &WriteOp, existing: &AssignmentInfo) {
    let wanted: &[String] = match op {
        WriteOp::Create { roles, .. } | WriteOp::Update { roles, .. } => roles,
        WriteOp::Delete { .. } => return,
    };
    let old = plan::role_set(&existing.roles);
    let new = plan::target_roles(mode, wanted, &old);
    if new == old {
        return;
    }
    let (ack, recorded) = tokio::sync::oneshot::channel();
    let msg = Msg::Found {
        index,
        assignment_id: existing.id.clone(),
        roles: existing.roles.clone(),
        new,
        ack,
    };
    let sent = CTX.try_with(|ctx| ctx.tx.send(msg).is_ok()).unwrap_or(false);
    if sent {
        // An error means the loop is gone (a second Ctrl-C): this call is dropped with it.
        let _ = recorded.await;
    }
}

/// Whether an assignment found by a create holds exactly the roles that create sent.
fn is_own_create(op: &WriteOp, existing: &AssignmentInfo) -> bool {
    let WriteOp::Create { roles, .. } = op else {
        return false;
    };
    plan::role_set(&existing.roles) == plan::role_set(roles)
}

/// A create met an existing assignment (a 409, or a retried create whose first answer was lost):
/// compare as the plan would have, then update or leave it. A create sends the roster's roles,
/// so they are what the row wants.
async fn settle_existing(
    target: &dyn Target,
    space: &SpaceInfo,
    mode: Mode,
    op: &WriteOp,
    existing: AssignmentInfo,
) -> (RowOutcome, u64) {
    let wanted: &[String] = match op {
        WriteOp::Create { roles, .. } | WriteOp::Update { roles, .. } => roles,
        WriteOp::Delete { .. } => &[],
    };
    let old = plan::role_set(&existing.roles);
    let new = plan::target_roles(mode, wanted, &old);
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
        Some(Err(e)) => RowOutcome::Failed(RowError::from_target(&e)),
        None => failed("internal", "the target returned no result for this write"),
    };
    (outcome, 1)
}
