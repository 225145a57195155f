//! The summary at the end of `roster apply`.
//!
//! It goes to stderr with the rest of the human-readable report (uv's rule: stdout is for the
//! data the user asked for, which for apply is only the `--json` event stream). It is printed in
//! every display mode, `--quiet` included, so a script's log always ends with the outcome.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use super::format::{self, Paint};
use engine::model::{Totals, WriteWindow};

/// What the display needs to know about a run beyond its events: where things are and how to
/// name the target again in a command the user can paste.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunContext {
    /// The program name as the user should type it (`roster`).
    pub program: String,
    /// The roster as the user named it.
    pub roster: PathBuf,
    /// Where the failed-rows CSV is written; shown when a row failed.
    pub failed_csv: PathBuf,
    /// The arguments after the roster path that rerun with the same target and settings,
    /// e.g. `["--to", "prod"]` or `["--server", "https://…", "--kind", "qlik"]`.
    pub rerun_args: Vec<String>,
    /// The state directory (journal), shown so the user knows where the run is recorded.
    pub state_dir: Option<PathBuf>,
}

impl RunContext {
    /// A context for `roster apply ROSTER --to TARGET`, with the failed-rows CSV beside the roster.
    pub fn new(roster: impl Into<PathBuf>, target: &str) -> Self {
        let roster = roster.into();
        let failed_csv = engine::failed::path_for(&roster);
        Self {
            program: "roster".to_owned(),
            roster,
            failed_csv,
            rerun_args: vec!["--to".to_owned(), target.to_owned()],
            state_dir: None,
        }
    }

    /// The exact command that reruns the failed rows.
    pub fn rerun_failed_command(&self) -> String {
        let mut words = vec![
            self.program.clone(),
            "apply".to_owned(),
            self.failed_csv.display().to_string(),
        ];
        words.extend(self.rerun_args.iter().cloned());
        format::command_line(&words)
    }
}

/// Everything the summary shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary<'a> {
    /// Final totals.
    pub totals: &'a Totals,
    /// Wall time of the execution phase.
    pub elapsed: Duration,
    /// True when the run stopped early (Ctrl-C).
    pub interrupted: bool,
    /// The write rate limit, writes per minute, when known.
    pub write_limit_per_min: Option<u32>,
    /// The window writes burst within (pace burst), so that a rate over the per-minute limit
    /// reads as the burst it was.
    pub write_window: Option<WriteWindow>,
    /// Paths and the rerun command.
    pub context: &'a RunContext,
}

/// Writes per minute over a span; `None` for a span too short to mean anything.
pub fn writes_per_min(writes: u64, elapsed: Duration) -> Option<f64> {
    let secs = elapsed.as_secs_f64();
    #[expect(clippy::cast_precision_loss, reason = "write counts are far below 2^52")]
    let writes = writes as f64;
    (secs >= 0.5).then(|| writes * 60.0 / secs)
}

/// Write the summary.
///
/// ```text
/// done: 2,000 rows in 45s
///   created    1,700
///   updated      200
///   unchanged     90
///   failed        10
/// writes: 1,900 at 2,533/min (limit 2,700/min); 429 responses: 4
/// failed rows: /tmp/demo/roster.failed.csv
/// rerun them with: roster apply /tmp/demo/roster.failed.csv --to demo
/// ```
pub fn render(summary: &Summary<'_>, out: &mut impl Write, color: bool) -> io::Result<()> {
    let paint = Paint::new(color);
    let t = summary.totals;
    let head = if summary.interrupted {
        paint.yellow(&format!(
            "stopped early: {} of {} rows done in {}",
            format::count(t.done),
            format::count(t.total),
            format::duration(summary.elapsed)
        ))
    } else {
        paint.bold(&format!(
            "done: {} rows in {}",
            format::count(t.total),
            format::duration(summary.elapsed)
        ))
    };
    writeln!(out, "{head}")?;

    let mut rows: Vec<(&str, u64)> = vec![
        ("created", t.created),
        ("updated", t.updated),
        ("unchanged", t.unchanged),
    ];
    if t.deleted > 0 {
        rows.push(("deleted", t.deleted));
    }
    rows.push(("failed", t.failed));
    if t.resumed > 0 {
        rows.push(("resumed", t.resumed));
    }
    let width = rows
        .iter()
        .map(|(_, n)| format::count(*n).len())
        .max()
        .unwrap_or(1);
    for (name, n) in rows {
        let line = format!("  {name:<10}{:>width$}", format::count(n));
        let line = match name {
            "failed" if n > 0 => paint.red(&line),
            "created" | "updated" | "deleted" if n > 0 => paint.green(&line),
            _ => line,
        };
        writeln!(out, "{line}")?;
    }
    if t.resumed > 0 {
        writeln!(
            out,
            "  (resumed rows were done by an earlier run and not sent again)"
        )?;
    }

    if t.writes == 0 {
        writeln!(
            out,
            "writes: none sent; 429 responses: {}",
            format::count(t.throttled)
        )?;
    } else {
        // A run shorter than half a second has no meaningful rate: show the limit alone.
        let rate = writes_per_min(t.writes, summary.elapsed)
            .map(|r| format!(" at {}", format::per_min(r)))
            .unwrap_or_default();
        let limit = match (summary.write_limit_per_min, summary.write_window) {
            (Some(l), Some(w)) => format!(
                " (limit {}, bursting up to {} in any {})",
                format::per_min(f64::from(l)),
                format::count(u64::from(w.budget)),
                format::duration(w.window)
            ),
            (Some(l), None) => format!(" (limit {})", format::per_min(f64::from(l))),
            (None, _) => String::new(),
        };
        writeln!(
            out,
            "writes: {}{rate}{limit}; 429 responses: {}",
            format::count(t.writes),
            format::count(t.throttled)
        )?;
    }

    if let Some(dir) = &summary.context.state_dir {
        writeln!(out, "journal: {}", dir.display())?;
    }
    if t.failed > 0 {
        writeln!(out, "failed rows: {}", summary.context.failed_csv.display())?;
        writeln!(out, "rerun them with: {}", summary.context.rerun_failed_command())?;
    }
    if summary.interrupted {
        writeln!(
            out,
            "{}",
            paint.yellow("interrupted: rerun the same command to resume")
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> RunContext {
        let mut ctx = RunContext::new("/tmp/run/roster.csv", "demo");
        ctx.state_dir = Some(PathBuf::from("/tmp/run/.roster"));
        ctx
    }

    fn render_to_string(summary: &Summary<'_>) -> String {
        let mut out = Vec::new();
        render(summary, &mut out, false).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn totals() -> Totals {
        Totals {
            total: 2000,
            done: 2000,
            resumed: 0,
            created: 1700,
            updated: 200,
            unchanged: 90,
            deleted: 0,
            failed: 10,
            retrying: 0,
            writes: 1912,
            throttled: 4,
        }
    }

    #[test]
    fn rerun_command_quotes_what_needs_quoting() {
        let mut ctx = RunContext::new("my rosters/q1.csv", "prod eu");
        ctx.rerun_args.extend(["--mode".to_owned(), "exact".to_owned()]);
        assert_eq!(
            ctx.rerun_failed_command(),
            "roster apply 'my rosters/q1.failed.csv' --to 'prod eu' --mode exact"
        );
    }

    #[test]
    fn summary_with_failures() {
        let ctx = context();
        let t = totals();
        let s = Summary {
            totals: &t,
            elapsed: Duration::from_secs(45),
            interrupted: false,
            write_limit_per_min: Some(2700),
            write_window: None,
            context: &ctx,
        };
        insta::assert_snapshot!(render_to_string(&s));
    }

    #[test]
    fn summary_all_ok() {
        let ctx = context();
        let t = Totals {
            failed: 0,
            unchanged: 100,
            writes: 1900,
            throttled: 0,
            ..totals()
        };
        let s = Summary {
            totals: &t,
            elapsed: Duration::from_secs(65),
            interrupted: false,
            write_limit_per_min: None,
            write_window: None,
            context: &ctx,
        };
        let text = render_to_string(&s);
        assert!(!text.contains("failed rows"), "no CSV to point at: {text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn summary_interrupted_after_a_resume() {
        let ctx = context();
        let t = Totals {
            done: 1200,
            resumed: 500,
            created: 500,
            updated: 100,
            unchanged: 90,
            failed: 10,
            writes: 640,
            ..totals()
        };
        let s = Summary {
            totals: &t,
            elapsed: Duration::from_secs(20),
            interrupted: true,
            write_limit_per_min: Some(2700),
            write_window: None,
            context: &ctx,
        };
        let text = render_to_string(&s);
        assert!(text.contains("interrupted: rerun the same command to resume"));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn summary_of_a_quick_run_has_no_rate() {
        let ctx = RunContext::new("r.csv", "demo");
        let t = Totals {
            total: 3,
            done: 3,
            created: 3,
            writes: 3,
            ..Totals::default()
        };
        let s = Summary {
            totals: &t,
            elapsed: Duration::from_millis(40),
            interrupted: false,
            write_limit_per_min: Some(100),
            write_window: None,
            context: &ctx,
        };
        assert!(render_to_string(&s).contains("writes: 3 (limit 100/min); 429 responses: 0\n"));
    }

    #[test]
    fn summary_colour_means_the_same() {
        let ctx = context();
        let t = totals();
        let s = Summary {
            totals: &t,
            elapsed: Duration::from_secs(45),
            interrupted: true,
            write_limit_per_min: Some(2700),
            write_window: None,
            context: &ctx,
        };
        let mut coloured = Vec::new();
        render(&s, &mut coloured, true).unwrap();
        assert_eq!(
            console::strip_ansi_codes(&String::from_utf8(coloured).unwrap()),
            render_to_string(&s)
        );
    }
}
