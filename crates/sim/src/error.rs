//! The crate's one error type.

use std::path::PathBuf;

/// Why the simulator could not load a tenant or start.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error {
    kind: Box<ErrorKind>,
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    pub(crate) fn invalid_tenant(reason: impl Into<String>) -> Self {
        ErrorKind::InvalidTenant(reason.into()).into()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self { kind: Box::new(kind) }
    }
}

/// The kinds of [`Error`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The tenant file could not be read.
    #[error("failed to read tenant file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The tenant file is not valid JSON of the expected shape.
    #[error("failed to parse tenant file")]
    Parse(#[source] serde_json::Error),
    /// The tenant parsed but contradicts itself (dangling ids, duplicate names, ...).
    #[error("invalid tenant: {0}")]
    InvalidTenant(String),
    /// The simulator's own runtime thread could not be started.
    #[error("failed to start the simulator's runtime")]
    Runtime(#[source] std::io::Error),
    /// The listening socket could not be opened.
    #[error("failed to listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
