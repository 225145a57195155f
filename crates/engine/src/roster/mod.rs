//! Roster CSV files: reading them record by record, checking every field, and handing the
//! planner normalised rows.
//!
//! ```no_run
//! use engine::roster::read_roster;
//! use core_api::target::TargetKind;
//!
//! let roster = read_roster("roster.csv".as_ref(), TargetKind::Qlik)?;
//! for problem in roster.problems() {
//!     eprintln!("{}: {}", roster.locate(problem), problem.message);
//! }
//! # Ok::<(), engine::roster::RosterFileError>(())
//! ```

mod check;
mod error;
mod formula;
mod header;
mod key;
mod reader;
mod roles;
mod table;

pub use check::{MAX_SPACE_NAME_CHARS, QLIK_FORBIDDEN_SPACE_CHARS};
pub use error::{FileProblem, RosterFileError, RosterFileErrorKind};
pub use formula::{escape_cell, unescape_cell};
pub use header::FAILED_CSV_COLUMNS;
pub use key::invalid_row_key;
pub use reader::{MAX_COLUMNS, MAX_FIELD_BYTES, MAX_REPORTED_PROBLEMS, read_roster, read_roster_from};
pub use roles::{api_names as role_api_names, normalise as normalise_role, ui_names as role_ui_names};
pub use table::Roster;

#[cfg(test)]
mod tests;
