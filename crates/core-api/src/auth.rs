//! Bearer tokens: a fixed API key, or OAuth client-credentials tokens cached and refreshed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http::Method;
use http::header::HeaderValue;
use parking_lot::RwLock;
use serde::Deserialize;
use url::Url;

use crate::Error;
use crate::credentials::{Credentials, Secret};
use crate::error::ErrorKind;
use crate::http::{HttpClient, Request};
use crate::observe::{Event, Tier};

/// A bearer header and the token generation it came from (to invalidate exactly that one).
pub(crate) struct Bearer {
    pub(crate) header: Option<HeaderValue>,
    pub(crate) generation: u64,
}

pub(crate) enum Auth {
    ApiKey(HeaderValue),
    OAuth(Box<OAuth>),
}

pub(crate) struct OAuth {
    client_id: String,
    client_secret: Secret,
    scope: String,
    token_url: Url,
    cached: RwLock<Option<Cached>>,
    /// Only one task fetches a token at a time; the others wait and reuse its result.
    refresh: tokio::sync::Mutex<()>,
    generation: AtomicU64,
}

struct Cached {
    header: HeaderValue,
    refresh_at: Instant,
    generation: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<f64>,
}

fn bearer_header(token: &str) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| Error::config("use a token made of visible ASCII characters"))?;
    // Keeps the value out of hyper's and reqwest's debug output.
    value.set_sensitive(true);
    Ok(value)
}

impl Auth {
    pub(crate) fn new(credentials: &Credentials, token_url: Url, default_scope: &str) -> Result<Self, Error> {
        match credentials {
            Credentials::ApiKey(key) => {
                if key.is_empty() {
                    return Err(Error::config("use a non-empty API key"));
                }
                Ok(Auth::ApiKey(bearer_header(key.expose())?))
            }
            Credentials::OAuth {
                client_id,
                client_secret,
                scope,
            } => Ok(Auth::OAuth(Box::new(OAuth {
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                scope: scope.clone().unwrap_or_else(|| default_scope.to_owned()),
                token_url,
                cached: RwLock::new(None),
                refresh: tokio::sync::Mutex::new(()),
                generation: AtomicU64::new(0),
            }))),
        }
    }

    pub(crate) fn can_refresh(&self) -> bool {
        matches!(self, Auth::OAuth(_))
    }

    pub(crate) async fn bearer(&self, http: &HttpClient) -> Result<Bearer, Error> {
        match self {
            Auth::ApiKey(header) => Ok(Bearer {
                header: Some(header.clone()),
                generation: 0,
            }),
            Auth::OAuth(oauth) => oauth.bearer(http).await,
        }
    }

    /// Drops the cached token if it is still the one that got a 401.
    pub(crate) fn invalidate(&self, generation: u64) {
        if let Auth::OAuth(oauth) = self {
            let mut cached = oauth.cached.write();
            if cached.as_ref().is_some_and(|c| c.generation == generation) {
                *cached = None;
            }
        }
    }
}

impl OAuth {
    fn current(&self) -> Option<Bearer> {
        let cached = self.cached.read();
        cached
            .as_ref()
            .filter(|c| Instant::now() < c.refresh_at)
            .map(|c| Bearer {
                header: Some(c.header.clone()),
                generation: c.generation,
            })
    }

    async fn bearer(&self, http: &HttpClient) -> Result<Bearer, Error> {
        if let Some(bearer) = self.current() {
            return Ok(bearer);
        }
        let _guard = self.refresh.lock().await;
        if let Some(bearer) = self.current() {
            return Ok(bearer);
        }
        let (header, expires_in) = self.fetch(http).await?;
        // Refresh ahead of expiry, so no request goes out with a token about to lapse.
        let margin = (expires_in / 5).min(Duration::from_secs(60));
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        *self.cached.write() = Some(Cached {
            header: header.clone(),
            refresh_at: Instant::now() + expires_in - margin,
            generation,
        });
        http.emit(Event::TokenRefreshed { expires_in });
        Ok(Bearer {
            header: Some(header),
            generation,
        })
    }

    /// Asks the token endpoint, retrying transient failures per the client's policy.
    async fn fetch(&self, http: &HttpClient) -> Result<(HeaderValue, Duration), Error> {
        let body = serde_json::json!({
            "client_id": self.client_id,
            "client_secret": self.client_secret.expose(),
            "grant_type": "client_credentials",
            "scope": self.scope,
        });
        // The token endpoint has no documented tier; it is not paced, only retried.
        let request = Request::new(Method::POST, self.token_url.clone(), Tier::Tier1).json(&body)?;
        let policy = http.retry_policy();
        let start = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = http.send_once(&request, None).await;
            let error = match result {
                Ok((status, _, body)) if status.is_success() => {
                    let token: TokenResponse = serde_json::from_slice(&body).map_err(|source| {
                        Error::from(ErrorKind::Decode {
                            method: Method::POST,
                            path: self.token_url.path().to_owned(),
                            source,
                        })
                    })?;
                    let expires_in = token
                        .expires_in
                        .filter(|s| s.is_finite() && *s > 0.0)
                        .map_or(Duration::from_secs(3600), Duration::from_secs_f64);
                    return Ok((bearer_header(&token.access_token)?, expires_in));
                }
                Ok((status, _, body)) => Error::from(ErrorKind::Api {
                    method: Method::POST,
                    path: self.token_url.path().to_owned(),
                    status,
                    problem: (http.vendor().parse_problem)(&body),
                    retry_after: None,
                }),
                Err(error) => error,
            };
            if !http.worth_retrying(&error) || !policy.allows_another(attempt) {
                return Err(error.with_attempts(attempt, start.elapsed()));
            }
            tokio::time::sleep(policy.backoff(attempt)).await;
        }
    }
}
