//! The planner: compares a roster with a tenant and decides, for each row, exactly one action.
//!
//! It resolves every distinct space, user and group once, reads each touched space's
//! assignments once, and never writes. `roster plan` prints the result; `roster apply` executes
//! exactly it.

mod build;
mod planner;
pub mod prune;
mod resolve;

#[cfg(test)]
pub(crate) mod fake;

pub use build::{PlanError, PlanErrorKind, PlanOptions, PlanProgress, Planned, Timings, build, build_owned};
pub(crate) use build::{ShrinkingPop, count, min_write_time, role_set, target_roles, write_calls};
pub use build::{burst_write_time, write_window};
pub(crate) use planner::{Pending, Planner};
pub use resolve::{Directory, DirectoryChoice, ResolveReport, Strategy};

#[cfg(test)]
pub(crate) mod tests;
