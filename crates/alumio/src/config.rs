//! The client's settings: the shared HTTP settings plus the batch size, with Alumio's defaults.

use core_api::{ClientConfig, Credentials, RateLimits, Url};

/// Users per `assign_users` call unless configured (`--batch-size`).
pub const DEFAULT_BATCH_SIZE: usize = 50;

/// The largest batch size the settings accept. Alumio states no limit; a server that takes
/// fewer says so and the client sends smaller batches from then on.
pub const MAX_BATCH_SIZE: usize = 1000;

/// Reads per minute unless configured. Alumio publishes no limit; this is a conservative guess
/// that a 429 would correct (the client then waits as told).
pub const DEFAULT_READS_PER_MIN: u32 = 600;

/// Write calls (`assign_users`, each carrying a whole batch) per minute unless configured.
/// Alumio publishes no limit; this is a conservative guess.
pub const DEFAULT_WRITES_PER_MIN: u32 = 60;

/// The default client-side rate limits for Alumio: [`DEFAULT_READS_PER_MIN`] reads (tier 1) and
/// [`DEFAULT_WRITES_PER_MIN`] writes (tier 2).
pub fn default_rate_limits() -> RateLimits {
    RateLimits::per_minute(DEFAULT_READS_PER_MIN, DEFAULT_WRITES_PER_MIN)
}

/// Everything an Alumio client needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Server (`https://<environment>.alumio.com/api/v1`), API key, rate limits (tier 1 reads,
    /// tier 2 writes), retries, timeouts, TLS switches and observer.
    pub http: ClientConfig,
    /// The most users one `assign_users` call carries (1 to [`MAX_BATCH_SIZE`]).
    pub batch_size: usize,
}

impl Config {
    /// Settings with Alumio's defaults: [`default_rate_limits`], [`DEFAULT_BATCH_SIZE`], and the
    /// defaults of [`ClientConfig::new`] for the rest.
    pub fn new(server: Url, credentials: Credentials) -> Self {
        let mut http = ClientConfig::new(server, credentials);
        http.limits = default_rate_limits();
        Config {
            http,
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }

    /// Settings from HTTP settings built elsewhere, taken as they are (their rate limits
    /// included), with the default batch size.
    pub fn from_http(http: ClientConfig) -> Self {
        Config {
            http,
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }

    /// The same settings with another batch size.
    #[must_use]
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }
}
