//! `roster sim`: serve the simulated tenant standalone.

use crate::cli::SimArgs;
use crate::exit;

/// Serve until Ctrl-C.
pub fn run(args: SimArgs) -> u8 {
    let _ = args;
    exit::USAGE
}
