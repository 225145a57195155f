//! Observer hooks: how a client tells the engine what it is doing without printing anything.
//!
//! # Attribution guarantee
//!
//! [`Observer::on_event`] is called synchronously, inline, from the future of the client call
//! that caused the event, so on the task that awaits that call: the client never spawns tasks
//! of its own. A caller that wraps a call in a `tokio::task_local!` scope (or any other
//! per-future context) therefore sees that context inside `on_event`, and can attribute
//! retries and throttling to the row that made the call. Events of one call arrive in order.
//! Keep `on_event` cheap and non-blocking: it runs on the request path.

use std::fmt;
use std::time::{Duration, Instant};

use http::Method;

use crate::Error;

/// A rate-limit tier of the API. Every request belongs to one; each tier has its own limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    /// Reads (Qlik Tier 1, default 1000/min).
    Tier1,
    /// Writes (Qlik Tier 2, default 100/min).
    Tier2,
}

impl Tier {
    /// The tier's number as the vendor documents it.
    pub fn number(self) -> u8 {
        match self {
            Tier::Tier1 => 1,
            Tier::Tier2 => 2,
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tier {}", self.number())
    }
}

/// Why a call waits before sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleSource {
    /// This call received the 429 that paused the tier.
    Received429,
    /// Another call's 429 paused the tier; this call waits for the pause to end.
    SharedPause,
}

/// Something a client did, for progress displays and journals.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A request is about to go on the wire (after rate limiting).
    RequestSent {
        /// The tier it counts against.
        tier: Tier,
        /// Method.
        method: &'a Method,
        /// Path, no query.
        path: &'a str,
        /// 1 for the first try, 2 for the first retry, ...
        attempt: u32,
    },
    /// A response came back.
    ResponseReceived {
        /// The tier.
        tier: Tier,
        /// Method.
        method: &'a Method,
        /// Path, no query.
        path: &'a str,
        /// HTTP status.
        status: u16,
        /// Time on the wire for this attempt.
        latency: Duration,
    },
    /// An attempt got no response: the connection, TLS or the timeout failed. Whether it is
    /// retried follows as [`Event::RetryScheduled`] (or the call ends with this cause).
    RequestFailed {
        /// The tier.
        tier: Tier,
        /// Method.
        method: &'a Method,
        /// Path, no query.
        path: &'a str,
        /// Time from sending to the failure.
        latency: Duration,
        /// Why.
        cause: &'a Error,
    },
    /// Requests of a tier are paused by a 429 until `until`. The call that got the 429 reports
    /// it with [`ThrottleSource::Received429`] (once per 429 received: count these for "429s
    /// received"); every call that then waits for the pause, including that one before its
    /// retry, reports [`ThrottleSource::SharedPause`].
    Throttled {
        /// The paused tier.
        tier: Tier,
        /// When requests of the tier may go again.
        until: Instant,
        /// How long from now.
        wait: Duration,
        /// Whether this call got the 429 or is waiting on another call's.
        source: ThrottleSource,
    },
    /// The server refused a burst that was within the tier's documented window (a 429): its
    /// real policy is stricter, so the tier paces steadily at `per_min` from now on. Sent once
    /// per tier and client, right before the [`Event::Throttled`] of that 429.
    BurstRefused {
        /// The tier that now paces steadily.
        tier: Tier,
        /// The rate it paces at (before headroom), requests per minute.
        per_min: u32,
    },
    /// A failed attempt will be retried after `delay`.
    RetryScheduled {
        /// The tier.
        tier: Tier,
        /// Method.
        method: &'a Method,
        /// Path, no query.
        path: &'a str,
        /// The attempt that failed (1 = the first try).
        attempt: u32,
        /// Backoff before the next attempt (for a 429: the pause).
        delay: Duration,
        /// Why the attempt failed.
        cause: &'a Error,
    },
    /// A new OAuth access token was obtained.
    TokenRefreshed {
        /// Its lifetime as the server announced it.
        expires_in: Duration,
    },
}

/// Receives [`Event`]s.
///
/// `on_event` is called synchronously, inline, from the future of the client call that caused
/// the event, so on the task that awaits that call (the client spawns no tasks of its own). A
/// caller that wraps a call in a `tokio::task_local!` scope sees that scope inside `on_event`
/// and can attribute retries and throttling to the row that made the call. Events of one call
/// arrive in order. Keep `on_event` cheap and non-blocking: it runs on the request path.
pub trait Observer: Send + Sync {
    /// Called once per event, inline on the calling task.
    fn on_event(&self, event: &Event<'_>);
}

/// Lets a closure be an observer.
impl<F> Observer for F
where
    F: Fn(&Event<'_>) + Send + Sync,
{
    fn on_event(&self, event: &Event<'_>) {
        self(event)
    }
}
