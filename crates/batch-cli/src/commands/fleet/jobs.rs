//! The per-tenant jobs of `apply`, `plan` and `export` for the fleet runner. Each is the single
//! command's work for one tenant, with what it would print turned into the tenant's report.

use std::collections::HashMap;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use core_api::Tier;
use core_api::target::{Target, TargetKind};
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::super::runs;
use super::super::steps::plan_options;
use crate::settings::{ApplySettings, OutputSettings, PlanSettings, TargetSettings};
use crate::vendor::build_target;
use engine::exec::{self, ExecOptions, PipelineError};
use engine::export::{self, CsvExport, People, Selection};
use engine::failed::{self, FailedRows};
use engine::fleet::{Status, Tenant, TenantJob, TenantReport};
use engine::journal;
use engine::model::{Mode, ParsedRow, Reporter, RowKey, Totals};

/// How long in-flight writes may take to finish after the first Ctrl-C.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// The roster, read once per vendor (a roster's columns mean slightly different things to
/// Qlik and Alumio).
pub struct Rosters {
    /// The roster file.
    pub path: PathBuf,
    /// Its rows, by the kind of target they were read for.
    pub rows: HashMap<TargetKind, Vec<ParsedRow>>,
}

impl Rosters {
    fn rows(&self, kind: TargetKind) -> Vec<ParsedRow> {
        self.rows.get(&kind).cloned().unwrap_or_default()
    }
}

/// Where tenant `name`'s failed rows go: `DIR/x.failed/NAME.csv` for roster `DIR/x.csv`.
pub fn failed_path(roster: &Path, name: &str) -> PathBuf {
    failed::path_for(roster)
        .with_extension("")
        .join(format!("{}.csv", file_safe(name)))
}

/// A tenant's name as a file name (`qlik:acme` gives `qlik_acme`).
pub fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The plan settings of one tenant, with `--concurrency` over the tenant's own.
pub(super) fn plan_settings(
    roster: &Path,
    target: &TargetSettings,
    mode: Mode,
    output: OutputSettings,
    concurrency: Option<usize>,
) -> PlanSettings {
    let mut target = target.clone();
    if let Some(n) = concurrency {
        target.concurrency = n;
    }
    PlanSettings {
        roster: roster.to_path_buf(),
        target,
        mode,
        output,
        warnings: Vec::new(),
    }
}

/// `message`, and on its own line the hint for `error`, when there is one.
pub(super) fn with_hint(message: String, error: &core_api::Error, target: &TargetSettings) -> String {
    match crate::hint::for_error(error, target) {
        Some(hint) => format!("{message}\nhint: {hint}"),
        None => message,
    }
}

/// A tenant's client with the engine's observer, and with `-vv` every request logged on a line
/// naming the tenant.
pub(super) fn client(target: &TargetSettings, verbose: u8) -> Result<Arc<dyn Target>, String> {
    let observer = crate::report::requests::tenant_observer(verbose, &target.name, Some(exec::observer()));
    build_target(target, observer).map_err(|e| e.to_string())
}

/// `roster apply` for one tenant: its journal (resume, or a new run planned against the tenant
/// as it is now), its writes, its failed-rows CSV.
pub struct ApplyJob {
    /// The roster.
    pub rosters: Rosters,
    /// Merge or exact.
    pub mode: Mode,
    /// The state directory every tenant's journal is in (one file each, by name).
    pub state_dir: PathBuf,
    /// `--fresh`.
    pub fresh: bool,
    /// `--only-failed`.
    pub only_failed: bool,
    /// `--yes`.
    pub yes: bool,
    /// Output settings (verbosity).
    pub output: OutputSettings,
    /// `--concurrency`, over each tenant's own.
    pub concurrency: Option<usize>,
    /// `--prune`: the most deletes each tenant's plan may hold (`--max-deletes`).
    pub prune: Option<usize>,
    /// The state directory's temporary journal files, listed once for every tenant's new run.
    pub stale_temps: journal::StaleTemps,
    /// What `roster runs` shows of each tenant's run (the roster's digest is taken once: the
    /// rows were read once too).
    pub about: journal::RunAbout,
}

impl TenantJob<TargetSettings> for ApplyJob {
    fn run<'a>(&'a self, tenant: Tenant<'a, TargetSettings>) -> LocalBoxFuture<'a, TenantReport> {
        self.apply(tenant, None, None).boxed_local()
    }
}

impl ApplyJob {
    /// Apply to one tenant through `client` when given (a client already built for the tenant,
    /// whose limiter the run then shares), else through a client of its own. A new run takes
    /// `run_id` when given (a tenant apply's, whose configuration it already carries).
    pub async fn apply(
        &self,
        tenant: Tenant<'_, TargetSettings>,
        client: Option<Arc<dyn Target>>,
        run_id: Option<String>,
    ) -> TenantReport {
        let target = tenant.target;
        let name = target.name.as_str();
        let settings = ApplySettings {
            plan: plan_settings(
                &self.rosters.path,
                target,
                self.mode,
                self.output,
                self.concurrency,
            ),
            state_dir: self.state_dir.clone(),
            fresh: self.fresh,
            only_failed: self.only_failed,
            yes: self.yes,
        };
        let journal_path = journal::path_for(&self.state_dir, name);
        let _lock = match journal::RunLock::acquire(&journal_path) {
            Ok(lock) => lock,
            Err(error) => return TenantReport::failed(name, error.to_string()),
        };
        let rows = self.rosters.rows(target.kind);
        let keys: Vec<RowKey> = rows.iter().map(|r| runs::row_key(r, name)).collect();
        let mut this = journal::RunInfo::new(journal::roster_digest(&keys), self.mode, self.prune.is_some());
        if let Some(id) = run_id {
            this.id = id;
        }
        // What `roster runs` shows of the run, as a single apply records it.
        this.about = self.about.clone();
        this.about.write_limit_per_min = Some(target.limits.for_tier(Tier::Tier2));
        let decision = match runs::decide(&settings, &journal_path, this, &keys) {
            Ok(decision) => decision,
            Err(_) => {
                return TenantReport::failed(
                    name,
                    format!(
                        "its journal {} cannot be used (see above)",
                        journal_path.display()
                    ),
                );
            }
        };
        // A prune plans the whole roster (every row keeps its assignee) and leaves out what the
        // journal has done afterwards; otherwise resume happens before planning.
        let (rows, resumed) = if self.prune.is_some() {
            (rows, 0)
        } else {
            runs::select_rows(rows, &keys, &decision.state, decision.select)
        };
        drop(keys);
        let client = match client.map_or_else(|| self::client(target, self.output.verbose), Ok) {
            Ok(client) => client,
            Err(error) => return TenantReport::failed(name, error),
        };
        if client.capabilities().emails_new_members && !self.yes {
            return TenantReport::failed(
                name,
                "adding members to its spaces emails each of them, and a fleet run asks no questions\n\
                 hint: check with `roster plan`, then pass --yes",
            );
        }
        let failed_path = failed_path(&self.rosters.path, name);
        if let Some(dir) = failed_path.parent()
            && let Err(error) = std::fs::create_dir_all(dir)
        {
            return TenantReport::failed(name, format!("cannot create {}: {error}", dir.display()));
        }
        let start = decision.start;
        let kind = target.kind;
        let roster = &self.rosters.path;
        let feed = tenant.feed;
        let open = || -> Result<Vec<Box<dyn Reporter>>, String> {
            let writer = journal::Writer::open_run_listed(&journal_path, name, start, &self.stale_temps)
                .map_err(|e| e.to_string())?;
            Ok(vec![
                Box::new(writer),
                Box::new(FailedRows::new(roster, kind, &failed_path)),
                feed,
            ])
        };
        let limits = &target.limits;
        let options = ExecOptions {
            concurrency: settings.plan.target.concurrency.max(1),
            write_limit_per_min: limits.for_tier(Tier::Tier2),
            write_window: engine::plan::write_window(limits),
            drain_timeout: DRAIN_TIMEOUT,
            resumed,
        };
        let mut interrupts = tenant.interrupts;
        let result = match self.prune {
            Some(max_deletes) => {
                let pruning = super::prune::Pruning {
                    state: &decision.state,
                    select: decision.select,
                    max_deletes,
                };
                super::prune::run(
                    rows,
                    &client,
                    &settings.plan,
                    pruning,
                    open,
                    options,
                    &mut interrupts,
                )
                .await
            }
            None => exec::plan_and_execute(
                rows,
                client.as_ref(),
                &plan_options(&settings.plan),
                &|_| {},
                &mut || {},
                open,
                &options,
                &mut interrupts,
            )
            .await
            .map_err(|error| match error {
                PipelineError::Plan(error) => {
                    let message = format!("failed to plan: {error}");
                    with_hint(message, crate::hint::in_plan(&error), target)
                }
                PipelineError::Open(error) => error,
                PipelineError::Exec(error) => error.to_string(),
            }),
        };
        match result {
            Ok(result) => {
                let status = if result.interrupted {
                    Status::Interrupted
                } else if result.totals.failed > 0 {
                    Status::RowsFailed
                } else {
                    Status::Ok
                };
                let mut report = TenantReport::new(name, status);
                report.totals = result.totals;
                if result.totals.failed > 0 && failed_path.exists() {
                    report.file = Some(failed_path.clone());
                }
                report
            }
            Err(error) => TenantReport::failed(name, error),
        }
    }
}

/// `roster plan` for one tenant: what apply would do there, counted.
pub struct PlanJob {
    /// The roster.
    pub rosters: Rosters,
    /// Merge or exact.
    pub mode: Mode,
    /// Output settings.
    pub output: OutputSettings,
    /// `--check`: a tenant that would change is reported so before its errors.
    pub check: bool,
    /// `--concurrency`, over each tenant's own.
    pub concurrency: Option<usize>,
    /// `--prune`: the plans show the deletes too.
    pub prune: bool,
    /// `--json`: each tenant's whole plan goes to stdout as a `plan` line.
    pub json: bool,
}

impl TenantJob<TargetSettings> for PlanJob {
    fn run<'a>(&'a self, tenant: Tenant<'a, TargetSettings>) -> LocalBoxFuture<'a, TenantReport> {
        self.plan(tenant).boxed_local()
    }
}

impl PlanJob {
    async fn plan(&self, tenant: Tenant<'_, TargetSettings>) -> TenantReport {
        let target = tenant.target;
        let name = target.name.as_str();
        let settings = plan_settings(
            &self.rosters.path,
            target,
            self.mode,
            self.output,
            self.concurrency,
        );
        let client = match client(target, self.output.verbose) {
            Ok(client) => client,
            Err(error) => return TenantReport::failed(name, error),
        };
        let rows = self.rosters.rows(target.kind);
        let mut interrupts = tenant.interrupts;
        let options = plan_options(&settings);
        let planned = async {
            if self.prune {
                return super::prune::plan(rows, &client, &settings).await;
            }
            match engine::plan::build_owned(rows, client.as_ref(), &options, &|_| {}).await {
                Ok(planned) => Ok(planned.plan),
                Err(error) => {
                    let message = format!("failed to plan: {error}");
                    Err(with_hint(message, crate::hint::in_plan(&error), target))
                }
            }
        };
        let planned = tokio::select! {
            planned = planned => planned,
            () = interrupts.recv() => return TenantReport::new(name, Status::Interrupted),
        };
        let mut plan = match planned {
            Ok(plan) => plan,
            Err(error) => return TenantReport::failed(name, error),
        };
        super::super::plan::estimate_write_time(&mut plan, &settings);
        if self.json {
            write_plan_line(&plan);
        }
        let c = plan.counts;
        let changes = c.create + c.update + c.delete > 0;
        let status = if changes && (self.check || c.error == 0) {
            Status::Changes
        } else if c.error > 0 {
            Status::RowsFailed
        } else {
            Status::Ok
        };
        let mut report = TenantReport::new(name, status);
        report.totals = Totals {
            total: plan.items.len() as u64,
            done: plan.items.len() as u64,
            created: c.create,
            updated: c.update,
            unchanged: c.unchanged,
            deleted: c.delete,
            failed: c.error,
            writes: plan.write_calls,
            ..Totals::default()
        };
        if c.error > 0 && status == Status::Changes {
            report.note = Some(format!("and {} rows are errors", c.error));
        }
        report
    }
}

/// One tenant's whole plan as a line of a fleet's `--json` stream: the single-target `plan
/// --json` document on one line, with `"event":"plan"` and the fleet's format version first.
/// Written in one piece under stdout's lock, so tenants' lines never interleave; a closed stdout
/// is the reader's choice and ends nothing here.
fn write_plan_line(plan: &engine::model::Plan) {
    use std::io::Write;
    #[derive(serde::Serialize)]
    struct Fleet {
        fleet_format_version: u32,
    }
    let fleet = Fleet {
        fleet_format_version: crate::report::fleet_table::FLEET_JSON_VERSION,
    };
    let mut line = Vec::with_capacity(256 + plan.items.len() * 256);
    if crate::report::diff::render_json_record(plan, &fleet, &mut line).is_ok() {
        let _ = std::io::stdout().lock().write_all(&line);
    }
}

/// `roster export` for one tenant: its assignments as a roster file named by the tenant.
pub struct ExportJob {
    /// Spaces and types to export.
    pub selection: Selection,
    /// `--output`: a directory, or a path with `{name}` in it.
    pub output: PathBuf,
    /// Listings in flight per tenant, when given.
    pub concurrency: Option<usize>,
}

impl ExportJob {
    /// Where tenant `name`'s file goes.
    pub fn path_for(&self, name: &str) -> PathBuf {
        let text = self.output.to_string_lossy();
        if text.contains("{name}") {
            PathBuf::from(text.replace("{name}", &file_safe(name)))
        } else {
            self.output.join(format!("{}.csv", file_safe(name)))
        }
    }

    async fn export(&self, tenant: Tenant<'_, TargetSettings>) -> TenantReport {
        let target = tenant.target;
        let name = target.name.as_str();
        let client = match build_target(target, None) {
            Ok(client) => client,
            Err(error) => return TenantReport::failed(name, error.to_string()),
        };
        let mut interrupts = tenant.interrupts;
        let path = self.path_for(name);
        tokio::select! {
            report = self.export_to(name, target, client.as_ref(), &path) => report,
            () = interrupts.recv() => TenantReport::new(name, Status::Interrupted),
        }
    }

    async fn export_to(
        &self,
        name: &str,
        target: &TargetSettings,
        client: &dyn Target,
        path: &Path,
    ) -> TenantReport {
        let (spaces, missing) = match export::select_spaces(client, &self.selection).await {
            Ok(found) => found,
            Err(error) => {
                let message = format!("failed to list the spaces: {error}");
                return TenantReport::failed(name, with_hint(message, &error, target));
            }
        };
        if !missing.is_empty() {
            return TenantReport::failed(name, format!("no space named or with id {}", missing.join(", ")));
        }
        let people = match People::read(client).await {
            Ok(people) => people,
            Err(error) => {
                let message = format!("failed to list the users and groups: {error}");
                return TenantReport::failed(name, with_hint(message, &error, target));
            }
        };
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let written = std::fs::create_dir_all(dir).and_then(|()| tempfile::NamedTempFile::new_in(dir));
        let tmp = match written {
            Ok(tmp) => tmp,
            Err(error) => {
                return TenantReport::failed(name, format!("cannot write {}: {error}", path.display()));
            }
        };
        let mut csv = match tmp.reopen().and_then(|f| CsvExport::new(BufWriter::new(f))) {
            Ok(csv) => csv,
            Err(error) => {
                return TenantReport::failed(name, format!("cannot write {}: {error}", path.display()));
            }
        };
        let concurrency = self.concurrency.unwrap_or(target.concurrency);
        let spaces_read = spaces.len() as u64;
        let result =
            export::read_spaces(client, spaces, &people, concurrency, |space| csv.space(&space)).await;
        let rows = csv.rows();
        if let Err(error) = result {
            let mut message = format!("failed to export: {error}");
            if let Some(client_error) = crate::hint::in_export(&error) {
                message = with_hint(message, client_error, target);
            }
            return TenantReport::failed(name, message);
        }
        let finished = csv
            .finish()
            .and_then(|w| w.into_inner().map_err(std::io::IntoInnerError::into_error))
            .and_then(|f| f.sync_all())
            .and_then(|()| tmp.persist(path).map(drop).map_err(|e| e.error));
        if let Err(error) = finished {
            return TenantReport::failed(name, format!("cannot write {}: {error}", path.display()));
        }
        let mut report = TenantReport::new(name, Status::Ok);
        report.totals.total = rows;
        report.totals.done = rows;
        report.file = Some(path.to_path_buf());
        report.note = Some(format!("{spaces_read} spaces"));
        report
    }
}

impl TenantJob<TargetSettings> for ExportJob {
    fn run<'a>(&'a self, tenant: Tenant<'a, TargetSettings>) -> LocalBoxFuture<'a, TenantReport> {
        self.export(tenant).boxed_local()
    }
}
