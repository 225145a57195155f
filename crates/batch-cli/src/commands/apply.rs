//! `roster apply`: skip what the journal says is done, plan the rest, execute the plan's writes,
//! and report every row to the display, the journal and the failed-rows CSV (the run itself is
//! [`super::job`], which `roster migrate` shares).

use super::job::{Job, prune_needs_exact, run_rows};
use super::steps::{client, print_warnings, read_roster, runtime};
use crate::cli::ApplyArgs;
use crate::error::Outcome;
use crate::settings::{self, ApplySettings, ProcessEnvironment};
use engine::model::Mode;

/// Runs `roster apply`: 0 every row ok, 1 some rows failed, 2 usage, configuration or input
/// error (nothing sent), 130 interrupted.
pub fn run(args: ApplyArgs) -> Outcome {
    if super::fleet::wanted(&args.target, &args.fleet) {
        return super::fleet::apply(&args);
    }
    let settings = settings::load(&args, &ProcessEnvironment)?;
    print_warnings(&settings.plan.warnings);
    if args.prune && settings.plan.mode != Mode::Exact {
        return Err(prune_needs_exact());
    }
    let roster = read_roster(&settings.plan)?;
    let job = Job {
        settings: &settings,
        rerun_args: rerun_args(&args, &settings),
        max_deletes: args.prune.then_some(args.max_deletes),
        adjust: None,
        lock: None,
        command: "apply",
        run_id: None,
    };
    let runtime = runtime()?;
    runtime.block_on(async {
        let target = client(&settings.plan)?;
        run_rows(job, roster.rows, target).await
    })
}

/// The arguments after the roster that rerun with the same target and settings. Only names of
/// environment variables and files: never a secret.
fn rerun_args(args: &ApplyArgs, settings: &ApplySettings) -> Vec<String> {
    let mut run = Vec::new();
    if let Some(n) = args.run.concurrency {
        run.extend(["--concurrency".to_owned(), n.to_string()]);
    }
    if let Some(dir) = &args.state_dir {
        run.extend(["--state-dir".to_owned(), dir.display().to_string()]);
    }
    if settings.plan.mode == Mode::Exact {
        run.extend(["--mode".to_owned(), "exact".to_owned()]);
    }
    if args.prune {
        run.extend([
            "--prune".to_owned(),
            "--max-deletes".to_owned(),
            args.max_deletes.to_string(),
        ]);
    }
    settings::rerun_words(&args.target, &settings.plan.target.source, run)
}
