//! The Qlik Cloud client: spaces, assignments, users, groups and OAuth, implementing
//! [`core_api::target::Target`] for the engine.
//!
//! Rate limiting (Tier 1 reads, Tier 2 writes), retries, token refresh and the error model come
//! from [`core_api`]; this crate knows Qlik's paths, payloads and quirks: the `name` search of
//! spaces is a contains-search, user and group lookups are SCIM filters, and a create that meets
//! an existing assignment answers 409.
//!
//! ```no_run
//! # async fn demo() -> Result<(), qlik::Error> {
//! use qlik::{Client, Config, Credentials};
//!
//! let config = Config::new("https://acme.eu.qlikcloud.com".parse().unwrap(), Credentials::api_key("..."));
//! let client = Client::new(config)?;
//! let space = client.spaces().find_by_name("Finance Prod").await?;
//! if let Some(space) = space {
//!     let assignments = client.assignments(&space.id).list_all().await?;
//! }
//! # Ok(())
//! # }
//! ```

mod client;
pub mod filter;
pub mod models;
mod target;
pub mod tenant;

pub use client::{Assignments, Client, Created, Groups, PAGE_SIZE, Spaces, Users};
pub use core_api::{Credentials, Error, Observer, RateLimits, RetryPolicy, Secret, Timeouts};

/// The client's settings: server, credentials, rate limits, retries, timeouts, TLS and plain-http
/// switches, observer. See [`core_api::ClientConfig`].
pub type Config = core_api::ClientConfig;
