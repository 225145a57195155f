//! `roster undo RUN --to TARGET`: plan the reverse of a run's changes from the before-states it
//! recorded and the tenant as it is now, show the plan, ask, and run it as a new run through the
//! same executor, limiter, journal, progress and failed-rows CSV as `roster apply`.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use core_api::Tier;

use super::steps::{client, print_warnings, runtime, write_plan};
use super::undo_config;
use crate::cli::{ApplyArgs, UndoArgs, WriteArgs};
use crate::error::{CommandError, Outcome};
use crate::report::{self, OutputMode, RunContext};
use crate::settings::{self, ApplySettings, ProcessEnvironment, STATE_DIR_NAME};
use engine::exec::{self, ExecOptions, Interrupts};
use engine::failed::{self, FailedRows};
use engine::history;
use engine::journal::{self, RunAbout, RunInfo, Start};
use engine::model::{Mode, Reporter, RowKey};
use engine::undo;

/// How long in-flight writes may take to finish after the first Ctrl-C.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs `roster undo`: 0 every change undone (or nothing to undo), 1 some rows failed, are
/// conflicts or cannot be undone, 2 usage, configuration, another run interrupted in the journal,
/// a tenant that cannot be read, or no confirmation (nothing sent), 130 interrupted.
pub fn run(args: UndoArgs) -> Outcome {
    let dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(STATE_DIR_NAME));
    let reversed = history::find(&dir, None, &args.run).map_err(|error| {
        CommandError::new(error.to_string()).hint(format!(
            "`roster runs --state-dir {}` lists the runs",
            dir.display()
        ))
    })?;
    let run_id = reversed.id();
    let apply_args = ApplyArgs {
        roster: dir.join(format!("undo-{run_id}.csv")),
        run: WriteArgs {
            mode: Some(Mode::Exact),
            concurrency: args.concurrency,
        },
        batch_size: None,
        state_dir: Some(dir.clone()),
        fresh: true,
        only_failed: false,
        yes: args.yes,
        prune: false,
        max_deletes: 0,
        target: args.target.clone(),
        output: args.output,
        fleet: crate::cli::FleetArgs::default(),
    };
    let settings: ApplySettings = settings::load(&apply_args, &ProcessEnvironment)?;
    print_warnings(&settings.plan.warnings);
    let target_name = settings.plan.target.name.clone();
    if reversed.header.target != target_name {
        return Err(CommandError::new(format!(
            "run {run_id} was against target {:?}, not {target_name:?}; nothing was sent",
            reversed.header.target
        ))
        .hint(format!("name its target: --to {}", reversed.header.target)));
    }
    let journal_path = journal::path_for(&dir, &target_name);
    // One run at a time per journal: the undo is a run of the same target.
    let _lock = journal::RunLock::acquire(&journal_path).map_err(|e| CommandError::from_chain(&e))?;
    check_open_run(&args, &settings, &journal_path, &run_id)?;
    let changes = undo::changes(&reversed);
    let config = engine::tenant::undo::to_reverse(&reversed.config);
    if changes.is_empty() && config.is_empty() {
        let _ = writeln!(
            io::stderr(),
            "run {run_id} recorded no change to undo; nothing was sent"
        );
        return Ok(crate::exit::OK);
    }
    runtime()?.block_on(undo_changes(&settings, &args, &run_id, &changes, &config))
}

/// The undo is a new run of the target's journal, which moves the run the journal holds to the
/// history. An interrupted run moved there could no longer be resumed, so the undo refuses (exit
/// 2, nothing sent) unless that run is the one undone (undoing it closes it), an earlier undo of
/// the same run (this undo finishes it), or `--fresh` says to leave it unfinished.
fn check_open_run(
    args: &UndoArgs,
    settings: &ApplySettings,
    journal_path: &Path,
    run_id: &str,
) -> Result<(), CommandError> {
    let state =
        journal::read(journal_path, &settings.plan.target.name).map_err(|e| CommandError::from_chain(&e))?;
    let Some(open) = state.run().filter(|_| !state.ended) else {
        // No run, one that ended, or a version-1 journal (never resumed).
        return Ok(());
    };
    let mut stderr = io::stderr();
    if open.id == run_id {
        let _ = writeln!(
            stderr,
            "note: run {run_id} was interrupted; undoing it closes it: once the undo writes, it moves \
             to the history and is never resumed (applying its roster again starts a new run)"
        );
        return Ok(());
    }
    if open.about.undoes.as_deref() == Some(run_id) {
        let _ = writeln!(
            stderr,
            "note: finishing the interrupted undo {} of run {run_id}",
            open.id
        );
        return Ok(());
    }
    if args.fresh {
        let _ = writeln!(
            stderr,
            "note: --fresh: the interrupted run {} in {} is left unfinished (its records move to the \
             history once the undo writes)",
            open.id,
            journal_path.display()
        );
        return Ok(());
    }
    let resume = resume_command(open, args, settings);
    Err(CommandError::new(format!(
        "the journal {} holds run {} (started {}), which was interrupted: undoing run {run_id} now \
         would leave it unfinished; nothing was sent",
        journal_path.display(),
        open.id,
        open.started
    ))
    .hint(format!(
        "finish it first with {resume} (the same command resumes it), then undo; or pass --fresh to \
         leave it unfinished in the history"
    )))
}

/// The command that resumes `run`, with this undo's target flags (`migrate`'s source is not
/// recorded, so its command is named, not spelled out).
fn resume_command(run: &RunInfo, args: &UndoArgs, settings: &ApplySettings) -> String {
    let file = run.about.file.as_deref().unwrap_or("ROSTER");
    let (command, first) = match run.about.command.as_deref() {
        Some("undo") => ("roster undo", run.about.undoes.as_deref().unwrap_or("RUN")),
        Some("tenant apply") => ("roster tenant apply", file),
        Some("migrate") => return "the `roster migrate` command that started it".to_owned(),
        _ => ("roster apply", file),
    };
    let mut own = Vec::new();
    if let Some(dir) = &args.state_dir {
        own.extend(["--state-dir".to_owned(), dir.display().to_string()]);
    }
    if run.mode == Mode::Exact && command != "roster undo" {
        own.extend(["--mode".to_owned(), "exact".to_owned()]);
    }
    if run.prune {
        own.push("--prune".to_owned());
    }
    let mut words = vec![first.to_owned()];
    words.extend(settings::rerun_words(
        &args.target,
        &settings.plan.target.source,
        own,
    ));
    let quoted: Vec<String> = words.iter().map(|w| report::format::shell_quote(w)).collect();
    format!("`{command} {}`", quoted.join(" "))
}

async fn undo_changes(
    settings: &ApplySettings,
    args: &UndoArgs,
    run_id: &str,
    changes: &[undo::Changed],
    config: &[&engine::tenant::apply::ConfigChange],
) -> Outcome {
    let mut stderr = io::stderr();
    let target = client(&settings.plan)?;
    let target_name = &settings.plan.target.name;
    let mut current = undo::read_current(target.as_ref(), changes, settings.plan.target.concurrency).await;
    let mut plan = undo::plan(
        target_name,
        target.as_ref(),
        run_id,
        changes,
        &current,
        args.force,
    );
    // The configuration a tenant apply changed: undone after its assignments (and what an undo
    // deleted, created again before them).
    let config_items = if config.is_empty() {
        Vec::new()
    } else {
        undo_config::plan(
            target.as_ref(),
            target_name,
            run_id,
            config,
            &plan,
            args.force,
            settings.plan.target.concurrency,
        )
        .await?
    };
    if undo_config::assume_recreated(&config_items, &mut current) {
        plan = undo::plan(
            target_name,
            target.as_ref(),
            run_id,
            changes,
            &current,
            args.force,
        );
    }
    let limit = settings.plan.target.limits.for_tier(Tier::Tier2);
    engine::plan::prune::recount(&mut plan, &target.capabilities(), (limit > 0).then_some(limit));
    if let Some(window) = engine::plan::write_window(&settings.plan.target.limits) {
        plan.min_write_time = engine::plan::burst_write_time(
            plan.write_calls,
            window,
            settings.plan.target.concurrency,
            exec::mean_round_trip(),
        );
        plan.write_time_estimated = true;
    }
    let mode = OutputMode::detect(settings.plan.output.quiet, settings.plan.output.json)
        .for_verbosity(settings.plan.output.verbose);
    if settings.plan.output.json {
        // One stream of JSON lines: the plan first, then the configuration's, then the run's
        // events.
        write_plan_record(&plan, run_id)?;
        if !config_items.is_empty() {
            let record = serde_json::json!({
                "event": "configuration",
                "undoes": run_id,
                "items": config_items,
            });
            let _ = writeln!(io::stdout(), "{record}");
        }
    } else {
        let _ = writeln!(io::stdout(), "undo of run {run_id}:");
        if !changes.is_empty() {
            write_plan(&plan, false, mode.color_stdout)?;
        }
        if !config_items.is_empty() {
            undo_config::render_text(&config_items, mode.color_stdout, &mut io::stdout().lock())
                .map_err(|e| CommandError::new("failed to write the plan").caused_by(e))?;
        }
    }
    let counts = &plan.counts;
    let conflicts = plan
        .items
        .iter()
        .filter(|i| matches!(&i.action, engine::model::Action::Error(e) if e.code == undo::CONFLICT))
        .count()
        + undo_config::conflicts(&config_items);
    if conflicts > 0 {
        let _ = writeln!(
            stderr,
            "{conflicts} {} changed since run {run_id} and {} left alone (conflict); --force undoes {} anyway",
            if conflicts == 1 { "row" } else { "rows" },
            if conflicts == 1 { "is" } else { "are" },
            if conflicts == 1 { "it" } else { "them" }
        );
    }
    let config_writes = undo_config::write_count(&config_items);
    let config_refused = undo_config::refused(&config_items);
    let writes = counts.create + counts.update + counts.delete + config_writes as u64;
    if writes == 0 {
        let _ = writeln!(stderr, "nothing to undo; nothing was sent");
        return Ok(if counts.error > 0 || config_refused > 0 {
            crate::exit::ROWS_FAILED
        } else {
            crate::exit::OK
        });
    }
    if !settings.yes {
        if !io::stdin().is_terminal() {
            return Err(CommandError::new(format!(
                "the undo writes {writes} changes and standard input is not a terminal to confirm; nothing was sent"
            ))
            .hint("check the plan above, then pass --yes"));
        }
        let _ = write!(stderr, "undo {writes} changes of run {run_id}? [y/N] ");
        let _ = stderr.flush();
        let mut answer = String::new();
        if io::stdin().read_line(&mut answer).is_err()
            || !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
        {
            return Err(CommandError::declined());
        }
    }
    let roster = &settings.plan.roster;
    let keys: Vec<RowKey> = plan.items.iter().map(|i| i.key.clone()).collect();
    let mut info = RunInfo::new(journal::roster_digest(&keys), Mode::Exact, false);
    let sending = undo_config::Sending {
        state_dir: &settings.state_dir,
        target_name,
        run_id: &info.id.clone(),
        undoes: run_id,
        concurrency: settings.plan.target.concurrency,
        json: settings.plan.output.json,
        quiet: settings.plan.output.quiet,
    };
    // Groups and spaces created again come first: the assignments go into them.
    let (recreate_failed, renamed) =
        undo_config::send_writes(&config_items, target.as_ref(), &sending, true).await?;
    undo_config::retarget(&mut plan, target.as_ref(), &renamed).await;
    // The undo's roster, by ids (those of groups and spaces just created again): the
    // failed-rows CSV names its lines.
    write_roster(roster, &plan).map_err(|error| {
        CommandError::new(format!("failed to write {}", roster.display())).caused_by(error)
    })?;
    info.about = RunAbout::for_file("undo", roster);
    info.about.undoes = Some(run_id.to_owned());
    info.about.write_limit_per_min = Some(limit);
    if changes.is_empty() {
        // Configuration only: no assignments' run to journal.
        let (failed, _) = undo_config::send_writes(&config_items, target.as_ref(), &sending, false).await?;
        return Ok(if failed + recreate_failed > 0 || config_refused > 0 {
            crate::exit::ROWS_FAILED
        } else {
            crate::exit::OK
        });
    }
    let journal_path = journal::path_for(&settings.state_dir, target_name);
    let writer = journal::Writer::open_run(&journal_path, target_name, Start::New(info))
        .map_err(|e| CommandError::from_chain(&e))?;
    let failed_path = failed::path_for(roster);
    let mut context = RunContext::new(roster, target_name);
    context.failed_csv = failed_path.clone();
    context.rerun_args = settings::rerun_words(&args.target, &settings.plan.target.source, Vec::new());
    context.state_dir = Some(settings.state_dir.clone());
    let mut reporters: Vec<Box<dyn Reporter>> = vec![
        Box::new(writer),
        Box::new(FailedRows::new(roster, settings.plan.target.kind, &failed_path)),
        report::display_reporter(&mode, context),
    ];
    let opts = ExecOptions {
        concurrency: settings.plan.target.concurrency.max(1),
        write_limit_per_min: limit,
        write_window: engine::plan::write_window(&settings.plan.target.limits),
        drain_timeout: DRAIN_TIMEOUT,
        resumed: 0,
    };
    let mut interrupts = Interrupts::ctrl_c();
    let executed = exec::execute(&mut plan, target.as_ref(), &mut reporters, &opts, &mut interrupts).await;
    drop(reporters);
    // The configuration goes back once the assignments that depend on it are undone.
    let config_failed = match &executed {
        Ok(result) if !result.interrupted => {
            undo_config::send_writes(&config_items, target.as_ref(), &sending, false)
                .await?
                .0
                + config_refused
                + recreate_failed
        }
        _ => recreate_failed,
    };
    match executed {
        Ok(result) if result.interrupted => Ok(crate::exit::INTERRUPTED),
        Ok(result) if result.totals.failed > 0 || config_failed > 0 => Ok(crate::exit::ROWS_FAILED),
        Ok(_) => Ok(crate::exit::OK),
        Err(error) => Err(CommandError::from_chain(&error).code(crate::exit::ROWS_FAILED)),
    }
}

/// `--json`: the plan as one `{"event":"plan","undoes":RUN,...}` line, ahead of the events.
fn write_plan_record(plan: &engine::model::Plan, run_id: &str) -> Result<(), CommandError> {
    let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let extra = serde_json::json!({ "undoes": run_id });
    match report::diff::render_json_record(plan, &extra, &mut stdout).and_then(|()| stdout.flush()) {
        Err(error) if !crate::pipe::is_closed_pipe(&error) => {
            Err(CommandError::new("failed to write the plan").caused_by(error))
        }
        _ => Ok(()),
    }
}

fn write_roster(path: &Path, plan: &engine::model::Plan) -> io::Result<()> {
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
