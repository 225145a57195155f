//! The `roster` command: reads CSV rosters of users and groups and assigns them to spaces on
//! Qlik Cloud and Alumio, many at a time, within the APIs' rate limits.

pub mod cli;
pub mod commands;
pub mod config;
pub mod exec;
pub mod exit;
pub mod export;
pub mod failed;
pub mod journal;
pub mod migrate;
pub mod model;
pub mod plan;
pub mod prune;
pub mod report;
pub mod roster;
pub mod settings;
pub mod target;

use std::process::ExitCode;

use clap::Parser;

/// Parse the command line, run the command and map the result to the documented exit code.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    ExitCode::from(run(cli))
}

/// Run a parsed command line and return its exit code. Tests call this in-process.
pub fn run(cli: cli::Cli) -> u8 {
    commands::dispatch(cli)
}
