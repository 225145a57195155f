//! The error every client call returns.
//!
//! One type for the whole crate family: the vendor clients decode their error bodies into a
//! [`Problem`] and report through [`Error`], so the engine classifies Qlik and Alumio failures with
//! the same accessors ([`Error::status`], [`Error::kind_code`], [`Error::is_retryable`], ...).

use std::fmt;
use std::time::Duration;

use http::{Method, StatusCode};

/// A failed call: what went wrong, and how hard the client tried.
///
/// `Display` is a lowercase fragment that reads well after "failed to ...", e.g.
/// `POST /api/v1/spaces/abc/assignments: HTTP 409 Conflict: AssignmentConflict: already assigned`,
/// followed by ` (after 3 attempts in 2.1s)` when the call was retried.
#[derive(Debug, thiserror::Error)]
#[error("{kind}{}", Retried(*attempts, *elapsed))]
pub struct Error {
    kind: Box<ErrorKind>,
    attempts: u32,
    elapsed: Duration,
}

/// The decoded error body of an API response, vendor-neutral.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problem {
    /// The API's machine-readable error code (Qlik `errors[0].code`, e.g. `AssignmentConflict`).
    pub code: Option<String>,
    /// Short summary.
    pub title: Option<String>,
    /// Human-readable explanation of this occurrence.
    pub detail: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(code) = &self.code {
            write!(f, ": {code}")?;
        }
        match (&self.title, &self.detail) {
            (Some(title), Some(detail)) if title != detail => write!(f, ": {title} ({detail})"),
            (Some(title), _) => write!(f, ": {title}"),
            (None, Some(detail)) => write!(f, ": {detail}"),
            (None, None) => Ok(()),
        }
    }
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server answered with a non-success status.
    #[error("{method} {path}: HTTP {status}{problem}")]
    Api {
        /// Request method.
        method: Method,
        /// Request path (no query, no host).
        path: String,
        /// Response status.
        status: StatusCode,
        /// The decoded error body (empty when the body was not understood).
        problem: Problem,
        /// The `retry-after` header, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// No response within the request timeout.
    #[error("{method} {path}: timed out ({cause})")]
    Timeout {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// The innermost cause, as text.
        cause: String,
    },
    /// The connection failed or was reset before a response arrived.
    #[error("{method} {path}: connection failed ({cause})")]
    Connection {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// The innermost cause, as text.
        cause: String,
    },
    /// The TLS handshake failed. Never retried: the same handshake fails the same way.
    #[error("{method} {path}: {problem} ({cause})")]
    Tls {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// What kind of TLS failure.
        problem: TlsProblem,
        /// The innermost cause, as text.
        cause: String,
    },
    /// Nothing accepted the connection at the server's address (TCP reset on connect).
    #[error("{method} {path}: connection refused, nothing listens at that address ({cause})")]
    Refused {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// The innermost cause, as text.
        cause: String,
    },
    /// The server's host name did not resolve to an address (a misspelt tenant, or no DNS).
    #[error("{method} {path}: the host name was not found ({cause})")]
    UnknownHost {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// The innermost cause, as text.
        cause: String,
    },
    /// Plain `http://` to a host other than loopback, without [`crate::ClientConfig::allow_http`].
    #[error(
        "connect to `{url}` over plain http: it is only allowed for loopback addresses, since the \
         credentials would travel unencrypted; use https, or allow plain http explicitly"
    )]
    PlainHttp {
        /// The server URL.
        url: String,
    },
    /// The response body was not what the API documents.
    #[error("{method} {path}: could not decode the response ({source})")]
    Decode {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// Getting an OAuth access token failed.
    #[error("get an OAuth access token: {source}")]
    Token {
        /// Why the token request failed.
        source: Error,
    },
    /// The client settings are unusable (bad URL, plain http to a remote host, ...).
    #[error("{0}")]
    Config(String),
    /// The caller asked for something the API cannot express (empty role list, ...).
    #[error("{0}")]
    Invalid(String),
    /// A `next` link pointed somewhere the client will not send credentials to.
    #[error("refuse to follow a pagination link to another host ({href})")]
    ForeignLink {
        /// The link, without query.
        href: String,
    },
}

/// Why a TLS handshake failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsProblem {
    /// The server's certificate is not trusted: unknown issuer (self-signed), expired, or for
    /// another name.
    Certificate,
    /// The server did not answer in TLS: most often a plain-http server reached as https.
    NotTls,
    /// Any other handshake failure.
    Handshake,
}

impl fmt::Display for TlsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsProblem::Certificate => "the server's TLS certificate is not trusted",
            TlsProblem::NotTls => "the server did not answer in TLS",
            TlsProblem::Handshake => "the TLS handshake failed",
        })
    }
}

/// What the user can change so that a call that failed this way succeeds; the command line
/// words it as a hint naming its own flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Remedy {
    /// Trust the certificate (install its issuer), or skip verification for a test tenant.
    TrustCertificate,
    /// The server speaks plain http: give the URL with `http://`.
    UsePlainHttp,
    /// Allow plain http to a host other than loopback, or use https.
    AllowPlainHttp,
    /// Nothing listens at the address: check the URL and port, and that the server runs.
    CheckAddress,
    /// The credential was refused (401): check the API key or OAuth client.
    CheckCredential,
    /// The host name did not resolve: check its spelling, and this machine's DNS.
    CheckHostName,
}

/// Formats the "(after N attempts in T)" suffix only when the call was retried.
struct Retried(u32, Duration);

impl fmt::Display for Retried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 > 1 {
            write!(f, " (after {} attempts in {:.1?})", self.0, self.1)
        } else {
            Ok(())
        }
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error {
            kind: Box::new(kind),
            attempts: 1,
            elapsed: Duration::ZERO,
        }
    }
}

impl Error {
    /// A configuration error with a message that reads after "failed to ...".
    pub fn config(message: impl Into<String>) -> Self {
        ErrorKind::Config(message.into()).into()
    }

    /// An invalid-request error, raised before anything is sent.
    pub fn invalid(message: impl Into<String>) -> Self {
        ErrorKind::Invalid(message.into()).into()
    }

    /// Records how many attempts the call made and how long it took in all.
    #[must_use]
    pub fn with_attempts(mut self, attempts: u32, elapsed: Duration) -> Self {
        self.attempts = attempts;
        self.elapsed = elapsed;
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The API error for a token request, or the error itself otherwise: token failures are
    /// classified by what the token endpoint said.
    fn effective(&self) -> &Error {
        match &*self.kind {
            ErrorKind::Token { source } => source.effective(),
            _ => self,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match &*self.effective().kind {
            ErrorKind::Api { status, .. } => Some(status.as_u16()),
            _ => None,
        }
    }

    fn problem(&self) -> Option<&Problem> {
        match &*self.effective().kind {
            ErrorKind::Api { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// The API's error code (e.g. `AssignmentConflict`, `HTTP-429`).
    pub fn code(&self) -> Option<&str> {
        self.problem().and_then(|p| p.code.as_deref())
    }

    /// The API's error title.
    pub fn title(&self) -> Option<&str> {
        self.problem().and_then(|p| p.title.as_deref())
    }

    /// The API's error detail.
    pub fn detail(&self) -> Option<&str> {
        self.problem().and_then(|p| p.detail.as_deref())
    }

    /// How many times the request was sent (1 when it was not retried; 0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Time from the first attempt to giving up, backoff and throttling included.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// The server's `retry-after`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match &*self.effective().kind {
            ErrorKind::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether sending the same request again may succeed: 429, 500, 502, 503, 504, timeouts and
    /// connection failures (a refused connection included: a server restarting refuses for a
    /// moment). Other 4xx never are, nor TLS failures: certificates and protocols do not change
    /// between attempts.
    pub fn is_retryable(&self) -> bool {
        match &*self.effective().kind {
            ErrorKind::Api { status, .. } => is_retryable_status(*status),
            ErrorKind::Timeout { .. }
            | ErrorKind::Connection { .. }
            | ErrorKind::Refused { .. }
            | ErrorKind::UnknownHost { .. } => true,
            _ => false,
        }
    }

    /// Whether the server's address refused the connection: nothing listens there.
    pub fn is_refused(&self) -> bool {
        matches!(&*self.effective().kind, ErrorKind::Refused { .. })
    }

    /// Whether the server could not be reached at all: its address refused the connection, or
    /// its host name did not resolve.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            &*self.effective().kind,
            ErrorKind::Refused { .. } | ErrorKind::UnknownHost { .. }
        )
    }

    /// What the user can change so that the call succeeds, when the error says.
    pub fn remedy(&self) -> Option<Remedy> {
        match &*self.effective().kind {
            ErrorKind::Tls {
                problem: TlsProblem::Certificate,
                ..
            } => Some(Remedy::TrustCertificate),
            ErrorKind::Tls {
                problem: TlsProblem::NotTls,
                ..
            } => Some(Remedy::UsePlainHttp),
            ErrorKind::PlainHttp { .. } => Some(Remedy::AllowPlainHttp),
            ErrorKind::Refused { .. } => Some(Remedy::CheckAddress),
            ErrorKind::UnknownHost { .. } => Some(Remedy::CheckHostName),
            ErrorKind::Api { status, .. } if status.as_u16() == 401 => Some(Remedy::CheckCredential),
            _ => None,
        }
    }

    /// Whether the server said 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Whether the server said 409.
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }

    /// A short, stable machine code for reports and the failed-rows CSV: `not_found`, `conflict`,
    /// `forbidden`, `auth`, `rate_limited`, `server`, `invalid`, `client`, `timeout`,
    /// `connection` (refused connections too), `tls`, `decode`, `config`.
    pub fn kind_code(&self) -> &'static str {
        if matches!(&*self.kind, ErrorKind::Token { .. }) {
            return match self.effective().kind_code() {
                "timeout" => "timeout",
                "connection" => "connection",
                "tls" => "tls",
                "server" => "server",
                "rate_limited" => "rate_limited",
                _ => "auth",
            };
        }
        match &*self.kind {
            ErrorKind::Api { status, .. } => match status.as_u16() {
                401 => "auth",
                403 => "forbidden",
                404 => "not_found",
                409 => "conflict",
                429 => "rate_limited",
                400 | 422 => "invalid",
                500..=599 => "server",
                _ => "client",
            },
            ErrorKind::Timeout { .. } => "timeout",
            ErrorKind::Connection { .. } | ErrorKind::Refused { .. } | ErrorKind::UnknownHost { .. } => {
                "connection"
            }
            ErrorKind::Tls { .. } => "tls",
            ErrorKind::Decode { .. } => "decode",
            ErrorKind::Config(_) | ErrorKind::PlainHttp { .. } => "config",
            ErrorKind::Invalid(_) => "invalid",
            ErrorKind::ForeignLink { .. } => "invalid",
            ErrorKind::Token { .. } => "auth",
        }
    }
}

/// The statuses worth sending again.
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// The innermost message of an error chain: reqwest wraps hyper wraps io, and the io error
/// ("connection reset by peer") is what the user can act on.
pub(crate) fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: Option<&str>) -> Error {
        ErrorKind::Api {
            method: Method::POST,
            path: "/api/v1/spaces/s1/assignments".into(),
            status: StatusCode::from_u16(status).unwrap(),
            problem: Problem {
                code: code.map(Into::into),
                title: Some("Conflict".into()),
                detail: Some("already assigned".into()),
            },
            retry_after: None,
        }
        .into()
    }

    #[test]
    fn classifies_statuses() {
        let cases = [
            (400, "invalid", false),
            (401, "auth", false),
            (403, "forbidden", false),
            (404, "not_found", false),
            (409, "conflict", false),
            (418, "client", false),
            (429, "rate_limited", true),
            (500, "server", true),
            (501, "server", false),
            (502, "server", true),
            (503, "server", true),
            (504, "server", true),
        ];
        for (status, code, retryable) in cases {
            let err = api(status, None);
            assert_eq!(err.kind_code(), code, "{status}");
            assert_eq!(err.is_retryable(), retryable, "{status}");
            assert_eq!(err.status(), Some(status));
        }
    }

    #[test]
    fn display_reads_after_failed_to() {
        let err = api(409, Some("AssignmentConflict")).with_attempts(3, Duration::from_millis(2100));
        assert_eq!(
            err.to_string(),
            "POST /api/v1/spaces/s1/assignments: HTTP 409 Conflict: AssignmentConflict: Conflict \
             (already assigned) (after 3 attempts in 2.1s)"
        );
        assert_eq!(err.code(), Some("AssignmentConflict"));
        assert_eq!(err.title(), Some("Conflict"));
        assert_eq!(err.detail(), Some("already assigned"));
        assert_eq!(err.attempts(), 3);
    }

    #[test]
    fn token_errors_classify_by_the_token_endpoint() {
        let err: Error = ErrorKind::Token {
            source: api(401, None),
        }
        .into();
        assert_eq!(err.kind_code(), "auth");
        assert_eq!(err.status(), Some(401));
        let err: Error = ErrorKind::Token {
            source: api(503, None),
        }
        .into();
        assert_eq!(err.kind_code(), "server");
        assert!(err.is_retryable());
    }
}
