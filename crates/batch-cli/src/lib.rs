//! The `roster` command: reads CSV rosters of users and groups and assigns them to spaces on
//! Qlik Cloud and Alumio, many at a time, within the APIs' rate limits.

pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod exit;
pub mod hint;
pub mod open_files;
pub mod pipe;
pub mod report;
pub mod settings;
pub mod vendor;

use std::process::ExitCode;

use clap::Parser;

/// Parse the command line, run the command and map the result to the documented exit code.
pub fn main() -> ExitCode {
    init_logging();
    // A run's connections and files count against it; a low soft limit is no reason to fail.
    let _ = open_files::raise_limit();
    let cli = cli::Cli::parse();
    ExitCode::from(run(cli))
}

/// Run a parsed command line and return its exit code. Tests call this in-process.
pub fn run(cli: cli::Cli) -> u8 {
    commands::dispatch(cli)
}

/// Diagnostic logs go to stderr only when `ROSTER_LOG` asks for them, so the progress display and
/// the `--json` stream stay clean by default.
fn init_logging() {
    let Ok(filter) = std::env::var(settings::env::ROSTER_LOG) else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // A second initialisation (tests calling `main` twice) is harmless; ignore it.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .try_init();
}
