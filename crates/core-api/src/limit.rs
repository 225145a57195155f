//! Client-side rate limiting: a budget per window or smooth pacing per tier, and a shared pause
//! after a 429.
//!
//! One [`Limiters`] belongs to one client, and a client is one (target, credential): so there is
//! one limiter per (target, credential, tier), matching how the APIs count. Every worker of a
//! target shares it. Two clients built for the same credential do not share budgets; build one
//! client per credential and share it.
//!
//! Two paces ([`Pace`]):
//!
//! - **Burst**: Qlik evaluates each tier's per-minute limit over a window (5 minutes). A tier
//!   admits at most `limit × window` requests in any span of the window (a sliding window, the
//!   strictest reading of the documented policy, see [`crate::window`]), and within that budget
//!   requests go as fast as the callers' concurrency allows. The client's window is a little
//!   longer than the server's ([`RateLimits::window_slack`]), so that requests that reach the
//!   server later than they left never put one more into its window. When the server refuses a
//!   burst anyway (429), its real policy is stricter than documented: the tier falls back to
//!   steady pacing for the rest of the client's life, so that costs one 429, not many.
//! - **Steady**: a GCRA (governor) with a burst of 2 by default, so requests are spaced evenly
//!   at the quota and no burst can trip the server's window. The burst of 2 (not 1) lets a
//!   request that the timer woke a millisecond late keep its slot on the grid instead of pushing
//!   every later slot back; at most two requests ever go back to back. After a refused burst the
//!   pacer admits one at a time (burst 1): the server has just shown that it counts strictly.
//!
//! Waiters queue in FIFO order, one at a time, on the pacer or the window, so hundreds of
//! concurrent calls cost no more CPU than a few and are served in the order they arrived. The
//! steady quota is multiplied by [`RateLimits::headroom`] (default 0.98) so that the server,
//! whose clock and window boundaries differ slightly from ours, never counts more than its
//! limit: the achieved rate is 98% of the quota.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use parking_lot::Mutex;
use rand::Rng;
use tokio::sync::Notify;

use crate::observe::{Event, Observer, ThrottleSource, Tier};
use crate::window::SlidingWindow;

/// How requests are spaced within a tier's limit (`burst` or `steady` in config files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pace {
    /// Up to the window's budget (`limit × window`) at once, as fast as concurrency allows;
    /// steady pacing after the server refuses a burst.
    Burst,
    /// Evenly spaced at the per-minute limit, whatever the window.
    #[default]
    Steady,
}

impl Pace {
    /// `burst` or `steady`, as flags and config files spell it.
    pub fn name(self) -> &'static str {
        match self {
            Pace::Burst => "burst",
            Pace::Steady => "steady",
        }
    }
}

/// Qlik's documented window: each tier's per-minute limit is evaluated over 5 minutes.
pub const QLIK_WINDOW: Duration = Duration::from_secs(300);

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
    /// Fraction of the quota actually used when pacing steadily (0 < headroom <= 1), absorbing
    /// clock skew.
    pub headroom: f64,
    /// Burst within each tier's window, or pace steadily.
    pub pace: Pace,
    /// The window Tier 1's limit is evaluated over (with [`Pace::Burst`]).
    pub tier1_window: Duration,
    /// The window Tier 2's limit is evaluated over (with [`Pace::Burst`]).
    pub tier2_window: Duration,
}

impl Default for RateLimits {
    /// Qlik Cloud's documented limits: Tier 1 1000/min, Tier 2 100/min, each over a 5-minute
    /// window; paced steadily (choose [`Pace::Burst`] to use the window).
    fn default() -> Self {
        RateLimits {
            tier1_per_min: 1000,
            tier2_per_min: 100,
            burst: 2,
            headroom: 0.98,
            pace: Pace::Steady,
            tier1_window: QLIK_WINDOW,
            tier2_window: QLIK_WINDOW,
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

    /// The window a tier's limit is evaluated over.
    pub fn window(&self, tier: Tier) -> Duration {
        match tier {
            Tier::Tier1 => self.tier1_window,
            Tier::Tier2 => self.tier2_window,
        }
    }

    /// The requests of a tier that any window may hold: `limit × window / 60 s`, rounded down,
    /// at least 1 (500 writes and 5,000 reads in Qlik's 5 minutes); `None` when the tier is
    /// unpaced or does not burst.
    pub fn budget(&self, tier: Tier) -> Option<u32> {
        let per_min = self.for_tier(tier);
        let window = self.window(tier);
        if self.pace != Pace::Burst || per_min == 0 || window.is_zero() {
            return None;
        }
        let budget = (u128::from(per_min) * window.as_millis()) / 60_000;
        Some(u32::try_from(budget).unwrap_or(u32::MAX).max(1))
    }

    /// How much longer than the server's window the client keeps a request in its own: a
    /// hundredth of the window, between 100 ms and 3 s. A request reaches the server a little
    /// after it leaves, and not always equally late, so without it the server could see one
    /// request more in its window than the client did.
    pub fn window_slack(window: Duration) -> Duration {
        (window / 100).clamp(Duration::from_millis(100), Duration::from_secs(3))
    }

    /// The window the client counts a tier's requests over (the server's plus the slack).
    pub fn client_window(&self, tier: Tier) -> Duration {
        let window = self.window(tier);
        window + Self::window_slack(window)
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

/// The limiter of one tier: a window budget or GCRA pacing, plus a "blocked until" shared by
/// every call of the tier.
pub(crate) struct TierLimiter {
    tier: Tier,
    per_min: u32,
    pacer: Option<DefaultDirectRateLimiter>,
    /// The window budget while the tier bursts.
    window: Option<Mutex<SlidingWindow>>,
    /// True until the server refuses a burst (always false without a window).
    bursting: AtomicBool,
    /// Wakes the calls waiting on the window when the tier falls back to steady pacing.
    fell_back: Notify,
    /// Lets one waiter at a time at the pacer (FIFO), instead of waking every waiter for every
    /// slot.
    queue: tokio::sync::Mutex<()>,
    blocked_until: Mutex<Option<Instant>>,
}

/// Waits shorter than this go to governor's own timer: tokio's counts whole milliseconds, which
/// would hold a pacer of more than a few hundred requests a second below its rate.
const COARSE_TIMER_FLOOR: Duration = Duration::from_millis(4);

/// Waits for the pacer's next slot. governor's own `until_ready` sleeps on futures-timer, whose
/// helper thread then wakes the runtime's: two context switches for every paced request. tokio's
/// timer fires on the runtime's own thread, so it takes every wait it can time closely enough.
async fn until_ready(pacer: &DefaultDirectRateLimiter) {
    while let Err(not_until) = pacer.check() {
        let wait = not_until.wait_time_from(pacer.clock().now());
        if wait < COARSE_TIMER_FLOOR {
            pacer.until_ready().await;
            return;
        }
        tokio::time::sleep(wait).await;
    }
}

impl TierLimiter {
    fn new(tier: Tier, limits: &RateLimits) -> Self {
        let budget = limits.budget(tier);
        // After a refused burst the server has shown it counts strictly: one at a time.
        let burst = if budget.is_some() {
            NonZeroU32::MIN
        } else {
            NonZeroU32::new(limits.burst).unwrap_or(NonZeroU32::MIN)
        };
        let pacer = limits
            .interval(tier)
            .and_then(Quota::with_period)
            .map(|quota| RateLimiter::direct(quota.allow_burst(burst)));
        let window = budget.map(|b| Mutex::new(SlidingWindow::new(b, limits.client_window(tier))));
        TierLimiter {
            tier,
            per_min: limits.for_tier(tier),
            pacer,
            bursting: AtomicBool::new(window.is_some()),
            window,
            fell_back: Notify::new(),
            queue: tokio::sync::Mutex::new(()),
            blocked_until: Mutex::new(None),
        }
    }

    /// Whether the tier still bursts within its window.
    pub(crate) fn is_bursting(&self) -> bool {
        self.bursting.load(Ordering::Acquire)
    }

    /// Switches a bursting tier to steady pacing. Returns the per-minute rate it now paces at
    /// for the one call that made the switch, `None` for every other (and when not bursting).
    pub(crate) fn fall_back_to_steady(&self) -> Option<u32> {
        let switched = self
            .bursting
            .compare_exchange(true, false, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if switched {
            self.fell_back.notify_waiters();
        }
        switched.then_some(self.per_min)
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
    /// the window or the pacer, then once more out of a pause that began while this call was
    /// waiting.
    pub(crate) async fn acquire(&self, observer: Option<&Arc<dyn Observer>>) {
        self.wait_out_pause(observer).await;
        if self.is_bursting() && self.admit_in_window(observer).await {
            return;
        }
        if let Some(pacer) = &self.pacer {
            let _turn = self.queue.lock().await;
            until_ready(pacer).await;
            if self.blocked().is_some() {
                self.wait_out_pause(observer).await;
                // The pause consumed no budget; take a fresh slot so that the requests released
                // together at its end are spaced out again.
                until_ready(pacer).await;
            }
        }
    }

    /// Takes a place in the window, waiting (in turn) for the oldest request to leave it when
    /// it is full. Returns false when the tier fell back to steady pacing meanwhile: the caller
    /// is paced instead.
    async fn admit_in_window(&self, observer: Option<&Arc<dyn Observer>>) -> bool {
        let Some(window) = &self.window else {
            return false;
        };
        let _turn = self.queue.lock().await;
        loop {
            // Registered before the flag is read, so a fall-back in between still wakes us.
            let fell_back = self.fell_back.notified();
            if !self.is_bursting() {
                return false;
            }
            let admitted = window.lock().try_admit(Instant::now());
            match admitted {
                Ok(()) => break,
                Err(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at.into()) => {}
                        () = fell_back => return false,
                    }
                }
            }
        }
        if self.blocked().is_some() {
            self.wait_out_pause(observer).await;
            // A pause that began meanwhile came from a refused burst: space this call out.
            return self.is_bursting();
        }
        true
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

    fn bursting(per_min: u32, window: Duration) -> RateLimits {
        RateLimits {
            pace: Pace::Burst,
            tier2_window: window,
            ..RateLimits::per_minute(0, per_min)
        }
    }

    #[tokio::test]
    async fn a_burst_goes_at_once_up_to_the_budget_then_waits_for_the_window() {
        // 600/min over 1 s: a budget of 10; the client's window is 1.1 s.
        let limits = bursting(600, Duration::from_secs(1));
        assert_eq!(limits.budget(Tier::Tier2), Some(10));
        let limiter = Arc::new(TierLimiter::new(Tier::Tier2, &limits));
        let start = Instant::now();
        let mut handles = Vec::new();
        for _ in 0..15 {
            let limiter = limiter.clone();
            handles.push(tokio::spawn(async move {
                limiter.acquire(None).await;
                start.elapsed()
            }));
        }
        let mut stamps = Vec::new();
        for handle in handles {
            stamps.push(handle.await.unwrap());
        }
        stamps.sort();
        assert!(stamps[9] < Duration::from_millis(100), "{stamps:?}");
        assert!(stamps[10] >= Duration::from_millis(1100), "{stamps:?}");
    }

    #[tokio::test]
    async fn a_refused_burst_falls_back_to_steady_pacing_once() {
        // 1200/min: one per 50 ms once steady; the window would allow 100 at once.
        let limits = RateLimits {
            headroom: 1.0,
            ..bursting(1200, Duration::from_secs(5))
        };
        let limiter = TierLimiter::new(Tier::Tier2, &limits);
        for _ in 0..5 {
            limiter.acquire(None).await;
        }
        assert!(limiter.is_bursting());
        assert_eq!(limiter.fall_back_to_steady(), Some(1200));
        assert_eq!(limiter.fall_back_to_steady(), None, "said once");
        let start = Instant::now();
        for _ in 0..5 {
            limiter.acquire(None).await;
        }
        // Steady with a burst of 1: the first at once, then four intervals.
        assert!(
            start.elapsed() >= Duration::from_millis(195),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn waiters_on_a_full_window_are_paced_when_the_tier_falls_back() {
        let limits = RateLimits {
            headroom: 1.0,
            ..bursting(600, Duration::from_secs(60))
        };
        // A budget of 600 in 60 s: fill it, then wait; the fall-back frees the waiter long
        // before the window would.
        let limiter = Arc::new(TierLimiter::new(Tier::Tier2, &limits));
        for _ in 0..600 {
            limiter.acquire(None).await;
        }
        let waiter = {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.acquire(None).await })
        };
        // Let the waiter reach the full window (the test runtime has one thread).
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!waiter.is_finished());
        limiter.fall_back_to_steady();
        tokio::time::timeout(Duration::from_secs(2), waiter)
            .await
            .expect("paced, not held for the window")
            .unwrap();
    }

    #[test]
    fn the_budget_is_the_limit_over_the_window() {
        let qlik = RateLimits {
            pace: Pace::Burst,
            ..RateLimits::default()
        };
        assert_eq!(qlik.budget(Tier::Tier1), Some(5000));
        assert_eq!(qlik.budget(Tier::Tier2), Some(500));
        assert_eq!(qlik.client_window(Tier::Tier2), Duration::from_secs(303));
        assert_eq!(RateLimits::default().budget(Tier::Tier2), None, "steady");
        assert_eq!(bursting(0, QLIK_WINDOW).budget(Tier::Tier2), None, "unlimited");
    }

    #[test]
    fn headroom_lowers_the_rate() {
        let limits = RateLimits::per_minute(600, 100);
        let interval = limits.interval(Tier::Tier1).unwrap();
        assert!(interval > Duration::from_millis(100) && interval < Duration::from_millis(103));
        assert_eq!(RateLimits::unlimited().interval(Tier::Tier2), None);
    }
}
