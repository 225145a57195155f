//! `roster undo RUN --to TARGET`: plan the reverse of a run's changes from the before-states it
//! recorded and the tenant as it is now, show the plan, ask, and run it as a new run through the
//! same executor, limiter, journal, progress and failed-rows CSV as `roster apply`.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use core_api::Tier;

use super::plan::{client, estimate_write_time, print_warnings, runtime, usage_error};
use crate::cli::{ApplyArgs, UndoArgs};
use crate::exec::{self, ExecOptions, Interrupts};
use crate::failed::{self, FailedRows};
use crate::history;
use crate::journal::{self, RunAbout, RunInfo, Start};
use crate::model::{Mode, Reporter, RowKey};
use crate::report::{self, OutputMode, RunContext};
use crate::settings::{ApplySettings, ProcessEnvironment, STATE_DIR_NAME};
use crate::undo;

/// How long in-flight writes may take to finish after the first Ctrl-C.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs `roster undo` and returns its exit code: 0 every change undone (or nothing to undo), 1
/// some rows failed, are conflicts or cannot be undone, 2 usage, configuration, a tenant that
/// cannot be read, or no confirmation (nothing sent), 130 interrupted.
pub fn run(args: UndoArgs) -> u8 {
    let mut stderr = io::stderr();
    let dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(STATE_DIR_NAME));
    let reversed = match history::find(&dir, None, &args.run) {
        Ok(run) => run,
        Err(error) => {
            return usage_error(
                &mut stderr,
                &format!(
                    "{error}\nhint: `roster runs --state-dir {}` lists the runs",
                    dir.display()
                ),
            );
        }
    };
    let run_id = reversed.id();
    let apply_args = ApplyArgs {
        roster: dir.join(format!("undo-{run_id}.csv")),
        mode: Some(Mode::Exact),
        concurrency: args.concurrency,
        batch_size: None,
        state_dir: Some(dir.clone()),
        fresh: true,
        only_failed: false,
        yes: args.yes,
        prune: false,
        max_deletes: 0,
        target: args.target.clone(),
        output: args.output,
    };
    let settings = match ApplySettings::from_args(&apply_args, &ProcessEnvironment) {
        Ok(settings) => settings,
        Err(error) => return usage_error(&mut stderr, &error),
    };
    print_warnings(&mut stderr, &settings.plan.warnings);
    let target_name = settings.plan.target.name.clone();
    if reversed.header.target != target_name {
        return usage_error(
            &mut stderr,
            &format!(
                "run {run_id} was against target {:?}, not {target_name:?}; nothing was sent\n\
                 hint: name its target: --to {}",
                reversed.header.target, reversed.header.target
            ),
        );
    }
    let journal_path = journal::path_for(&dir, &target_name);
    // One run at a time per journal: the undo is a run of the same target.
    let _lock = match journal::RunLock::acquire(&journal_path) {
        Ok(lock) => lock,
        Err(error) => return usage_error(&mut stderr, &error),
    };
    let changes = undo::changes(&reversed);
    if changes.is_empty() {
        let _ = writeln!(
            stderr,
            "run {run_id} recorded no change to undo; nothing was sent"
        );
        return crate::exit::OK;
    }
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(undo_changes(&settings, &args, &run_id, &changes))
}

async fn undo_changes(
    settings: &ApplySettings,
    args: &UndoArgs,
    run_id: &str,
    changes: &[undo::Changed],
) -> u8 {
    let mut stderr = io::stderr();
    let target = match client(&settings.plan) {
        Ok(target) => target,
        Err(code) => return code,
    };
    let target_name = &settings.plan.target.name;
    let current = undo::read_current(target.as_ref(), changes, settings.plan.target.concurrency).await;
    let mut plan = undo::plan(
        target_name,
        target.as_ref(),
        run_id,
        changes,
        &current,
        args.force,
    );
    let limit = settings.plan.target.limits.for_tier(Tier::Tier2);
    crate::prune::recount(&mut plan, &target.capabilities(), (limit > 0).then_some(limit));
    estimate_write_time(&mut plan, &settings.plan);
    let mode = OutputMode::detect(settings.plan.output.quiet, settings.plan.output.json)
        .for_verbosity(settings.plan.output.verbose);
    {
        let mut stdout = io::BufWriter::new(io::stdout().lock());
        let shown = if settings.plan.output.json {
            report::plan::render_json(&plan, &mut stdout)
        } else {
            writeln!(stdout, "undo of run {run_id}:")
                .and_then(|()| report::plan::render_text(&plan, &mut stdout, mode.color_stdout))
        };
        if let Err(error) = shown.and_then(|()| stdout.flush())
            && error.kind() != io::ErrorKind::BrokenPipe
        {
            let _ = writeln!(stderr, "error: failed to write the plan: {error}");
            return crate::exit::USAGE;
        }
    }
    let counts = &plan.counts;
    let conflicts = plan
        .items
        .iter()
        .filter(|i| matches!(&i.action, crate::model::Action::Error(e) if e.code == undo::CONFLICT))
        .count();
    if conflicts > 0 {
        let _ = writeln!(
            stderr,
            "{conflicts} {} changed since run {run_id} and {} left alone (conflict); --force undoes {} anyway",
            if conflicts == 1 { "row" } else { "rows" },
            if conflicts == 1 { "is" } else { "are" },
            if conflicts == 1 { "it" } else { "them" }
        );
    }
    let writes = counts.create + counts.update + counts.delete;
    if writes == 0 {
        let _ = writeln!(stderr, "nothing to undo; nothing was sent");
        return if counts.error > 0 {
            crate::exit::ROWS_FAILED
        } else {
            crate::exit::OK
        };
    }
    if !settings.yes {
        if !io::stdin().is_terminal() {
            let _ = writeln!(
                stderr,
                "error: the undo writes {writes} changes and standard input is not a terminal to confirm; nothing was sent\n\
                 hint: check the plan above, then pass --yes"
            );
            return crate::exit::USAGE;
        }
        let _ = write!(stderr, "undo {writes} changes of run {run_id}? [y/N] ");
        let _ = stderr.flush();
        let mut answer = String::new();
        if io::stdin().read_line(&mut answer).is_err()
            || !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
        {
            let _ = writeln!(stderr, "nothing was sent");
            return crate::exit::USAGE;
        }
    }
    // The undo's roster, by ids: the failed-rows CSV names its lines.
    let roster = &settings.plan.roster;
    if let Err(error) = write_roster(roster, &plan) {
        return usage_error(
            &mut stderr,
            &format!("failed to write {}: {error}", roster.display()),
        );
    }
    let keys: Vec<RowKey> = plan.items.iter().map(|i| i.key.clone()).collect();
    let mut info = RunInfo::new(journal::roster_digest(&keys), Mode::Exact, false);
    info.about = RunAbout::for_file("undo", roster);
    info.about.undoes = Some(run_id.to_owned());
    info.about.write_limit_per_min = Some(limit);
    let journal_path = journal::path_for(&settings.state_dir, target_name);
    let writer = match journal::Writer::open_run(&journal_path, target_name, Start::New(info)) {
        Ok(writer) => writer,
        Err(error) => return usage_error(&mut stderr, &error),
    };
    let failed_path = failed::path_for(roster);
    let mut context = RunContext::new(roster, target_name);
    context.failed_csv = failed_path.clone();
    context.rerun_args = crate::settings::target_words(&args.target, &settings.plan.target.source);
    context.state_dir = Some(settings.state_dir.clone());
    let mut reporters: Vec<Box<dyn Reporter>> = vec![
        Box::new(writer),
        Box::new(FailedRows::new(roster, settings.plan.target.kind, &failed_path)),
        report::display_reporter(&mode, context),
    ];
    let opts = ExecOptions {
        concurrency: settings.plan.target.concurrency.max(1),
        write_limit_per_min: limit,
        write_window: crate::plan::write_window(&settings.plan.target.limits),
        drain_timeout: DRAIN_TIMEOUT,
        resumed: 0,
    };
    let mut interrupts = Interrupts::ctrl_c();
    match exec::execute(&mut plan, target.as_ref(), &mut reporters, &opts, &mut interrupts).await {
        Ok(result) if result.interrupted => crate::exit::INTERRUPTED,
        Ok(result) if result.totals.failed > 0 => crate::exit::ROWS_FAILED,
        Ok(_) => crate::exit::OK,
        Err(error) => {
            let _ = writeln!(stderr, "error: {error}");
            crate::exit::ROWS_FAILED
        }
    }
}

fn write_roster(path: &Path, plan: &crate::model::Plan) -> io::Result<()> {
    let bytes = undo::roster_csv(plan).map_err(io::Error::other)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    journal::create_state_dir(dir).map_err(io::Error::other)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(&bytes)?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}
