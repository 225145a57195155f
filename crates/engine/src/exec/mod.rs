//! The executor: runs a plan's writes concurrently and tells the reporters about every row.
//!
//! It sends only the writes the plan asks for, at most `--concurrency` calls at once, and leaves
//! rate limiting and retries to the client. [`execute`] runs a finished plan; on the default
//! `roster apply` path [`plan_and_execute`] owns the planner as well and sends each row's write
//! as soon as the planner has decided it. Everything it learns becomes an [`Event`] for the
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

#[cfg(test)]
mod tests;
