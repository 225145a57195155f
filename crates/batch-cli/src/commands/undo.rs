//! `roster undo RUN`.

use crate::cli::UndoArgs;

/// Runs `roster undo`.
pub fn run(_args: UndoArgs) -> u8 {
    crate::exit::USAGE
}
