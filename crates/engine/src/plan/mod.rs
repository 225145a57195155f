//! The planner: compares a roster with a tenant and decides, for each row, exactly one action.
//!
//! It resolves every distinct space, user and group once, reads each touched space's
//! assignments once, and never writes. The planner (`planner`) is a state machine with two
//! drivers. [`build`] runs it to the end and yields a whole plan, for whatever must see the whole
//! plan before anything is written: `roster plan`, `--prune` (deletes are planned against the
//! whole roster), a question to confirm, migrate's adjustments; [`execute`](crate::exec::execute)
//! then runs that plan. On the default `roster apply` path the executor drives the planner
//! itself ([`plan_and_execute`](crate::exec::plan_and_execute)) and sends each row's write as
//! soon as the row is decided.
//!
//! Inside, the dependencies point one way: `build` drives `planner`, which applies the row checks
//! and diff of `decide` and the name resolution of `resolve`; `options` and `error` hold what
//! planning is given and how it fails. [`prune`] plans deletes on top of a finished plan.

mod build;
mod decide;
mod error;
mod options;
mod planner;
pub mod prune;
mod resolve;

#[cfg(test)]
pub(crate) mod fake;

pub use build::{Planned, build, build_owned};
pub(crate) use build::{ShrinkingPop, count, min_write_time, write_calls};
pub use build::{burst_write_time, write_window};
pub(crate) use decide::{role_set, target_roles};
pub use error::{PlanError, PlanErrorKind};
pub use options::{PlanOptions, PlanProgress, Timings};
pub(crate) use planner::{Pending, Planner};
pub use resolve::{Directory, DirectoryChoice, ResolveReport, Strategy};

#[cfg(test)]
pub(crate) mod tests;
