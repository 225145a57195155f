//! The HTTP engine under every vendor client: one pooled reqwest client, authentication, rate
//! limiting, retries and observer events around each request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{HeaderMap, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::Error;
use crate::auth::Auth;
use crate::config::ClientConfig;
use crate::error::{ErrorKind, Problem, TlsProblem, root_cause};
use crate::limit::Limiters;
use crate::observe::{Event, Observer, ThrottleSource, Tier};
use crate::retry::RetryPolicy;

/// What a vendor client tells the HTTP layer about its API.
#[derive(Debug, Clone, Copy)]
pub struct Vendor {
    /// Where OAuth client credentials are exchanged for a token, relative to the server.
    pub token_path: &'static str,
    /// The OAuth scope used when the credentials name none.
    pub default_scope: &'static str,
    /// Decodes an error response body; must not fail (return an empty [`Problem`] instead).
    pub parse_problem: fn(&[u8]) -> Problem,
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Full URL (see [`HttpClient::url`]).
    pub url: Url,
    /// The rate-limit tier it counts against.
    pub tier: Tier,
    /// A JSON body, serialised once and reused by every attempt.
    pub body: Option<Bytes>,
}

impl Request {
    /// A request without a body.
    pub fn new(method: Method, url: Url, tier: Tier) -> Self {
        Request {
            method,
            url,
            tier,
            body: None,
        }
    }

    /// Attaches a JSON body.
    pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Result<Self, Error> {
        let bytes =
            serde_json::to_vec(body).map_err(|e| Error::invalid(format!("encode the request body ({e})")))?;
        self.body = Some(Bytes::from(bytes));
        Ok(self)
    }
}

/// A successful response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Its status (2xx).
    pub status: StatusCode,
    /// The raw body.
    pub body: Bytes,
    /// How many times the request was sent.
    pub attempts: u32,
    /// Time from the first attempt to this response.
    pub elapsed: Duration,
    method: Method,
    path: String,
}

impl Response {
    /// Decodes the body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|source| {
            Error::from(ErrorKind::Decode {
                method: self.method.clone(),
                path: self.path.clone(),
                source,
            })
            .with_attempts(self.attempts, self.elapsed)
        })
    }
}

/// A cheap-to-clone handle on one tenant with one credential. Clones share the connection pool,
/// the token cache and the rate limiters.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    base: Url,
    auth: Auth,
    limiters: Limiters,
    retry: RetryPolicy,
    observer: Option<Arc<dyn Observer>>,
    vendor: Vendor,
    /// Whether the server has answered at least once. Until it has, a refused connection means
    /// nothing listens at the address (a wrong URL or port) and is not retried; afterwards it
    /// is a restart or a blip, and retried.
    answered: AtomicBool,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("base", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Builds a client: checks the settings and sets up the connection pool (rustls, TLS
    /// verification unless `insecure`, user agent `roster/<version>`). Sends nothing.
    pub fn new(config: ClientConfig, vendor: Vendor) -> Result<Self, Error> {
        let base = config.checked_server()?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(concat!("roster/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .connect_timeout(config.timeouts.connect)
            .timeout(config.timeouts.request)
            .danger_accept_invalid_certs(config.insecure)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| Error::config(format!("set up the HTTP client ({})", root_cause(&e))))?;
        let token_url = base
            .join(vendor.token_path.trim_start_matches('/'))
            .map_err(|e| Error::config(format!("build the token URL ({e})")))?;
        let auth = Auth::new(&config.credentials, token_url, vendor.default_scope)?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                client,
                base,
                auth,
                limiters: Limiters::new(&config.limits),
                retry: config.retry,
                observer: config.observer,
                vendor,
                answered: AtomicBool::new(false),
            }),
        })
    }

    /// The server's base URL (ends with `/`).
    pub fn base(&self) -> &Url {
        &self.inner.base
    }

    /// A URL below the server. A path starting with `/` replaces the base URL's path.
    pub fn url(&self, path: &str) -> Result<Url, Error> {
        self.inner
            .base
            .join(path)
            .map_err(|e| Error::invalid(format!("build a URL from `{path}` ({e})")))
    }

    pub(crate) fn observer(&self) -> Option<&Arc<dyn Observer>> {
        self.inner.observer.as_ref()
    }

    pub(crate) fn emit(&self, event: Event<'_>) {
        // Events carry methods, paths, statuses and error bodies, never credentials, so they are
        // safe to log; with no subscriber installed this costs one cached level check.
        tracing::debug!(?event, "http");
        if let Some(observer) = &self.inner.observer {
            observer.on_event(&event);
        }
    }

    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    pub(crate) fn vendor(&self) -> &Vendor {
        &self.inner.vendor
    }

    /// Sends a GET and decodes the JSON answer.
    pub async fn get_json<T: DeserializeOwned>(&self, url: Url, tier: Tier) -> Result<T, Error> {
        self.execute(&Request::new(Method::GET, url, tier)).await?.json()
    }

    /// Sends a request, waiting for the tier's limiter first and retrying per the policy.
    ///
    /// A non-2xx answer is an [`ErrorKind::Api`] error carrying the decoded error body. On a 401
    /// with OAuth credentials the token is refreshed and the request sent once more. On a 429
    /// every request of the tier pauses until `retry-after` (plus jitter) has passed.
    pub async fn execute(&self, request: &Request) -> Result<Response, Error> {
        let start = Instant::now();
        let limiter = self.inner.limiters.tier(request.tier);
        let path = request.url.path();
        let mut attempt: u32 = 0;
        let mut refreshed_on_401 = false;
        loop {
            attempt += 1;
            limiter.acquire(self.observer()).await;
            let token = self.inner.auth.bearer(self).await.map_err(|e| {
                Error::from(ErrorKind::Token { source: e }).with_attempts(attempt, start.elapsed())
            })?;
            self.emit(Event::RequestSent {
                tier: request.tier,
                method: &request.method,
                path,
                attempt,
            });
            let sent = Instant::now();
            let error = match self.send_once(request, token.header.clone()).await {
                Ok((status, retry_after, body)) => {
                    self.emit(Event::ResponseReceived {
                        tier: request.tier,
                        method: &request.method,
                        path,
                        status: status.as_u16(),
                        latency: sent.elapsed(),
                    });
                    if status.is_success() {
                        return Ok(Response {
                            status,
                            body,
                            attempts: attempt,
                            elapsed: start.elapsed(),
                            method: request.method.clone(),
                            path: path.to_owned(),
                        });
                    }
                    let problem = (self.inner.vendor.parse_problem)(&body);
                    let error = Error::from(ErrorKind::Api {
                        method: request.method.clone(),
                        path: path.to_owned(),
                        status,
                        problem,
                        retry_after,
                    });
                    if status == StatusCode::UNAUTHORIZED
                        && self.inner.auth.can_refresh()
                        && !refreshed_on_401
                    {
                        // An expired or revoked token: get a new one and try once more, at once.
                        refreshed_on_401 = true;
                        self.inner.auth.invalidate(token.generation);
                        self.emit(Event::RetryScheduled {
                            tier: request.tier,
                            method: &request.method,
                            path,
                            attempt,
                            delay: Duration::ZERO,
                            cause: &error.with_attempts(attempt, start.elapsed()),
                        });
                        continue;
                    }
                    error
                }
                Err(error) => {
                    self.emit(Event::RequestFailed {
                        tier: request.tier,
                        method: &request.method,
                        path,
                        latency: sent.elapsed(),
                        cause: &error,
                    });
                    error
                }
            };
            // A 429 pauses the whole tier, whether or not this call tries again.
            let paused_until = (error.status() == Some(429)).then(|| {
                let wait = error
                    .retry_after()
                    .unwrap_or(self.inner.retry.default_retry_after);
                let until = limiter.pause(wait);
                if let Some(per_min) = limiter.fall_back_to_steady() {
                    self.emit(Event::BurstRefused {
                        tier: request.tier,
                        per_min,
                    });
                }
                self.emit(Event::Throttled {
                    tier: request.tier,
                    until,
                    wait: until.saturating_duration_since(Instant::now()),
                    source: ThrottleSource::Received429,
                });
                until
            });
            if !self.worth_retrying(&error) || !self.inner.retry.allows_another(attempt) {
                return Err(error.with_attempts(attempt, start.elapsed()));
            }
            let delay = match paused_until {
                // The limiter holds this call (and every other of the tier) until the pause ends.
                Some(until) => until.saturating_duration_since(Instant::now()),
                None => self.inner.retry.backoff(attempt),
            };
            self.emit(Event::RetryScheduled {
                tier: request.tier,
                method: &request.method,
                path,
                attempt,
                delay,
                cause: &error,
            });
            if paused_until.is_none() && !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
    }

    /// Whether a failed attempt is worth sending again: a retryable error, except a refused
    /// connection or an unknown host name before the server has ever answered (nothing listens
    /// at the address, or the name is misspelt, and retrying would only delay saying so). Once
    /// it has answered, either is a passing failure (a restart, a resolver's hiccup).
    pub(crate) fn worth_retrying(&self, error: &Error) -> bool {
        let answered = self.inner.answered.load(Ordering::Relaxed);
        error.is_retryable() && (answered || !error.is_unreachable())
    }

    /// One attempt on the wire, without retries: status, `retry-after` and body. Transport
    /// failures become timeout or connection errors.
    pub(crate) async fn send_once(
        &self,
        request: &Request,
        authorization: Option<HeaderValue>,
    ) -> Result<(StatusCode, Option<Duration>, Bytes), Error> {
        let mut builder = self
            .inner
            .client
            .request(request.method.clone(), request.url.clone());
        if let Some(value) = authorization {
            builder = builder.header(AUTHORIZATION, value);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let transport = |e: reqwest::Error| transport_error(&request.method, request.url.path(), &e);
        let response = builder.send().await.map_err(transport)?;
        let status = response.status();
        let retry_after = response.headers().get(RETRY_AFTER).and_then(parse_retry_after);
        self.inner.answered.store(true, Ordering::Relaxed);
        let body = response.bytes().await.map_err(transport)?;
        Ok((status, retry_after, body))
    }
}

fn transport_error(method: &Method, path: &str, error: &reqwest::Error) -> Error {
    let method = method.clone();
    let path = path.to_owned();
    let cause = root_cause(error);
    let kind = if error.is_timeout() {
        ErrorKind::Timeout { method, path, cause }
    } else if let Some(problem) = tls_problem(error) {
        ErrorKind::Tls {
            method,
            path,
            problem,
            cause,
        }
    } else if io_errors(error).any(|e| e.kind() == std::io::ErrorKind::ConnectionRefused) {
        ErrorKind::Refused { method, path, cause }
    } else if is_dns_failure(error) {
        ErrorKind::UnknownHost { method, path, cause }
    } else {
        ErrorKind::Connection { method, path, cause }
    };
    kind.into()
}

/// Every error in `error`'s chain. An io error hides the error it wraps from `source()`, so the
/// walk also steps into each io error's inner error (`get_ref`).
fn chain<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |e| {
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .map(|inner| inner as &(dyn std::error::Error + 'static));
        inner.or_else(|| e.source())
    })
}

/// The io errors in an error's chain.
fn io_errors<'a>(error: &'a (dyn std::error::Error + 'static)) -> impl Iterator<Item = &'a std::io::Error> {
    chain(error).filter_map(|e| e.downcast_ref::<std::io::Error>())
}

/// Whether the connection failed on resolving the host name. hyper's connector names that
/// step `dns error` in its error and exposes no type for it, so the chain is matched by that text.
fn is_dns_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    chain(error).any(|e| e.to_string().starts_with("dns error"))
}

/// The kind of TLS failure in a transport error's chain, if it is one.
fn tls_problem(error: &reqwest::Error) -> Option<TlsProblem> {
    let tls = chain(error).find_map(|e| e.downcast_ref::<rustls::Error>())?;
    Some(match tls {
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
            TlsProblem::Certificate
        }
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. } => TlsProblem::NotTls,
        _ => TlsProblem::Handshake,
    })
}

/// `retry-after` in seconds (integer or decimal). The HTTP-date form is not used by the APIs
/// we talk to; it falls back to the policy's default wait.
fn parse_retry_after(value: &HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    let seconds: f64 = text.parse().ok()?;
    if seconds.is_finite() && seconds >= 0.0 {
        // Never wait for more than the servers' longest window.
        Some(Duration::from_secs_f64(seconds.min(600.0)))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_retry_after_seconds() {
        assert_eq!(
            parse_retry_after(&HeaderValue::from_static("13")),
            Some(Duration::from_secs(13))
        );
        assert_eq!(
            parse_retry_after(&HeaderValue::from_static(" 1.5 ")),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after(&HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(parse_retry_after(&HeaderValue::from_static("-1")), None);
    }

    /// A resolver that knows no name, so that a failed lookup is made without any network.
    struct NoNames;

    impl reqwest::dns::Resolve for NoNames {
        fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
            Box::pin(async {
                Err(
                    Box::new(std::io::Error::other("failed to lookup address information"))
                        as Box<dyn std::error::Error + Send + Sync>,
                )
            })
        }
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_an_unknown_host_with_a_hint() {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(NoNames))
            .build()
            .unwrap();
        let error = client
            .get("http://no-such-tenant.example/api/v1/users")
            .send()
            .await
            .expect_err("no name resolves");
        let error = transport_error(&Method::GET, "/api/v1/users", &error);
        assert!(error.is_unreachable(), "{error}");
        assert!(!error.is_refused(), "{error}");
        assert_eq!(error.remedy(), Some(crate::error::Remedy::CheckHostName));
        assert_eq!(error.kind_code(), "connection");
        assert!(error.to_string().contains("host name was not found"), "{error}");
    }
}
