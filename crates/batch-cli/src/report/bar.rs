//! The apply display on a terminal: indicatif bars on stderr.
//!
//! ```text
//! ⠙ [12s] [=========>----------------] 340/2,000 rows (17%)  writes 98/min of 100/min  eta 17m 00s
//!   300 created, 20 updated, 15 unchanged, 5 failed, 2 retrying, 1 throttled (429)
//!   throttled (429), resuming in 13s
//! ```
//!
//! The third line is there only while a 429 pause lasts. The bars redraw on a steady tick, so
//! the countdown, the rate and the ETA move even while no event arrives; indicatif's tick
//! threads end when the bars are finished. Failures and notices are printed above the bars.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use parking_lot::Mutex;

use super::format;
use super::status::{self, FailureFeed, LiveState};
use super::summary::{self, RunContext, Summary};
use engine::model::{Event, Plan, Reporter};

/// How often the bars redraw without events.
const TICK: Duration = Duration::from_millis(250);

/// indicatif apply display.
pub struct BarReporter {
    multi: MultiProgress,
    bar: ProgressBar,
    counters: ProgressBar,
    throttle: Option<ProgressBar>,
    state: Arc<Mutex<LiveState>>,
    failures: FailureFeed,
    context: RunContext,
    color: bool,
    summary_out: Box<dyn Write + Send>,
}

type Key = fn(&LiveState, Instant) -> String;

fn keyed(style: ProgressStyle, state: &Arc<Mutex<LiveState>>, keys: &[(&'static str, Key)]) -> ProgressStyle {
    keys.iter().fold(style, |style, (name, f)| {
        let state = Arc::clone(state);
        let f = *f;
        style.with_key(name, move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&f(&state.lock(), Instant::now()));
        })
    })
}

fn style(template: &str) -> ProgressStyle {
    // The templates are constants of this module; a bad one is a bug caught by the tests, and
    // falling back to the default style keeps a run going regardless.
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl BarReporter {
    /// Bars on the process's stderr; the summary follows them on stderr.
    pub fn stderr(context: RunContext, color: bool) -> Self {
        Self::with_target(
            ProgressDrawTarget::stderr(),
            Box::new(io::stderr()),
            context,
            color,
        )
    }

    /// Bars on `target`, the summary on `summary_out` (tests use a hidden target).
    pub fn with_target(
        target: ProgressDrawTarget,
        summary_out: Box<dyn Write + Send>,
        context: RunContext,
        color: bool,
    ) -> Self {
        let state = Arc::new(Mutex::new(LiveState::default()));
        let multi = MultiProgress::with_draw_target(target);
        let template = if color {
            "{spinner:.green} [{run_elapsed}] [{bar:30.cyan/blue}] {progress}  writes {rate}  {run_eta}"
        } else {
            "{spinner} [{run_elapsed}] [{bar:30}] {progress}  writes {rate}  {run_eta}"
        };
        let bar_style = keyed(
            style(template),
            &state,
            &[
                ("run_elapsed", |s, now| format::duration(s.elapsed(now))),
                ("progress", |s, _| s.progress_text()),
                ("rate", |s, now| s.rate_text(now)),
                ("run_eta", |s, now| s.eta_text(now)),
            ],
        )
        .progress_chars("=>-");
        let bar = multi.add(ProgressBar::new(0).with_style(bar_style));
        let counters_style = keyed(
            style("  {counters}"),
            &state,
            &[("counters", |s, _| status::counters_text(&s.totals))],
        );
        let counters = multi.add(ProgressBar::new(0).with_style(counters_style));
        Self {
            multi,
            bar,
            counters,
            throttle: None,
            state,
            failures: FailureFeed::default(),
            context,
            color,
            summary_out,
        }
    }

    fn show_throttle(&mut self) {
        if self.throttle.is_some() {
            return;
        }
        let template = if self.color {
            "  {throttle:.yellow}"
        } else {
            "  {throttle}"
        };
        let throttle_style = keyed(
            style(template),
            &self.state,
            &[("throttle", |s, now| {
                s.pause_left(now)
                    .map_or_else(|| "throttled (429), resuming".to_owned(), status::throttle_text)
            })],
        );
        let line = self.multi.add(ProgressBar::new(0).with_style(throttle_style));
        line.enable_steady_tick(TICK);
        self.throttle = Some(line);
    }

    fn hide_throttle(&mut self) {
        if let Some(line) = self.throttle.take() {
            line.finish_and_clear();
            self.multi.remove(&line);
        }
    }

    fn println(&self, line: &str) {
        // A failed write to the terminal must not stop the run; the summary reports the outcome.
        let _ = self.multi.println(line);
    }
}

impl Reporter for BarReporter {
    fn on_event(&mut self, plan: &Plan, event: &Event) -> io::Result<()> {
        let now = Instant::now();
        let (totals, paused) = {
            let mut state = self.state.lock();
            state.observe(event, now);
            (state.totals, state.pause_left(now).is_some())
        };
        if paused {
            self.show_throttle();
        } else {
            self.hide_throttle();
        }
        match event {
            // `apply` says "resuming: N of M rows already done" itself, before planning.
            Event::Started { .. } => self.bar.enable_steady_tick(TICK),
            Event::Interrupted { .. } => {
                self.println("interrupted: taking no new rows, letting the writes in flight finish");
            }
            Event::Throttled {
                pacing_per_min: Some(per_min),
                ..
            } => self.println(&status::burst_refused_text(*per_min)),
            _ => {}
        }
        if let Some(line) = self.failures.line(plan, event) {
            self.println(&line);
        }
        self.bar.set_length(totals.total);
        self.bar.set_position(totals.done);
        self.counters.tick();

        if let Event::Finished {
            totals,
            elapsed,
            interrupted,
        } = event
        {
            self.hide_throttle();
            self.bar.finish();
            self.counters.finish();
            let (write_limit_per_min, write_window) = {
                let state = self.state.lock();
                (state.write_limit_per_min, state.write_window)
            };
            let summary = Summary {
                totals,
                elapsed: *elapsed,
                interrupted: *interrupted,
                write_limit_per_min,
                write_window,
                context: &self.context,
            };
            summary::render(&summary, &mut self.summary_out, self.color)?;
            self.summary_out.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::{SharedBuf, demo_events, demo_plan};

    #[test]
    fn bars_run_through_a_whole_apply_and_end_with_the_summary() {
        let plan = demo_plan();
        let buf = SharedBuf::default();
        let ctx = RunContext::new("/tmp/run/demo-roster.csv", "demo");
        let mut r = BarReporter::with_target(ProgressDrawTarget::hidden(), Box::new(buf.clone()), ctx, true);
        for (_, e) in demo_events(&plan) {
            r.on_event(&plan, &e).unwrap();
            if matches!(e, Event::Throttled { .. }) {
                assert!(r.throttle.is_some(), "the pause is shown while it lasts");
            }
        }
        assert!(r.throttle.is_none(), "no pause line after the run");
        assert!(r.bar.is_finished());
        let text = console::strip_ansi_codes(&buf.text()).into_owned();
        assert!(text.starts_with("done: 8 rows"), "{text}");
        assert!(
            text.contains("rerun them with: roster apply /tmp/run/demo-roster.failed.csv --to demo"),
            "{text}"
        );
    }

    #[test]
    fn templates_parse() {
        for t in [
            "{spinner:.green} [{run_elapsed}] [{bar:30.cyan/blue}] {progress}  writes {rate}  {run_eta}",
            "{spinner} [{run_elapsed}] [{bar:30}] {progress}  writes {rate}  {run_eta}",
            "  {counters}",
            "  {throttle:.yellow}",
        ] {
            assert!(ProgressStyle::with_template(t).is_ok(), "{t}");
        }
    }
}
