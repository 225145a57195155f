//! One module per subcommand; `dispatch` is the only place that matches on them.

pub mod apply;
pub mod completions;
pub mod demo;
pub mod export;
pub mod migrate;
pub mod plan;
pub(crate) mod runs;
pub mod sim;

use crate::cli::{Cli, Command};

/// Run a parsed command line and return its exit code.
pub fn dispatch(cli: Cli) -> u8 {
    match cli.command {
        Command::Plan(args) => plan::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Completions { shell } => completions::run(shell),
        Command::Sim(args) => sim::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Export(args) => export::run(args),
        Command::Migrate(args) => migrate::run(args),
    }
}
