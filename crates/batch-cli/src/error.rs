//! The one error a command returns, and the one place that prints it.
//!
//! A command that cannot go on returns a [`CommandError`]: what went wrong, the causes under it,
//! what to do about it, and the exit code it ends with. The dispatcher prints it once, as
//!
//! ```text
//! error: failed to plan
//!   caused by: ...
//! hint: ...
//! ```
//!
//! and ends the process with its code. Outcomes that are not errors (rows failed, `--check` saw
//! changes, an interrupted run, a closed standard output) are exit codes the command returns in
//! `Ok`.

use std::fmt;
use std::io::{self, Write};

use crate::exit;

/// What a command returns: the exit code of a command that ran to its end (0, 1, 3, 130), or the
/// error that stopped it.
pub type Outcome = Result<u8, CommandError>;

/// Why a command stopped. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    message: String,
    causes: Vec<String>,
    hint: Option<String>,
    code: u8,
    /// A refusal the user chose (a `no` at a prompt): printed as it is, without `error:`.
    plain: bool,
}

impl CommandError {
    /// A usage, configuration, input or tenant-access problem: exit code 2, nothing was sent.
    pub fn new(message: impl Into<String>) -> Self {
        CommandError {
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            code: exit::USAGE,
            plain: false,
        }
    }

    /// `message`, caused by `error` and the chain of sources under it.
    pub fn with_source(message: impl Into<String>, error: &(dyn std::error::Error + 'static)) -> Self {
        let mut this = CommandError::new(message).caused_by(error);
        let mut source = error.source();
        while let Some(cause) = source {
            this = this.caused_by(cause);
            source = cause.source();
        }
        this
    }

    /// `error` itself as the message, and the chain of its sources as the causes.
    pub fn from_chain(error: &(dyn std::error::Error + 'static)) -> Self {
        let mut this = CommandError::new(error.to_string());
        let mut source = error.source();
        while let Some(cause) = source {
            this = this.caused_by(cause);
            source = cause.source();
        }
        this
    }

    /// The user answered no: `nothing was sent`, exit code 2, no `error:` prefix.
    pub fn declined() -> Self {
        CommandError {
            plain: true,
            ..CommandError::new("nothing was sent")
        }
    }

    /// Adds a cause under the message (the innermost last).
    #[must_use]
    pub fn caused_by(mut self, cause: impl fmt::Display) -> Self {
        self.causes.push(cause.to_string());
        self
    }

    /// Says what to do about it.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Says what to do about it, when there is something to say.
    #[must_use]
    pub fn maybe_hint(mut self, hint: Option<String>) -> Self {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }

    /// Ends the process with `code` instead of 2.
    #[must_use]
    pub fn code(mut self, code: u8) -> Self {
        self.code = code;
        self
    }

    /// The problem.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The causes under it, outermost first.
    pub fn causes(&self) -> &[String] {
        &self.causes
    }

    /// What to do about it.
    pub fn hint_text(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The exit code the process ends with.
    pub fn exit_code(&self) -> u8 {
        self.code
    }

    /// Write the error, its causes and its hint, as the user sees them.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        if self.plain {
            writeln!(out, "{}", self.message)?;
        } else {
            writeln!(out, "error: {}", self.message)?;
        }
        for cause in &self.causes {
            writeln!(out, "  caused by: {cause}")?;
        }
        if let Some(hint) = &self.hint {
            writeln!(out, "hint: {hint}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for cause in &self.causes {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CommandError {}

/// Print an error the command goes on after (a space migrate could not create fails only the
/// rows that needed it), in the same form as the one that ends a command.
pub fn print(error: &CommandError) {
    let _ = error.write_to(&mut io::stderr().lock());
}

/// Print `error` once on stderr (best effort: a closed stderr must not hide the exit code) and
/// return the exit code it carries.
pub fn report(error: &CommandError) -> u8 {
    let _ = error.write_to(&mut io::stderr().lock());
    error.exit_code()
}

impl From<crate::settings::SettingsError> for CommandError {
    fn from(error: crate::settings::SettingsError) -> Self {
        let this = CommandError::new(error.message());
        match error.hint_text() {
            Some(hint) => this.hint(hint),
            None => this,
        }
    }
}

impl From<crate::vendor::BuildTargetError> for CommandError {
    fn from(error: crate::vendor::BuildTargetError) -> Self {
        match error {
            crate::vendor::BuildTargetError::Client { name, source, hint } => {
                CommandError::new(format!("cannot use target \"{name}\""))
                    .caused_by(source)
                    .maybe_hint(hint)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(error: &CommandError) -> String {
        let mut out = Vec::new();
        error.write_to(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn message_causes_and_hint_each_on_their_line() {
        let error = CommandError::new("failed to plan")
            .caused_by("401 Unauthorized")
            .hint("check --api-key-env");
        assert_eq!(
            printed(&error),
            "error: failed to plan\n  caused by: 401 Unauthorized\nhint: check --api-key-env\n"
        );
        assert_eq!(error.exit_code(), exit::USAGE);
        assert_eq!(error.to_string(), "failed to plan: 401 Unauthorized");
    }

    #[test]
    fn a_source_chain_becomes_the_causes() {
        let inner = io::Error::other("disk full");
        let error = CommandError::with_source("cannot write x.csv", &inner).code(exit::ROWS_FAILED);
        assert_eq!(error.causes(), ["disk full"]);
        assert_eq!(error.exit_code(), exit::ROWS_FAILED);
    }

    #[test]
    fn a_no_at_the_prompt_is_said_plainly() {
        assert_eq!(printed(&CommandError::declined()), "nothing was sent\n");
        assert_eq!(CommandError::declined().exit_code(), exit::USAGE);
    }
}
