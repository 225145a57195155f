//! Fleets: any per-tenant job (apply, plan, export) over many tenants, `in_flight` at a time,
//! each with its own client (so its own limiter), journal and files. A tenant that
//! fails ends alone: its report says why, and the others go on. Ctrl-C is passed to every
//! tenant in flight (each stops as a single run does: nothing new is sent, the journal keeps
//! what was done) and no further tenant starts.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::LocalBoxFuture;
use futures::stream::FuturesUnordered;
use tokio::sync::mpsc::UnboundedSender;

use crate::exec::Interrupts;
use crate::model::{Reporter, Totals};

pub use shard::{Shard, glob_match};

mod shard;

/// Tenants in flight when `--tenants-in-flight` is not given. Each tenant's rate budget is
/// its own, so more at once is faster until the machine's CPU or sockets run out; 32 tenants
/// at Qlik's write limit are about 53 writes a second, far below what one core sends.
pub const DEFAULT_IN_FLIGHT: usize = 32;
/// The largest `--tenants-in-flight` accepted.
pub const MAX_IN_FLIGHT: usize = 1024;

/// How one tenant's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every row ok (apply), no row with an error (plan), the file written (export).
    Ok,
    /// `plan --check`: applying would change this tenant.
    Changes,
    /// Some rows failed (apply) or are errors (plan).
    RowsFailed,
    /// The tenant could not be worked on at all: unreachable, refused the credentials, a
    /// journal in use, settings that do not resolve.
    Failed,
    /// Ctrl-C stopped it; a rerun resumes it.
    Interrupted,
    /// Ctrl-C came before it started.
    NotStarted,
}

impl Status {
    /// The word the table shows.
    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Changes => "changes",
            Status::RowsFailed => "rows failed",
            Status::Failed => "failed",
            Status::Interrupted => "interrupted",
            Status::NotStarted => "not started",
        }
    }
}

/// What one tenant's run came to.
#[derive(Debug, Clone)]
pub struct TenantReport {
    /// The tenant's name.
    pub name: String,
    /// How it ended.
    pub status: Status,
    /// Its final totals (rows, outcomes, writes, 429s).
    pub totals: Totals,
    /// Its wall time.
    pub elapsed: Duration,
    /// The file it wrote: the failed-rows CSV (apply), the roster (export).
    pub file: Option<PathBuf>,
    /// Why it failed, or what else there is to say.
    pub note: Option<String>,
}

impl TenantReport {
    /// A report of `status` with nothing counted yet.
    pub fn new(name: &str, status: Status) -> TenantReport {
        TenantReport {
            name: name.to_owned(),
            status,
            totals: Totals::default(),
            elapsed: Duration::ZERO,
            file: None,
            note: None,
        }
    }

    /// A tenant that could not be worked on, and why.
    pub fn failed(name: &str, why: impl Into<String>) -> TenantReport {
        let mut report = TenantReport::new(name, Status::Failed);
        report.note = Some(why.into());
        report
    }
}

/// One tenant of a fleet run: its name, and its settings (`T`) or the message saying why there
/// are none (a tenant whose key file is missing fails alone; the others run).
#[derive(Debug)]
pub struct Member<T> {
    /// The tenant's name.
    pub name: String,
    /// Its settings, or why it has none.
    pub target: Result<T, String>,
}

/// Who watches a fleet run: the display, the `--json` stream.
pub trait FleetObserver {
    /// A tenant starts: the slot it is known by until it finishes, and the reporter its run's
    /// events go to.
    fn started(&self, name: &str) -> (usize, Box<dyn Reporter>);
    /// A tenant is over (`slot` is `None` for a tenant that never started).
    fn finished(&self, slot: Option<usize>, report: &TenantReport);
    /// About once a second while the run goes on.
    fn tick(&self);
}

/// What a job gets for one tenant.
pub struct Tenant<'a, T> {
    /// The tenant's resolved settings.
    pub target: &'a T,
    /// Ctrl-C, passed on by the runner.
    pub interrupts: Interrupts,
    /// Feeds the display (and the `--json` stream) from the run's events.
    pub feed: Box<dyn Reporter>,
}

/// A per-tenant job. apply, plan and export implement it; any other command that works on
/// one target at a time joins the fleet by implementing it too.
pub trait TenantJob<T> {
    /// Do the job for one tenant. Never panics on a tenant's failure: it is reported.
    fn run<'a>(&'a self, tenant: Tenant<'a, T>) -> LocalBoxFuture<'a, TenantReport>;
}

/// Run `job` over `members`, `in_flight` at a time; the reports come back in the members'
/// order. `observer` sees each tenant start and finish.
pub async fn run<T>(
    members: &[Member<T>],
    in_flight: usize,
    job: &dyn TenantJob<T>,
    observer: &dyn FleetObserver,
    mut interrupts: Interrupts,
) -> Vec<TenantReport> {
    let mut reports: Vec<Option<TenantReport>> = vec![None; members.len()];
    let mut next = 0;
    let mut running = FuturesUnordered::new();
    let mut senders: Vec<(usize, UnboundedSender<()>)> = Vec::new();
    let mut stopping = false;
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        while !stopping && running.len() < in_flight.max(1) && next < members.len() {
            let index = next;
            next += 1;
            let member = &members[index];
            let target = match &member.target {
                Ok(target) => target,
                Err(why) => {
                    let report = TenantReport::failed(&member.name, why.clone());
                    observer.finished(None, &report);
                    reports[index] = Some(report);
                    continue;
                }
            };
            let (slot, feed) = observer.started(&member.name);
            let (tx, tenant_interrupts) = Interrupts::channel();
            senders.push((index, tx));
            let tenant = Tenant {
                target,
                interrupts: tenant_interrupts,
                feed,
            };
            let started = Instant::now();
            let future = job.run(tenant);
            running.push(async move {
                let mut report = future.await;
                report.elapsed = started.elapsed();
                (index, slot, report)
            });
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            Some((index, slot, report)) = running.next() => {
                senders.retain(|(i, _)| *i != index);
                observer.finished(Some(slot), &report);
                reports[index] = Some(report);
            }
            () = interrupts.recv() => {
                stopping = true;
                for (_, tx) in &senders {
                    let _ = tx.send(());
                }
            }
            _ = ticker.tick() => observer.tick(),
        }
    }
    members
        .iter()
        .zip(reports)
        .map(|(member, report)| {
            report.unwrap_or_else(|| {
                let report = TenantReport::new(&member.name, Status::NotStarted);
                observer.finished(None, &report);
                report
            })
        })
        .collect()
}
