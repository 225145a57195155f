//! The live state both apply displays (bar and plain lines) derive from the event stream: rates,
//! ETA, the current 429 pause, and the status text they share.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::diff::{assignee_label, space_label};
use super::format;
use engine::model::{Event, Plan, RowError, RowOutcome, Totals, WriteWindow};

/// A source of "now", so tests can drive time-based output without sleeping.
pub type Clock = Box<dyn Fn() -> Instant + Send + Sync>;

/// The real clock.
pub fn system_clock() -> Clock {
    Box::new(Instant::now)
}

/// How far back rates look: long enough to smooth over a 429 pause's edges, short enough to show
/// the current pace rather than the whole run's average.
const RATE_WINDOW: Duration = Duration::from_secs(30);
/// Below this span a rate is noise.
const MIN_RATE_SPAN: Duration = Duration::from_secs(2);
/// Samples closer together than this are merged, which bounds memory at high event rates.
const SAMPLE_SPACING: Duration = Duration::from_millis(100);

/// A counter's recent rate, from samples of its value over time.
#[derive(Debug, Default)]
pub struct RateMeter {
    samples: VecDeque<(Instant, u64)>,
}

impl RateMeter {
    /// Note the counter's value at `now`.
    pub fn record(&mut self, now: Instant, value: u64) {
        let merge = self.samples.len() > 1;
        if let Some(last) = self.samples.back_mut()
            && merge
            && now.saturating_duration_since(last.0) < SAMPLE_SPACING
        {
            last.1 = value;
        } else {
            self.samples.push_back((now, value));
        }
        // Keep one sample older than the window so the window is always fully covered.
        while self.samples.len() > 2
            && self
                .samples
                .get(1)
                .is_some_and(|s| now.saturating_duration_since(s.0) > RATE_WINDOW)
        {
            self.samples.pop_front();
        }
    }

    /// Per second over the recent window, measured up to `now`.
    pub fn per_sec(&self, now: Instant) -> Option<f64> {
        let (first, last) = (self.samples.front()?, self.samples.back()?);
        let span = now.saturating_duration_since(first.0);
        if span < MIN_RATE_SPAN {
            return None;
        }
        #[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
        let delta = last.1.saturating_sub(first.1) as f64;
        Some(delta / span.as_secs_f64())
    }
}

/// What a display knows about the run so far.
#[derive(Debug, Default)]
pub struct LiveState {
    /// When `Started` arrived.
    pub started: Option<Instant>,
    /// The write limit from `Started`.
    pub write_limit_per_min: Option<u32>,
    /// The window writes burst within, from `Started`; `None` when they are paced steadily.
    pub write_window: Option<WriteWindow>,
    /// The tenant refused a burst: writes are paced steadily since.
    pub burst_refused: bool,
    /// The latest totals.
    pub totals: Totals,
    /// When the current 429 pause ends.
    pub throttled_until: Option<Instant>,
    writes: RateMeter,
    rows: RateMeter,
    /// Write counts over the last window (one sample older than it), for the budget left.
    window_writes: VecDeque<(Instant, u64)>,
}

impl LiveState {
    /// Take in one event at `now`.
    pub fn observe(&mut self, event: &Event, now: Instant) {
        match event {
            Event::Started {
                totals,
                write_limit_per_min,
                write_window,
            } => {
                self.started = Some(now);
                self.write_limit_per_min = Some(*write_limit_per_min).filter(|l| *l > 0);
                self.write_window = *write_window;
                self.totals = *totals;
            }
            Event::Throttled {
                resume_in,
                totals,
                pacing_per_min,
            } => {
                let until = now + *resume_in;
                self.throttled_until = Some(self.throttled_until.map_or(until, |u| u.max(until)));
                self.totals = *totals;
                if pacing_per_min.is_some() {
                    // Steady from now on: the burst's writes would inflate the rate shown.
                    self.burst_refused = true;
                    self.writes = RateMeter::default();
                }
            }
            Event::RowRetrying { totals, .. }
            | Event::RowFinished { totals, .. }
            | Event::Interrupted { totals }
            | Event::Finished { totals, .. } => self.totals = *totals,
            Event::RowStarted { .. } | Event::RowCreated { .. } | Event::RowFound { .. } => {}
        }
        self.writes.record(now, self.totals.writes);
        self.rows.record(now, self.totals.done);
        if let Some(window) = self.write_window.filter(|_| !self.burst_refused) {
            self.window_writes.push_back((now, self.totals.writes));
            while self
                .window_writes
                .get(1)
                .is_some_and(|s| now.saturating_duration_since(s.0) >= window.window)
            {
                self.window_writes.pop_front();
            }
        }
    }

    /// Writes the window ending at `now` still has room for (while writes burst). Writes are
    /// counted as they finish, so this trails the client's own count by the writes in flight.
    pub fn window_left(&self, now: Instant) -> Option<u64> {
        let window = self.write_window.filter(|_| !self.burst_refused)?;
        let since = now.checked_sub(window.window);
        // The count at the window's start: the last sample at or before it; none when the run
        // began inside the window, and every write of the run is in it.
        let at_start = self
            .window_writes
            .iter()
            .take_while(|s| since.is_some_and(|since| s.0 <= since))
            .last()
            .map_or(0, |s| s.1);
        let used = self.totals.writes.saturating_sub(at_start);
        Some(u64::from(window.budget).saturating_sub(used))
    }

    /// The time left in the current 429 pause, if one is on.
    pub fn pause_left(&self, now: Instant) -> Option<Duration> {
        self.throttled_until
            .map(|u| u.saturating_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    /// Writes per minute over the recent window.
    pub fn writes_per_min(&self, now: Instant) -> Option<f64> {
        self.writes.per_sec(now).map(|r| r * 60.0)
    }

    /// Time since `Started`.
    pub fn elapsed(&self, now: Instant) -> Duration {
        self.started
            .map(|s| now.saturating_duration_since(s))
            .unwrap_or_default()
    }

    /// Time to finish the remaining rows at the recent pace.
    pub fn eta(&self, now: Instant) -> Option<Duration> {
        let remaining = self.totals.total.saturating_sub(self.totals.done);
        if remaining == 0 {
            return Some(Duration::ZERO);
        }
        let rate = self.rows.per_sec(now).filter(|r| *r > 0.0)?;
        #[expect(clippy::cast_precision_loss, reason = "row counts are far below 2^52")]
        let secs = remaining as f64 / rate;
        Duration::try_from_secs_f64(secs).ok()
    }

    /// While writes burst, the budget left in the window: `212 of 500 left in 5m 00s`. Once
    /// they are paced, the rate against the limit, `98/min of 100/min`, or `-/min` before there is
    /// a rate.
    ///
    /// The rate shown never exceeds the limit. The pacer keeps the writes sent at or under it;
    /// the rate is measured from writes as they finish, whose answers can arrive bunched (and a
    /// pacer's burst of two counts double over a short span), which read as `336/min of
    /// 300/min` early in a run: a limit that looked broken when it was not.
    pub fn rate_text(&self, now: Instant) -> String {
        if let (Some(window), Some(left)) = (self.write_window, self.window_left(now)) {
            return format!(
                "{} of {} left in {}",
                format::count(left),
                format::count(u64::from(window.budget)),
                format::duration(window.window)
            );
        }
        let measured = self.writes_per_min(now);
        let achieved = match (measured, self.write_limit_per_min) {
            (Some(rate), Some(limit)) => Some(rate.min(f64::from(limit))),
            (rate, _) => rate,
        };
        let achieved = achieved.map_or_else(|| "-/min".to_owned(), format::per_min);
        match self.write_limit_per_min {
            Some(limit) => format!("{achieved} of {}", format::per_min(f64::from(limit))),
            None => achieved,
        }
    }

    /// `eta 1m 05s`, or `eta -` before there is a pace.
    pub fn eta_text(&self, now: Instant) -> String {
        self.eta(now)
            .map_or_else(|| "eta -".to_owned(), |d| format!("eta {}", format::duration(d)))
    }

    /// `done/total rows (pct%)`.
    pub fn progress_text(&self) -> String {
        let t = &self.totals;
        let pct = t.done.saturating_mul(100).checked_div(t.total).unwrap_or(100);
        format!(
            "{}/{} rows ({pct}%)",
            format::count(t.done),
            format::count(t.total)
        )
    }
}

/// `300 created, 20 updated, 15 unchanged, 5 failed, 2 retrying, 3 throttled (429)`.
pub fn counters_text(t: &Totals) -> String {
    let mut parts = vec![
        format!("{} created", format::count(t.created)),
        format!("{} updated", format::count(t.updated)),
        format!("{} unchanged", format::count(t.unchanged)),
    ];
    if t.deleted > 0 {
        parts.push(format!("{} deleted", format::count(t.deleted)));
    }
    parts.push(format!("{} failed", format::count(t.failed)));
    parts.push(format!("{} retrying", format::count(t.retrying)));
    parts.push(format!("{} throttled (429)", format::count(t.throttled)));
    parts.join(", ")
}

/// `throttled (429), resuming in 13s`.
pub fn throttle_text(left: Duration) -> String {
    format!("throttled (429), resuming in {}", format::countdown(left))
}

/// `the tenant refused a burst: pacing writes at 100/min`, said once, when it happens.
pub fn burst_refused_text(per_min: u32) -> String {
    format!(
        "the tenant refused a burst: pacing writes at {}",
        format::per_min(f64::from(per_min))
    )
}

/// How many failures are shown as they happen; the rest are in the failed-rows CSV.
pub const SHOWN_FAILURES: u64 = 10;

/// `failed: line 12, Sales, user nobody@example.com: unknown user (unknown_user)`.
pub fn failure_text(plan: &Plan, index: usize, err: &RowError) -> String {
    let status = err.http_status.map(|s| format!(", HTTP {s}")).unwrap_or_default();
    let Some(item) = plan.items.get(index) else {
        return format!("failed: row {index}: {} ({}{status})", err.message, err.code);
    };
    // Rows the reader rejected may have no space or assignee to name.
    let mut place = format!("line {}", item.line);
    let space = space_label(item);
    if !space.is_empty() {
        place.push_str(", ");
        place.push_str(space);
    }
    let assignee = assignee_label(item);
    if !assignee.is_empty() {
        place.push_str(&format!(", {} {assignee}", super::diff::kind_label(item)));
    }
    format!("failed: {place}: {} ({}{status})", err.message, err.code)
}

/// Failures as they happen, up to [`SHOWN_FAILURES`], then one note pointing at the CSV.
#[derive(Debug, Default)]
pub struct FailureFeed {
    shown: u64,
}

impl FailureFeed {
    /// The line to print for this event, if any.
    pub fn line(&mut self, plan: &Plan, event: &Event) -> Option<String> {
        let Event::RowFinished {
            index,
            outcome: RowOutcome::Failed(err),
            ..
        } = event
        else {
            return None;
        };
        self.shown += 1;
        if self.shown <= SHOWN_FAILURES {
            Some(failure_text(plan, *index, err))
        } else if self.shown == SHOWN_FAILURES + 1 {
            Some("more rows failed: see the failed-rows CSV at the end".to_owned())
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_over_the_window() {
        let t0 = Instant::now();
        let mut m = RateMeter::default();
        m.record(t0, 0);
        assert_eq!(m.per_sec(t0 + Duration::from_secs(1)), None, "too short to tell");
        for s in 1..=120 {
            m.record(t0 + Duration::from_secs(s), s * 2);
        }
        let r = m.per_sec(t0 + Duration::from_secs(120)).unwrap();
        assert!((r - 2.0).abs() < 0.1, "{r}");
        assert!(
            m.samples.len() <= 33,
            "old samples are dropped: {}",
            m.samples.len()
        );
    }

    #[test]
    fn rate_falls_during_a_pause() {
        let t0 = Instant::now();
        let mut m = RateMeter::default();
        for s in 0..=30 {
            m.record(t0 + Duration::from_secs(s), s * 10);
        }
        let before = m.per_sec(t0 + Duration::from_secs(30)).unwrap();
        let during = m.per_sec(t0 + Duration::from_secs(45)).unwrap();
        assert!(during < before, "{during} < {before}");
    }

    #[test]
    fn eta_from_the_pace() {
        let t0 = Instant::now();
        let mut s = LiveState::default();
        let totals = Totals {
            total: 100,
            ..Totals::default()
        };
        s.observe(
            &Event::Started {
                totals,
                write_limit_per_min: 60,
                write_window: None,
            },
            t0,
        );
        assert_eq!(s.eta(t0), None);
        let totals = Totals {
            total: 100,
            done: 50,
            writes: 50,
            ..Totals::default()
        };
        s.observe(
            &Event::RowFinished {
                index: 0,
                outcome: RowOutcome::Created,
                attempts: 1,
                totals,
            },
            t0 + Duration::from_secs(50),
        );
        let eta = s.eta(t0 + Duration::from_secs(50)).unwrap();
        assert_eq!(eta.as_secs(), 50);
        assert_eq!(s.rate_text(t0 + Duration::from_secs(50)), "60/min of 60/min");
    }

    fn finished(writes: u64) -> Event {
        Event::RowFinished {
            index: 0,
            outcome: RowOutcome::Created,
            attempts: 1,
            totals: Totals {
                total: 1000,
                done: writes,
                writes,
                ..Totals::default()
            },
        }
    }

    #[test]
    fn the_rate_shown_never_exceeds_the_limit() {
        // Early in a run at 300/min: two writes back to back, then one every 200 ms, measured
        // as they finish over the first 2.5 s: 14 writes, 336/min.
        let t0 = Instant::now();
        let mut s = LiveState::default();
        s.observe(
            &Event::Started {
                totals: Totals::default(),
                write_limit_per_min: 300,
                write_window: None,
            },
            t0,
        );
        s.observe(&finished(14), t0 + Duration::from_millis(2500));
        let now = t0 + Duration::from_millis(2500);
        assert_eq!(s.writes_per_min(now).map(f64::round), Some(336.0));
        assert_eq!(s.rate_text(now), "300/min of 300/min");
    }

    #[test]
    fn bursting_shows_the_budget_left_in_the_window_then_the_rate_once_paced() {
        let t0 = Instant::now();
        let mut s = LiveState::default();
        s.observe(
            &Event::Started {
                totals: Totals::default(),
                write_limit_per_min: 100,
                write_window: Some(WriteWindow {
                    budget: 500,
                    window: Duration::from_secs(300),
                }),
            },
            t0,
        );
        assert_eq!(s.rate_text(t0), "500 of 500 left in 5m 00s");
        s.observe(&finished(300), t0 + Duration::from_secs(3));
        assert_eq!(
            s.rate_text(t0 + Duration::from_secs(3)),
            "200 of 500 left in 5m 00s"
        );
        s.observe(&finished(500), t0 + Duration::from_secs(10));
        assert_eq!(
            s.rate_text(t0 + Duration::from_secs(20)),
            "0 of 500 left in 5m 00s"
        );
        // The first 300 leave the window 5 minutes after they finished.
        s.observe(&finished(500), t0 + Duration::from_secs(304));
        assert_eq!(
            s.rate_text(t0 + Duration::from_secs(304)),
            "300 of 500 left in 5m 00s"
        );
        // The tenant refuses a burst: from then on the rate against the limit.
        s.observe(
            &Event::Throttled {
                resume_in: Duration::from_secs(2),
                totals: s.totals,
                pacing_per_min: Some(100),
            },
            t0 + Duration::from_secs(305),
        );
        s.observe(&finished(510), t0 + Duration::from_secs(311));
        assert_eq!(s.rate_text(t0 + Duration::from_secs(311)), "100/min of 100/min");
    }

    #[test]
    fn pauses_extend_and_expire() {
        let t0 = Instant::now();
        let mut s = LiveState::default();
        let totals = Totals::default();
        s.observe(
            &Event::Throttled {
                resume_in: Duration::from_secs(13),
                totals,
                pacing_per_min: None,
            },
            t0,
        );
        s.observe(
            &Event::Throttled {
                resume_in: Duration::from_secs(5),
                totals,
                pacing_per_min: None,
            },
            t0 + Duration::from_secs(1),
        );
        assert_eq!(
            s.pause_left(t0 + Duration::from_secs(3)),
            Some(Duration::from_secs(10))
        );
        assert_eq!(s.pause_left(t0 + Duration::from_secs(13)), None);
        assert_eq!(
            throttle_text(Duration::from_millis(12_200)),
            "throttled (429), resuming in 13s"
        );
    }

    #[test]
    fn failures_name_what_the_row_names() {
        let mut plan = crate::report::testing::demo_plan();
        let err = RowError {
            code: "invalid_row".to_owned(),
            http_status: None,
            message: "conflicting duplicate".to_owned(),
            attempts: 0,
        };
        assert_eq!(
            failure_text(&plan, 3, &err),
            "failed: line 5, Sales, user nobody@example.com: conflicting duplicate (invalid_row)"
        );
        plan.items[3].space = engine::model::SpaceRef::Name(String::new());
        plan.items[3].space_info = None;
        plan.items[3].assignee = engine::model::AssigneeRef::Email(String::new());
        assert_eq!(
            failure_text(&plan, 3, &err),
            "failed: line 5: conflicting duplicate (invalid_row)"
        );
        let err = RowError {
            http_status: Some(503),
            code: "server".to_owned(),
            ..err
        };
        assert_eq!(
            failure_text(&plan, 99, &err),
            "failed: row 99: conflicting duplicate (server, HTTP 503)"
        );
    }
}
