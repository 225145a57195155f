//! A sliding-window budget: at most `budget` admissions in any span of `window`.
//!
//! Qlik evaluates each tier's per-minute limit "over a 5-minute window to support bursts of
//! requests". The strictest reading of that is a sliding window: no 5 minutes, wherever they
//! start, may hold more than `limit × 5` requests. governor models a GCRA (a steady rate with a
//! burst allowance), not a budget over a window, so this is the small piece that does: it keeps
//! the times of the last `budget` admissions and admits a new one only when the oldest of them
//! has left the window. Within the budget, admissions go at once, as fast as callers ask.
//!
//! It is a plain value with no clock of its own: the caller passes `now`, which is what lets the
//! property test drive it through any sequence of times.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The admissions of the last `window`, at most `budget` of them.
#[derive(Debug, Clone)]
pub(crate) struct SlidingWindow {
    budget: usize,
    window: Duration,
    /// Admission times, oldest first; only those still inside the window are kept.
    admitted: VecDeque<Instant>,
}

impl SlidingWindow {
    /// A window of `window` holding at most `budget` admissions (at least 1).
    pub(crate) fn new(budget: u32, window: Duration) -> Self {
        let budget = usize::try_from(budget.max(1)).unwrap_or(usize::MAX);
        SlidingWindow {
            budget,
            window,
            admitted: VecDeque::with_capacity(budget.min(4096)),
        }
    }

    /// Drops the admissions that are no longer inside the window ending at `now`: an
    /// admission at `t` counts in every window `(now - window, now]` with `t > now - window`.
    fn expire(&mut self, now: Instant) {
        while let Some(&oldest) = self.admitted.front() {
            if oldest + self.window <= now {
                self.admitted.pop_front();
            } else {
                break;
            }
        }
    }

    /// Admits one request at `now`, or says when the next one may go: when the oldest
    /// admission leaves the window. A `now` earlier than the last admission (callers racing on
    /// the clock) is taken as the last admission's time, so the log stays ordered.
    pub(crate) fn try_admit(&mut self, now: Instant) -> Result<(), Instant> {
        let now = self.admitted.back().map_or(now, |&last| now.max(last));
        self.expire(now);
        if self.admitted.len() < self.budget {
            self.admitted.push_back(now);
            return Ok(());
        }
        match self.admitted.front() {
            Some(&oldest) => Err(oldest + self.window),
            None => Ok(()),
        }
    }

    /// How many more requests the window ending at `now` would admit.
    #[cfg(test)]
    pub(crate) fn left(&mut self, now: Instant) -> usize {
        self.expire(now);
        self.budget.saturating_sub(self.admitted.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_full_window_opens_when_its_oldest_admission_leaves() {
        let t0 = Instant::now();
        let w = Duration::from_secs(10);
        let mut window = SlidingWindow::new(3, w);
        assert_eq!(window.try_admit(t0), Ok(()));
        assert_eq!(window.try_admit(t0 + Duration::from_secs(1)), Ok(()));
        assert_eq!(window.try_admit(t0 + Duration::from_secs(2)), Ok(()));
        assert_eq!(window.left(t0 + Duration::from_secs(2)), 0);
        assert_eq!(window.try_admit(t0 + Duration::from_secs(3)), Err(t0 + w));
        assert_eq!(window.try_admit(t0 + w), Ok(()));
        assert_eq!(window.try_admit(t0 + w), Err(t0 + w + Duration::from_secs(1)));
        assert_eq!(window.left(t0 + Duration::from_secs(30)), 3);
    }

    proptest! {
        /// Whatever the budget, window and times of asking, no span of `window` ever holds more
        /// than `budget` admissions, and a refusal always names a later time.
        #[test]
        fn no_window_ever_holds_more_than_the_budget(
            budget in 1u32..20,
            window_ms in 1u64..2_000,
            steps in proptest::collection::vec(0u64..400, 1..400),
        ) {
            let t0 = Instant::now();
            let window = Duration::from_millis(window_ms);
            let mut limiter = SlidingWindow::new(budget, window);
            let mut now = t0;
            let mut admitted = Vec::new();
            for step in steps {
                now += Duration::from_millis(step);
                // Each caller retries at the time it was told, as the limiter's users do.
                loop {
                    match limiter.try_admit(now) {
                        Ok(()) => {
                            admitted.push(now);
                            break;
                        }
                        Err(at) => {
                            prop_assert!(at > now, "refused at {now:?} until {at:?}");
                            now = at;
                        }
                    }
                }
            }
            // Every window that holds the most admissions starts at one of them.
            for (i, &start) in admitted.iter().enumerate() {
                let inside = admitted[i..].iter().take_while(|&&t| t < start + window).count();
                prop_assert!(
                    inside <= budget as usize,
                    "{inside} admissions in the window starting at admission {i}"
                );
            }
        }

        /// Within the budget nothing waits: `budget` requests at the same instant all go.
        #[test]
        fn the_budget_goes_at_once(budget in 1u32..500) {
            let now = Instant::now();
            let mut limiter = SlidingWindow::new(budget, Duration::from_secs(300));
            for _ in 0..budget {
                prop_assert_eq!(limiter.try_admit(now), Ok(()));
            }
            prop_assert!(limiter.try_admit(now).is_err());
        }
    }
}
