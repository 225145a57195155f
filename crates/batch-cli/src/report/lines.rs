//! The apply display without a terminal: a plain status line every few seconds, notable events
//! one per line, and the summary. Also `--quiet`, which keeps only the summary.
//!
//! Time-based without a thread of its own: each event checks whether the next status line is
//! due. During a 429 pause no events arrive, so the pause is announced when it starts, with its
//! length.
//!
//! ```text
//! applying 2,000 rows to demo (writes limited to 2,700/min)
//! [5s] 212/2,000 rows (10%): 200 created, 0 updated, 12 unchanged, 0 failed, 1 retrying, 0 throttled (429); writes 2,400/min of 2,700/min; eta 42s
//! throttled (429), resuming in 13s
//! failed: line 1998, Sales, user nobody@example.com: unknown user (unknown_user)
//! ```

use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::format;
use super::status::{self, Clock, FailureFeed, LiveState};
use super::summary::{self, RunContext, Summary};
use engine::model::{Event, Plan, Reporter};

/// How often the status line is printed by default.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// Plain-text apply display.
pub struct LinesReporter {
    out: Box<dyn Write + Send>,
    context: RunContext,
    color: bool,
    clock: Clock,
    interval: Duration,
    /// False for `--quiet`: only the summary.
    status: bool,
    state: LiveState,
    failures: FailureFeed,
    last_status: Option<Instant>,
    announced_pause_until: Option<Instant>,
}

impl LinesReporter {
    /// Status lines every [`DEFAULT_INTERVAL`] on `out`, then the summary.
    pub fn new(out: Box<dyn Write + Send>, context: RunContext, color: bool) -> Self {
        Self {
            out,
            context,
            color,
            clock: status::system_clock(),
            interval: DEFAULT_INTERVAL,
            status: true,
            state: LiveState::default(),
            failures: FailureFeed::default(),
            last_status: None,
            announced_pause_until: None,
        }
    }

    /// Only the summary (`--quiet`).
    pub fn quiet(out: Box<dyn Write + Send>, context: RunContext, color: bool) -> Self {
        Self {
            status: false,
            ..Self::new(out, context, color)
        }
    }

    /// Use another clock (tests drive time by hand).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Print the status line this often.
    #[must_use]
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    fn status_line(&mut self, now: Instant) -> io::Result<()> {
        self.last_status = Some(now);
        let s = &self.state;
        writeln!(
            self.out,
            "[{}] {}: {}; writes {}; {}",
            format::duration(s.elapsed(now)),
            s.progress_text(),
            status::counters_text(&s.totals),
            s.rate_text(now),
            s.eta_text(now),
        )
    }

    fn live(&mut self, plan: &Plan, event: &Event, now: Instant) -> io::Result<()> {
        match event {
            Event::Started {
                totals,
                write_limit_per_min,
                write_window,
            } => {
                let burst = write_window
                    .map(|w| {
                        format!(
                            ", bursting up to {} in any {}",
                            format::count(u64::from(w.budget)),
                            format::duration(w.window)
                        )
                    })
                    .unwrap_or_default();
                let limit = if *write_limit_per_min > 0 {
                    format!(
                        " (writes limited to {}{burst})",
                        format::per_min(f64::from(*write_limit_per_min))
                    )
                } else {
                    String::new()
                };
                writeln!(
                    self.out,
                    "applying {} rows to {}{limit}",
                    format::count(totals.total),
                    format::shell_quote(&plan.target)
                )?;
                self.last_status = Some(now);
            }
            Event::Throttled {
                pacing_per_min: Some(per_min),
                ..
            } => {
                writeln!(self.out, "{}", status::burst_refused_text(*per_min))?;
                if let Some(left) = self.state.pause_left(now) {
                    self.announced_pause_until = self.state.throttled_until;
                    writeln!(self.out, "{}", status::throttle_text(left))?;
                }
            }
            Event::Throttled { .. } => {
                // Concurrent writes each see the 429; announce a pause once, and again only
                // when it is pushed further out.
                let until = self.state.throttled_until;
                let new = match (until, self.announced_pause_until) {
                    (Some(u), Some(a)) => u > a + Duration::from_secs(1),
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                if new && let Some(left) = self.state.pause_left(now) {
                    self.announced_pause_until = until;
                    writeln!(self.out, "{}", status::throttle_text(left))?;
                }
            }
            Event::Interrupted { .. } => {
                writeln!(
                    self.out,
                    "interrupted: taking no new rows, letting the writes in flight finish"
                )?;
            }
            Event::Finished { .. } => {
                self.status_line(now)?;
                return Ok(());
            }
            Event::RowStarted { .. }
            | Event::RowCreated { .. }
            | Event::RowFound { .. }
            | Event::RowRetrying { .. }
            | Event::RowFinished { .. } => {}
        }
        if let Some(line) = self.failures.line(plan, event) {
            writeln!(self.out, "{line}")?;
        }
        if self
            .last_status
            .is_some_and(|last| now.saturating_duration_since(last) >= self.interval)
        {
            self.status_line(now)?;
        }
        Ok(())
    }
}

impl Reporter for LinesReporter {
    fn on_event(&mut self, plan: &Plan, event: &Event) -> io::Result<()> {
        let now = (self.clock)();
        self.state.observe(event, now);
        if self.status {
            self.live(plan, event, now)?;
        }
        if let Event::Finished {
            totals,
            elapsed,
            interrupted,
        } = event
        {
            let summary = Summary {
                totals,
                elapsed: *elapsed,
                interrupted: *interrupted,
                write_limit_per_min: self.state.write_limit_per_min,
                write_window: self.state.write_window,
                context: &self.context,
            };
            summary::render(&summary, &mut self.out, self.color)?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use parking_lot::Mutex;

    use super::*;
    use crate::report::testing::{SharedBuf, demo_events, demo_plan};

    fn run(quiet: bool) -> String {
        let plan = demo_plan();
        let buf = SharedBuf::default();
        let t0 = Instant::now();
        let now = Arc::new(Mutex::new(t0));
        let clock_now = Arc::clone(&now);
        let mut ctx = RunContext::new("/tmp/run/demo-roster.csv", "demo");
        ctx.state_dir = Some("/tmp/run/.roster".into());
        let make = if quiet {
            LinesReporter::quiet
        } else {
            LinesReporter::new
        };
        let mut r = make(Box::new(buf.clone()), ctx, false).with_clock(Box::new(move || *clock_now.lock()));
        for (at, event) in demo_events(&plan) {
            *now.lock() = t0 + at;
            r.on_event(&plan, &event).unwrap();
        }
        buf.text()
    }

    #[test]
    fn plain_output() {
        let text = run(false);
        assert_eq!(
            text.matches("throttled (429), resuming in").count(),
            1,
            "one pause, announced once:\n{text}"
        );
        insta::assert_snapshot!(text);
    }

    #[test]
    fn quiet_output_is_only_the_summary() {
        let text = run(true);
        assert!(text.starts_with("done: "), "{text}");
        insta::assert_snapshot!(text);
    }
}
