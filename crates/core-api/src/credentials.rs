//! Credentials and the redacting secret type that carries them.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A secret string (API key, client secret, access token) whose `Debug` and `Display` print
/// `[redacted]`. The only way to read it is [`Secret::expose`], which keeps every use greppable.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(SecretString::from(value.into()))
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether the secret is the empty string (a misconfigured environment variable).
    pub fn is_empty(&self) -> bool {
        self.0.expose_secret().is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How a client authenticates.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// An API key sent as the bearer token.
    ApiKey(Secret),
    /// OAuth machine-to-machine client credentials; the client fetches and refreshes tokens.
    OAuth {
        /// The OAuth client id (not secret, but identifies the credential for rate limits).
        client_id: String,
        /// The client secret.
        client_secret: Secret,
        /// Requested scope; `None` uses the vendor's default (Qlik: `admin_classic`).
        scope: Option<String>,
    },
}

impl Credentials {
    /// An API key credential.
    pub fn api_key(key: impl Into<String>) -> Self {
        Credentials::ApiKey(Secret::new(key))
    }

    /// OAuth client credentials with the default scope.
    pub fn oauth(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Credentials::OAuth {
            client_id: client_id.into(),
            client_secret: Secret::new(client_secret),
            scope: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let creds = Credentials::api_key("sk-very-secret");
        let oauth = Credentials::oauth("client-1", "shh-secret");
        let printed = format!(
            "{creds:?} {oauth:?} {:?} {}",
            Secret::new("abc123"),
            Secret::new("abc123")
        );
        assert!(!printed.contains("sk-very-secret"), "{printed}");
        assert!(!printed.contains("shh-secret"), "{printed}");
        assert!(!printed.contains("abc123"), "{printed}");
        assert!(printed.contains("client-1"));
        assert!(printed.contains("[redacted]"));
    }
}
