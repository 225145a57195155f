//! `roster runs`: the runs a state directory holds, one run's rows (`runs show RUN`), and its
//! HTML report (`runs show RUN --html FILE`). Reads only the state directory; sends nothing.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::{OutcomeArg, RunsArgs, RunsCommand, RunsShowArgs};
use crate::error::{CommandError, Outcome};
use crate::exit;
use crate::report;
use crate::settings::STATE_DIR_NAME;
use engine::history::{self, Counts, RunRecord};
use engine::journal::{self, RecordOutcome};

/// Runs `roster runs` and returns its exit code: 0 listed or written, 2 otherwise.
pub fn run(args: RunsArgs) -> Outcome {
    match args.command {
        Some(RunsCommand::Show(show)) => run_show(&show),
        None => run_list(&args),
    }
}

fn state_dir(explicit: Option<&PathBuf>) -> PathBuf {
    explicit.cloned().unwrap_or_else(|| PathBuf::from(STATE_DIR_NAME))
}

/// A run as `roster runs --json` prints it.
#[derive(Debug, Serialize)]
pub struct RunSummary {
    /// The run's id.
    pub id: String,
    /// The target's name.
    pub target: String,
    /// When it started (RFC 3339).
    pub started: Option<String>,
    /// From start to end (or to its last record), milliseconds.
    pub duration_ms: Option<u64>,
    /// `apply`, `migrate` or `undo`.
    pub command: Option<String>,
    /// The roster or tenant file it read.
    pub file: Option<String>,
    /// SHA-256 of that file when the run started.
    pub file_digest: Option<String>,
    /// `merge` or `exact`.
    pub mode: Option<&'static str>,
    /// Whether it pruned.
    pub prune: bool,
    /// `ended` or `interrupted`.
    pub state: &'static str,
    /// For an undo: the run it reverses.
    pub undoes: Option<String>,
    /// How the rows ended.
    pub counts: Counts,
    /// How a tenant file's configuration writes (settings, groups, group roles, spaces) ended;
    /// all zero for a roster's run.
    pub config: ConfigCounts,
    /// The journal file.
    pub journal: PathBuf,
}

impl RunSummary {
    /// The summary of a run read from its journal.
    pub fn of(run: &RunRecord) -> RunSummary {
        let info = run.run();
        RunSummary {
            id: run.id(),
            target: run.header.target.clone(),
            started: info.map(|r| r.started.clone()),
            duration_ms: run
                .duration()
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            command: info.and_then(|r| r.about.command.clone()),
            file: info.and_then(|r| r.about.file.clone()),
            file_digest: info.and_then(|r| r.about.file_digest.clone()),
            mode: info.map(|r| journal::mode_name(r.mode)),
            prune: info.is_some_and(|r| r.prune),
            state: if run.ended() { "ended" } else { "interrupted" },
            undoes: info.and_then(|r| r.about.undoes.clone()),
            counts: run.counts(),
            config: ConfigCounts::of(&run.config),
            journal: run.path.clone(),
        }
    }
}

/// How a run's configuration writes ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ConfigCounts {
    /// Taken by the tenant.
    pub done: u64,
    /// Refused or failed.
    pub failed: u64,
    /// Sent with no answer recorded: the run stopped between the write and its answer.
    pub unanswered: u64,
}

impl ConfigCounts {
    fn of(changes: &[engine::tenant::apply::ConfigChange]) -> Self {
        use engine::tenant::apply::WriteEnd;
        let mut counts = ConfigCounts::default();
        for change in changes {
            match change.end {
                Some(WriteEnd::Done) => counts.done += 1,
                Some(WriteEnd::Failed { .. }) => counts.failed += 1,
                None => counts.unanswered += 1,
            }
        }
        counts
    }

    fn is_empty(self) -> bool {
        self == ConfigCounts::default()
    }
}

/// `; configuration 3 changed, 1 failed`, or nothing for a run without configuration writes.
fn config_text(c: ConfigCounts) -> String {
    if c.is_empty() {
        return String::new();
    }
    let mut text = format!("; configuration {} changed", report::format::count(c.done));
    if c.failed > 0 {
        text.push_str(&format!(", {} failed", report::format::count(c.failed)));
    }
    if c.unanswered > 0 {
        text.push_str(&format!(", {} unanswered", report::format::count(c.unanswered)));
    }
    text
}

fn counts_text(c: &Counts) -> String {
    format!(
        "created {}, updated {}, unchanged {}, deleted {}, failed {}",
        report::format::count(c.created),
        report::format::count(c.updated),
        report::format::count(c.unchanged),
        report::format::count(c.deleted),
        report::format::count(c.failed)
    )
}

fn duration_text(ms: Option<u64>) -> String {
    match ms {
        None => "-".to_owned(),
        Some(ms) if ms < 1000 => "<1s".to_owned(),
        Some(ms) => humantime::format_duration(std::time::Duration::from_secs(ms / 1000)).to_string(),
    }
}

fn run_list(args: &RunsArgs) -> Outcome {
    let dir = state_dir(args.state_dir.as_ref());
    let runs = history::list(&dir, args.to.as_deref()).map_err(|e| CommandError::from_chain(&e))?;
    let summaries: Vec<RunSummary> = runs.iter().map(RunSummary::of).collect();
    let mut out = io::stdout().lock();
    let written = if args.json {
        serde_json::to_writer_pretty(&mut out, &summaries)
            .map_err(io::Error::other)
            .and_then(|()| writeln!(out))
    } else if summaries.is_empty() {
        let _ = writeln!(
            io::stderr(),
            "no runs in {}{}",
            dir.display(),
            args.to
                .as_ref()
                .map_or_else(String::new, |t| format!(" for target {t}"))
        );
        Ok(())
    } else {
        summaries.iter().try_for_each(|s| write_summary(&mut out, s))
    };
    finish_output(written)
}

fn write_summary(out: &mut impl Write, s: &RunSummary) -> io::Result<()> {
    let file = match (&s.file, &s.file_digest) {
        (Some(file), Some(digest)) => format!("{file} (sha256 {})", &digest[..digest.len().min(12)]),
        (Some(file), None) => file.clone(),
        _ => "-".to_owned(),
    };
    let command = match (&s.command, &s.undoes) {
        (Some(c), Some(undoes)) => format!("{c} of {undoes}"),
        (Some(c), None) => c.clone(),
        _ => "-".to_owned(),
    };
    writeln!(
        out,
        "{}  {}  {:>8}  {}  {}  {}  {}{}  {}  {}{}",
        s.id,
        s.started.as_deref().unwrap_or("-"),
        duration_text(s.duration_ms),
        s.target,
        command,
        file,
        s.mode.unwrap_or("-"),
        if s.prune { " prune" } else { "" },
        s.state,
        counts_text(&s.counts),
        config_text(s.config)
    )
}

fn finish_output(written: io::Result<()>) -> Outcome {
    match written.and_then(|()| io::stdout().flush()) {
        Err(e) if !crate::pipe::is_closed_pipe(&e) => {
            Err(CommandError::new("failed to write the output").caused_by(e))
        }
        _ => Ok(exit::OK),
    }
}

/// One row of `roster runs show --json`.
#[derive(Debug, Serialize)]
struct RowJson<'a> {
    line: u64,
    outcome: RecordOutcome,
    space: Option<&'a str>,
    assignee_kind: Option<core_api::target::AssigneeKind>,
    assignee: Option<&'a str>,
    attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a engine::model::RowError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    before: Option<&'a engine::before::AssignmentBefore>,
}

fn wanted(outcome: RecordOutcome, filter: &[OutcomeArg]) -> bool {
    filter.is_empty()
        || filter.iter().any(|f| {
            matches!(
                (f, outcome),
                (OutcomeArg::Created, RecordOutcome::Created)
                    | (OutcomeArg::Updated, RecordOutcome::Updated)
                    | (OutcomeArg::Unchanged, RecordOutcome::Unchanged)
                    | (OutcomeArg::Deleted, RecordOutcome::Deleted)
                    | (OutcomeArg::Failed, RecordOutcome::Failed)
            )
        })
}

fn run_show(args: &RunsShowArgs) -> Outcome {
    let dir = state_dir(args.state_dir.as_ref());
    let run = history::find(&dir, args.to.as_deref(), &args.run).map_err(|e| {
        CommandError::from_chain(&e).hint(format!(
            "`roster runs --state-dir {}` lists the runs and their ids",
            dir.display()
        ))
    })?;
    if let Some(path) = &args.html {
        return write_html(&run, path);
    }
    let befores = run.before_of();
    let records = run.final_records();
    let rows: Vec<RowJson<'_>> = records
        .iter()
        .filter(|r| wanted(r.outcome, &args.outcome))
        .filter(|r| args.space.is_empty() || r.row.as_ref().is_some_and(|l| args.space.contains(&l.space)))
        .map(|r| RowJson {
            line: r.line,
            outcome: r.outcome,
            space: r.row.as_ref().map(|l| l.space.as_str()),
            assignee_kind: r.row.as_ref().map(|l| l.kind),
            assignee: r.row.as_ref().map(|l| l.assignee.as_str()),
            attempts: r.attempts,
            error: r.error.as_ref(),
            before: befores.get(&r.key).copied(),
        })
        .collect();
    let summary = RunSummary::of(&run);
    let mut out = io::stdout().lock();
    let written = if args.json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({ "run": summary, "configuration": run.config, "rows": rows }),
        )
        .map_err(io::Error::other)
        .and_then(|()| writeln!(out))
    } else {
        write_show_text(&mut out, &summary, &run.config, &rows)
    };
    finish_output(written)
}

fn write_show_text(
    out: &mut impl Write,
    s: &RunSummary,
    config: &[engine::tenant::apply::ConfigChange],
    rows: &[RowJson<'_>],
) -> io::Result<()> {
    writeln!(out, "run {} against {}", s.id, s.target)?;
    writeln!(
        out,
        "started {}, {} ({}), {}",
        s.started.as_deref().unwrap_or("-"),
        s.state,
        duration_text(s.duration_ms),
        counts_text(&s.counts)
    )?;
    if !config.is_empty() {
        writeln!(out, "configuration")?;
        for change in config {
            let end = match &change.end {
                Some(engine::tenant::apply::WriteEnd::Done) => "done".to_owned(),
                Some(engine::tenant::apply::WriteEnd::Failed { error }) => format!("failed: {error}"),
                None => "no answer recorded".to_owned(),
            };
            writeln!(out, "  {}  [{end}]", change.describe())?;
        }
        if !rows.is_empty() {
            writeln!(out, "assignments")?;
        }
    }
    for row in rows {
        let outcome = match row.outcome {
            RecordOutcome::Created => "created",
            RecordOutcome::Updated => "updated",
            RecordOutcome::Unchanged => "unchanged",
            RecordOutcome::Deleted => "deleted",
            RecordOutcome::Failed => "failed",
        };
        let change = row.before.map_or_else(String::new, |b| {
            let roles = |r: &Option<Vec<String>>| {
                r.as_ref()
                    .map_or_else(|| "(none)".to_owned(), |r| report::format::roles(r))
            };
            format!("  {} -> {}", roles(&b.roles), roles(&b.after))
        });
        let error = row
            .error
            .map_or_else(String::new, |e| format!("  [{}] {}", e.code, e.message));
        writeln!(
            out,
            "{:>6}  {:<9}  {}  {} {}{change}{error}",
            row.line,
            outcome,
            row.space.unwrap_or("-"),
            row.assignee_kind
                .map_or_else(|| "-".to_owned(), |k| k.to_string()),
            row.assignee.unwrap_or("-"),
        )?;
    }
    Ok(())
}

fn write_html(run: &RunRecord, path: &Path) -> Outcome {
    let html = report::html::render(run);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let written = tempfile::NamedTempFile::new_in(dir).and_then(|mut file| {
        file.write_all(html.as_bytes())?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    });
    match written {
        Ok(()) => {
            let _ = writeln!(
                io::stderr(),
                "wrote the report of run {} to {}",
                run.id(),
                path.display()
            );
            Ok(exit::OK)
        }
        Err(error) => Err(CommandError::new(format!("failed to write {}", path.display())).caused_by(error)),
    }
}
