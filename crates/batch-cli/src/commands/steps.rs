//! The steps several commands take alike, each ending in a [`CommandError`] when it cannot go on:
//! the runtime, the roster, the tenant's client, planning with its progress, writing a plan to
//! stdout, and picking a source's spaces (export, migrate).

use std::io::{self, Write};
use std::sync::Arc;

use core_api::Tier;
use core_api::target::{SpaceInfo, Target};

use crate::cli::SpaceArgs;
use crate::error::CommandError;
use crate::report::{self, OutputMode, ResolveProgress};
use crate::settings::{PlanSettings, TargetSettings};
use crate::vendor::build_target;
use engine::export::{self, Selection};
use engine::model::{ParsedRow, Plan};
use engine::plan::{self, PlanError, PlanOptions, PlanProgress, Planned};
use engine::roster::{self, Roster};

/// `warning: ...` lines for what the settings step noticed.
pub(crate) fn print_warnings(warnings: &[String]) {
    let mut stderr = io::stderr();
    for warning in warnings {
        let _ = writeln!(stderr, "warning: {warning}");
    }
}

/// Read and check the roster; a file-level problem lists every problem (exit code 2).
/// With `-v`, says how long reading took: the first part of the time split.
pub(crate) fn read_roster(settings: &PlanSettings) -> Result<Roster, CommandError> {
    let started = std::time::Instant::now();
    let roster = roster::read_roster(&settings.roster, settings.target.kind)
        .map_err(|error| CommandError::new(error.to_string()))?;
    if settings.output.verbose > 0 {
        let _ = writeln!(
            io::stderr(),
            "roster: parsed {} rows in {:.1?}",
            roster.rows.len(),
            started.elapsed()
        );
    }
    Ok(roster)
}

/// The runtime the engine runs on: one thread. The engine polls every request from one task, so
/// worker threads only added a cross-thread wake-up to each response (about a fifth of the CPU
/// time per row), and the CPU-heavy parts of planning run in that one task anyway.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| CommandError::new("failed to start the async runtime").caused_by(error))
}

/// The tenant's client, with the engine's observer installed so retries and throttling become
/// row events. Sends nothing.
pub(crate) fn client(settings: &PlanSettings) -> Result<Arc<dyn Target>, CommandError> {
    let observer = report::requests::observer(settings.output.verbose, Some(engine::exec::observer()));
    Ok(build_target(&settings.target, observer)?)
}

/// The plan options the settings call for.
pub(crate) fn plan_options(settings: &PlanSettings) -> PlanOptions {
    let mut opts = PlanOptions::new(settings.target.name.clone(), settings.mode);
    let limit = settings.target.limits.for_tier(Tier::Tier2);
    opts.write_limit_per_min = (limit > 0).then_some(limit);
    opts.concurrency = settings.target.concurrency.max(1);
    // Unpaced writes, and writes that burst within their window, make the run latency-bound:
    // resolve names in the fewest round trips.
    opts.fewest_round_trips = limit == 0 || plan::write_window(&settings.target.limits).is_some();
    opts
}

/// Plan `rows`, showing resolve progress on stderr as `mode` says (strategy choices with `-v`).
/// A tenant that cannot be read (auth, network) is an error (exit code 2): nothing was written.
pub(crate) async fn plan_rows(
    settings: &PlanSettings,
    mode: &OutputMode,
    target: &dyn Target,
    rows: Vec<ParsedRow>,
) -> Result<Planned, CommandError> {
    let progress = ResolveProgress::new(mode, settings.output.verbose > 0);
    let feed = |event: &PlanProgress| show_progress(&progress, event);
    let result = plan::build_owned(rows, target, &plan_options(settings), &feed).await;
    progress.finish();
    if settings.output.verbose > 0
        && let Ok(planned) = &result
    {
        let t = planned.timings;
        let _ = writeln!(
            io::stderr(),
            "plan: read {:.1?}, resolve {:.1?}, diff {:.1?}",
            t.read,
            t.resolve,
            t.diff
        );
    }
    result.map_err(|error| plan_failed(&error, &settings.target))
}

/// A tenant that could not be read while planning.
pub(crate) fn plan_failed(error: &PlanError, target: &TargetSettings) -> CommandError {
    CommandError::new("failed to plan")
        .caused_by(error)
        .maybe_hint(crate::hint::for_error(crate::hint::in_plan(error), target))
}

/// Show one planner event on the resolve progress.
pub(crate) fn show_progress(progress: &ResolveProgress, event: &PlanProgress) {
    match event {
        PlanProgress::Resolving { directory, names } => {
            progress.phase(&directory.to_string(), 0, *names as u64);
        }
        PlanProgress::Resolved(choice) if choice.names > 0 => {
            let name = choice.directory.to_string();
            progress.strategy(&name, &choice.reason);
            progress.phase(&name, choice.names as u64, choice.names as u64);
        }
        PlanProgress::Assignments { done, total } => {
            progress.phase("assignments", *done as u64, *total as u64);
        }
        _ => {}
    }
}

/// Write `plan` to stdout, as JSON or as the text diff. A closed pipe (`roster plan ... | head`)
/// is the reader's choice, not a failure.
pub(crate) fn write_plan(plan: &Plan, json: bool, color: bool) -> Result<(), CommandError> {
    // One large plan is many small writes: buffer them rather than flush every line.
    let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let written = if json {
        report::diff::render_json(plan, &mut stdout)
    } else {
        report::diff::render_text(plan, &mut stdout, color)
    };
    match written.and_then(|()| stdout.flush()) {
        Err(error) if !crate::pipe::is_closed_pipe(&error) => {
            Err(CommandError::new("failed to write the plan").caused_by(error))
        }
        _ => Ok(()),
    }
}

/// The spaces of `source` that `selection` asks for, showing `phase` on `progress`. A listing
/// that fails, or a name or id that matches no space, is an error before anything else is read.
pub(crate) async fn select_spaces(
    source: &dyn Target,
    settings: &TargetSettings,
    selection: &SpaceArgs,
    progress: &ResolveProgress,
    phase: &str,
) -> Result<Vec<Arc<SpaceInfo>>, CommandError> {
    progress.phase(phase, 0, 1);
    let selection = Selection {
        spaces: selection.spaces.clone(),
        types: selection.types.clone(),
    };
    let (spaces, missing) = export::select_spaces(source, &selection).await.map_err(|error| {
        read_failed(
            format!("failed to list the spaces of {}", settings.name),
            &error,
            settings,
        )
    })?;
    progress.phase(phase, 1, 1);
    if !missing.is_empty() {
        return Err(CommandError::new(format!(
            "no space named or with id {} in {}",
            missing
                .iter()
                .map(|m| format!("{m:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            settings.name
        )));
    }
    Ok(spaces)
}

/// A client error while reading `target`: `message`, the error as its cause, and the hint for it.
pub(crate) fn read_failed(
    message: impl Into<String>,
    error: &core_api::Error,
    target: &TargetSettings,
) -> CommandError {
    CommandError::new(message)
        .caused_by(error)
        .maybe_hint(crate::hint::for_error(error, target))
}
