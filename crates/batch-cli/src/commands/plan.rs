//! `roster plan`.

use std::io::Write;

use crate::cli::PlanArgs;
use crate::exit;
use crate::settings::{PlanSettings, ProcessEnvironment};

/// Runs `roster plan` and returns its exit code.
pub fn run(args: PlanArgs) -> u8 {
    let mut stderr = std::io::stderr().lock();
    match PlanSettings::from_args(&args, &ProcessEnvironment) {
        Ok(_settings) => {
            let _ = writeln!(stderr, "error: roster plan is not available in this build");
            exit::USAGE
        }
        Err(error) => {
            let _ = writeln!(stderr, "error: {error}");
            exit::USAGE
        }
    }
}
