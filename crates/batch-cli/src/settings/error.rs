//! The error of settings resolution: a message and a hint, never a secret.

/// A usage or configuration problem: exit code 2, nothing sent. Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", hint.as_ref().map(|h| format!("\nhint: {h}")).unwrap_or_default())]
pub struct SettingsError {
    message: String,
    hint: Option<String>,
}

impl SettingsError {
    pub(super) fn new(message: impl Into<String>) -> Self {
        SettingsError {
            message: message.into(),
            hint: None,
        }
    }

    pub(super) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A problem found beside settings resolution proper (fleets), with no hint yet.
    pub fn plain(message: impl Into<String>) -> Self {
        Self::new(message)
    }

    /// The same error with a hint that names the fix.
    #[must_use]
    pub fn with_hint(self, hint: impl Into<String>) -> Self {
        self.hint(hint)
    }

    /// The problem, a lowercase fragment.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What to do about it, when there is something to say.
    pub fn hint_text(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}
