//! One apply run, shared by `roster apply` and `roster migrate`: lock the journal, decide which
//! run this is (resume, rerun the failed rows, or new), plan (and prune), confirm what needs a
//! yes, execute, and report every row to the display, the journal and the failed-rows CSV.

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use core_api::Tier;
use core_api::target::Target;

use super::runs;
use super::steps::{plan_failed, plan_options, plan_rows, read_failed, show_progress};
use crate::error::{CommandError, Outcome};
use crate::report::{self, OutputMode, ResolveProgress, RunContext};
use crate::settings::{ApplySettings, PlanSettings};
use engine::exec::{self, ExecOptions, Interrupts, PipelineError};
use engine::failed::{self, FailedRows};
use engine::journal;
use engine::model::{Action, Mode, ParsedRow, Plan, PlanItem, Reporter, RowKey};
use engine::plan::PlanProgress;
use engine::plan::prune::{self, Listings};

/// How long in-flight writes may take to finish after the first Ctrl-C.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// A change the caller makes to the plan before anything is sent (migrate marks the rows it
/// could not map).
pub(crate) type Adjust<'a> = &'a (dyn Fn(&mut Plan) + Sync);

/// One apply run: its settings, how to rerun it, and its options beyond a plain apply.
pub(crate) struct Job<'a> {
    /// Settings (the roster path names the failed-rows CSV and the rerun command).
    pub settings: &'a ApplySettings,
    /// The arguments after the roster that rerun with the same target and settings.
    pub rerun_args: Vec<String>,
    /// With `--prune`: the most deletes allowed.
    pub max_deletes: Option<usize>,
    /// A change to the plan before it is executed.
    pub adjust: Option<Adjust<'a>>,
    /// The journal's lock, when the caller took it before its own first request (migrate);
    /// otherwise the run takes it before anything is sent.
    pub lock: Option<journal::RunLock>,
    /// The command, for the run's history (`apply`, `migrate`).
    pub command: &'static str,
    /// The id a new run takes, when the caller chose it first (a tenant apply ties its
    /// configuration changes to it before its assignments are planned).
    pub run_id: Option<String>,
}

/// Lock the journal, decide the run (resume, rerun the failed rows, or a new run), plan, (prune,)
/// execute and report `rows` of the roster at `job.settings.plan.roster`: the whole of
/// `roster apply` after reading the file. Returns the exit code.
pub(crate) async fn run_rows(job: Job<'_>, rows: Vec<ParsedRow>, target: Arc<dyn Target>) -> Outcome {
    let mut stderr = io::stderr();
    let settings = job.settings;
    let target_name = settings.plan.target.name.clone();
    let journal_path = journal::path_for(&settings.state_dir, &target_name);
    // Held to the end of the run: one run at a time per journal, refused before any request.
    let _lock = match job.lock {
        Some(lock) => lock,
        None => journal::RunLock::acquire(&journal_path).map_err(journal_error)?,
    };
    let keys: Vec<RowKey> = rows.iter().map(|r| runs::row_key(r, &target_name)).collect();
    let mut this = journal::RunInfo::new(
        journal::roster_digest(&keys),
        settings.plan.mode,
        job.max_deletes.is_some(),
    );
    if let Some(id) = job.run_id {
        this.id = id;
    }
    this.about = journal::RunAbout::for_file(job.command, &settings.plan.roster);
    this.about.write_limit_per_min = Some(settings.plan.target.limits.for_tier(Tier::Tier2));
    let decision = runs::decide(settings, &journal_path, this, &keys)?;
    let (state, select) = (decision.state, decision.select);
    let only_failed = select == runs::Select::OnlyFailed;
    let all = rows.len() as u64;
    let mode = OutputMode::detect(settings.plan.output.quiet, settings.plan.output.json)
        .for_verbosity(settings.plan.output.verbose);
    let caps = target.capabilities();
    let opened = Opened {
        rerun_args: job.rerun_args,
        start: decision.start,
    };

    let (mut plan, resumed) = if let Some(max_deletes) = job.max_deletes {
        let mut plan = plan_pruned(&settings.plan, &mode, &target, rows, job.adjust).await?;
        let limit = settings.plan.target.limits.for_tier(Tier::Tier2);
        let limit = (limit > 0).then_some(limit);
        let mut resumed = 0;
        if select != runs::Select::All {
            plan.items.retain(|item| {
                let (skip, done) = runs::skip(select, &state, &item.key);
                resumed += u64::from(done);
                !skip
            });
            prune::recount(&mut plan, &caps, limit);
        }
        announce(&mut stderr, resumed, all, plan.items.len() as u64, only_failed);
        confirm_deletes(&plan, max_deletes, settings.yes, &mode)?;
        (plan, resumed)
    } else {
        // Resume happens before planning: rows the journal has done cost no request at all.
        let (rows, resumed) = runs::select_rows(rows, &keys, &state, select);
        announce(&mut stderr, resumed, all, rows.len() as u64, only_failed);
        // Without a change to make to the whole plan first, nor a question to ask about it,
        // writes start as soon as their rows are decided.
        if job.adjust.is_none() && (!caps.emails_new_members || settings.yes) {
            drop((state, keys));
            return plan_and_apply(settings, &mode, target.as_ref(), rows, resumed, opened).await;
        }
        let planned = plan_rows(&settings.plan, &mode, target.as_ref(), rows).await?;
        let mut plan = planned.plan;
        if let Some(adjust) = job.adjust {
            adjust(&mut plan);
        }
        (plan, resumed)
    };
    drop((state, keys));
    confirm_emails(&plan, settings.yes)?;
    let mut reporters = open_reporters(settings, &mode, opened)?;
    let mut interrupts = Interrupts::ctrl_c();
    let result = exec::execute(
        &mut plan,
        target.as_ref(),
        &mut reporters,
        &exec_options(settings, resumed),
        &mut interrupts,
    )
    .await;
    exit_code(result)
}

/// What the run's reporters are opened with.
struct Opened {
    /// The arguments after the roster that rerun with the same target and settings.
    rerun_args: Vec<String>,
    /// How the journal starts: a new run or the one it continues.
    start: journal::Start,
}

/// Plan and execute at once ([`exec::plan_and_execute`]): the resolve progress shows until the
/// first row is decided, then the run's.
async fn plan_and_apply(
    settings: &ApplySettings,
    mode: &OutputMode,
    target: &dyn Target,
    rows: Vec<ParsedRow>,
    resumed: u64,
    opened: Opened,
) -> Outcome {
    let progress = ResolveProgress::new(mode, settings.plan.output.verbose > 0);
    let live = AtomicBool::new(true);
    let feed = |event: &PlanProgress| {
        if live.load(Ordering::Relaxed) {
            show_progress(&progress, event);
        }
    };
    let mut on_started = || {
        live.store(false, Ordering::Relaxed);
        progress.finish();
    };
    let mut interrupts = Interrupts::ctrl_c();
    let result = exec::plan_and_execute(
        rows,
        target,
        &plan_options(&settings.plan),
        &feed,
        &mut on_started,
        || open_reporters(settings, mode, opened),
        &exec_options(settings, resumed),
        &mut interrupts,
    )
    .await;
    match result {
        Ok(result) => exit_code(Ok(result)),
        Err(PipelineError::Exec(error)) => exit_code(Err(error)),
        Err(PipelineError::Open(error)) => Err(error),
        Err(PipelineError::Plan(error)) => Err(plan_failed(&error, &settings.plan.target)),
    }
}

/// The run's reporters: the journal first (a row is on disk before anyone is told it is done),
/// the failed-rows CSV, and the display.
fn open_reporters(
    settings: &ApplySettings,
    mode: &OutputMode,
    opened: Opened,
) -> Result<Vec<Box<dyn Reporter>>, CommandError> {
    let target_name = &settings.plan.target.name;
    let journal_path = journal::path_for(&settings.state_dir, target_name);
    let writer =
        journal::Writer::open_run(&journal_path, target_name, opened.start).map_err(journal_error)?;
    let rerun_args = opened.rerun_args;
    let failed_path = failed::path_for(&settings.plan.roster);
    let mut context = RunContext::new(&settings.plan.roster, target_name);
    context.failed_csv = failed_path.clone();
    context.rerun_args = rerun_args;
    context.state_dir = Some(settings.state_dir.clone());
    Ok(vec![
        Box::new(writer),
        Box::new(FailedRows::new(
            &settings.plan.roster,
            settings.plan.target.kind,
            &failed_path,
        )),
        report::display_reporter(mode, context),
    ])
}

fn exec_options(settings: &ApplySettings, resumed: u64) -> ExecOptions {
    ExecOptions {
        concurrency: settings.plan.target.concurrency.max(1),
        write_limit_per_min: settings.plan.target.limits.for_tier(Tier::Tier2),
        write_window: engine::plan::write_window(&settings.plan.target.limits),
        drain_timeout: DRAIN_TIMEOUT,
        resumed,
    }
}

/// 130 interrupted, 1 when a row failed (or a reporter stopped the run), else 0.
fn exit_code(result: Result<exec::RunResult, exec::ExecError>) -> Outcome {
    match result {
        Ok(result) if result.interrupted => Ok(crate::exit::INTERRUPTED),
        Ok(result) if result.totals.failed > 0 => Ok(crate::exit::ROWS_FAILED),
        Ok(_) => Ok(crate::exit::OK),
        // `roster apply --json | head`: the reader went away. Every row done so far is in the
        // journal and a rerun resumes; the run ends quietly, as any command does.
        Err(error) if matches!(error.kind(), exec::ExecErrorKind::Report(e) if crate::pipe::is_closed_pipe(e)) => {
            Ok(crate::pipe::CLOSED_PIPE_EXIT)
        }
        Err(error) => Err(CommandError::new(error.to_string()).code(crate::exit::ROWS_FAILED)),
    }
}

/// The journal could not be locked, read or opened: nothing was sent (exit code 2).
pub(crate) fn journal_error(error: journal::Error) -> CommandError {
    CommandError::new(error.to_string())
}

/// Plan `rows` with prune: refuse what cannot be pruned safely, plan the whole roster through a
/// [`Listings`] cache, apply `adjust`, and add the deletes.
pub(crate) async fn plan_pruned(
    settings: &PlanSettings,
    mode: &OutputMode,
    target: &Arc<dyn Target>,
    rows: Vec<ParsedRow>,
    adjust: Option<Adjust<'_>>,
) -> Result<Plan, CommandError> {
    let caps = target.capabilities();
    if settings.mode != Mode::Exact {
        return Err(prune_needs_exact());
    }
    if !caps.delete {
        return Err(CommandError::new(format!(
            "{} targets cannot delete assignments, so --prune cannot be used",
            target.kind()
        )));
    }
    if let Some(bad) = rows.iter().find(|r| r.row.is_err()) {
        let count = rows.iter().filter(|r| r.row.is_err()).count();
        return Err(CommandError::new(format!(
            "refusing to prune: {count} roster rows cannot be read (first at line {}), and one of \
             them may name an assignee that must stay",
            bad.line
        ))
        .hint("fix those rows (see `roster plan`), then run again"));
    }
    let listings = Listings::new(Arc::clone(target));
    let mut plan = plan_rows(settings, mode, &listings, rows).await?.plan;
    if let Some(adjust) = adjust {
        adjust(&mut plan);
    }
    let limit = settings.target.limits.for_tier(Tier::Tier2);
    prune::add_deletes(
        &mut plan,
        &listings,
        settings.target.concurrency,
        (limit > 0).then_some(limit),
    )
    .await
    .map_err(|error| read_failed("failed to plan the deletes", &error, &settings.target))?;
    Ok(plan)
}

/// `--prune` without `--mode exact`.
pub(crate) fn prune_needs_exact() -> CommandError {
    CommandError::new("--prune deletes what the roster does not list, which only --mode exact means")
        .hint("add --mode exact")
}

/// The first line of a run: how much an earlier run already did.
fn announce(stderr: &mut impl Write, resumed: u64, all: u64, selected: u64, only_failed: bool) {
    if resumed > 0 {
        let _ = writeln!(
            stderr,
            "resuming: {} of {} rows already done",
            report::format::count(resumed),
            report::format::count(all)
        );
    } else if only_failed {
        let _ = writeln!(
            stderr,
            "only failed rows: {} of {} rows failed in an earlier run",
            report::format::count(selected),
            report::format::count(all)
        );
    }
}

/// Above this many new members, a target that emails everyone it adds (Alumio) needs a yes.
pub const EMAIL_CONFIRM_ABOVE: u64 = 10;

/// Adding members to Alumio spaces emails each of them: above [`EMAIL_CONFIRM_ABOVE`], ask on a
/// terminal unless `--yes` was given; without a terminal and without `--yes`, refuse (exit 2).
fn confirm_emails(plan: &Plan, yes: bool) -> Result<(), CommandError> {
    let n = plan.counts.emailed;
    if n <= EMAIL_CONFIRM_ABOVE || yes {
        return Ok(());
    }
    let count = report::format::count(n);
    if !io::stdin().is_terminal() {
        return Err(CommandError::new(format!(
            "{count} new members would each get an email from the target, and standard input is not \
             a terminal to confirm; nothing was sent"
        ))
        .hint("check them with `roster plan`, then pass --yes"));
    }
    ask(&format!(
        "{count} new members will each get an email from the target. Continue? [y/N] "
    ))
}

/// Ask a yes/no question on the terminal; anything but `y`/`yes` (or unreadable input) means no,
/// and nothing is sent (exit 2).
fn ask(question: &str) -> Result<(), CommandError> {
    let mut stderr = io::stderr();
    let _ = write!(stderr, "{question}");
    let _ = stderr.flush();
    let mut answer = String::new();
    if io::stdin().read_line(&mut answer).is_ok()
        && matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
    {
        return Ok(());
    }
    Err(CommandError::declined())
}

/// Deletes need a yes: refuse past `max_deletes`, show the `-` rows, and ask on a terminal
/// unless `--yes` was given. Without a terminal and without `--yes`, refuse (exit 2).
fn confirm_deletes(
    plan: &Plan,
    max_deletes: usize,
    yes: bool,
    mode: &OutputMode,
) -> Result<(), CommandError> {
    let deletes: Vec<&PlanItem> = plan
        .items
        .iter()
        .filter(|i| matches!(i.action, Action::Delete { .. }))
        .collect();
    let mut stderr = io::stderr();
    if deletes.is_empty() {
        return Ok(());
    }
    let n = deletes.len();
    if n > max_deletes {
        return Err(CommandError::new(format!(
            "the plan deletes {} assignments, more than --max-deletes {max_deletes}; nothing was sent",
            report::format::count(n as u64)
        ))
        .hint(
            "check that the roster names every assignee that must stay \
             (`roster plan ROSTER --mode exact --prune`), then raise --max-deletes",
        ));
    }
    if yes {
        return Ok(());
    }
    if !io::stdin().is_terminal() {
        return Err(CommandError::new(format!(
            "the plan deletes {n} assignments and standard input is not a terminal to confirm; nothing was sent"
        ))
        .hint("check them with `roster plan ROSTER --mode exact --prune`, then pass --yes"));
    }
    let paint = report::format::Paint::new(mode.color_stderr);
    let _ = writeln!(stderr, "these assignments will be deleted:");
    for item in &deletes {
        let roles = match &item.action {
            Action::Delete { roles, .. } => report::format::roles(roles),
            _ => String::new(),
        };
        let _ = writeln!(
            stderr,
            "  {} {:<5}  {}  {}  in {}",
            paint.red("-"),
            item.assignee_kind,
            report::diff::assignee_label(item),
            roles,
            report::diff::space_label(item)
        );
    }
    ask(&format!("delete {n} assignments? [y/N] "))
}
