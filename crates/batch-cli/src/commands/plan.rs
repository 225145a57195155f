//! `roster plan`: read the roster, resolve it against the tenant, and print the difference.
//! Nothing is written.
//!
//! Also holds the steps `roster apply` shares with it: settings, roster, client, planning.

use std::io::{self, Write};
use std::sync::Arc;

use core_api::Tier;
use core_api::target::Target;

use crate::cli::PlanArgs;
use crate::exit;
use crate::model::ParsedRow;
use crate::plan::{self, PlanOptions, PlanProgress, Planned};
use crate::report::{self, OutputMode, ResolveProgress};
use crate::roster::{self, Roster};
use crate::settings::{PlanSettings, ProcessEnvironment};
use crate::target::build_target;

/// Runs `roster plan` and returns its exit code: 0 when every row can be done, 1 when some rows
/// are errors, 2 for usage, configuration, input or tenant-access problems; with `--check`, 3
/// when applying the roster would change the tenant (before 1).
pub fn run(args: PlanArgs) -> u8 {
    if crate::fleet::wanted(&args.target, &args.fleet) {
        return crate::fleet::plan(&args);
    }
    let mut stderr = io::stderr();
    let settings = match PlanSettings::from_args(&args, &ProcessEnvironment) {
        Ok(settings) => settings,
        Err(error) => return usage_error(&mut stderr, &error),
    };
    print_warnings(&mut stderr, &settings.warnings);
    let roster = match read_roster(&settings) {
        Ok(roster) => roster,
        Err(code) => return code,
    };
    let mode = OutputMode::detect(settings.output.quiet, settings.output.json)
        .for_verbosity(settings.output.verbose);
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let result = runtime.block_on(async {
        let target = client(&settings)?;
        if args.prune {
            super::apply::plan_pruned(&settings, &mode, &target, roster.rows, None).await
        } else {
            Ok(plan_rows(&settings, &mode, target.as_ref(), roster.rows)
                .await?
                .plan)
        }
    });
    let mut plan = match result {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    estimate_write_time(&mut plan, &settings);
    // One large plan is many small writes: buffer them rather than flush every line.
    let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let written = if settings.output.json {
        report::plan::render_json(&plan, &mut stdout)
    } else {
        report::plan::render_text(&plan, &mut stdout, mode.color_stdout)
    };
    if let Err(error) = written.and_then(|()| stdout.flush()) {
        // A closed pipe (`roster plan ... | head`) is the reader's choice, not a failure to report.
        if error.kind() != io::ErrorKind::BrokenPipe {
            let _ = writeln!(stderr, "error: failed to write the plan: {error}");
            return exit::USAGE;
        }
    }
    let counts = &plan.counts;
    if args.check && counts.create + counts.update + counts.delete > 0 {
        exit::CHANGES
    } else if counts.error > 0 {
        exit::ROWS_FAILED
    } else {
        exit::OK
    }
}

/// With writes that burst within a window, the least write time is a window for each budget
/// beyond the first plus the round trips of the rest, at the round trip the plan's reads took.
pub(crate) fn estimate_write_time(plan: &mut crate::model::Plan, settings: &PlanSettings) {
    if let Some(window) = plan::write_window(&settings.target.limits) {
        plan.min_write_time = plan::burst_write_time(
            plan.write_calls,
            window,
            settings.target.concurrency,
            crate::exec::mean_round_trip(),
        );
        plan.write_time_estimated = true;
    }
}

/// `error: ...` for a settings problem; exit code 2.
pub(crate) fn usage_error(stderr: &mut impl Write, error: &dyn std::fmt::Display) -> u8 {
    let _ = writeln!(stderr, "error: {error}");
    exit::USAGE
}

/// `warning: ...` lines for what the settings step noticed.
pub(crate) fn print_warnings(stderr: &mut impl Write, warnings: &[String]) {
    for warning in warnings {
        let _ = writeln!(stderr, "warning: {warning}");
    }
}

/// Read and check the roster; a file-level problem lists every problem and gives exit code 2.
/// With `-v`, says how long reading took: the first part of the time split.
pub(crate) fn read_roster(settings: &PlanSettings) -> Result<Roster, u8> {
    let started = std::time::Instant::now();
    let roster = roster::read_roster(&settings.roster, settings.target.kind).map_err(|error| {
        let _ = writeln!(io::stderr(), "error: {error}");
        exit::USAGE
    })?;
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
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            let _ = writeln!(io::stderr(), "error: failed to start the async runtime: {error}");
            exit::USAGE
        })
}

/// The tenant's client, with the engine's observer installed so retries and throttling become
/// row events. Sends nothing.
pub(crate) fn client(settings: &PlanSettings) -> Result<Arc<dyn Target>, u8> {
    let observer = report::requests::observer(settings.output.verbose, Some(crate::exec::observer()));
    build_target(&settings.target, observer).map_err(|error| {
        let _ = writeln!(io::stderr(), "error: {error}");
        exit::USAGE
    })
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
/// A tenant that cannot be read (auth, network) is reported and gives exit code 2: nothing was
/// written.
pub(crate) async fn plan_rows(
    settings: &PlanSettings,
    mode: &OutputMode,
    target: &dyn Target,
    rows: Vec<ParsedRow>,
) -> Result<Planned, u8> {
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
    result.map_err(|error| {
        let message = format!("failed to plan: {error}");
        let message = crate::hint::with_hint(message, crate::hint::in_plan(&error), &settings.target);
        let _ = writeln!(io::stderr(), "error: {message}");
        exit::USAGE
    })
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
