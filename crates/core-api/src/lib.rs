//! Shared ground for roster's vendor clients.
//!
//! This crate owns what every target has in common: the HTTP client setup ([`HttpClient`],
//! [`ClientConfig`]), credentials and secrets ([`Credentials`], [`Secret`]), rate limiting
//! ([`RateLimits`]), the retry policy ([`RetryPolicy`]), the error model ([`Error`]), pagination
//! ([`Page`]), observer hooks ([`Observer`], [`Event`]) and the [`target`] traits through which
//! the engine drives a tenant. It never prints: progress reaches the engine through the observer.
//!
//! # Guarantees the engine relies on
//!
//! - Every request waits for its tier's limiter: within the window's budget with
//!   [`Pace::Burst`], or paced at [`RateLimits`] × headroom with [`Pace::Steady`]; and a shared
//!   pause after any 429 of the tier (`retry-after` plus jitter), after which a bursting tier
//!   paces steadily ([`Event::BurstRefused`]).
//! - Retries (429, 500, 502, 503, 504, timeouts, connection failures) happen inside the call; the
//!   returned [`Error`] says how many attempts were made and for how long ([`Error::attempts`],
//!   [`Error::elapsed`]). TLS failures are never retried, nor is a refused connection before the
//!   server has answered once (nothing listens there); [`Error::remedy`] says what would fix them.
//! - [`Observer::on_event`] runs synchronously on the task that awaits the call, so a
//!   `tokio::task_local!` set around the call identifies the row an [`Event::RetryScheduled`]
//!   or [`Event::Throttled`] belongs to. See [`Observer`].
//! - Nothing is printed, and no secret reaches a `Debug`/`Display` output or an error.
//!
//! ```no_run
//! use core_api::{ClientConfig, Credentials, RateLimits, RetryPolicy};
//!
//! let mut config = ClientConfig::new(
//!     "https://acme.eu.qlikcloud.com".parse().unwrap(),
//!     Credentials::api_key("..."),
//! );
//! config.limits = RateLimits::per_minute(1000, 100);
//! config.retry = RetryPolicy::default();
//! // A vendor crate turns this into its client, e.g. `qlik::Client::new(config)`.
//! ```

mod auth;
mod config;
mod credentials;
mod error;
mod http;
mod limit;
mod observe;
mod page;
mod retry;
pub mod target;
pub mod tenant;
mod window;

pub use config::{ClientConfig, Timeouts, ensure_path_suffix, strip_path_suffix};
pub use credentials::{Credentials, Secret};
pub use error::{Error, ErrorKind, Problem, Remedy, TlsProblem, is_retryable_status};
pub use http::{HttpClient, Request, Response, Vendor};
pub use limit::{Pace, QLIK_WINDOW, RateLimits};
pub use observe::{Event, Observer, ThrottleSource, Tier};
pub use page::{Link, Page, PageLinks};
pub use retry::RetryPolicy;

/// Re-exported so vendor crates and the engine name the same types.
pub use ::http::{Method, StatusCode};
pub use url::Url;
