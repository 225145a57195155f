//! What a fleet run shows while it works, on stderr, and its `--json` stream on stdout.
//!
//! On a terminal (indicatif multi-progress):
//!
//! ```text
//! [00:14] [=========>-----------] 12/50 tenants · 2,400/10,000 rows · 3 failed · eta 45s
//!   cust-07    [=====>------]   80/200  598/min
//!   cust-19    [==>---------]   31/200  240/min  429 ×2, resuming in 3s
//! ```
//!
//! Without a terminal: one line per tenant as it finishes, and a status line every few seconds.
//! With `--json`: every event of every tenant as one JSON line carrying `"target"`, plus
//! `tenant_finished` per tenant and `fleet_finished` at the end (see [`super::fleet_table`]).

use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use parking_lot::Mutex;

use super::format;
use super::mode::{Display, OutputMode};
use engine::fleet::{FleetObserver, Status, TenantReport};
use engine::model::{Event, Plan, Reporter, Totals};

/// How often the lines display prints a status line.
const STATUS_EVERY: Duration = Duration::from_secs(5);

/// The live view of a fleet run; cheap to clone into each tenant.
#[derive(Clone)]
pub struct Board {
    inner: Arc<Inner>,
}

struct Inner {
    mode: OutputMode,
    started: Instant,
    multi: Option<MultiProgress>,
    overall: Option<ProgressBar>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    tenants: usize,
    finished: usize,
    failed_tenants: usize,
    /// Rows of finished tenants, and of those in flight (by slot).
    rows_finished: u64,
    rows_total_finished: u64,
    failed_rows: u64,
    /// Wall time of the tenants that finished, for the ETA of those not started.
    finished_time: Duration,
    live: Vec<Option<Live>>,
    last_status: Option<Instant>,
}

struct Live {
    started: Instant,
    totals: Totals,
    throttled_until: Option<Instant>,
    bar: Option<ProgressBar>,
}

impl Board {
    /// A board for `tenants` tenants, drawn as `mode` says.
    pub fn new(mode: OutputMode, tenants: usize) -> Board {
        let (multi, overall) = if mode.display == Display::Bar {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let overall = multi.add(ProgressBar::new(tenants as u64));
            overall.set_style(
                ProgressStyle::with_template("[{elapsed_precise}] [{bar:25.cyan/blue}] {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=>-"),
            );
            overall.enable_steady_tick(Duration::from_millis(250));
            (Some(multi), Some(overall))
        } else {
            (None, None)
        };
        let board = Board {
            inner: Arc::new(Inner {
                mode,
                started: Instant::now(),
                multi,
                overall,
                state: Mutex::new(State {
                    tenants,
                    ..State::default()
                }),
            }),
        };
        board.refresh();
        board
    }

    /// A tenant starts: it gets a line of its own on a terminal. Returns its slot.
    fn start(&self, name: &str) -> usize {
        let bar = self.inner.multi.as_ref().map(|multi| {
            let bar = multi.add(ProgressBar::new(0));
            bar.set_style(
                ProgressStyle::with_template("  {prefix:<24} [{bar:20}] {pos:>6}/{len:<6} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=>-"),
            );
            bar.set_prefix(shorten(name, 24));
            bar.set_message("planning");
            bar
        });
        let mut state = self.inner.state.lock();
        let live = Live {
            started: Instant::now(),
            totals: Totals::default(),
            throttled_until: None,
            bar,
        };
        let slot = match state.live.iter().position(Option::is_none) {
            Some(slot) => {
                state.live[slot] = Some(live);
                slot
            }
            None => {
                state.live.push(Some(live));
                state.live.len() - 1
            }
        };
        drop(state);
        if self.inner.mode.json {
            self.json_line(&serde_json::json!({"event": "tenant_started", "target": name}));
        }
        slot
    }

    /// The reporter that feeds slot `slot` from its run's events (and writes them as JSON
    /// lines with `--json`).
    fn reporter(&self, slot: usize, name: &str) -> Box<dyn Reporter> {
        Box::new(TenantFeed {
            board: self.clone(),
            slot,
            target: serde_json::to_string(name).unwrap_or_else(|_| "\"\"".to_owned()),
            line: Vec::with_capacity(256),
        })
    }

    /// A tenant is over: its line goes, the overall bar moves, and without a terminal its
    /// one-line result is printed.
    fn finish(&self, slot: Option<usize>, report: &TenantReport) {
        let mut state = self.inner.state.lock();
        if let Some(live) = slot.and_then(|s| state.live.get_mut(s)).and_then(Option::take)
            && let Some(bar) = live.bar
        {
            bar.finish_and_clear();
            if let Some(multi) = &self.inner.multi {
                multi.remove(&bar);
            }
        }
        if report.status != Status::NotStarted {
            state.finished += 1;
        }
        if report.status == Status::Failed {
            state.failed_tenants += 1;
        }
        state.finished_time += report.elapsed;
        state.rows_finished += report.totals.done;
        state.rows_total_finished += report.totals.total;
        state.failed_rows += report.totals.failed;
        drop(state);
        let mode = self.inner.mode;
        if mode.json {
            let value = super::fleet_table::report_json(report);
            self.json_line(&value);
        }
        if report.status == Status::NotStarted {
            return;
        }
        let line = super::fleet_table::one_line(report, format::Paint::new(mode.color_stderr));
        match (&self.inner.multi, mode.display) {
            (Some(multi), _) => {
                let _ = multi.println(line);
            }
            (None, Display::Lines) => {
                let _ = writeln!(io::stderr().lock(), "{line}");
            }
            _ => {}
        }
        self.refresh();
    }

    /// Called every second or so: redraw the overall line, and without a terminal print a
    /// status line every few seconds.
    fn tick_now(&self) {
        self.refresh();
        if self.inner.mode.display != Display::Lines {
            return;
        }
        let mut state = self.inner.state.lock();
        let now = Instant::now();
        if state
            .last_status
            .is_some_and(|last| now.duration_since(last) < STATUS_EVERY)
        {
            return;
        }
        if state.last_status.is_none() && now.duration_since(self.inner.started) < STATUS_EVERY {
            return;
        }
        state.last_status = Some(now);
        let line = status_line(&state, self.inner.started.elapsed());
        drop(state);
        let _ = writeln!(io::stderr().lock(), "{line}");
    }

    /// Take the bars off the terminal before the table is printed.
    pub fn close(&self) {
        if let Some(overall) = &self.inner.overall {
            overall.finish_and_clear();
        }
        if let Some(multi) = &self.inner.multi {
            let _ = multi.clear();
        }
    }

    /// One JSON line on stdout; a closed stdout is the reader's choice and ends nothing here.
    pub fn json_line(&self, value: &serde_json::Value) {
        let mut out = io::stdout().lock();
        let _ = serde_json::to_writer(&mut out, value);
        let _ = out.write_all(b"\n");
    }

    fn refresh(&self) {
        let Some(overall) = &self.inner.overall else {
            return;
        };
        let state = self.inner.state.lock();
        overall.set_position(state.finished as u64);
        overall.set_message(status_text(&state, self.inner.started.elapsed()));
        let now = Instant::now();
        for live in state.live.iter().flatten() {
            if let Some(bar) = &live.bar {
                bar.set_message(tenant_text(live, now));
            }
        }
    }

    fn on_event(&self, slot: usize, event: &Event) {
        let mut state = self.inner.state.lock();
        let Some(Some(live)) = state.live.get_mut(slot) else {
            return;
        };
        match event {
            Event::Started { totals, .. }
            | Event::RowRetrying { totals, .. }
            | Event::RowFinished { totals, .. }
            | Event::Interrupted { totals }
            | Event::Finished { totals, .. } => live.totals = *totals,
            Event::Throttled {
                resume_in, totals, ..
            } => {
                live.totals = *totals;
                live.throttled_until = Some(Instant::now() + *resume_in);
            }
            Event::RowStarted { .. } | Event::RowCreated { .. } | Event::RowFound { .. } => return,
        }
        if let Some(bar) = &live.bar {
            if bar.length() != Some(live.totals.total) {
                bar.set_length(live.totals.total);
            }
            bar.set_position(live.totals.done);
            if matches!(event, Event::Started { .. } | Event::Throttled { .. }) {
                bar.set_message(tenant_text(live, Instant::now()));
            }
        }
    }
}

impl FleetObserver for Board {
    fn started(&self, name: &str) -> (usize, Box<dyn Reporter>) {
        let slot = self.start(name);
        (slot, self.reporter(slot, name))
    }

    fn finished(&self, slot: Option<usize>, report: &TenantReport) {
        self.finish(slot, report);
    }

    fn tick(&self) {
        self.tick_now();
    }
}

/// One tenant's run events into the board.
struct TenantFeed {
    board: Board,
    slot: usize,
    /// The tenant's name as a JSON string, each event's first field.
    target: String,
    line: Vec<u8>,
}

impl Reporter for TenantFeed {
    fn on_event(&mut self, plan: &Plan, event: &Event) -> io::Result<()> {
        self.board.on_event(self.slot, event);
        if self.board.inner.mode.json {
            self.line.clear();
            crate::report::json::write_event_for(&self.target, plan, event, &mut self.line)?;
            if !self.line.is_empty() {
                io::stdout().lock().write_all(&self.line)?;
            }
        }
        Ok(())
    }
}

fn shorten(name: &str, width: usize) -> String {
    if name.chars().count() <= width {
        return name.to_owned();
    }
    let kept: String = name.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}

fn tenant_text(live: &Live, now: Instant) -> String {
    let t = &live.totals;
    if t.total == 0 && t.done == 0 {
        return "planning".to_owned();
    }
    let secs = now.duration_since(live.started).as_secs_f64().max(0.001);
    let rate = (t.done.saturating_sub(t.resumed)) as f64 * 60.0 / secs;
    let mut text = format!("{}/min", format::count(rate.round() as u64));
    if t.failed > 0 {
        text.push_str(&format!("  {} failed", format::count(t.failed)));
    }
    if t.throttled > 0 {
        text.push_str(&format!("  429 ×{}", t.throttled));
        if let Some(until) = live.throttled_until
            && until > now
        {
            text.push_str(&format!(", resuming in {}", format::countdown(until - now)));
        }
    }
    text
}

/// `12/50 tenants · 2,400/10,000 rows · 3 failed · eta 45s`.
fn status_text(state: &State, elapsed: Duration) -> String {
    let (mut done, mut total) = (state.rows_finished, state.rows_total_finished);
    let mut known = state.finished;
    for live in state.live.iter().flatten() {
        done += live.totals.done;
        total += live.totals.total;
        if live.totals.total > 0 {
            known += 1;
        }
    }
    // Tenants not yet planned are counted at the mean size of those that are.
    let unknown = state.tenants.saturating_sub(known) as u64;
    let estimate = if known > 0 {
        total + total / known as u64 * unknown
    } else {
        total
    };
    let mut text = format!(
        "{}/{} tenants · {}/{} rows",
        state.finished,
        state.tenants,
        format::count(done),
        format::count(estimate)
    );
    if state.failed_tenants > 0 {
        text.push_str(&format!(" · {} tenants failed", state.failed_tenants));
    }
    let failed_rows = state.failed_rows + state.live.iter().flatten().map(|l| l.totals.failed).sum::<u64>();
    if failed_rows > 0 {
        text.push_str(&format!(" · {} rows failed", format::count(failed_rows)));
    }
    if let Some(eta) = eta(state, Instant::now())
        && elapsed > Duration::from_secs(1)
    {
        text.push_str(&format!(" · eta {}", format::duration(eta)));
    }
    text
}

/// The slowest tenant in flight at its own pace, then the tenants not started, in rounds of the
/// tenants in flight at the mean time a finished tenant took.
fn eta(state: &State, now: Instant) -> Option<Duration> {
    let mut live = Duration::ZERO;
    let mut in_flight = 0;
    for tenant in state.live.iter().flatten() {
        in_flight += 1;
        let t = &tenant.totals;
        let sent = t.done.saturating_sub(t.resumed);
        let left = t.total.saturating_sub(t.done);
        if sent == 0 {
            if t.total > 0 && left > 0 {
                return None;
            }
            continue;
        }
        let spent = now.duration_since(tenant.started).as_secs_f64();
        live = live.max(Duration::from_secs_f64(left as f64 * spent / sent as f64));
    }
    let pending = state.tenants.saturating_sub(state.finished + in_flight);
    if pending == 0 {
        return Some(live);
    }
    if state.finished == 0 || in_flight == 0 {
        return None;
    }
    let mean = state.finished_time / state.finished as u32;
    let rounds = pending.div_ceil(in_flight) as u32;
    Some(live + mean * rounds)
}

fn status_line(state: &State, elapsed: Duration) -> String {
    let in_flight = state.live.iter().flatten().count();
    format!(
        "[{}] {} · {in_flight} in flight",
        format::duration(elapsed),
        status_text(state, elapsed)
    )
}
