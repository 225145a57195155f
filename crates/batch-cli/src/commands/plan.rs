//! `roster plan`: read the roster, resolve it against the tenant, and print the difference.
//! Nothing is written.

use super::job::plan_pruned;
use super::steps::{client, plan_rows, print_warnings, read_roster, runtime, write_plan};
use crate::cli::PlanArgs;
use crate::error::Outcome;
use crate::exit;
use crate::report::OutputMode;
use crate::settings::{self, PlanSettings, ProcessEnvironment};
use engine::plan;

/// Runs `roster plan`: 0 when every row can be done, 1 when some rows are errors, 2 for usage,
/// configuration, input or tenant-access problems; with `--check`, 3 when applying the roster
/// would change the tenant (before 1).
pub fn run(args: PlanArgs) -> Outcome {
    if super::fleet::wanted(&args.target, &args.fleet) {
        return super::fleet::plan(&args);
    }
    let settings = settings::load(&args, &ProcessEnvironment)?;
    print_warnings(&settings.warnings);
    let roster = read_roster(&settings)?;
    let mode = OutputMode::detect(settings.output.quiet, settings.output.json)
        .for_verbosity(settings.output.verbose);
    let runtime = runtime()?;
    let mut plan = runtime.block_on(async {
        let target = client(&settings)?;
        if args.prune {
            plan_pruned(&settings, &mode, &target, roster.rows, None).await
        } else {
            Ok(plan_rows(&settings, &mode, target.as_ref(), roster.rows)
                .await?
                .plan)
        }
    })?;
    estimate_write_time(&mut plan, &settings);
    write_plan(&plan, settings.output.json, mode.color_stdout)?;
    let counts = &plan.counts;
    Ok(
        if args.check && counts.create + counts.update + counts.delete > 0 {
            exit::CHANGES
        } else if counts.error > 0 {
            exit::ROWS_FAILED
        } else {
            exit::OK
        },
    )
}

/// With writes that burst within a window, the least write time is a window for each budget
/// beyond the first plus the round trips of the rest, at the round trip the plan's reads took.
pub(crate) fn estimate_write_time(plan: &mut engine::model::Plan, settings: &PlanSettings) {
    if let Some(window) = plan::write_window(&settings.target.limits) {
        plan.min_write_time = plan::burst_write_time(
            plan.write_calls,
            window,
            settings.target.concurrency,
            engine::exec::mean_round_trip(),
        );
        plan.write_time_estimated = true;
    }
}
