//! The performance bar, measured: `cargo bench -p batch-cli --bench scenarios`.
//!
//! Each scenario starts `roster sim` as its own process with a generated tenant, runs the
//! release-built `roster` as a child process, and measures that process alone (wall time, CPU
//! time, peak RSS). The simulator's counters give the requests, 429s and writes. The README's
//! "Benchmarks" section says what each scenario measures.
//!
//! ```text
//! cargo bench -p batch-cli --bench scenarios                      # all thirteen
//! cargo bench -p batch-cli --bench scenarios -- --scenario 1,4    # some
//! cargo bench -p batch-cli --bench scenarios -- --quick --json    # scaled down, JSON
//! ```

mod floor;
mod measure;
mod peer;
mod procs;
mod report;
mod scenarios;
mod sim;
mod workload;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result};
use clap::Parser;

use crate::report::{Status, Suite};
use crate::scenarios::Ctx;

// roster's allocator, so that the HTTP floor (`floor`) is measured as roster would run it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Run the performance scenarios against `roster sim`.
#[derive(Debug, Parser)]
#[command(name = "scenarios")]
struct Options {
    /// Run only these scenarios (1 to 13), e.g. `--scenario 1,4` or `--scenario 2 --scenario 3`.
    #[arg(long, value_delimiter = ',', value_name = "N")]
    scenario: Vec<u8>,
    /// Scaled-down sizes (about a fifth or a tenth), to iterate quickly; not the bar.
    #[arg(long)]
    quick: bool,
    /// Print the results as JSON on stdout (progress stays on stderr).
    #[arg(long)]
    json: bool,
    /// Keep the work directory (tenants, rosters, journals, logs) and print where it is.
    #[arg(long)]
    keep: bool,
    /// The roster binary to measure [default: the one cargo built for this bench].
    #[arg(long, value_name = "PATH")]
    roster: Option<PathBuf>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(measure::CHILD_ARG) {
        return measure::child_main(&args[1..]);
    }
    if args.first().map(String::as_str) == Some(floor::FLOOR_ARG) {
        return floor::floor_main(&args[1..]);
    }
    let options = Options::parse();
    match run(&options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprint_error(&error);
            ExitCode::from(2)
        }
    }
}

/// `error: ...` with the cause chain, on stderr.
pub fn eprint_error(error: &anyhow::Error) {
    let _ = writeln!(std::io::stderr(), "error: {error:#}");
}

fn progress(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Run the chosen scenarios; `Ok(false)` when a bar was missed.
fn run(options: &Options) -> Result<bool> {
    let roster = options
        .roster
        .clone()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_roster")));
    let version = Command::new(&roster)
        .arg("--version")
        .output()
        .with_context(|| format!("run {} --version", roster.display()))?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let work = tempfile::Builder::new()
        .prefix("roster-bench-")
        .tempdir()
        .context("create the work directory")?;
    let mut ctx = Ctx {
        roster,
        dir: work.path().to_owned(),
        quick: options.quick,
        rate_bound: None,
    };
    let ids: Vec<u8> = if options.scenario.is_empty() {
        (1..=13).collect()
    } else {
        options.scenario.clone()
    };
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let mut outcomes = Vec::new();
    for id in ids {
        let name = scenarios::NAMES
            .get(usize::from(id).wrapping_sub(1))
            .copied()
            .unwrap_or("?");
        progress(&format!("scenario {id}: {name} ..."));
        let outcome = scenarios::run(&mut ctx, id);
        progress(&format!("scenario {id}: {name}: {:?}", outcome.status));
        outcomes.push(outcome);
    }
    let mut out = std::io::stdout().lock();
    if options.json {
        let suite = Suite {
            format_version: 1,
            roster: version,
            cpus,
            quick: options.quick,
            scenarios: &outcomes,
        };
        serde_json::to_writer_pretty(&mut out, &suite)?;
        writeln!(out)?;
    } else {
        let header = format!(
            "{version}, release build, {cpus} CPUs{}",
            if options.quick {
                ", --quick sizes (not the bar)"
            } else {
                ""
            }
        );
        report::table(&mut out, &header, &outcomes)?;
    }
    out.flush()?;
    if options.keep {
        let kept = work.keep();
        progress(&format!("work directory kept: {}", kept.display()));
    }
    Ok(outcomes
        .iter()
        .all(|o| !matches!(o.status, Status::Fail | Status::Error)))
}
