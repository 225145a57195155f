//! `roster tenant plan|apply|export` over a fleet: the tenant file's jobs for the fleet runner.
//! Each is the single command's work for one tenant ([`crate::commands::tenant`]), with what it
//! would print turned into the tenant's report.
//!
//! The file is read and checked once, before any tenant starts (a malformed file is a usage
//! error, nothing sent). An Alumio tenant among the members is one too: tenant files configure
//! Qlik Cloud, and the members' kinds are known before anything is sent. Everything a tenant
//! itself decides (an unknown role, a space of another type, a refused key) fails that tenant
//! alone.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use core_api::target::{Target, TargetKind};
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::jobs::{self, ApplyJob, Rosters, file_safe};
use super::{checked_concurrency, prepare, prune, run};
use crate::cli::{ApplyArgs, ExportArgs, OutputArgs, PlanArgs, SpaceArgs};
use crate::commands::tenant;
use crate::error::{CommandError, Outcome};
use crate::report::ResolveProgress;
use crate::report::fleet_table::Kind;
use crate::report::mode::{Display, OutputMode};
use crate::settings::fleet::Member;
use crate::settings::{self, OutputSettings, TargetSettings};
use crate::vendor::build_target;
use engine::fleet::{Status, Tenant, TenantJob, TenantReport};
use engine::journal;
use engine::model::{Mode, ParsedRow, Totals};
use engine::tenant::apply as send;
use engine::tenant::diff::{Mark, Write};
use engine::tenant::export as render_export;
use engine::tenant::file::TenantFile;

/// `roster tenant plan FILE --to FLEET`.
pub(crate) fn tenant_plan(args: &PlanArgs) -> Outcome {
    let (members, in_flight) = prepare(&args.target, &args.fleet, args.run.concurrency)?;
    refuse_alumio(&members)?;
    let (file, _combined, rows) = tenant::load(&args.roster)?;
    let mode = args.run.mode.unwrap_or_default();
    if args.prune
        && let Some(refusal) = prune::refusal(mode, &as_rosters(&file.path, &rows), &members, false, false)
    {
        return Err(refusal);
    }
    let job = TenantPlanJob {
        file,
        rows,
        mode,
        output: OutputSettings::from(args.output),
        check: args.check,
        concurrency: checked_concurrency(args.run.concurrency)?,
        prune: args.prune,
    };
    run(
        &members,
        in_flight,
        &job,
        args.output,
        Kind::Plan { check: args.check },
    )
}

/// `roster tenant apply FILE --to FLEET`.
pub(crate) fn tenant_apply(args: &ApplyArgs) -> Outcome {
    let (members, in_flight) = prepare(&args.target, &args.fleet, args.run.concurrency)?;
    refuse_alumio(&members)?;
    let (file, combined, rows) = tenant::load(&args.roster)?;
    let mode = args.run.mode.unwrap_or_default();
    // Checked once for the fleet, before anything is written or sent: `--max-deletes` is each
    // tenant's own, checked against its plan.
    if args.prune
        && let Some(refusal) = prune::refusal(mode, &as_rosters(&file.path, &rows), &members, true, args.yes)
    {
        return Err(refusal);
    }
    let concurrency = checked_concurrency(args.run.concurrency)?;
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| settings::default_state_dir(&args.roster));
    let output = OutputSettings::from(args.output);
    // Every tenant's assignments are the same roster: written once, each tenant its own journal
    // and failed-rows CSV beside it.
    let assignments = if rows.is_empty() {
        None
    } else {
        let (path, rows) = tenant::write_assignments(&state_dir, &file, &combined)?;
        Some(ApplyJob {
            about: journal::RunAbout::for_file("tenant apply", &path),
            stale_temps: journal::StaleTemps::list(&state_dir),
            rosters: Rosters {
                path,
                rows: [(TargetKind::Qlik, rows)].into_iter().collect(),
            },
            mode,
            state_dir: state_dir.clone(),
            fresh: args.fresh,
            only_failed: args.only_failed,
            yes: args.yes,
            output,
            concurrency,
            prune: args.prune.then_some(args.max_deletes),
        })
    };
    let job = TenantApplyJob {
        file,
        rows,
        state_dir,
        output,
        concurrency,
        mode,
        prune: args.prune,
        assignments,
    };
    run(&members, in_flight, &job, args.output, Kind::Apply)
}

/// `roster tenant export --from FLEET -o DIR`: one tenant file per tenant.
pub(crate) fn tenant_export(args: &ExportArgs) -> Outcome {
    if args.output.as_os_str() == "-" {
        return Err(
            CommandError::new("a fleet's tenant export is one file per tenant, not standard output")
                .hint("pass -o DIR (files DIR/NAME.toml) or -o 'tenants/{name}.toml'"),
        );
    }
    let (members, in_flight) = prepare(&args.target, &args.fleet, args.concurrency)?;
    refuse_alumio(&members)?;
    let job = TenantExportJob {
        selection: args.selection.clone(),
        output: args.output.clone(),
        concurrency: checked_concurrency(args.concurrency)?,
    };
    let output = OutputArgs {
        quiet: args.quiet,
        ..OutputArgs::default()
    };
    run(&members, in_flight, &job, output, Kind::Export)
}

/// The file's assignments as the rosters `--prune`'s fleet-wide checks read.
fn as_rosters(path: &Path, rows: &[ParsedRow]) -> Rosters {
    Rosters {
        path: path.to_path_buf(),
        rows: [(TargetKind::Qlik, rows.to_vec())].into_iter().collect(),
    }
}

/// Tenant files configure Qlik Cloud: an Alumio member is a usage error before anything is
/// sent, since its kind is known now and the fleet should not be half configured.
fn refuse_alumio(members: &[Member]) -> Result<(), CommandError> {
    let alumio: Vec<&str> = members
        .iter()
        .filter(|m| matches!(&m.target, Ok(t) if t.kind == TargetKind::Alumio))
        .map(|m| m.name.as_str())
        .collect();
    if alumio.is_empty() {
        return Ok(());
    }
    Err(CommandError::new(format!(
        "roster tenant configures Qlik Cloud tenants, and {} of these {} Alumio, whose API has no \
         tenant settings, groups or roles: {} (nothing was sent)",
        if alumio.len() == 1 { "one" } else { "some" },
        if alumio.len() == 1 { "is" } else { "are" },
        alumio.join(", ")
    ))
    .hint(
        "narrow --to to the Qlik tenants (a comma list, or a glob such as 'qlik:cust-*'); apply \
         assignments to Alumio with `roster apply ROSTER --to NAME`",
    ))
}

/// A tenant's error as its report's note: the message and causes, then the hint on its own line.
fn why(error: &CommandError) -> String {
    match error.hint_text() {
        Some(hint) => format!("{error}\nhint: {hint}"),
        None => error.to_string(),
    }
}

/// Stages never show on their own in a fleet: the board draws the run.
fn silent() -> OutputMode {
    OutputMode {
        display: Display::Quiet,
        json: false,
        color_stderr: false,
        color_stdout: false,
    }
}

/// One line on stdout, whole (other tenants write theirs at the same time).
fn json_line(value: &str) {
    let mut line = String::with_capacity(value.len() + 1);
    line.push_str(value);
    line.push('\n');
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
}

/// `roster tenant plan` for one tenant: the configuration's changes and the assignments' plan,
/// counted; with `--json`, the tenant's whole `roster-tenant-plan` document as a `tenant_plan`
/// event.
struct TenantPlanJob {
    file: TenantFile,
    rows: Vec<ParsedRow>,
    mode: Mode,
    output: OutputSettings,
    check: bool,
    concurrency: Option<usize>,
    /// `--prune`: each tenant's plan shows its deletes too.
    prune: bool,
}

impl TenantJob<TargetSettings> for TenantPlanJob {
    fn run<'a>(&'a self, tenant: Tenant<'a, TargetSettings>) -> LocalBoxFuture<'a, TenantReport> {
        self.plan(tenant).boxed_local()
    }
}

impl TenantPlanJob {
    async fn plan(&self, tenant: Tenant<'_, TargetSettings>) -> TenantReport {
        let target = tenant.target;
        let name = target.name.as_str();
        let mut output = self.output;
        output.verbose = 0;
        let settings = jobs::plan_settings(&self.file.path, target, self.mode, output, self.concurrency);
        let client = match jobs::client(target, self.output.verbose) {
            Ok(client) => client,
            Err(error) => return TenantReport::failed(name, error),
        };
        let mut interrupts = tenant.interrupts;
        let mode = silent();
        let planned = tokio::select! {
            planned = tenant::plan_tenant(&self.file, self.rows.clone(), &settings, &mode, &client, self.prune) => planned,
            () = interrupts.recv() => return TenantReport::new(name, Status::Interrupted),
        };
        let (config, plan) = match planned {
            Ok(planned) => planned,
            Err(error) => return TenantReport::failed(name, why(&error)),
        };
        if self.output.json
            && let Some(document) = tenant::plan_value(&self.file, &config, &plan, &settings)
        {
            let event = serde_json::json!({
                "target": name,
                "event": "tenant_plan",
                "fleet_format_version": crate::report::fleet_table::FLEET_JSON_VERSION,
                "plan": document,
            });
            json_line(&event.to_string());
        }
        let marked = |mark: Mark| config.changes.iter().filter(|c| c.mark == mark).count() as u64;
        let c = plan.counts;
        let config_writes = config.writes.len() as u64;
        let errors = config.errors() as u64 + c.error;
        let changes = config_writes + c.create + c.update + c.delete > 0;
        let status = if changes && (self.check || errors == 0) {
            Status::Changes
        } else if errors > 0 {
            Status::RowsFailed
        } else {
            Status::Ok
        };
        let mut report = TenantReport::new(name, status);
        let items = (config.changes.len() + plan.items.len()) as u64;
        report.totals = Totals {
            total: items,
            done: items,
            created: marked(Mark::Create) + c.create,
            updated: marked(Mark::Update) + c.update,
            unchanged: marked(Mark::Unchanged) + c.unchanged,
            deleted: c.delete,
            failed: errors,
            writes: config_writes + plan.write_calls,
            ..Totals::default()
        };
        if errors > 0 {
            report.note = Some(format!(
                "{errors} {} (`--json` shows each tenant's whole plan)",
                if errors == 1 {
                    "line is an error"
                } else {
                    "lines are errors"
                }
            ));
        }
        report
    }
}

/// `roster tenant apply` for one tenant: the configuration read, diffed and sent (its tenant
/// journal), then the assignments applied as `roster apply` applies them over a fleet (their
/// journal, resume, the failed-rows CSV named by tenant).
struct TenantApplyJob {
    file: TenantFile,
    rows: Vec<ParsedRow>,
    state_dir: PathBuf,
    output: OutputSettings,
    concurrency: Option<usize>,
    /// `--mode`, recorded with the configuration's run.
    mode: Mode,
    /// `--prune`, recorded with the configuration's run.
    prune: bool,
    /// The assignments' job, when the file has assignments.
    assignments: Option<ApplyJob>,
}

impl TenantJob<TargetSettings> for TenantApplyJob {
    fn run<'a>(&'a self, tenant: Tenant<'a, TargetSettings>) -> LocalBoxFuture<'a, TenantReport> {
        self.apply(tenant).boxed_local()
    }
}

/// What the configuration came to on one tenant.
#[derive(Default)]
struct Configured {
    created: u64,
    updated: u64,
    unchanged: u64,
    failed: u64,
    /// The refused writes, each with its cause and hint.
    failures: Vec<String>,
}

impl TenantApplyJob {
    async fn apply(&self, tenant: Tenant<'_, TargetSettings>) -> TenantReport {
        let Tenant {
            target,
            mut interrupts,
            feed,
        } = tenant;
        let name = target.name.as_str();
        // One run at a time per tenant, from before the first read, as a single apply.
        let lock = match journal::RunLock::acquire(&journal::path_for(&self.state_dir, name)) {
            Ok(lock) => lock,
            Err(error) => return TenantReport::failed(name, error.to_string()),
        };
        let client = match jobs::client(target, self.output.verbose) {
            Ok(client) => client,
            Err(error) => return TenantReport::failed(name, error),
        };
        // The run's id, chosen now: the configuration's before-states carry it, and the
        // assignments' run takes it, so that `roster runs` and `roster undo` see one run.
        let run_id = journal::RunInfo::new(String::new(), self.mode, self.prune).id;
        let configured = tokio::select! {
            configured = self.configure(target, &client, &run_id) => configured,
            // Nothing to resume: a rerun reads the tenant again and sends what is still different.
            () = interrupts.recv() => return TenantReport::new(name, Status::Interrupted),
        };
        let configured = match configured {
            Ok(configured) => configured,
            Err(error) => return TenantReport::failed(name, why(&error)),
        };
        drop(lock);
        let mut report = match &self.assignments {
            Some(job) => {
                let tenant = Tenant {
                    target,
                    interrupts,
                    feed,
                };
                // The configuration's client: one limiter for all of the tenant's writes.
                job.apply(tenant, Some(client), Some(run_id)).await
            }
            None => TenantReport::new(name, Status::Ok),
        };
        if report.status == Status::Failed {
            report.note = Some(format!(
                "the configuration was sent ({} writes, {} failed), the assignments were not: {}",
                configured.created + configured.updated + configured.failed,
                configured.failed,
                report.note.as_deref().unwrap_or_default()
            ));
            return report;
        }
        let t = &mut report.totals;
        let writes = configured.created + configured.updated + configured.failed;
        let items = writes + configured.unchanged;
        t.total += items;
        t.done += items;
        t.created += configured.created;
        t.updated += configured.updated;
        t.unchanged += configured.unchanged;
        t.failed += configured.failed;
        t.writes += writes;
        if configured.failed > 0 {
            if report.status == Status::Ok {
                report.status = Status::RowsFailed;
            }
            let mut note = configured.failures.join("\n");
            if let Some(before) = report.note.take() {
                note = format!("{note}\n{before}");
            }
            report.note = Some(note);
        }
        report
    }

    /// Read, check, diff and send the file's configuration to one tenant.
    async fn configure(
        &self,
        target: &TargetSettings,
        client: &Arc<dyn Target>,
        run_id: &str,
    ) -> Result<Configured, CommandError> {
        let name = target.name.as_str();
        let config_api = tenant::tenant_of(client.as_ref(), target)?;
        let (config, state) =
            tenant::configuration(&self.file, client.as_ref(), config_api, target, &self.rows).await?;
        let mut configured = Configured {
            unchanged: config
                .changes
                .iter()
                .filter(|c| c.mark == Mark::Unchanged)
                .count() as u64,
            ..Configured::default()
        };
        let json = self.output.json;
        let mut on_done = |outcome: &send::Outcome<'_>| {
            if json && let Some(line) = tenant::write_event(outcome, Some(name)) {
                json_line(&line);
            }
            match &outcome.result {
                Ok(())
                    if matches!(
                        outcome.write,
                        Write::CreateGroup { .. } | Write::CreateSpace { .. }
                    ) =>
                {
                    configured.created += 1;
                }
                Ok(()) => configured.updated += 1,
                Err(error) => {
                    configured.failed += 1;
                    let failed = tenant::write_failed(outcome.write, error, target);
                    configured.failures.push(why(&failed));
                }
            }
        };
        let concurrency = self.concurrency.unwrap_or(target.concurrency);
        tenant::send_configuration(
            &config,
            &state,
            config_api,
            tenant::ConfigJournal {
                state_dir: &self.state_dir,
                target_name: name,
                run_id,
            },
            &self.file,
            concurrency,
            &mut on_done,
        )
        .await?;
        Ok(configured)
    }
}

/// `roster tenant export` for one tenant: its tenant file, named by the tenant.
struct TenantExportJob {
    selection: SpaceArgs,
    /// `--output`: a directory, or a path with `{name}` in it.
    output: PathBuf,
    concurrency: Option<usize>,
}

impl TenantJob<TargetSettings> for TenantExportJob {
    fn run<'a>(&'a self, tenant: Tenant<'a, TargetSettings>) -> LocalBoxFuture<'a, TenantReport> {
        self.export(tenant).boxed_local()
    }
}

impl TenantExportJob {
    /// Where tenant `name`'s file goes: `DIR/NAME.toml`, or the output with `{name}` replaced.
    fn path_for(&self, name: &str) -> PathBuf {
        let text = self.output.to_string_lossy();
        if text.contains("{name}") {
            PathBuf::from(text.replace("{name}", &file_safe(name)))
        } else {
            self.output.join(format!("{}.toml", file_safe(name)))
        }
    }

    async fn export(&self, tenant: Tenant<'_, TargetSettings>) -> TenantReport {
        let name = tenant.target.name.as_str();
        let mut target = tenant.target.clone();
        if let Some(n) = self.concurrency {
            target.concurrency = n;
        }
        let client = match build_target(&target, None) {
            Ok(client) => client,
            Err(error) => return TenantReport::failed(name, error.to_string()),
        };
        let mut interrupts = tenant.interrupts;
        let path = self.path_for(name);
        tokio::select! {
            report = self.export_to(&target, client.as_ref(), &path) => report,
            () = interrupts.recv() => TenantReport::new(name, Status::Interrupted),
        }
    }

    async fn export_to(&self, target: &TargetSettings, client: &dyn Target, path: &Path) -> TenantReport {
        let name = target.name.as_str();
        let progress = ResolveProgress::new(&silent(), false);
        let read = tenant::read_snapshot(client, target, &self.selection, &progress).await;
        progress.finish();
        let snapshot = match read {
            Ok(snapshot) => snapshot,
            Err(error) => return TenantReport::failed(name, why(&error)),
        };
        let text = render_export::render(&snapshot, name);
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if let Err(error) = std::fs::create_dir_all(dir).and_then(|()| tenant::write_atomically(path, &text))
        {
            return TenantReport::failed(name, format!("cannot write {}: {error}", path.display()));
        }
        let assignments: usize = snapshot.spaces.iter().map(|s| s.assignments.len()).sum();
        let groups = snapshot
            .groups
            .iter()
            .map(|g| g.group.name.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let mut report = TenantReport::new(name, Status::Ok);
        report.totals.total = assignments as u64;
        report.totals.done = assignments as u64;
        report.file = Some(path.to_path_buf());
        report.note = Some(format!(
            "{groups} groups, {} spaces, {assignments} assignments",
            snapshot.spaces.len()
        ));
        report
    }
}
