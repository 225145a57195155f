//! Rate limits per user per tier, with the blocking rule clients must respect.
//!
//! Qlik documents "1000 requests per minute" (Tier 1) and "100 per minute" (Tier 2), each
//! "evaluated over a 5-minute window to support bursts of requests", without saying more. The
//! simulator has two models:
//!
//! - **The window** (Qlik's buckets, when [`crate::SimConfig::window`] is set): the strictest
//!   reading of the documented policy, a sliding window. A request that would put more than
//!   `limit × window / 60 s` requests of the user's tier into the last `window` is refused, with
//!   a `retry-after` that lasts until the oldest of them leaves the window.
//! - **Strict pacing** (the default, and always for Alumio): stricter than any window, so that a
//!   client that never gets a 429 here will not get one there either. Each tier is a GCRA (a
//!   leaky bucket, the algorithm of the `governor` crate) that emits one request every
//!   `60s / limit`, with a burst allowance of `1 + burst_window / (60s / limit)` requests
//!   (`burst_window` defaults to 1 second: 2 requests at 100/min, 17 at 1000/min). A client that
//!   paces its requests evenly at the limit never exceeds it, even when the network delivers
//!   some of them up to `burst_window` early; a burst above the allowance is refused.
//!
//! In both, the first refused request blocks the user's whole tier until the moment the tier
//! would accept a request again, rounded up to whole seconds: every request of that tier until
//! then is answered 429 with the remaining whole seconds (at least 1) in `retry-after`, whatever
//! the bucket says. Requests that are refused do not use up the budget.
//!
//! Every limited tier also counts the most requests it admitted within any one window (the
//! model's window, or a minute under strict pacing), for the stats.

use std::collections::{HashMap, VecDeque};
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

impl Bucket {
    fn is_qlik(self) -> bool {
        matches!(self, Bucket::QlikTier1 | Bucket::QlikTier2)
    }
}

/// How a tier decides.
enum Model {
    Gcra(DefaultKeyedRateLimiter<String>),
    /// At most `budget` admissions in any `window`; the log holds admissions still inside it.
    Window {
        budget: usize,
    },
}

/// How many requests a tier admitted within its window, per user, and the most ever.
struct WindowLog {
    window: Duration,
    admitted: HashMap<String, VecDeque<Instant>>,
    most: u64,
}

impl WindowLog {
    fn new(window: Duration) -> Self {
        Self {
            window,
            admitted: HashMap::new(),
            most: 0,
        }
    }

    /// The user's admissions still inside the window ending at `now`.
    fn current(&mut self, key: &str, now: Instant) -> &mut VecDeque<Instant> {
        let log = self.admitted.entry(key.to_owned()).or_default();
        while log.front().is_some_and(|&t| t + self.window <= now) {
            log.pop_front();
        }
        log
    }

    fn admit(&mut self, key: &str, now: Instant) {
        let log = self.current(key, now);
        log.push_back(now);
        let len = log.len() as u64;
        self.most = self.most.max(len);
    }
}

struct TierLimiter {
    model: Option<Model>,
    log: WindowLog,
    blocked_until: HashMap<String, Instant>,
}

impl TierLimiter {
    fn new(per_min: Option<u32>, burst_window: Duration, window: Option<Duration>) -> Self {
        let per_min = per_min.and_then(NonZeroU32::new);
        let model = per_min.and_then(|limit| match window {
            Some(window) => {
                let budget = u128::from(limit.get()) * window.as_millis() / 60_000;
                Some(Model::Window {
                    budget: usize::try_from(budget).unwrap_or(usize::MAX).max(1),
                })
            }
            None => {
                let period = Duration::from_secs(60) / limit.get();
                let extra = burst_window.as_nanos() / period.as_nanos().max(1);
                let burst = u32::try_from(extra).unwrap_or(u32::MAX - 1).saturating_add(1);
                let quota = Quota::with_period(period)?.allow_burst(NonZeroU32::new(burst)?);
                Some(Model::Gcra(RateLimiter::keyed(quota)))
            }
        });
        Self {
            model,
            log: WindowLog::new(window.unwrap_or(Duration::from_secs(60))),
            blocked_until: HashMap::new(),
        }
    }
}

/// All buckets of one simulator.
pub(crate) struct Limiter {
    burst_window: Duration,
    qlik_window: Option<Duration>,
    tiers: Mutex<HashMap<Bucket, TierLimiter>>,
}

impl Limiter {
    /// `qlik_window` switches Qlik's buckets to the window model; Alumio's always pace strictly.
    pub(crate) fn new(
        burst_window: Duration,
        qlik_window: Option<Duration>,
        limits: &[(Bucket, Option<u32>)],
    ) -> Self {
        let limiter = Self {
            burst_window,
            qlik_window,
            tiers: Mutex::new(HashMap::new()),
        };
        for (bucket, per_min) in limits {
            limiter.set(*bucket, *per_min);
        }
        limiter
    }

    /// Replace a bucket's limit; its history and blocks are forgotten.
    pub(crate) fn set(&self, bucket: Bucket, per_min: Option<u32>) {
        let window = self.qlik_window.filter(|_| bucket.is_qlik());
        self.tiers
            .lock()
            .insert(bucket, TierLimiter::new(per_min, self.burst_window, window));
    }

    /// The window a limited bucket counts over and the most requests it admitted in one.
    pub(crate) fn most_in_window(&self, bucket: Bucket) -> Option<(Duration, u64)> {
        let tiers = self.tiers.lock();
        let tier = tiers.get(&bucket)?;
        tier.model.as_ref()?;
        Some((tier.log.window, tier.log.most))
    }

    /// Admit one request for `key`, or say how many whole seconds it must wait (at least 1).
    pub(crate) fn check(&self, bucket: Bucket, key: &str) -> Result<(), u64> {
        let mut tiers = self.tiers.lock();
        let Some(tier) = tiers.get_mut(&bucket) else {
            return Ok(());
        };
        let now = Instant::now();
        if tier.model.is_none() {
            return Ok(());
        }
        if let Some(until) = tier.blocked_until.get(key) {
            if *until > now {
                return Err(whole_seconds(*until - now));
            }
            tier.blocked_until.remove(key);
        }
        let refused = match &tier.model {
            None => None,
            Some(Model::Gcra(gcra)) => gcra
                .check_key(&key.to_owned())
                .err()
                .map(|not_until| not_until.wait_time_from(DefaultClock::default().now())),
            Some(Model::Window { budget }) => {
                let window = tier.log.window;
                let log = tier.log.current(key, now);
                match log.front() {
                    Some(&oldest) if log.len() >= *budget => Some((oldest + window) - now),
                    _ => None,
                }
            }
        };
        match refused {
            None => {
                tier.log.admit(key, now);
                Ok(())
            }
            Some(wait) => {
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
        let limiter = Limiter::new(Duration::from_secs(1), None, &[(Bucket::QlikTier2, Some(60))]);
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
        let limiter = Limiter::new(Duration::from_secs(1), None, &[(Bucket::QlikTier1, None)]);
        for _ in 0..10_000 {
            assert_eq!(limiter.check(Bucket::QlikTier1, "u"), Ok(()));
        }
    }

    #[test]
    fn the_window_admits_its_budget_at_once_then_refuses_until_the_oldest_leaves() {
        // 600/min over 2 s: 20 requests in any 2 s.
        let window = Duration::from_secs(2);
        let limiter = Limiter::new(
            Duration::from_secs(1),
            Some(window),
            &[(Bucket::QlikTier2, Some(600)), (Bucket::AlumioWrite, Some(600))],
        );
        let start = Instant::now();
        for _ in 0..20 {
            assert_eq!(limiter.check(Bucket::QlikTier2, "u"), Ok(()));
        }
        assert_eq!(limiter.check(Bucket::QlikTier2, "u"), Err(2));
        assert!(limiter.check(Bucket::QlikTier2, "u").is_err(), "blocked");
        assert_eq!(limiter.check(Bucket::QlikTier2, "v"), Ok(()), "per user");
        assert_eq!(limiter.most_in_window(Bucket::QlikTier2), Some((window, 20)));
        // Alumio paces strictly whatever the window: 600/min allows a burst of 11.
        let admitted = (0..20)
            .take_while(|_| limiter.check(Bucket::AlumioWrite, "u").is_ok())
            .count();
        assert_eq!(admitted, 11);
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "the test ran too slowly to mean anything"
        );
    }

    #[test]
    fn whole_seconds_round_up() {
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(2001)), 3);
        assert_eq!(whole_seconds(Duration::from_secs(2)), 2);
    }
}
