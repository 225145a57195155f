//! Fleets: one roster (or one export) across many tenants in one run.
//!
//! `--to` names the tenants ([`select`]: comma lists, globs, `[fleets.NAME]` from
//! [`config`]); [`runner`] runs a per-tenant job over them, `--tenants-in-flight` at a time,
//! each tenant with its own client, limiter, journal and files; [`display`] shows the run and
//! [`table`] sums it up. The jobs of apply, plan and export are in [`jobs`]: a command that
//! works on one target joins by implementing [`runner::TenantJob`].

pub mod config;
pub mod display;
pub mod jobs;
pub mod runner;
pub mod select;
pub mod table;

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::Instant;

pub use select::{Member, Shard};

use crate::cli::{ApplyArgs, ExportArgs, FleetArgs, OutputArgs, PlanArgs, TargetArgs};
use crate::commands::plan::{print_warnings, runtime, usage_error};
use crate::exec::Interrupts;
use crate::exit;
use crate::export::Selection;
use crate::report::OutputMode;
use crate::report::format::Paint;
use crate::settings::{self, Environment, ProcessEnvironment};
use jobs::{ApplyJob, ExportJob, PlanJob, Rosters};
use runner::TenantJob;
use table::Kind;

/// Whether `args.to` names several tenants (then the command runs as a fleet). A config file
/// that cannot be read says no here; the single-target path reports it.
pub fn wanted(args: &TargetArgs, fleet: &FleetArgs) -> bool {
    if fleet.shard.is_some() || fleet.tenants_in_flight.is_some() {
        return true;
    }
    let to = args.to.as_deref();
    let config = settings::find_config(args.config.as_deref(), &ProcessEnvironment).ok().flatten();
    select::is_fleet(to, config.as_ref())
}

/// `roster apply` over a fleet; the exit code.
pub fn apply(args: &ApplyArgs) -> u8 {
    let mut stderr = io::stderr();
    if args.prune {
        return usage_error(
            &mut stderr,
            &"--prune cannot be used with a fleet yet: deletes are confirmed tenant by tenant\n\
              hint: prune one tenant at a time with --to NAME",
        );
    }
    let Some((members, in_flight)) = prepare(&args.target, &args.fleet) else {
        return exit::USAGE;
    };
    let output = settings::OutputSettings::from(args.output);
    let Some(rosters) = read_rosters(&args.roster, &members) else {
        return exit::USAGE;
    };
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| settings::default_state_dir(&args.roster));
    let job = ApplyJob {
        rosters,
        mode: args.mode.unwrap_or_default(),
        state_dir,
        fresh: args.fresh,
        only_failed: args.only_failed,
        yes: args.yes,
        output,
    };
    run(&members, in_flight, &job, args.output, Kind::Apply)
}

/// `roster plan` over a fleet; the exit code.
pub fn plan(args: &PlanArgs) -> u8 {
    let mut stderr = io::stderr();
    if args.prune {
        return usage_error(
            &mut stderr,
            &"--prune cannot be used with a fleet yet\nhint: plan the deletes of one tenant at a time with --to NAME",
        );
    }
    let Some((members, in_flight)) = prepare(&args.target, &args.fleet) else {
        return exit::USAGE;
    };
    let Some(rosters) = read_rosters(&args.roster, &members) else {
        return exit::USAGE;
    };
    let job = PlanJob {
        rosters,
        mode: args.mode.unwrap_or_default(),
        output: settings::OutputSettings::from(args.output),
        check: args.check,
    };
    run(&members, in_flight, &job, args.output, Kind::Plan { check: args.check })
}

/// `roster export` over a fleet: one file per tenant; the exit code.
pub fn export(args: &ExportArgs) -> u8 {
    let mut stderr = io::stderr();
    if args.output.as_os_str() == "-" {
        return usage_error(
            &mut stderr,
            &"a fleet's export is one file per tenant, not standard output\n\
              hint: pass -o DIR (files DIR/NAME.csv) or -o 'exports/{name}.csv'",
        );
    }
    let Some((members, in_flight)) = prepare(&args.target, &args.fleet) else {
        return exit::USAGE;
    };
    if let Some(n) = args.concurrency
        && !(1..=settings::MAX_CONCURRENCY).contains(&n)
    {
        return usage_error(
            &mut stderr,
            &format!("concurrency must be between 1 and {} (got {n})", settings::MAX_CONCURRENCY),
        );
    }
    let job = ExportJob {
        selection: Selection {
            spaces: args.spaces.clone(),
            types: args.types.clone(),
        },
        output: args.output.clone(),
        concurrency: args.concurrency,
    };
    let output = OutputArgs {
        quiet: args.quiet,
        ..OutputArgs::default()
    };
    run(&members, in_flight, &job, output, Kind::Export)
}

/// The members and tenants in flight, or `None` after reporting a usage error.
fn prepare(target: &TargetArgs, fleet: &FleetArgs) -> Option<(Vec<Member>, usize)> {
    let mut stderr = io::stderr();
    let in_flight = fleet.tenants_in_flight.unwrap_or(runner::DEFAULT_IN_FLIGHT);
    if !(1..=runner::MAX_IN_FLIGHT).contains(&in_flight) {
        usage_error(
            &mut stderr,
            &format!(
                "--tenants-in-flight must be between 1 and {} (got {in_flight})",
                runner::MAX_IN_FLIGHT
            ),
        );
        return None;
    }
    let env: &dyn Environment = &ProcessEnvironment;
    let mut warnings = Vec::new();
    let members = match select::members(target, fleet.shard, env, &mut warnings) {
        Ok(members) => members,
        Err(error) => {
            usage_error(&mut stderr, &error);
            return None;
        }
    };
    warnings.sort();
    warnings.dedup();
    print_warnings(&mut stderr, &warnings);
    Some((members, in_flight))
}

/// Read the roster once for each vendor among the members; a file-level problem is a usage
/// error (reported; `None`).
fn read_rosters(path: &std::path::Path, members: &[Member]) -> Option<Rosters> {
    let mut rows = HashMap::new();
    for member in members {
        let Ok(target) = &member.target else { continue };
        if rows.contains_key(&target.kind) {
            continue;
        }
        match crate::roster::read_roster(path, target.kind) {
            Ok(roster) => {
                rows.insert(target.kind, roster.rows);
            }
            Err(error) => {
                let _ = writeln!(io::stderr(), "error: {error}");
                return None;
            }
        }
    }
    Some(Rosters {
        path: path.to_path_buf(),
        rows,
    })
}

/// Run `job` over the members and print the table; the exit code.
fn run(
    members: &[Member],
    in_flight: usize,
    job: &dyn TenantJob<settings::TargetSettings>,
    output: OutputArgs,
    kind: Kind,
) -> u8 {
    let mode = OutputMode::detect(output.quiet, output.json).for_verbosity(output.verbose);
    let Ok(runtime) = runtime() else {
        return exit::USAGE;
    };
    let started = Instant::now();
    let board = display::Board::new(mode, members.len());
    if members.is_empty() {
        let _ = writeln!(io::stderr(), "this shard holds none of the fleet's tenants: nothing to do");
    }
    let reports = runtime.block_on(async {
        let interrupts = Interrupts::ctrl_c();
        runner::run(members, in_flight, job, &board, interrupts).await
    });
    board.close();
    let elapsed = started.elapsed();
    let code = table::exit_code(&reports, kind);
    let mut stderr = io::stderr().lock();
    table::print(&mut stderr, &reports, kind, elapsed, Paint::new(mode.color_stderr));
    drop(stderr);
    if mode.json {
        board.json_line(&table::summary_json(&reports, elapsed, code));
    }
    code
}
