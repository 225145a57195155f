//! Client-side rate limiting: smooth pacing per tier, and a shared pause after a 429.
//!
//! One [`Limiters`] belongs to one client, and a client is one (target, credential): so there is
//! one limiter per (target, credential, tier), matching how the APIs count. Two clients built for
//! the same credential do not share budgets; build one client per credential and share it.
//!
//! Pacing is smooth: a GCRA (governor) with a burst of 2 by default, so requests are spaced
//! evenly at the quota and no burst can trip the server's window. The burst of 2 (not 1) lets a
//! request that the timer woke a millisecond late keep its slot on the grid instead of pushing
//! every later slot back; at most two requests ever go back to back. Waiters queue in FIFO
//! order, one at a time, on the pacer, so hundreds of concurrent calls cost no more CPU than a
//! few and are served in the order they arrived. The quota is multiplied by
//! [`RateLimits::headroom`] (default 0.98) so that the server, whose clock and window
//! boundaries differ slightly from ours, never counts more than its limit: the achieved rate is
//! 98% of the quota.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use parking_lot::Mutex;
use rand::Rng;

use crate::observe::{Event, Observer, ThrottleSource, Tier};

/// Request quotas per tier, per minute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    /// Tier 1 (reads) requests per minute; 0 disables client-side pacing for the tier.
    pub tier1_per_min: u32,
    /// Tier 2 (writes) requests per minute; 0 disables client-side pacing for the tier.
    pub tier2_per_min: u32,
    /// How many requests may go back to back before pacing applies (at least 1). Keep it small:
    /// the server measures over a window and a burst would use up budget ahead of time.
    pub burst: u32,
    /// Fraction of the quota actually used (0 < headroom <= 1), absorbing clock skew.
    pub headroom: f64,
}

impl Default for RateLimits {
    /// Qlik Cloud's documented limits: Tier 1 1000/min, Tier 2 100/min.
    fn default() -> Self {
        RateLimits {
            tier1_per_min: 1000,
            tier2_per_min: 100,
            burst: 2,
            headroom: 0.98,
        }
    }
}

impl RateLimits {
    /// Limits with the given per-minute quotas and the default burst and headroom.
    pub fn per_minute(tier1: u32, tier2: u32) -> Self {
        RateLimits {
            tier1_per_min: tier1,
            tier2_per_min: tier2,
            ..RateLimits::default()
        }
    }

    /// No client-side pacing at all (tests against servers without limits).
    pub fn unlimited() -> Self {
        RateLimits {
            tier1_per_min: 0,
            tier2_per_min: 0,
            ..RateLimits::default()
        }
    }

    /// The quota of one tier, per minute.
    pub fn for_tier(&self, tier: Tier) -> u32 {
        match tier {
            Tier::Tier1 => self.tier1_per_min,
            Tier::Tier2 => self.tier2_per_min,
        }
    }

    /// The spacing between two requests of a tier, after headroom; `None` when unpaced.
    pub fn interval(&self, tier: Tier) -> Option<Duration> {
        let per_min = self.for_tier(tier);
        if per_min == 0 {
            return None;
        }
        let headroom = if self.headroom > 0.0 && self.headroom <= 1.0 {
            self.headroom
        } else {
            1.0
        };
        Some(Duration::from_secs_f64(60.0 / (f64::from(per_min) * headroom)))
    }
}

/// The limiter of one tier: GCRA pacing plus a "blocked until" shared by every call of the tier.
pub(crate) struct TierLimiter {
    tier: Tier,
    pacer: Option<DefaultDirectRateLimiter>,
    /// Lets one waiter at a time at the pacer (FIFO), instead of waking every waiter for every
    /// slot.
    queue: tokio::sync::Mutex<()>,
    blocked_until: Mutex<Option<Instant>>,
}

impl TierLimiter {
    fn new(tier: Tier, limits: &RateLimits) -> Self {
        let burst = NonZeroU32::new(limits.burst).unwrap_or(NonZeroU32::MIN);
        let pacer = limits
            .interval(tier)
            .and_then(Quota::with_period)
            .map(|quota| RateLimiter::direct(quota.allow_burst(burst)));
        TierLimiter {
            tier,
            pacer,
            queue: tokio::sync::Mutex::new(()),
            blocked_until: Mutex::new(None),
        }
    }

    fn blocked(&self) -> Option<Instant> {
        let mut guard = self.blocked_until.lock();
        match *guard {
            Some(until) if until > Instant::now() => Some(until),
            Some(_) => {
                *guard = None;
                None
            }
            None => None,
        }
    }

    /// Waits until a request of this tier may go: first out of any shared pause, then through
    /// the pacer, then once more out of a pause that began while this call was being paced.
    pub(crate) async fn acquire(&self, observer: Option<&Arc<dyn Observer>>) {
        self.wait_out_pause(observer).await;
        if let Some(pacer) = &self.pacer {
            let _turn = self.queue.lock().await;
            pacer.until_ready().await;
            if self.blocked().is_some() {
                self.wait_out_pause(observer).await;
                // The pause consumed no budget; take a fresh slot so that the requests released
                // together at its end are spaced out again.
                pacer.until_ready().await;
            }
        }
    }

    async fn wait_out_pause(&self, observer: Option<&Arc<dyn Observer>>) {
        while let Some(until) = self.blocked() {
            if let Some(observer) = observer {
                let wait = until.saturating_duration_since(Instant::now());
                observer.on_event(&Event::Throttled {
                    tier: self.tier,
                    until,
                    wait,
                    source: ThrottleSource::SharedPause,
                });
            }
            tokio::time::sleep_until(until.into()).await;
        }
    }

    /// Pauses the whole tier for `retry_after` plus up to 10% (at most 1 s) of jitter, so that the
    /// waiting calls do not all hit the server in the same millisecond. Returns the end of the
    /// pause (an existing later pause wins).
    pub(crate) fn pause(&self, retry_after: Duration) -> Instant {
        let jitter_cap = (retry_after / 10).clamp(Duration::from_millis(20), Duration::from_secs(1));
        let jitter = rand::rng().random_range(Duration::ZERO..=jitter_cap);
        let until = Instant::now() + retry_after + jitter;
        let mut guard = self.blocked_until.lock();
        let until = match *guard {
            Some(existing) if existing > until => existing,
            _ => until,
        };
        *guard = Some(until);
        until
    }
}

/// The limiters of one client, one per tier.
pub(crate) struct Limiters {
    tier1: TierLimiter,
    tier2: TierLimiter,
}

impl Limiters {
    pub(crate) fn new(limits: &RateLimits) -> Self {
        Limiters {
            tier1: TierLimiter::new(Tier::Tier1, limits),
            tier2: TierLimiter::new(Tier::Tier2, limits),
        }
    }

    pub(crate) fn tier(&self, tier: Tier) -> &TierLimiter {
        match tier {
            Tier::Tier1 => &self.tier1,
            Tier::Tier2 => &self.tier2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn paces_smoothly_without_bursts() {
        // 1200/min with headroom 1.0 is one request per 50 ms; the default burst is 2.
        let limits = RateLimits {
            headroom: 1.0,
            ..RateLimits::per_minute(1200, 0)
        };
        let limiter = TierLimiter::new(Tier::Tier1, &limits);
        let start = Instant::now();
        let mut stamps = Vec::new();
        for _ in 0..7 {
            limiter.acquire(None).await;
            stamps.push(start.elapsed());
        }
        // Seven requests need five intervals after the first two; a larger burst would let
        // more through at once.
        assert!(stamps[6] >= Duration::from_millis(240), "{stamps:?}");
        for triple in stamps.windows(3) {
            assert!(triple[2] - triple[0] >= Duration::from_millis(40), "{stamps:?}");
        }
    }

    #[tokio::test]
    async fn pause_blocks_every_caller_of_the_tier() {
        let limits = RateLimits::unlimited();
        let limiters = Arc::new(Limiters::new(&limits));
        let until = limiters.tier(Tier::Tier2).pause(Duration::from_millis(200));
        let mut handles = Vec::new();
        for _ in 0..4 {
            let limiters = limiters.clone();
            handles.push(tokio::spawn(async move {
                limiters.tier(Tier::Tier2).acquire(None).await;
                Instant::now()
            }));
        }
        // Tier 1 is not affected.
        let t1 = Instant::now();
        limiters.tier(Tier::Tier1).acquire(None).await;
        assert!(t1.elapsed() < Duration::from_millis(100));
        for handle in handles {
            assert!(handle.await.unwrap() >= until);
        }
    }

    #[test]
    fn headroom_lowers_the_rate() {
        let limits = RateLimits::per_minute(600, 100);
        let interval = limits.interval(Tier::Tier1).unwrap();
        assert!(interval > Duration::from_millis(100) && interval < Duration::from_millis(103));
        assert_eq!(RateLimits::unlimited().interval(Tier::Tier2), None);
    }
}
