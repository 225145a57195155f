//! The Alumio client: spaces and bulk `assign_users`, implementing
//! [`core_api::target::Target`] for the engine.
//!
//! Rate limiting, retries and the error model come from [`core_api`]; this crate knows Alumio's
//! paths, payloads and unknowns. Users are identified by email (there is no user directory to
//! search), spaces by identifier (or display name, by listing), memberships are read per space
//! (or one user at a time where the list endpoint is missing), and writes go in batches of up to
//! [`Config::batch_size`] users per `POST /spaces/{space}/assign_users`. A rejected batch is
//! taken apart by what the server says about it: see the `write` module.
//!
//! Much of the API's behaviour is undocumented (rate limits, the largest batch, all-or-nothing
//! batches, re-assigning members, unknown emails); the client is built to work with every
//! plausible answer and learns the ones that matter while it runs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), alumio::Error> {
//! use alumio::{Client, Config, Credentials};
//!
//! let config = Config::new("https://acme.alumio.com/api/v1".parse().unwrap(), Credentials::api_key("..."))
//!     .with_batch_size(50);
//! let client = Client::new(config)?;
//! if let Some(space) = client.spaces().find("Sales EU").await? {
//!     let members = client.members(space.identifier.as_deref().unwrap_or_default()).list_all().await?;
//! #   let _ = members;
//! }
//! # Ok(())
//! # }
//! ```

mod client;
mod config;
pub mod models;
mod target;
mod verdict;
mod write;

pub use client::{Client, Members, PAGE_SIZE, Spaces, is_identifier};
pub use config::{
    Config, DEFAULT_BATCH_SIZE, DEFAULT_READS_PER_MIN, DEFAULT_WRITES_PER_MIN, MAX_BATCH_SIZE,
    default_rate_limits,
};
pub use core_api::{Credentials, Error, Observer, RateLimits, RetryPolicy, Secret, Timeouts};
