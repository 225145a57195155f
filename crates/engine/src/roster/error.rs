//! Errors that make a whole roster file unusable. Row-level problems are not errors: they travel
//! with their row as [`crate::model::RowProblem`].

use std::fmt;
use std::io;

/// One problem that makes the file unusable, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// 1-based line where the record starts; 0 when the problem concerns the whole file.
    pub line: u64,
    /// 1-based field number, where one field is to blame.
    pub column: Option<usize>,
    /// A lowercase fragment, e.g. `invalid utf-8 (byte 0xe9)`.
    pub message: String,
}

impl FileProblem {
    /// `file:line:column: message`, the way compilers locate problems.
    pub fn located(&self, file: &str) -> String {
        match (self.line, self.column) {
            (0, _) => format!("{file}: {}", self.message),
            (line, None) => format!("{file}:{line}: {}", self.message),
            (line, Some(column)) => format!("{file}:{line}:{column}: {}", self.message),
        }
    }
}

/// Why a roster file cannot be used at all. Nothing may be sent when this happens.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.render())]
pub struct RosterFileError {
    file: String,
    kind: Box<RosterFileErrorKind>,
}

/// What went wrong with the file.
#[derive(Debug)]
#[non_exhaustive]
pub enum RosterFileErrorKind {
    /// The file could not be opened.
    Open(io::Error),
    /// Reading failed partway.
    Read(io::Error),
    /// The content is malformed: every problem found in the whole file, in file order.
    Invalid {
        /// The problems kept (at most [`super::MAX_REPORTED_PROBLEMS`]).
        problems: Vec<FileProblem>,
        /// How many more were found but not kept.
        omitted: u64,
    },
}

impl RosterFileError {
    pub(crate) fn open(file: &str, source: io::Error) -> Self {
        RosterFileError {
            file: file.to_owned(),
            kind: Box::new(RosterFileErrorKind::Open(source)),
        }
    }

    pub(crate) fn read(file: &str, source: io::Error) -> Self {
        RosterFileError {
            file: file.to_owned(),
            kind: Box::new(RosterFileErrorKind::Read(source)),
        }
    }

    pub(crate) fn invalid(file: &str, problems: Vec<FileProblem>, omitted: u64) -> Self {
        RosterFileError {
            file: file.to_owned(),
            kind: Box::new(RosterFileErrorKind::Invalid { problems, omitted }),
        }
    }

    /// The file as the user named it.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// What went wrong.
    pub fn kind(&self) -> &RosterFileErrorKind {
        &self.kind
    }

    /// The located problems of a malformed file (empty for open and read errors).
    pub fn problems(&self) -> &[FileProblem] {
        match &*self.kind {
            RosterFileErrorKind::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }

    /// Every problem found, including those not kept.
    pub fn problem_count(&self) -> u64 {
        match &*self.kind {
            RosterFileErrorKind::Invalid { problems, omitted } => problems.len() as u64 + omitted,
            _ => 0,
        }
    }

    fn render(&self) -> String {
        let file = &self.file;
        match &*self.kind {
            RosterFileErrorKind::Open(e) => format!("cannot open roster {file}: {e}"),
            RosterFileErrorKind::Read(e) => format!("cannot read roster {file}: {e}"),
            RosterFileErrorKind::Invalid { problems, omitted } => {
                let total = problems.len() as u64 + omitted;
                let mut out = String::new();
                let noun = if total == 1 { "problem" } else { "problems" };
                out.push_str(&format!("roster {file} is malformed ({total} {noun}):"));
                for problem in problems {
                    out.push_str("\n  ");
                    out.push_str(&problem.located(file));
                }
                if *omitted > 0 {
                    out.push_str(&format!("\n  ... and {omitted} more"));
                }
                out
            }
        }
    }
}

impl fmt::Display for RosterFileErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RosterFileErrorKind::Open(e) => write!(f, "cannot open: {e}"),
            RosterFileErrorKind::Read(e) => write!(f, "cannot read: {e}"),
            RosterFileErrorKind::Invalid { problems, omitted } => {
                write!(f, "malformed: {} problems", problems.len() as u64 + omitted)
            }
        }
    }
}
