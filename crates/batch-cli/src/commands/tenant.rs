//! `roster tenant plan|apply|export`: a tenant's configuration from and to one TOML file, on the
//! same targets, settings, output modes and exit codes as `roster plan`, `apply` and `export`.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use core_api::Tier;
use core_api::target::{AssigneeKind, Target, TargetError, TargetKind};
use core_api::tenant::TenantConfig;
use serde::Serialize;

use super::job::{Job, plan_pruned, prune_needs_exact, run_rows};
use super::steps::{client, plan_rows, print_warnings, read_failed, runtime, select_spaces};
use super::undo_config::value_text;
use crate::cli::{ApplyArgs, ExportArgs, PlanArgs, SpaceArgs, TenantArgs, TenantCommand};
use crate::error::{CommandError, Outcome};
use crate::exit;
use crate::report::format::Paint;
use crate::report::{self, OutputMode, ResolveProgress};
use crate::settings::{self, ApplySettings, PlanSettings, ProcessEnvironment, TargetSettings};
use engine::model::{Action, AssigneeRef, Mode, ParsedRow, Plan, PlanItem, RowError, SpaceRef};
use engine::tenant::assign::{self, Combined};
use engine::tenant::diff::{self, ConfigPlan, Mark, ReadError, Section, TenantState};
use engine::tenant::file::{self, FileError, TenantFile};
use engine::tenant::{apply as send, export as render_export};

/// The version of `roster tenant plan --json`'s document.
pub const PLAN_JSON_VERSION: u32 = 1;

/// Runs a `roster tenant` subcommand and returns its exit code.
pub fn run(args: TenantArgs) -> Outcome {
    let (target, fleet) = match &args.command {
        TenantCommand::Plan(a) => (&a.target, &a.fleet),
        TenantCommand::Apply(a) => (&a.target, &a.fleet),
        TenantCommand::Export(a) => (&a.target, &a.fleet),
    };
    if super::fleet::wanted(target, fleet) {
        return match args.command {
            TenantCommand::Plan(args) => super::fleet::tenant_plan(&args),
            TenantCommand::Apply(args) => super::fleet::tenant_apply(&args),
            TenantCommand::Export(args) => super::fleet::tenant_export(&args),
        };
    }
    match args.command {
        TenantCommand::Plan(args) => plan(args),
        TenantCommand::Apply(args) => apply(args),
        TenantCommand::Export(args) => export(args),
    }
}

/// A refused file (exit code 2): one problem as the error itself, several as its causes, each
/// located; nothing was sent.
fn file_error(error: &FileError) -> CommandError {
    let located = |p: &file::Problem| format!("{}:{}:{}: {}", p.file, p.loc.line, p.loc.column, p.message);
    match error.problems.as_slice() {
        [] => CommandError::new("the tenant file was refused; nothing was sent"),
        [only] => {
            CommandError::new(format!("{} (nothing was sent)", located(only))).maybe_hint(only.hint.clone())
        }
        [_, ..] => {
            let mut refused = CommandError::new(format!(
                "{} problems in the tenant file (nothing was sent)",
                error.problems.len()
            ));
            for problem in &error.problems {
                refused = refused.caused_by(match &problem.hint {
                    Some(hint) => format!("{} ({hint})", located(problem)),
                    None => located(problem),
                });
            }
            refused.hint("fix each place above and run again; nothing is sent until the whole file is right")
        }
    }
}

/// The file, checked, and its assignments as one roster.
pub(crate) fn load(path: &Path) -> Result<(TenantFile, Combined, Vec<ParsedRow>), CommandError> {
    let file = file::read(path).map_err(|e| file_error(&e))?;
    let combined = assign::combine(&file).map_err(|e| file_error(&e))?;
    if combined.rows == 0 {
        return Ok((file, combined, Vec::new()));
    }
    let roster = assign::parse(&combined, &file.display_name()).map_err(|e| file_error(&e))?;
    Ok((file, combined, roster.rows))
}

/// The target's tenant configuration, or the error that it has none (Alumio).
pub(crate) fn tenant_of<'a>(
    target: &'a dyn Target,
    settings: &TargetSettings,
) -> Result<&'a dyn TenantConfig, CommandError> {
    target.tenant_config().ok_or_else(|| {
        CommandError::new(format!(
            "target {:?} is {}, whose API has no tenant settings, groups or roles to configure",
            settings.name, settings.kind
        ))
        .hint(
            "`roster tenant` configures Qlik Cloud tenants: name one with --to (or --server with \
             --kind qlik); for Alumio, apply the assignments with `roster apply ROSTER`",
        )
    })
}

/// A failed read; a refusal (403) names the role the key's user needs, and who that user is.
async fn read_error(error: &ReadError, tenant: &dyn TenantConfig, settings: &TargetSettings) -> CommandError {
    if error.needs_admin() {
        let who = tenant.me().await.ok().map(|me| {
            let label = me.email.or(me.name).unwrap_or(me.id);
            if me.roles.is_empty() {
                format!("{label} (roles: none)")
            } else {
                format!("{label} (roles: {})", me.roles.join(", "))
            }
        });
        CommandError::new(format!("failed to read the tenant's {}", error.what))
            .caused_by(&error.error)
            .hint(diff::admin_hint(who.as_deref()))
    } else {
        read_failed(
            format!("failed to read the tenant's {}", error.what),
            &error.error,
            settings,
        )
    }
}

/// Read the tenant and check the file's roles against it (and, for apply, the space types).
async fn read_checked(
    file: &TenantFile,
    target: &dyn Target,
    tenant: &dyn TenantConfig,
    settings: &TargetSettings,
    rows: &[ParsedRow],
    types_are_errors: bool,
) -> Result<TenantState, CommandError> {
    let with_spaces = !file.spaces.is_empty() || !rows.is_empty();
    let state = match diff::read_state(file, target, tenant, with_spaces).await {
        Ok(state) => state,
        Err(error) => return Err(read_error(&error, tenant, settings).await),
    };
    if let Some(roles) = &state.roles {
        diff::check_roles(file, roles).map_err(|e| file_error(&e))?;
    }
    if types_are_errors {
        diff::check_types(file, &state.spaces).map_err(|e| file_error(&e))?;
    }
    Ok(state)
}

/// The rows whose space or group the configuration creates: planned as creates, since there is
/// nothing to compare them with yet.
fn split_pending(rows: Vec<ParsedRow>, config: &ConfigPlan) -> (Vec<ParsedRow>, Vec<ParsedRow>) {
    rows.into_iter().partition(|parsed| {
        parsed.row.as_ref().is_ok_and(|row| {
            let new_space = matches!(&row.space, SpaceRef::Name(n) if config.new_spaces.contains(n));
            let new_group = row.assignee_kind == AssigneeKind::Group
                && matches!(&row.assignee, AssigneeRef::Name(n) if config.new_groups.contains(n));
            new_space || new_group
        })
    })
}

fn pending_item(parsed: &ParsedRow, target: &str) -> Option<PlanItem> {
    let row = parsed.row.as_ref().ok()?;
    Some(PlanItem {
        line: parsed.line,
        key: super::runs::row_key(parsed, target),
        space: row.space.clone(),
        space_info: None,
        assignee_kind: row.assignee_kind,
        assignee: row.assignee.clone(),
        stated_type: None,
        assignee_id: None,
        roles: row.roles.clone(),
        action: Action::Create {
            roles: row.roles.clone(),
        },
    })
}

/// The users of assignments that wait for a new space or group are looked up now, so that a
/// user the tenant lacks shows as the error apply will meet (`!`), not as a create.
async fn resolve_waiting_users(
    items: &mut [PlanItem],
    target: &dyn Target,
    settings: &TargetSettings,
) -> Result<(), CommandError> {
    let emails: Vec<String> = items
        .iter()
        .filter_map(|item| match (&item.assignee_kind, &item.assignee) {
            (AssigneeKind::User, AssigneeRef::Email(email)) => Some(email.clone()),
            _ => None,
        })
        .collect();
    if emails.is_empty() {
        return Ok(());
    }
    let found = target.find_users_by_email(&emails).await.map_err(|error| {
        read_failed(
            format!("failed to look up the users of {}", settings.name),
            &error,
            settings,
        )
    })?;
    for item in items.iter_mut() {
        let (AssigneeKind::User, AssigneeRef::Email(email)) = (&item.assignee_kind, &item.assignee) else {
            continue;
        };
        match found
            .iter()
            .find(|u| u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email)))
        {
            Some(user) => item.assignee_id = Some(user.id.clone()),
            None => {
                item.action = Action::Error(RowError {
                    code: "unknown_user".to_owned(),
                    http_status: None,
                    message: format!("user {email:?} not found"),
                    attempts: 0,
                });
            }
        }
    }
    Ok(())
}

/// The least time `writes` take at the write limit (bursting within the window where the
/// target does).
fn least_write_time(writes: u64, settings: &PlanSettings) -> Duration {
    if let Some(window) = engine::plan::write_window(&settings.target.limits) {
        return engine::plan::burst_write_time(
            writes,
            window,
            settings.target.concurrency,
            engine::exec::mean_round_trip(),
        );
    }
    let limit = settings.target.limits.for_tier(Tier::Tier2);
    if limit == 0 {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(writes as f64 * 60.0 / f64::from(limit))
}

/// Runs `roster tenant plan`: 0 nothing is an error, 1 some lines are errors, 2 usage, file or
/// tenant-access problems; with `--check`, 3 when applying would change the tenant (before 1).
fn plan(args: PlanArgs) -> Outcome {
    let settings = settings::load(&args, &ProcessEnvironment)?;
    print_warnings(&settings.warnings);
    let (file, _combined, rows) = load(&args.roster)?;
    let mode = OutputMode::detect(settings.output.quiet, settings.output.json)
        .for_verbosity(settings.output.verbose);
    let runtime = runtime()?;
    let (config, assignments) = runtime.block_on(async {
        let target = client(&settings)?;
        plan_tenant(&file, rows, &settings, &mode, &target, args.prune).await
    })?;
    let total = config.writes.len() as u64 + assignments.write_calls;
    let least = least_write_time(total, &settings);
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let written = if settings.output.json {
        render_json(&file, &config, &assignments, total, least, &mut stdout)
    } else {
        render_text(
            &file,
            &config,
            &assignments,
            total,
            least,
            &settings,
            mode.color_stdout,
            &mut stdout,
        )
    };
    if let Err(error) = written.and_then(|()| stdout.flush())
        && !crate::pipe::is_closed_pipe(&error)
    {
        return Err(CommandError::new("failed to write the plan").caused_by(error));
    }
    let counts = &assignments.counts;
    let changes = config.writes.len() as u64 + counts.create + counts.update + counts.delete;
    let errors = config.errors() as u64 + counts.error;
    Ok(if args.check && changes > 0 {
        exit::CHANGES
    } else if errors > 0 {
        exit::ROWS_FAILED
    } else {
        exit::OK
    })
}

/// What `roster tenant plan` shows for one tenant: the configuration's changes, and the
/// assignments' plan, with the rows that wait for a new space or group planned as creates and
/// the write counts and least write time recounted. Reads only.
pub(crate) async fn plan_tenant(
    file: &TenantFile,
    rows: Vec<ParsedRow>,
    settings: &PlanSettings,
    mode: &OutputMode,
    target: &Arc<dyn Target>,
    prune: bool,
) -> Result<(ConfigPlan, Plan), CommandError> {
    let tenant = tenant_of(target.as_ref(), &settings.target)?;
    let state = read_checked(file, target.as_ref(), tenant, &settings.target, &rows, false).await?;
    let config = diff::diff(file, &state);
    let (pending, ready) = split_pending(rows, &config);
    let mut assignments = if ready.is_empty() {
        empty_plan(settings)
    } else if prune {
        plan_pruned(settings, mode, target, ready, None).await?
    } else {
        plan_rows(settings, mode, target.as_ref(), ready).await?.plan
    };
    let mut waiting: Vec<PlanItem> = pending
        .iter()
        .filter_map(|p| pending_item(p, &settings.target.name))
        .collect();
    resolve_waiting_users(&mut waiting, target.as_ref(), &settings.target).await?;
    assignments.items.extend(waiting);
    let limit = settings.target.limits.for_tier(Tier::Tier2);
    engine::plan::prune::recount(
        &mut assignments,
        &target.capabilities(),
        (limit > 0).then_some(limit),
    );
    if let Some(window) = engine::plan::write_window(&settings.target.limits) {
        assignments.min_write_time = engine::plan::burst_write_time(
            assignments.write_calls,
            window,
            settings.target.concurrency,
            engine::exec::mean_round_trip(),
        );
        assignments.write_time_estimated = true;
    }
    Ok((config, assignments))
}

fn empty_plan(settings: &PlanSettings) -> Plan {
    Plan {
        target: settings.target.name.clone(),
        mode: settings.mode,
        items: Vec::new(),
        counts: Default::default(),
        write_calls: 0,
        min_write_time: Duration::ZERO,
        write_time_estimated: false,
    }
}

#[expect(clippy::too_many_arguments, reason = "one renderer of the plan's parts")]
fn render_text(
    file: &TenantFile,
    config: &ConfigPlan,
    assignments: &Plan,
    total: u64,
    least: Duration,
    settings: &PlanSettings,
    color: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    let paint = Paint::new(color);
    writeln!(
        out,
        "{}",
        paint.bold(&format!(
            "tenant plan for target {:?} from {}",
            settings.target.name,
            file.display_name()
        ))
    )?;
    for section in [
        Section::Settings,
        Section::Groups,
        Section::GroupRoles,
        Section::Spaces,
    ] {
        writeln!(out, "{}", paint.bold(section.title()))?;
        let lines: Vec<_> = config.changes.iter().filter(|c| c.section == section).collect();
        if lines.is_empty() {
            writeln!(out, "  {}", paint.dim("(nothing the file manages)"))?;
        }
        for change in lines {
            let symbol = change.mark.symbol().to_string();
            let detail = match change.mark {
                Mark::Create => change
                    .new
                    .as_ref()
                    .map(|n| format!("  {}", value_text(n)))
                    .unwrap_or_default(),
                Mark::Update => format!(
                    "  {} -> {}",
                    change.old.as_ref().map(value_text).unwrap_or_default(),
                    change.new.as_ref().map(value_text).unwrap_or_default()
                ),
                Mark::Unchanged => change
                    .new
                    .as_ref()
                    .map(|n| format!("  {}", value_text(n)))
                    .unwrap_or_default(),
                Mark::Error => format!("  {}", change.error.as_deref().unwrap_or_default()),
            };
            let line = format!("  {symbol} {}{detail}", change.name);
            let line = match change.mark {
                Mark::Create => paint.green(&line),
                Mark::Update => paint.yellow(&line),
                Mark::Unchanged => paint.dim(&line),
                Mark::Error => paint.red(&line),
            };
            writeln!(out, "{line}")?;
        }
    }
    writeln!(out, "{}", paint.bold("assignments"))?;
    if assignments.items.is_empty() {
        writeln!(out, "  {}", paint.dim("(nothing the file manages)"))?;
    } else {
        report::diff::render_text(assignments, out, color)?;
    }
    let limit = settings.target.limits.for_tier(Tier::Tier2);
    let at = if limit > 0 {
        format!(
            "; at least {} at the write limit ({limit}/min)",
            report::format::duration(least)
        )
    } else {
        "; no write limit".to_owned()
    };
    writeln!(
        out,
        "{}",
        paint.bold(&format!(
            "tenant: {total} write{} ({} configuration, {} assignment{}){at}",
            if total == 1 { "" } else { "s" },
            config.writes.len(),
            assignments.write_calls,
            if assignments.write_calls == 1 { "" } else { "s" },
        ))
    )?;
    Ok(())
}

#[derive(Serialize)]
struct PlanJson<'a> {
    format: &'static str,
    format_version: u32,
    target: &'a str,
    file: String,
    settings: Vec<&'a diff::Change>,
    groups: Vec<&'a diff::Change>,
    group_roles: Vec<&'a diff::Change>,
    spaces: Vec<&'a diff::Change>,
    writes: Vec<&'a diff::Write>,
    assignments: serde_json::Value,
    write_count: WriteCount,
    min_write_time_ms: u64,
}

#[derive(Serialize)]
struct WriteCount {
    configuration: u64,
    assignments: u64,
    total: u64,
}

fn render_json(
    file: &TenantFile,
    config: &ConfigPlan,
    assignments: &Plan,
    total: u64,
    least: Duration,
    out: &mut impl Write,
) -> io::Result<()> {
    let mut inner = Vec::new();
    report::diff::render_json(assignments, &mut inner)?;
    let assignments_json: serde_json::Value = serde_json::from_slice(&inner).map_err(io::Error::other)?;
    let pick = |section: Section| {
        config
            .changes
            .iter()
            .filter(|c| c.section == section)
            .collect::<Vec<_>>()
    };
    let doc = PlanJson {
        format: "roster-tenant-plan",
        format_version: PLAN_JSON_VERSION,
        target: &assignments.target,
        file: file.display_name(),
        settings: pick(Section::Settings),
        groups: pick(Section::Groups),
        group_roles: pick(Section::GroupRoles),
        spaces: pick(Section::Spaces),
        writes: config.writes.iter().collect(),
        assignments: assignments_json,
        write_count: WriteCount {
            configuration: config.writes.len() as u64,
            assignments: assignments.write_calls,
            total,
        },
        min_write_time_ms: u64::try_from(least.as_millis()).unwrap_or(u64::MAX),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// One tenant's `roster-tenant-plan` document as a value (a fleet's `--json` puts one per
/// tenant into its stream).
pub(crate) fn plan_value(
    file: &TenantFile,
    config: &ConfigPlan,
    assignments: &Plan,
    settings: &PlanSettings,
) -> Option<serde_json::Value> {
    let total = config.writes.len() as u64 + assignments.write_calls;
    let least = least_write_time(total, settings);
    let mut out = Vec::new();
    render_json(file, config, assignments, total, least, &mut out).ok()?;
    serde_json::from_slice(&out).ok()
}

/// Where the file's assignments go as a roster: `STATE_DIR/STEM.assignments.csv`.
fn assignments_path(state_dir: &Path, file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map_or_else(|| "tenant".to_owned(), |s| s.to_string_lossy().into_owned());
    state_dir.join(format!("{stem}.assignments.csv"))
}

/// One configuration write's event for `--json`: a line on stdout, before the assignments'.
#[derive(Serialize)]
struct WriteEvent<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'a str>,
    event: &'static str,
    v: u32,
    section: Section,
    #[serde(flatten)]
    write: &'a diff::Write,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Runs `roster tenant apply`: 0 every write ok, 1 some failed, 2 usage, file, role, type or
/// tenant-access problems (nothing sent), 130 interrupted.
fn apply(args: ApplyArgs) -> Outcome {
    let settings = settings::load(&args, &ProcessEnvironment)?;
    print_warnings(&settings.plan.warnings);
    if args.prune && settings.plan.mode != Mode::Exact {
        return Err(prune_needs_exact());
    }
    let (file, combined, rows) = load(&args.roster)?;
    let runtime = runtime()?;
    runtime.block_on(apply_async(&args, &settings, &file, &combined, rows))
}

/// The arguments after the file that rerun the assignments' run with the same target and
/// settings (names of variables and files only, never a secret).
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

async fn apply_async(
    args: &ApplyArgs,
    settings: &ApplySettings,
    file: &TenantFile,
    combined: &Combined,
    rows: Vec<ParsedRow>,
) -> Outcome {
    let target: Arc<dyn Target> = client(&settings.plan)?;
    let tenant = tenant_of(target.as_ref(), &settings.plan.target)?;
    let target_name = settings.plan.target.name.clone();
    // One run at a time: the assignments' journal lock is held from before the first read.
    let lock =
        engine::journal::RunLock::acquire(&engine::journal::path_for(&settings.state_dir, &target_name))
            .map_err(super::job::journal_error)?;
    let (config, state) = configuration(file, target.as_ref(), tenant, &settings.plan.target, &rows).await?;
    // The run's id, chosen now: the configuration changes' before-states carry it, and the
    // assignments' run takes it.
    let run_id = engine::journal::RunInfo::new(String::new(), settings.plan.mode, args.prune).id;

    let quiet = settings.plan.output.quiet;
    let json = settings.plan.output.json;
    let mut stderr = io::stderr();
    if !quiet && !json {
        let _ = writeln!(
            stderr,
            "configuration: {} write{} to {target_name}",
            config.writes.len(),
            if config.writes.len() == 1 { "" } else { "s" }
        );
    }
    let mut report_write = |outcome: &send::Outcome<'_>| {
        if json && let Some(line) = write_event(outcome, None) {
            let _ = writeln!(io::stdout(), "{line}");
        }
        match &outcome.result {
            Ok(()) if !quiet && !json => {
                let _ = writeln!(io::stderr(), "  ok      {}", outcome.write.describe());
            }
            Err(error) => {
                crate::error::print(&write_failed(outcome.write, error, &settings.plan.target));
            }
            _ => {}
        }
    };
    let failed = send_configuration(
        &config,
        &state,
        tenant,
        ConfigJournal {
            state_dir: &settings.state_dir,
            target_name: &target_name,
            run_id: &run_id,
        },
        file,
        settings.plan.target.concurrency,
        &mut report_write,
    )
    .await?;
    if !json {
        let _ = writeln!(
            stderr,
            "configuration: {} sent, {failed} failed",
            config.writes.len() - failed
        );
    }
    if rows.is_empty() {
        drop(lock);
        return Ok(if failed > 0 { exit::ROWS_FAILED } else { exit::OK });
    }

    // The assignments, now that their groups and spaces exist: a roster applied as `roster
    // apply` applies one.
    let (roster_path, rows) = write_assignments(&settings.state_dir, file, combined)?;
    let mut assign_settings = settings.clone();
    assign_settings.plan.roster = roster_path;
    let job = Job {
        command: "tenant apply",
        settings: &assign_settings,
        rerun_args: rerun_args(args, settings),
        max_deletes: args.prune.then_some(args.max_deletes),
        adjust: None,
        lock: Some(lock),
        run_id: Some(run_id),
    };
    let code = run_rows(job, rows, target).await?;
    Ok(if code == exit::OK && failed > 0 {
        exit::ROWS_FAILED
    } else {
        code
    })
}

/// Read the tenant, check the file's roles and space types against it and diff: the
/// configuration apply sends. A space the file cannot have as it says (`!`) refuses the whole
/// file, before any write.
pub(crate) async fn configuration(
    file: &TenantFile,
    target: &dyn Target,
    tenant: &dyn TenantConfig,
    settings: &TargetSettings,
    rows: &[ParsedRow],
) -> Result<(ConfigPlan, TenantState), CommandError> {
    let state = read_checked(file, target, tenant, settings, rows, true).await?;
    let config = diff::diff(file, &state);
    if let Some(change) = config.changes.iter().find(|c| c.mark == Mark::Error) {
        let mut refused = CommandError::new(format!(
            "{}:{}: space {:?}: {} (nothing was sent)",
            file.display_name(),
            change.line,
            change.name,
            change.error.as_deref().unwrap_or_default()
        ));
        for other in config.changes.iter().filter(|c| c.mark == Mark::Error).skip(1) {
            refused = refused.caused_by(format!(
                "{}:{}: space {:?}: {}",
                file.display_name(),
                other.line,
                other.name,
                other.error.as_deref().unwrap_or_default()
            ));
        }
        return Err(refused.hint("give each new space a type (shared, managed or data)"));
    }
    Ok((config, state))
}

/// Where and under which run the configuration's writes are recorded.
pub(crate) struct ConfigJournal<'a> {
    /// The state directory.
    pub state_dir: &'a Path,
    /// The tenant's name: the tenant journal is `tenant-NAME.jsonl`.
    pub target_name: &'a str,
    /// The run the writes belong to: their before-states carry it, and the assignments' run
    /// takes it, so that `roster runs` and `roster undo` see one run.
    pub run_id: &'a str,
}

/// Send the configuration's writes, each with its before-state (from `state`, the tenant as the
/// diff read it) recorded in the tenant journal before it is sent, and its outcome before
/// `on_done` sees it; how many failed.
pub(crate) async fn send_configuration(
    config: &ConfigPlan,
    state: &TenantState,
    tenant: &dyn TenantConfig,
    at: ConfigJournal<'_>,
    file: &TenantFile,
    concurrency: usize,
    on_done: &mut dyn FnMut(&send::Outcome<'_>),
) -> Result<usize, CommandError> {
    let journal = send::Journal::new(
        send::journal_path(at.state_dir, at.target_name),
        at.target_name,
        &file.display_name(),
    )
    .for_run(at.run_id, "tenant apply", None);
    send::send(
        &config.writes,
        tenant,
        &journal,
        concurrency,
        &|write| diff::before_of(write, state, engine::before::now_ms()),
        on_done,
    )
    .await
    .map_err(|error| {
        CommandError::with_source("cannot write the tenant journal", &error).code(exit::ROWS_FAILED)
    })
}

/// A configuration write the tenant refused, with the role a 403 needs.
pub(crate) fn write_failed(
    write: &diff::Write,
    error: &TargetError,
    settings: &TargetSettings,
) -> CommandError {
    let hint = if error.status() == Some(403) {
        Some(diff::admin_hint(None))
    } else {
        crate::hint::for_error(error, settings)
    };
    CommandError::new(format!("failed to {}", write.describe()))
        .caused_by(error)
        .maybe_hint(hint)
}

/// The `--json` line of one configuration write (`tenant_write`), with the tenant it went to
/// first when a fleet runs.
pub(crate) fn write_event(outcome: &send::Outcome<'_>, target: Option<&str>) -> Option<String> {
    let event = WriteEvent {
        target,
        event: "tenant_write",
        v: send::JOURNAL_VERSION,
        section: outcome.write.section(),
        write: outcome.write,
        outcome: if outcome.result.is_ok() { "done" } else { "failed" },
        error: outcome.result.as_ref().err().map(ToString::to_string),
    };
    serde_json::to_string(&event).ok()
}

/// The file's assignments as a roster (`STATE_DIR/STEM.assignments.csv`), written, and its rows
/// read back as `roster apply` reads a roster.
pub(crate) fn write_assignments(
    state_dir: &Path,
    file: &TenantFile,
    combined: &Combined,
) -> Result<(PathBuf, Vec<ParsedRow>), CommandError> {
    let roster_path = assignments_path(state_dir, &file.path);
    assign::write(combined, &roster_path).map_err(|error| {
        CommandError::with_source(format!("cannot write {}", roster_path.display()), &error)
            .code(exit::ROWS_FAILED)
    })?;
    let rows = engine::roster::read_roster(&roster_path, TargetKind::Qlik)
        .map_err(|error| CommandError::new(error.to_string()).code(exit::ROWS_FAILED))?
        .rows;
    Ok((roster_path, rows))
}

/// Runs `roster tenant export`: 0 written, 2 usage, configuration or tenant-access problems.
fn export(args: ExportArgs) -> Outcome {
    let settings = settings::load(&args, &ProcessEnvironment)?;
    print_warnings(&settings.warnings);
    let runtime = runtime()?;
    runtime.block_on(export_async(&args, &settings.source))
}

async fn export_async(args: &ExportArgs, settings: &TargetSettings) -> Outcome {
    let target = crate::vendor::build_target(settings, None)?;
    let mode = OutputMode::detect(args.quiet, false);
    let progress = ResolveProgress::new(&mode, false);
    let read = read_snapshot(target.as_ref(), settings, &args.selection, &progress).await;
    progress.finish();
    let snapshot = read?;
    let text = render_export::render(&snapshot, &settings.name);
    let written = if args.output.as_os_str() == "-" {
        let mut stdout = io::stdout().lock();
        stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush())
    } else {
        write_atomically(&args.output, &text)
    };
    if let Err(error) = written {
        if crate::pipe::is_closed_pipe(&error) {
            return Ok(exit::OK);
        }
        return Err(CommandError::new(format!("cannot write {}", args.output.display())).caused_by(error));
    }
    if !args.quiet && args.output.as_os_str() != "-" {
        let groups: BTreeSet<&str> = snapshot.groups.iter().map(|g| g.group.name.as_str()).collect();
        let assignments: usize = snapshot.spaces.iter().map(|s| s.assignments.len()).sum();
        let _ = writeln!(
            io::stderr(),
            "exported {} groups, {} spaces and {assignments} assignments of {} to {}",
            groups.len(),
            snapshot.spaces.len(),
            settings.name,
            args.output.display()
        );
    }
    Ok(exit::OK)
}

/// Read what `roster tenant export` writes of one tenant: its settings, groups with their
/// roles, and the selected spaces with their assignments.
pub(crate) async fn read_snapshot(
    target: &dyn Target,
    settings: &TargetSettings,
    selection: &SpaceArgs,
    progress: &ResolveProgress,
) -> Result<render_export::Snapshot, CommandError> {
    let tenant = tenant_of(target, settings)?;
    let fail = |what: &'static str, error: core_api::Error| ReadError { what, error };
    let read = async {
        progress.phase("settings and groups", 0, 1);
        let group_settings = tenant
            .group_settings()
            .await
            .map_err(|e| fail("group settings", e))?;
        let license_settings = tenant
            .license_settings()
            .await
            .map_err(|e| fail("license settings", e))?;
        let groups = tenant
            .list_groups_with_roles()
            .await
            .map_err(|e| fail("groups", e))?;
        progress.phase("settings and groups", 1, 1);
        Ok::<_, ReadError>((group_settings, license_settings, groups))
    };
    let (group_settings, license_settings, groups) = match read.await {
        Ok(read) => read,
        Err(error) => return Err(read_error(&error, tenant, settings).await),
    };
    let spaces = select_spaces(target, settings, selection, progress, "spaces").await?;
    let people = engine::export::People::read(target).await.map_err(|error| {
        read_failed(
            format!("failed to list the users and groups of {}", settings.name),
            &error,
            settings,
        )
    })?;
    let mut exported = Vec::new();
    let total = spaces.len() as u64;
    progress.phase("assignments", 0, total);
    engine::export::read_spaces(target, spaces, &people, settings.concurrency.max(1), |space| {
        exported.push(space);
        progress.phase("assignments", exported.len() as u64, total);
        Ok(())
    })
    .await
    .map_err(|error| CommandError::new(format!("failed to export {}", settings.name)).caused_by(error))?;
    Ok(render_export::Snapshot {
        group_settings: Some(group_settings),
        license_settings: Some(license_settings),
        groups,
        spaces: exported,
    })
}

pub(crate) fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(text.as_bytes())?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
