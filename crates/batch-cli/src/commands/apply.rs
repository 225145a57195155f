//! `roster apply`.

use std::io::Write;

use crate::cli::ApplyArgs;
use crate::exit;
use crate::settings::{ApplySettings, ProcessEnvironment};

/// Runs `roster apply` and returns its exit code.
pub fn run(args: ApplyArgs) -> u8 {
    let mut stderr = std::io::stderr().lock();
    match ApplySettings::from_args(&args, &ProcessEnvironment) {
        Ok(_settings) => {
            let _ = writeln!(stderr, "error: roster apply is not available in this build");
            exit::USAGE
        }
        Err(error) => {
            let _ = writeln!(stderr, "error: {error}");
            exit::USAGE
        }
    }
}
