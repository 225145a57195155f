//! One module per subcommand; `dispatch` is the only place that matches on them.

pub mod demo;
pub mod sim;

use crate::cli::{Cli, Command};

/// Run a parsed command line and return its exit code.
pub fn dispatch(cli: Cli) -> u8 {
    match cli.command {
        Command::Sim(args) => sim::run(args),
    }
}
