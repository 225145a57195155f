//! One module per subcommand, and `dispatch`, the only place that matches on them and the only
//! place that prints a command's error and turns it into the exit code.
//!
//! Commands are leaves: none imports another. What several of them do alike is in [`steps`]
//! (runtime, roster, client, planning, writing a plan, picking a source's spaces) and [`job`]
//! (one apply run, which `apply` and `migrate` share), with [`runs`] deciding which run it is.

pub mod apply;
pub mod completions;
pub mod demo;
pub mod export;
mod fleet;
pub mod history;
mod job;
pub mod migrate;
pub mod plan;
mod runs;
pub mod sim;
mod steps;
pub mod tenant;
pub mod undo;
mod undo_config;

use crate::cli::{Cli, Command};

/// Run a parsed command line and return its exit code; an error is printed here, once.
pub fn dispatch(cli: Cli) -> u8 {
    let outcome = match cli.command {
        Command::Plan(args) => plan::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Completions { shell } => completions::run(shell),
        Command::Sim(args) => sim::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Export(args) => export::run(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Runs(args) => history::run(args),
        Command::Undo(args) => undo::run(args),
        Command::Tenant(args) => tenant::run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => crate::error::report(&error),
    }
}
