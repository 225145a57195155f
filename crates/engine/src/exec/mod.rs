//! The executor: runs a plan's writes concurrently and tells the reporters about every row.
//!
//! It sends only the writes the plan asks for, at most `--concurrency` calls at once, and leaves
//! rate limiting and retries to the client. Everything it learns becomes an [`Event`] for the
//! reporters (progress, journal, failed rows, JSON); it prints nothing itself.
//!
//! [`Event`]: crate::model::Event

mod interrupt;
mod observe;
mod run;

pub use interrupt::Interrupts;
pub use observe::{EngineObserver, mean_round_trip, observer};
pub use run::{ExecError, ExecErrorKind, ExecOptions, RunResult, execute};
pub use run::{PipelineError, plan_and_execute};

use core_api::target::TargetError;

use crate::model::RowError;

/// How a client error is recorded for a row: its stable kind code, status, message and attempts.
pub fn row_error(error: &TargetError) -> RowError {
    RowError {
        code: error.kind_code().to_owned(),
        http_status: error.status(),
        message: error.to_string(),
        attempts: error.attempts(),
    }
}

#[cfg(test)]
mod tests;
