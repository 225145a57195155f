//! Rate limits per user per tier, with the blocking rule clients must respect.
//!
//! Qlik documents "1000 requests per minute, measured over 5 minutes", without saying how bursts
//! are treated. The simulator is deliberately stricter than that, so that a client that never
//! gets a 429 here will not get one there either: each tier is a GCRA (a leaky bucket, the
//! algorithm of the `governor` crate) that emits one request every `60s / limit`, with a burst
//! allowance of `1 + burst_window / (60s / limit)` requests (`burst_window` defaults to 1 second:
//! 2 requests at 100/min, 17 at 1000/min). A client that paces its requests evenly at the limit
//! never exceeds it, even when the network delivers some of them up to `burst_window` early; a
//! burst above the allowance is refused.
//!
//! The first refused request blocks the user's whole tier until the moment the bucket would
//! accept a request again, rounded up to whole seconds: every request of that tier until then is
//! answered 429 with the remaining whole seconds (at least 1) in `retry-after`, whatever the
//! bucket says. Requests that are refused do not use up the budget.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use parking_lot::Mutex;

/// A rate-limited bucket family: one API and tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Bucket {
    QlikTier1,
    QlikTier2,
    AlumioRead,
    AlumioWrite,
}

struct TierLimiter {
    gcra: Option<DefaultKeyedRateLimiter<String>>,
    blocked_until: HashMap<String, Instant>,
}

impl TierLimiter {
    fn new(per_min: Option<u32>, burst_window: Duration) -> Self {
        let gcra = per_min.and_then(NonZeroU32::new).and_then(|limit| {
            let period = Duration::from_secs(60) / limit.get();
            let extra = burst_window.as_nanos() / period.as_nanos().max(1);
            let burst = u32::try_from(extra).unwrap_or(u32::MAX - 1).saturating_add(1);
            let quota = Quota::with_period(period)?.allow_burst(NonZeroU32::new(burst)?);
            Some(RateLimiter::keyed(quota))
        });
        Self {
            gcra,
            blocked_until: HashMap::new(),
        }
    }
}

/// All buckets of one simulator.
pub(crate) struct Limiter {
    burst_window: Duration,
    tiers: Mutex<HashMap<Bucket, TierLimiter>>,
}

impl Limiter {
    pub(crate) fn new(burst_window: Duration, limits: &[(Bucket, Option<u32>)]) -> Self {
        let tiers = limits
            .iter()
            .map(|(b, l)| (*b, TierLimiter::new(*l, burst_window)))
            .collect();
        Self {
            burst_window,
            tiers: Mutex::new(tiers),
        }
    }

    /// Replace a bucket's limit; its history and blocks are forgotten.
    pub(crate) fn set(&self, bucket: Bucket, per_min: Option<u32>) {
        self.tiers
            .lock()
            .insert(bucket, TierLimiter::new(per_min, self.burst_window));
    }

    /// Admit one request for `key`, or say how many whole seconds it must wait (at least 1).
    pub(crate) fn check(&self, bucket: Bucket, key: &str) -> Result<(), u64> {
        let mut tiers = self.tiers.lock();
        let Some(tier) = tiers.get_mut(&bucket) else {
            return Ok(());
        };
        let Some(gcra) = &tier.gcra else { return Ok(()) };
        let now = Instant::now();
        if let Some(until) = tier.blocked_until.get(key) {
            if *until > now {
                return Err(whole_seconds(*until - now));
            }
            tier.blocked_until.remove(key);
        }
        match gcra.check_key(&key.to_owned()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let secs = whole_seconds(wait);
                tier.blocked_until
                    .insert(key.to_owned(), now + Duration::from_secs(secs));
                Err(secs)
            }
        }
    }
}

fn whole_seconds(d: Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_above_allowance_is_refused_and_blocks() {
        let limiter = Limiter::new(Duration::from_secs(1), &[(Bucket::QlikTier2, Some(60))]);
        // 60/min: one per second, burst 1 + 1s/1s = 2.
        assert_eq!(limiter.check(Bucket::QlikTier2, "u"), Ok(()));
        assert_eq!(limiter.check(Bucket::QlikTier2, "u"), Ok(()));
        let wait = limiter.check(Bucket::QlikTier2, "u");
        assert_eq!(wait, Err(1));
        // Blocked: still refused, other users are not.
        assert!(limiter.check(Bucket::QlikTier2, "u").is_err());
        assert_eq!(limiter.check(Bucket::QlikTier2, "v"), Ok(()));
        // Other buckets are not affected.
        assert_eq!(limiter.check(Bucket::QlikTier1, "u"), Ok(()));
    }

    #[test]
    fn unlimited_never_refuses() {
        let limiter = Limiter::new(Duration::from_secs(1), &[(Bucket::QlikTier1, None)]);
        for _ in 0..10_000 {
            assert_eq!(limiter.check(Bucket::QlikTier1, "u"), Ok(()));
        }
    }

    #[test]
    fn whole_seconds_round_up() {
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(2001)), 3);
        assert_eq!(whole_seconds(Duration::from_secs(2)), 2);
    }
}
