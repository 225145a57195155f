//! How a simulator behaves: latency, faults, rate limits, token lifetime and the Alumio unknowns.

use std::time::Duration;

use crate::tenant::Tenant;

/// Injected faults. Each authenticated API request that passes the rate limiter draws once from
/// the seeded RNG and gets at most one fault; the probabilities are checked in the order 500,
/// 503, reset, slow. `POST /oauth/token` and `/_sim` never fail.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Probability of a `500 Internal Server Error`.
    pub p500: f64,
    /// Probability of a `503 Service Unavailable`.
    pub p503: f64,
    /// Probability that the connection is dropped without any response (the client sees a
    /// transport error, not an HTTP status).
    pub reset: f64,
    /// Probability of a response that arrives only after [`Faults::slow_delay`].
    pub slow: f64,
    /// How late a slow response is; longer than any sane client timeout by default.
    pub slow_delay: Duration,
    /// When a write draws a fault, apply the write first and then fail (lost response), instead
    /// of failing before anything changed.
    pub apply_before_fault: bool,
}

impl Faults {
    /// No faults at all.
    pub fn none() -> Self {
        Self {
            p500: 0.0,
            p503: 0.0,
            reset: 0.0,
            slow: 0.0,
            slow_delay: Duration::from_secs(30),
            apply_before_fault: false,
        }
    }

    /// Each of the four faults with probability `p` (so about `4p` of requests fail), failing
    /// before a write is applied; set `apply_before_fault` for lost responses.
    pub fn uniform(p: f64) -> Self {
        Self {
            p500: p,
            p503: p,
            reset: p,
            slow: p,
            ..Self::none()
        }
    }

    /// Whether any fault can happen.
    pub fn any(&self) -> bool {
        self.p500 > 0.0 || self.p503 > 0.0 || self.reset > 0.0 || self.slow > 0.0
    }
}

impl Default for Faults {
    fn default() -> Self {
        Self::none()
    }
}

/// What `assign_users` does with a batch that has invalid entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlumioBatchMode {
    /// One invalid entry rejects the whole batch with 422 and nothing is applied.
    AllOrNothing,
    /// Valid entries are applied; the invalid ones come back as violations in a 422.
    Partial,
}

/// What `assign_users` does with an email that is already a member of the space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlumioExistingMember {
    /// The member's roles are replaced by the ones sent.
    Replace,
    /// The member keeps the roles they had; the entry is accepted and ignored.
    Keep,
    /// The entry is a violation ("already a member").
    Reject,
}

/// What `assign_users` does with an email the environment has no user for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlumioUnknownEmail {
    /// The user is invited (created) and added.
    Invite,
    /// The entry is a violation ("user not found").
    Reject,
}

/// The Alumio side's unknowns, each configurable so the client can be tested against every
/// plausible answer.
#[derive(Debug, Clone, PartialEq)]
pub struct AlumioConfig {
    /// Serve the Alumio API under `/alumio/api/v1`.
    pub enabled: bool,
    /// The largest batch `assign_users` accepts; a larger one gets a `422` with a violation on
    /// `users` (see the `alumio` module docs).
    /// `None` accepts any size.
    pub batch_limit: Option<usize>,
    /// All-or-nothing or partial application of a batch with invalid entries.
    pub batch_mode: AlumioBatchMode,
    /// Re-assigning an existing member.
    pub existing_member: AlumioExistingMember,
    /// Unknown emails.
    pub unknown_email: AlumioUnknownEmail,
    /// Whether violations name the entry (`users[3].email`) or only the field (`email`), which
    /// leaves the client to find the bad entries by splitting the batch.
    pub indexed_violations: bool,
    /// Send the `status` of validation errors as a string (`"422"`) instead of a number; Alumio's
    /// error schema allows both.
    pub status_as_string: bool,
    /// Serve `GET /current_space/users`; when off it answers 404 and clients fall back to one
    /// `GET /spaces/{space}/users/{email}` per user.
    pub list_enabled: bool,
    /// Reads per minute per API key (`GET`); `None` is unlimited.
    pub reads_per_min: Option<u32>,
    /// Writes per minute per API key (`POST`); `None` is unlimited.
    pub writes_per_min: Option<u32>,
}

impl Default for AlumioConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            batch_limit: Some(100),
            batch_mode: AlumioBatchMode::Partial,
            existing_member: AlumioExistingMember::Replace,
            unknown_email: AlumioUnknownEmail::Reject,
            indexed_violations: true,
            status_as_string: false,
            list_enabled: true,
            reads_per_min: Some(600),
            writes_per_min: Some(60),
        }
    }
}

/// Everything a simulator needs to start.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The starting state.
    pub tenant: Tenant,
    /// Where to listen; port 0 picks a free port. Loopback by default.
    pub addr: std::net::SocketAddr,
    /// Fixed latency added to every API response.
    pub latency: Duration,
    /// Random extra latency, uniform in `0..=jitter`.
    pub jitter: Duration,
    /// Injected faults.
    pub faults: Faults,
    /// Qlik Tier 1 (reads) per minute per user; `None` is unlimited.
    pub tier1_per_min: Option<u32>,
    /// Qlik Tier 2 (writes) per minute per user; `None` is unlimited.
    pub tier2_per_min: Option<u32>,
    /// How far ahead of an even pace requests may arrive before the limiter objects.
    ///
    /// Each tier admits one request every `60 s / limit` (a GCRA, as the `governor` crate
    /// implements it) with a burst allowance of `1 + burst_window / (60 s / limit)` requests:
    /// with the default 1 second, 2 at 100/min and 17 at 1000/min. This is stricter than Qlik's
    /// "per minute, measured over 5 minutes" on purpose: a client that paces evenly at the limit
    /// is never refused here, so it is not refused there either. The first refused request
    /// blocks the user's whole tier for a whole number of seconds (`retry-after`).
    pub burst_window: Duration,
    /// The window Qlik's limits are evaluated over; `None` (the default) paces strictly, as
    /// `burst_window` describes.
    ///
    /// Qlik evaluates each tier "over a 5-minute window to support bursts of requests". With a
    /// window, each Qlik tier admits at most `limit × window / 60 s` requests of a user in any
    /// span of `window` (a sliding window, the strictest reading of that sentence), as fast as
    /// they come; the request that would exceed it is refused with a `retry-after` lasting until
    /// the oldest request leaves the window. `roster sim` uses 300 s unless told otherwise. The
    /// Alumio side always paces strictly: its limits are not published.
    pub window: Option<Duration>,
    /// Lifetime of OAuth access tokens.
    pub token_ttl: Duration,
    /// Seed for jitter, faults and token values.
    pub seed: u64,
    /// Serve the Qlik API (`/api/v1`, `/oauth/token`).
    pub qlik_enabled: bool,
    /// The Alumio side.
    pub alumio: AlumioConfig,
}

impl SimConfig {
    /// The real service's limits, 1000/min and 100/min, paced strictly (set [`SimConfig::window`]
    /// for Qlik's documented window); no latency, no faults, 6-hour tokens.
    pub fn new(tenant: Tenant) -> Self {
        Self {
            tenant,
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            faults: Faults::none(),
            tier1_per_min: Some(1000),
            tier2_per_min: Some(100),
            burst_window: Duration::from_secs(1),
            window: None,
            token_ttl: Duration::from_secs(6 * 3600),
            seed: 1,
            qlik_enabled: true,
            alumio: AlumioConfig::default(),
        }
    }
}
