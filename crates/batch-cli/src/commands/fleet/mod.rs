//! Fleets: one roster (or one export) across many tenants in one run, the command side.
//!
//! `--to` names the tenants ([`crate::settings::fleet`]: comma lists, globs, `[fleets.NAME]`
//! from [`crate::config::fleet`]); [`engine::fleet::run`] runs a per-tenant job over them,
//! `--tenants-in-flight` at a time, each tenant with its own client, limiter, journal and files;
//! [`crate::report::fleet`] shows the run and [`crate::report::fleet_table`] sums it up. The
//! jobs of apply, plan and export are in [`jobs`], those of `roster tenant plan|apply|export` in
//! [`tenant_files`]: a command that works on one target joins by implementing
//! [`engine::fleet::TenantJob`]. `--prune` over a fleet is [`prune`].

mod jobs;
mod prune;
mod tenant_files;

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::Instant;

use super::steps::{print_warnings, runtime};
use crate::cli::{ApplyArgs, ExportArgs, FleetArgs, OutputArgs, PlanArgs, TargetArgs};
use crate::error::{CommandError, Outcome};
use crate::report::OutputMode;
use crate::report::fleet::Board;
use crate::report::fleet_table::{self as table, Kind};
use crate::report::format::Paint;
use crate::settings::fleet::{Member, is_fleet, members};
use crate::settings::{self, Environment, MAX_CONCURRENCY, ProcessEnvironment, TargetSettings};
use engine::exec::Interrupts;
use engine::export::Selection;
use engine::fleet::{DEFAULT_IN_FLIGHT, MAX_IN_FLIGHT, TenantJob};
use jobs::{ApplyJob, ExportJob, PlanJob, Rosters};
pub(crate) use tenant_files::{tenant_apply, tenant_export, tenant_plan};

/// Whether `args.to` names several tenants (then the command runs as a fleet). A config file
/// that cannot be read says no here; the single-target path reports it.
pub(crate) fn wanted(args: &TargetArgs, fleet: &FleetArgs) -> bool {
    if fleet.shard.is_some() || fleet.tenants_in_flight.is_some() {
        return true;
    }
    let to = args.to.as_deref();
    let config = settings::find_config(args.config.as_deref(), &ProcessEnvironment)
        .ok()
        .flatten();
    is_fleet(to, config.as_ref())
}

/// `roster apply` over a fleet.
pub(crate) fn apply(args: &ApplyArgs) -> Outcome {
    let (mut members, in_flight) = prepare(&args.target, &args.fleet, args.run.concurrency)?;
    set_batch_size(&mut members, args.batch_size)?;
    let output = settings::OutputSettings::from(args.output);
    let rosters = read_rosters(&args.roster, &members)?;
    let mode = args.run.mode.unwrap_or_default();
    if args.prune
        && let Some(refusal) = prune::refusal(mode, &rosters, &members, true, args.yes)
    {
        return Err(refusal);
    }
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| settings::default_state_dir(&args.roster));
    let job = ApplyJob {
        about: engine::journal::RunAbout::for_file("apply", &rosters.path),
        stale_temps: engine::journal::StaleTemps::list(&state_dir),
        rosters,
        mode,
        state_dir,
        fresh: args.fresh,
        only_failed: args.only_failed,
        yes: args.yes,
        output,
        concurrency: checked_concurrency(args.run.concurrency)?,
        prune: args.prune.then_some(args.max_deletes),
    };
    run(&members, in_flight, &job, args.output, Kind::Apply)
}

/// `roster plan` over a fleet.
pub(crate) fn plan(args: &PlanArgs) -> Outcome {
    let (mut members, in_flight) = prepare(&args.target, &args.fleet, args.run.concurrency)?;
    set_batch_size(&mut members, args.batch_size)?;
    let rosters = read_rosters(&args.roster, &members)?;
    let mode = args.run.mode.unwrap_or_default();
    if args.prune
        && let Some(refusal) = prune::refusal(mode, &rosters, &members, false, false)
    {
        return Err(refusal);
    }
    let job = PlanJob {
        rosters,
        mode,
        output: settings::OutputSettings::from(args.output),
        check: args.check,
        concurrency: checked_concurrency(args.run.concurrency)?,
        prune: args.prune,
        json: args.output.json,
    };
    run(
        &members,
        in_flight,
        &job,
        args.output,
        Kind::Plan { check: args.check },
    )
}

/// `roster export` over a fleet: one file per tenant.
pub(crate) fn export(args: &ExportArgs) -> Outcome {
    if args.output.as_os_str() == "-" {
        return Err(
            CommandError::new("a fleet's export is one file per tenant, not standard output")
                .hint("pass -o DIR (files DIR/NAME.csv) or -o 'exports/{name}.csv'"),
        );
    }
    let (members, in_flight) = prepare(&args.target, &args.fleet, args.concurrency)?;
    let job = ExportJob {
        selection: Selection {
            spaces: args.selection.spaces.clone(),
            types: args.selection.types.clone(),
        },
        output: args.output.clone(),
        concurrency: checked_concurrency(args.concurrency)?,
    };
    let output = OutputArgs {
        quiet: args.quiet,
        ..OutputArgs::default()
    };
    run(&members, in_flight, &job, output, Kind::Export)
}

fn checked_concurrency(n: Option<usize>) -> Result<Option<usize>, CommandError> {
    match n {
        Some(n) if !(1..=MAX_CONCURRENCY).contains(&n) => Err(CommandError::new(format!(
            "concurrency must be between 1 and {MAX_CONCURRENCY} (got {n})"
        ))),
        n => Ok(n),
    }
}

/// `--batch-size` over each tenant's own, as a single run takes it.
fn set_batch_size(members: &mut [Member], n: Option<usize>) -> Result<(), CommandError> {
    for member in members {
        if let Ok(target) = &mut member.target {
            settings::set_batch_size(target, n)?;
        }
    }
    Ok(())
}

/// The members and the tenants in flight: `--tenants-in-flight`, or fewer when that many
/// tenants at their concurrency (`concurrency`, the flag, over each tenant's own) would hold more
/// files and connections than the process may open.
fn prepare(
    target: &TargetArgs,
    fleet: &FleetArgs,
    concurrency: Option<usize>,
) -> Result<(Vec<Member>, usize), CommandError> {
    let concurrency = checked_concurrency(concurrency)?;
    let requested = fleet.tenants_in_flight.unwrap_or(DEFAULT_IN_FLIGHT);
    if !(1..=MAX_IN_FLIGHT).contains(&requested) {
        return Err(CommandError::new(format!(
            "--tenants-in-flight must be between 1 and {MAX_IN_FLIGHT} (got {requested})"
        )));
    }
    let env: &dyn Environment = &ProcessEnvironment;
    let mut warnings = Vec::new();
    let members = members(target, fleet.shard, env, &mut warnings)?;
    warnings.sort();
    warnings.dedup();
    let mut in_flight = requested;
    // Only as many as the fleet has can be in flight at once.
    let wanted = requested.min(members.len().max(1));
    if let Some(limit) = crate::open_files::raise_limit() {
        let most = members
            .iter()
            .filter_map(|m| m.target.as_ref().ok())
            .map(|t| concurrency.unwrap_or(t.concurrency))
            .max()
            .unwrap_or(1);
        let fits = crate::open_files::fit_in_flight(wanted, most, limit);
        if fits < wanted {
            let tenants = if fits == 1 { "tenant" } else { "tenants" };
            warnings.push(format!(
                "running {fits} {tenants} at a time, not {wanted}: each may hold {} files and \
                 connections (concurrency {most}) and this process may open {limit} (ulimit -n); \
                 raise the hard limit or lower --concurrency to run more at once",
                crate::open_files::per_tenant(most)
            ));
            in_flight = fits;
        }
    }
    print_warnings(&warnings);
    Ok((members, in_flight))
}

/// Read the roster once for each vendor among the members.
fn read_rosters(path: &std::path::Path, members: &[Member]) -> Result<Rosters, CommandError> {
    let mut rows = HashMap::new();
    for member in members {
        let Ok(target) = &member.target else { continue };
        if rows.contains_key(&target.kind) {
            continue;
        }
        let roster = engine::roster::read_roster(path, target.kind)
            .map_err(|error| CommandError::new(error.to_string()))?;
        rows.insert(target.kind, roster.rows);
    }
    Ok(Rosters {
        path: path.to_path_buf(),
        rows,
    })
}

/// Run `job` over the members and print the table; the exit code.
fn run(
    members: &[Member],
    in_flight: usize,
    job: &dyn TenantJob<TargetSettings>,
    output: OutputArgs,
    kind: Kind,
) -> Outcome {
    let mode = OutputMode::detect(output.quiet, output.json).for_verbosity(output.verbose);
    let runtime = runtime()?;
    let started = Instant::now();
    let board = Board::new(mode, members.len());
    if members.is_empty() {
        let _ = writeln!(
            io::stderr(),
            "this shard holds none of the fleet's tenants: nothing to do"
        );
    }
    let reports = runtime.block_on(async {
        let interrupts = Interrupts::ctrl_c();
        engine::fleet::run(members, in_flight, job, &board, interrupts).await
    });
    board.close();
    let elapsed = started.elapsed();
    let code = table::exit_code(&reports, kind);
    let mut stderr = io::stderr().lock();
    table::print(
        &mut stderr,
        &reports,
        kind,
        elapsed,
        Paint::new(mode.color_stderr),
    );
    drop(stderr);
    if mode.json {
        board.json_line(&table::summary_json(&reports, elapsed, code));
    }
    Ok(code)
}
