//! Progress of the plan's resolve phase (spaces, users, groups, existing assignments), on stderr.
//!
//! The planner feeds a [`ResolveProgress`] as it goes; it never prints itself. The handle is
//! cheap to clone and safe to share between concurrent lookups.
//!
//! ```ignore
//! let progress = ResolveProgress::new(&mode, verbose);
//! progress.strategy("users", "paging the directory: 2,000 names, 53 pages of 100");
//! progress.phase("users", 0, 2000);
//! // … as lookups complete:
//! progress.phase("users", 1200, 2000);
//! progress.finish();
//! ```
//!
//! On a terminal it is a spinner line (`resolving users 1,200/2,000`); without one, a plain line
//! when a phase starts, every few seconds while it runs, and when it completes; with `--quiet`
//! or `--json` without a terminal, nothing.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use parking_lot::Mutex;

use super::format;
use super::mode::{Display, OutputMode};
use super::status::{self, Clock};

/// How often a running phase gets a plain line.
const LINE_INTERVAL: Duration = Duration::from_secs(3);

enum Sink {
    Spinner(ProgressBar),
    Lines {
        out: Box<dyn Write + Send>,
        clock: Clock,
        /// When each running phase last got a line; a phase leaves when it completes.
        last: HashMap<String, Instant>,
        /// Phases whose completion has been printed.
        done: HashSet<String>,
    },
    Off,
}

struct Inner {
    sink: Sink,
    verbose: bool,
    /// Every phase seen, in order, with its latest counts: phases run concurrently (spaces,
    /// users and groups resolve at once), so the spinner shows them all.
    phases: Vec<(String, u64, u64)>,
}

impl Inner {
    fn record(&mut self, name: &str, done: u64, total: u64) {
        match self.phases.iter_mut().find(|(n, _, _)| n == name) {
            Some(phase) => {
                phase.1 = done;
                phase.2 = total;
            }
            None => self.phases.push((name.to_owned(), done, total)),
        }
    }

    fn spinner_text(&self) -> String {
        let parts: Vec<String> = self
            .phases
            .iter()
            .map(|(name, done, total)| format!("{name} {}/{}", format::count(*done), format::count(*total)))
            .collect();
        format!("resolving {}", parts.join(", "))
    }
}

/// A handle the planner reports resolve progress through.
#[derive(Clone)]
pub struct ResolveProgress {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for ResolveProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolveProgress").finish_non_exhaustive()
    }
}

impl ResolveProgress {
    /// Progress on stderr as `mode` says. `verbose` also shows which lookup strategy was chosen.
    pub fn new(mode: &OutputMode, verbose: bool) -> Self {
        let sink = match mode.display {
            Display::Bar => {
                let template = if mode.color_stderr {
                    "{spinner:.green} {msg}"
                } else {
                    "{spinner} {msg}"
                };
                let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                spinner.set_style(
                    ProgressStyle::with_template(template)
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                spinner.enable_steady_tick(Duration::from_millis(120));
                Sink::Spinner(spinner)
            }
            Display::Lines => Sink::Lines {
                out: Box::new(io::stderr()),
                clock: status::system_clock(),
                last: HashMap::new(),
                done: HashSet::new(),
            },
            Display::Quiet => Sink::Off,
        };
        Self::from_sink(sink, verbose)
    }

    /// Plain lines on `out`, with a clock of the caller's choosing (tests).
    pub fn lines(out: Box<dyn Write + Send>, clock: Clock, verbose: bool) -> Self {
        Self::from_sink(
            Sink::Lines {
                out,
                clock,
                last: HashMap::new(),
                done: HashSet::new(),
            },
            verbose,
        )
    }

    /// Shows nothing.
    pub fn hidden() -> Self {
        Self::from_sink(Sink::Off, false)
    }

    fn from_sink(sink: Sink, verbose: bool) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                sink,
                verbose,
                phases: Vec::new(),
            })),
        }
    }

    /// Say which way names are being resolved, e.g. `("users", "paging the directory: …")`.
    /// Shown only in verbose output.
    pub fn strategy(&self, what: &str, choice: &str) {
        let mut inner = self.inner.lock();
        if !inner.verbose {
            return;
        }
        let line = format!("{what}: {choice}");
        match &mut inner.sink {
            Sink::Spinner(s) => s.println(line),
            Sink::Lines { out, .. } => {
                // Progress output is best effort: a closed stderr must not fail the plan.
                let _ = writeln!(out, "{line}");
            }
            Sink::Off => {}
        }
    }

    /// `done` of `total` items of a phase (`"spaces"`, `"users"`, `"groups"`, `"assignments"`)
    /// are resolved. Call it as often as convenient; output is rate-limited here.
    pub fn phase(&self, name: &str, done: u64, total: u64) {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        inner.record(name, done, total);
        let text = inner.spinner_text();
        match &mut inner.sink {
            Sink::Spinner(s) => s.set_message(text),
            Sink::Lines {
                out,
                clock,
                last,
                done: finished,
            } => {
                if finished.contains(name) {
                    return;
                }
                let now = clock();
                let complete = done >= total;
                let due = last
                    .get(name)
                    .is_none_or(|l| now.saturating_duration_since(*l) >= LINE_INTERVAL);
                if complete || due {
                    let line = format!(
                        "resolving {name} {}/{}",
                        format::count(done),
                        format::count(total)
                    );
                    // Progress output is best effort: a closed stderr must not fail the plan.
                    let _ = writeln!(out, "{line}{}", if complete { ", done" } else { "" });
                    if complete {
                        last.remove(name);
                        finished.insert(name.to_owned());
                    } else {
                        last.insert(name.to_owned(), now);
                    }
                }
            }
            Sink::Off => {}
        }
    }

    /// The resolve phase is over: clear the spinner before the plan or the bars appear.
    pub fn finish(&self) {
        let mut inner = self.inner.lock();
        match &mut inner.sink {
            Sink::Spinner(s) => s.finish_and_clear(),
            Sink::Lines { out, .. } => {
                let _ = out.flush();
            }
            Sink::Off => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::SharedBuf;

    #[test]
    fn plain_resolve_lines() {
        let buf = SharedBuf::default();
        let t0 = Instant::now();
        let now = Arc::new(Mutex::new(t0));
        let clock_now = Arc::clone(&now);
        let p = ResolveProgress::lines(Box::new(buf.clone()), Box::new(move || *clock_now.lock()), true);
        p.strategy("users", "paging the directory: 2,000 names, 53 pages of 100");
        // Spaces, users and groups resolve at once; their updates interleave.
        p.phase("spaces", 0, 40);
        p.phase("users", 0, 5300);
        p.phase("groups", 0, 10);
        p.phase("spaces", 40, 40);
        p.phase("spaces", 40, 40);
        for i in 1..=53u64 {
            *now.lock() = t0 + Duration::from_millis(200 * i);
            p.phase("users", i * 100, 5300);
            if i == 20 {
                p.phase("groups", 10, 10);
            }
        }
        p.phase("assignments", 0, 3);
        p.phase("assignments", 1, 3);
        p.phase("assignments", 3, 3);
        p.finish();
        insta::assert_snapshot!(buf.text());
    }

    #[test]
    fn strategy_only_when_verbose() {
        let buf = SharedBuf::default();
        let p = ResolveProgress::lines(Box::new(buf.clone()), status::system_clock(), false);
        p.strategy("users", "one lookup per name");
        assert_eq!(buf.text(), "");
    }

    #[test]
    fn spinner_text_shows_every_phase() {
        let p = ResolveProgress::hidden();
        p.phase("spaces", 81, 81);
        p.phase("users", 1200, 1565);
        p.phase("users", 1300, 1565);
        assert_eq!(
            p.inner.lock().spinner_text(),
            "resolving spaces 81/81, users 1,300/1,565"
        );
    }

    #[test]
    fn hidden_prints_nothing_and_clones_share() {
        let p = ResolveProgress::hidden();
        let q = p.clone();
        q.phase("users", 1, 2);
        p.finish();
    }
}
