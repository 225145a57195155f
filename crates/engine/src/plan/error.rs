//! Why a plan could not be made: a directory of the tenant could not be read. A row's own
//! problem is never a [`PlanError`]; it becomes an error row of the plan.

use core_api::target::TargetError;

use super::resolve::Directory;

/// Why a plan could not be made (a row's problem never is one: it becomes an error row).
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct PlanError {
    kind: Box<PlanErrorKind>,
}

/// What went wrong while planning.
#[derive(Debug, thiserror::Error)]
pub enum PlanErrorKind {
    /// A directory could not be read.
    #[error("resolve {directory}: {source}")]
    Resolve {
        /// Which directory.
        directory: Directory,
        /// The client's error.
        source: TargetError,
    },
}

impl PlanError {
    /// What went wrong.
    pub fn kind(&self) -> &PlanErrorKind {
        &self.kind
    }

    pub(crate) fn resolve(directory: Directory, source: TargetError) -> Self {
        PlanError {
            kind: Box::new(PlanErrorKind::Resolve { directory, source }),
        }
    }
}
