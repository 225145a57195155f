//! Turns the client's observer hooks into row events.
//!
//! The client calls its observer inline on the task that awaits the call, so each write runs
//! inside a task-local [`Ctx`] naming its rows; the observer looks the context up and forwards
//! what happened to the executor's loop. Calls made outside a write (the planner's lookups) have
//! no context and are ignored here.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use core_api::{Event, Observer, Tier};
use tokio::sync::mpsc;

/// What the observer tells the executor's loop.
#[derive(Debug)]
pub(crate) enum Msg {
    /// A write attempt will be retried.
    Retrying {
        indices: Arc<[usize]>,
        attempt: u32,
        delay: Duration,
        cause: String,
    },
    /// A retried attempt went out.
    Resent { indices: Arc<[usize]> },
    /// Requests are paused until `until`.
    Throttled { until: Instant, wait: Duration },
    /// A 429 came back.
    Got429,
    /// The tenant refused a burst of writes: they are paced steadily at `per_min` from now on.
    BurstRefused { per_min: u32 },
    /// A create met the assignment already there and will update it; `ack` answers once the
    /// reporters (the journal) have its roles before.
    Found {
        index: usize,
        assignment_id: String,
        roles: Vec<String>,
        new: Vec<String>,
        ack: tokio::sync::oneshot::Sender<()>,
    },
}

/// The rows a write is for, and where to report.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub indices: Arc<[usize]>,
    pub tx: mpsc::UnboundedSender<Msg>,
    /// HTTP requests sent for these rows.
    pub requests: Arc<AtomicU32>,
    /// Of those, write (Tier 2) requests: a bulk target may resend or split a batch, and a
    /// retried create tells a lost answer from a row someone else created.
    pub write_requests: Arc<AtomicU32>,
    /// Whether a request of these rows is on the wire now (sent, its answer not yet in): after
    /// Ctrl-C such a call may finish, while one waiting to send is dropped.
    pub on_wire: Arc<AtomicBool>,
}

tokio::task_local! {
    pub(crate) static CTX: Ctx;
}

/// The observer to install in the client (`ClientConfig::observer`) so that retries and
/// throttling show up as row events. It is stateless: the executor provides the context.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineObserver;

/// [`EngineObserver`], ready for `ClientConfig::observer`.
pub fn observer() -> Arc<dyn Observer> {
    Arc::new(EngineObserver)
}

/// Every response's time on the wire, summed in microseconds, and how many: the process talks
/// to one tenant, and `plan` estimates its writes' round trips from its reads'.
static ROUND_TRIPS: (AtomicU64, AtomicU64) = (AtomicU64::new(0), AtomicU64::new(0));

/// The mean time on the wire of the responses this process has received so far (zero before
/// the first).
pub fn mean_round_trip() -> Duration {
    let (sum, count) = (&ROUND_TRIPS.0, &ROUND_TRIPS.1);
    let count = count.load(Ordering::Relaxed);
    if count == 0 {
        return Duration::ZERO;
    }
    Duration::from_micros(sum.load(Ordering::Relaxed) / count)
}

impl Observer for EngineObserver {
    fn on_event(&self, event: &Event<'_>) {
        if let Event::ResponseReceived { latency, .. } = event {
            let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
            ROUND_TRIPS.0.fetch_add(micros, Ordering::Relaxed);
            ROUND_TRIPS.1.fetch_add(1, Ordering::Relaxed);
        }
        let _ = CTX.try_with(|ctx| {
            let msg = match event {
                Event::RequestSent { attempt, tier, .. } => {
                    ctx.on_wire.store(true, Ordering::Relaxed);
                    ctx.requests.fetch_add(1, Ordering::Relaxed);
                    if *tier == Tier::Tier2 {
                        ctx.write_requests.fetch_add(1, Ordering::Relaxed);
                    }
                    if *attempt > 1 {
                        Msg::Resent {
                            indices: Arc::clone(&ctx.indices),
                        }
                    } else {
                        return;
                    }
                }
                Event::ResponseReceived { status, .. } => {
                    ctx.on_wire.store(false, Ordering::Relaxed);
                    if *status == 429 {
                        Msg::Got429
                    } else {
                        return;
                    }
                }
                Event::BurstRefused {
                    tier: Tier::Tier2,
                    per_min,
                } => Msg::BurstRefused { per_min: *per_min },
                Event::Throttled { until, wait, .. } => Msg::Throttled {
                    until: *until,
                    wait: *wait,
                },
                Event::RetryScheduled {
                    attempt,
                    delay,
                    cause,
                    ..
                } => {
                    // A transport error has no response: the attempt is over all the same.
                    ctx.on_wire.store(false, Ordering::Relaxed);
                    Msg::Retrying {
                        indices: Arc::clone(&ctx.indices),
                        attempt: attempt + 1,
                        delay: *delay,
                        cause: match cause.status() {
                            Some(status) => format!("HTTP {status}"),
                            None => cause.kind_code().to_owned(),
                        },
                    }
                }
                _ => return,
            };
            // The loop may be gone after a second Ctrl-C; nothing to tell then.
            let _ = ctx.tx.send(msg);
        });
    }
}
