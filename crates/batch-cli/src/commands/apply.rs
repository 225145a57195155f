//! `roster apply`: skip what the journal says is done, plan the rest, execute the plan's writes,
//! and report every row to the display, the journal and the failed-rows CSV.

use std::io::{self, Write};
use std::time::Duration;

use core_api::Tier;

use super::plan::{client, plan_rows, print_warnings, read_roster, runtime, usage_error};
use crate::cli::ApplyArgs;
use crate::exec::{self, ExecOptions, Interrupts};
use crate::failed::{self, FailedRows};
use crate::journal;
use crate::model::{Mode, ParsedRow, Reporter};
use crate::report::{self, OutputMode, RunContext};
use crate::settings::{ApplySettings, ProcessEnvironment, TargetSource};

/// How long in-flight writes may take to finish after the first Ctrl-C.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs `roster apply` and returns its exit code: 0 every row ok, 1 some rows failed, 2 usage,
/// configuration or input error (nothing sent), 130 interrupted.
pub fn run(args: ApplyArgs) -> u8 {
    let mut stderr = io::stderr();
    let settings = match ApplySettings::from_args(&args, &ProcessEnvironment) {
        Ok(settings) => settings,
        Err(error) => return usage_error(&mut stderr, &error),
    };
    print_warnings(&mut stderr, &settings.plan.warnings);
    let mut roster = match read_roster(&settings.plan) {
        Ok(roster) => roster,
        Err(code) => return code,
    };
    let target_name = settings.plan.target.name.clone();
    let journal_path = journal::path_for(&settings.state_dir, &target_name);

    // Resume happens before planning: rows the journal has done cost no request at all.
    let state = if settings.fresh {
        journal::State::default()
    } else {
        match journal::read(&journal_path, &target_name) {
            Ok(state) => state,
            Err(error) => return usage_error(&mut stderr, &error),
        }
    };
    let all = roster.rows.len() as u64;
    let rows = std::mem::take(&mut roster.rows);
    drop(roster);
    let (rows, resumed) = select_rows(rows, &state, &target_name, settings.only_failed);
    drop(state);
    if resumed > 0 {
        let _ = writeln!(
            stderr,
            "resuming: {} of {} rows already done",
            report::format::count(resumed),
            report::format::count(all)
        );
    } else if settings.only_failed {
        let _ = writeln!(
            stderr,
            "only failed rows: {} of {} rows failed in an earlier run",
            report::format::count(rows.len() as u64),
            report::format::count(all)
        );
    }

    let mode = OutputMode::detect(settings.plan.output.quiet, settings.plan.output.json);
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let target = match client(&settings.plan) {
            Ok(target) => target,
            Err(code) => return code,
        };
        let planned = match plan_rows(&settings.plan, &mode, target.as_ref(), rows).await {
            Ok(planned) => planned,
            Err(code) => return code,
        };
        let plan = planned.plan;

        let writer = match journal::Writer::open(&journal_path, &target_name, settings.fresh) {
            Ok(writer) => writer,
            Err(error) => return usage_error(&mut io::stderr(), &error),
        };
        let failed_path = failed::path_for(&settings.plan.roster);
        let mut context = RunContext::new(&settings.plan.roster, &target_name);
        context.failed_csv = failed_path.clone();
        context.rerun_args = rerun_args(&args, &settings);
        context.state_dir = Some(settings.state_dir.clone());
        // The journal first: a row is on disk before anyone is told it is done.
        let mut reporters: Vec<Box<dyn Reporter>> = vec![
            Box::new(writer),
            Box::new(FailedRows::new(
                &settings.plan.roster,
                settings.plan.target.kind,
                &failed_path,
            )),
            report::display_reporter(&mode, context),
        ];
        let options = ExecOptions {
            concurrency: settings.plan.target.concurrency.max(1),
            write_limit_per_min: settings.plan.target.limits.for_tier(Tier::Tier2),
            drain_timeout: DRAIN_TIMEOUT,
            resumed,
        };
        let mut interrupts = Interrupts::ctrl_c();
        match exec::execute(&plan, target.as_ref(), &mut reporters, &options, &mut interrupts).await {
            Ok(result) if result.interrupted => crate::exit::INTERRUPTED,
            Ok(result) if result.totals.failed > 0 => crate::exit::ROWS_FAILED,
            Ok(_) => crate::exit::OK,
            Err(error) => {
                let _ = writeln!(io::stderr(), "error: {error}");
                crate::exit::ROWS_FAILED
            }
        }
    })
}

/// The rows this run does, and how many an earlier run already did. With `only_failed`, only
/// rows whose last journal record is a failure; otherwise every row not marked done.
fn select_rows(
    rows: Vec<ParsedRow>,
    state: &journal::State,
    target: &str,
    only_failed: bool,
) -> (Vec<ParsedRow>, u64) {
    if state.keys() == 0 && !only_failed {
        return (rows, 0);
    }
    let mut resumed = 0;
    let kept = rows
        .into_iter()
        .filter(|parsed| {
            let key = match &parsed.row {
                Ok(row) => row.key(target),
                Err(_) => journal::invalid_row_key(target, parsed.line),
            };
            if only_failed {
                state.is_failed(&key)
            } else if state.is_done(&key) {
                resumed += 1;
                false
            } else {
                true
            }
        })
        .collect();
    (kept, resumed)
}

/// The arguments after the roster that rerun with the same target and settings. Only names of
/// environment variables and files: never a secret.
fn rerun_args(args: &ApplyArgs, settings: &ApplySettings) -> Vec<String> {
    let t = &args.target;
    let mut words: Vec<String> = Vec::new();
    let mut push = |flag: &str, value: Option<String>| {
        if let Some(value) = value {
            words.push(flag.to_owned());
            words.push(value);
        }
    };
    push("--config", t.config.as_ref().map(|p| p.display().to_string()));
    match &settings.plan.target.source {
        TargetSource::CommandLine => {}
        _ => push("--to", t.to.clone()),
    }
    push("--server", t.server.clone());
    push("--kind", t.kind.map(|k| format!("{k:?}").to_lowercase()));
    push("--api-key-env", t.api_key_env.clone());
    push(
        "--api-key-file",
        t.api_key_file.as_ref().map(|p| p.display().to_string()),
    );
    push("--client-id", t.client_id.clone());
    push("--client-secret-env", t.client_secret_env.clone());
    push(
        "--client-secret-file",
        t.client_secret_file.as_ref().map(|p| p.display().to_string()),
    );
    push("--tier1-per-min", t.tier1_per_min.map(|n| n.to_string()));
    push("--tier2-per-min", t.tier2_per_min.map(|n| n.to_string()));
    push("--concurrency", args.concurrency.map(|n| n.to_string()));
    push(
        "--state-dir",
        args.state_dir.as_ref().map(|p| p.display().to_string()),
    );
    if settings.plan.mode == Mode::Exact {
        words.push("--mode".to_owned());
        words.push("exact".to_owned());
    }
    if t.api_key_stdin {
        words.push("--api-key-stdin".to_owned());
    }
    if t.insecure {
        words.push("--insecure".to_owned());
    }
    if t.allow_http {
        words.push("--allow-http".to_owned());
    }
    words
}
