//! A closed standard output: `roster completions bash | head`, `roster export ... -o - | head`.
//!
//! Rust ignores SIGPIPE, so a write to a pipe whose reader has gone fails with `BrokenPipe`
//! instead of killing the process. The reader closing the pipe is its choice, not a failure: the
//! command stops writing and ends quietly, with exit code 0, as ripgrep and other Rust command
//! line tools do (rather than the 141 of a process killed by the signal).

use std::io;

/// The exit code of a command whose standard output was closed by its reader.
pub const CLOSED_PIPE_EXIT: u8 = crate::exit::OK;

/// Whether `error` says the reader of our output has gone.
pub fn is_closed_pipe(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::BrokenPipe
}
