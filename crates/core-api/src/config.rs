//! What a client needs to know to talk to one tenant with one credential.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use url::{Host, Url};

use crate::Error;
use crate::credentials::Credentials;
use crate::error::ErrorKind;
use crate::limit::RateLimits;
use crate::observe::Observer;
use crate::retry::RetryPolicy;

/// Connect and whole-request timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a TCP and TLS connection.
    pub connect: Duration,
    /// One attempt, from sending to the end of the response body.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(60),
        }
    }
}

/// Settings for a client of one tenant with one credential. The CLI builds it from flags, the
/// config file and the environment; every field but `server` and `credentials` has a default.
#[derive(Clone)]
pub struct ClientConfig {
    /// The tenant's base URL, e.g. `https://acme.eu.qlikcloud.com`.
    pub server: Url,
    /// API key or OAuth client credentials.
    pub credentials: Credentials,
    /// Client-side rate limits per tier.
    pub limits: RateLimits,
    /// When to retry failed requests.
    pub retry: RetryPolicy,
    /// Connect and request timeouts.
    pub timeouts: Timeouts,
    /// Skip TLS certificate verification. Off by default; only for test tenants with
    /// self-signed certificates.
    pub insecure: bool,
    /// Allow plain `http://` to hosts other than loopback (credentials travel in clear text).
    pub allow_http: bool,
    /// Receives request, throttling, retry and token events.
    pub observer: Option<Arc<dyn Observer>>,
}

impl ClientConfig {
    /// Settings with every default: Qlik's documented rate limits, [`RetryPolicy::default`],
    /// [`Timeouts::default`], TLS verification on, no plain http except to loopback.
    pub fn new(server: Url, credentials: Credentials) -> Self {
        ClientConfig {
            server,
            credentials,
            limits: RateLimits::default(),
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            insecure: false,
            allow_http: false,
            observer: None,
        }
    }

    /// Checks the server URL and returns it normalised to end with `/`, so that relative paths
    /// join below it.
    pub(crate) fn checked_server(&self) -> Result<Url, Error> {
        let mut url = self.server.clone();
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::config(
                "use the server URL without user name or password in it; pass credentials separately",
            ));
        }
        let Some(host) = url.host() else {
            return Err(Error::config(format!(
                "use a server URL with a host name (got `{url}`)"
            )));
        };
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http || is_loopback(&host) => {}
            "http" => {
                return Err(ErrorKind::PlainHttp { url: url.to_string() }.into());
            }
            other => {
                return Err(Error::config(format!(
                    "use an http or https server URL (got scheme `{other}`)"
                )));
            }
        }
        url.set_query(None);
        url.set_fragment(None);
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(url)
    }
}

/// The path segments of `url`, trailing slashes (empty segments) left out.
fn segments(url: &Url) -> Vec<String> {
    let mut segments: Vec<String> = url
        .path_segments()
        .map(|s| s.map(str::to_owned).collect())
        .unwrap_or_default();
    while segments.last().is_some_and(String::is_empty) {
        segments.pop();
    }
    segments
}

/// `url` without `suffix` (path segments, e.g. `["api", "v1"]`) at the end of its path, and
/// without a trailing slash: for an API whose paths the client adds itself, so that
/// `https://acme.eu.qlikcloud.com/api/v1/` and `https://acme.eu.qlikcloud.com` mean the same.
pub fn strip_path_suffix(url: &Url, suffix: &[&str]) -> Url {
    let mut kept = segments(url);
    if kept.len() >= suffix.len() && kept[kept.len() - suffix.len()..].iter().eq(suffix.iter()) {
        kept.truncate(kept.len() - suffix.len());
    }
    with_segments(url, &kept)
}

/// `url` with `suffix` at the end of its path unless it is there already (trailing slashes
/// ignored): for an API whose base URL includes its root, so that `https://env.alumio.com` and
/// `https://env.alumio.com/api/v1/` mean the same.
pub fn ensure_path_suffix(url: &Url, suffix: &[&str]) -> Url {
    let mut kept = segments(url);
    if !(kept.len() >= suffix.len() && kept[kept.len() - suffix.len()..].iter().eq(suffix.iter())) {
        kept.extend(suffix.iter().map(|s| (*s).to_owned()));
    }
    with_segments(url, &kept)
}

fn with_segments(url: &Url, segments: &[String]) -> Url {
    let mut out = url.clone();
    if let Ok(mut path) = out.path_segments_mut() {
        path.clear().extend(segments);
    }
    out
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("server", &self.server.as_str())
            .field("credentials", &self.credentials)
            .field("limits", &self.limits)
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts)
            .field("insecure", &self.insecure)
            .field("allow_http", &self.allow_http)
            .field("observer", &self.observer.as_ref().map(|_| "..."))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> ClientConfig {
        ClientConfig::new(Url::parse(url).unwrap(), Credentials::api_key("k"))
    }

    #[test]
    fn plain_http_only_for_loopback() {
        assert!(config("http://127.0.0.1:8080").checked_server().is_ok());
        assert!(config("http://localhost:1").checked_server().is_ok());
        assert!(config("http://[::1]:1").checked_server().is_ok());
        assert!(config("https://acme.eu.qlikcloud.com").checked_server().is_ok());
        let err = config("http://acme.eu.qlikcloud.com")
            .checked_server()
            .unwrap_err();
        assert_eq!(err.kind_code(), "config");
        assert!(err.to_string().contains("plain http"), "{err}");
        let mut allowed = config("http://acme.eu.qlikcloud.com");
        allowed.allow_http = true;
        assert!(allowed.checked_server().is_ok());
        assert!(config("ftp://x.example").checked_server().is_err());
        assert!(config("https://u:p@x.example").checked_server().is_err());
    }

    #[test]
    fn api_roots_are_taken_with_or_without() {
        let url = |s: &str| Url::parse(s).unwrap();
        for given in [
            "https://acme.example",
            "https://acme.example/",
            "https://acme.example/api/v1",
            "https://acme.example/api/v1/",
            "https://acme.example/api/v1//",
        ] {
            assert_eq!(
                strip_path_suffix(&url(given), &["api", "v1"]).as_str(),
                "https://acme.example/",
                "{given}"
            );
            assert_eq!(
                ensure_path_suffix(&url(given), &["api", "v1"]).as_str(),
                "https://acme.example/api/v1",
                "{given}"
            );
        }
        assert_eq!(
            ensure_path_suffix(&url("http://127.0.0.1:9/alumio/"), &["api", "v1"]).as_str(),
            "http://127.0.0.1:9/alumio/api/v1"
        );
        assert_eq!(
            strip_path_suffix(&url("http://127.0.0.1:9/tenant/api/v2"), &["api", "v1"]).as_str(),
            "http://127.0.0.1:9/tenant/api/v2"
        );
    }

    #[test]
    fn base_ends_with_a_slash() {
        let url = config("https://env.alumio.com/api/v1").checked_server().unwrap();
        assert_eq!(url.as_str(), "https://env.alumio.com/api/v1/");
    }
}
