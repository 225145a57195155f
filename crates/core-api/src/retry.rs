//! When and how long to wait before sending a failed request again.

use std::time::Duration;

use rand::Rng;

/// Exponential backoff with full jitter, a capped delay and a capped number of attempts.
///
/// Retried: 429, 500, 502, 503, 504, timeouts and connection failures (see
/// [`crate::Error::is_retryable`]). Never retried: TLS failures, and a refused connection before
/// the server has answered once (nothing listens at the address). A 429 waits for the server's `retry-after` (plus jitter)
/// instead of the backoff, and that wait is never scaled: the server enforces it.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Total tries including the first; 1 disables retries.
    pub max_attempts: u32,
    /// The backoff ceiling of the first retry; doubles with each further retry.
    pub base_delay: Duration,
    /// No backoff is longer than this.
    pub max_delay: Duration,
    /// Used when a 429 carries no `retry-after`.
    pub default_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            default_retry_after: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The default attempts with millisecond delays, for tests that exercise retries without
    /// waiting for them. A server's `retry-after` is still honoured.
    pub fn fast_for_tests() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(20),
            default_retry_after: Duration::from_millis(50),
        }
    }

    /// The same policy with every backoff multiplied by `factor` (0 gives no backoff at all).
    #[must_use]
    pub fn scaled(mut self, factor: f64) -> Self {
        let factor = if factor.is_finite() && factor >= 0.0 {
            factor
        } else {
            1.0
        };
        self.base_delay = self.base_delay.mul_f64(factor);
        self.max_delay = self.max_delay.mul_f64(factor);
        self.default_retry_after = self.default_retry_after.mul_f64(factor);
        self
    }

    /// The backoff ceiling after `failed_attempt` failures (1-based), before jitter.
    pub fn ceiling(&self, failed_attempt: u32) -> Duration {
        let exponent = failed_attempt.saturating_sub(1).min(20);
        self.base_delay.saturating_mul(1 << exponent).min(self.max_delay)
    }

    /// The delay before the next attempt: uniformly random in `[0, ceiling]` ("full jitter"),
    /// which spreads out clients that failed together.
    pub fn backoff(&self, failed_attempt: u32) -> Duration {
        let ceiling = self.ceiling(failed_attempt);
        if ceiling.is_zero() {
            return ceiling;
        }
        rand::rng().random_range(Duration::ZERO..=ceiling)
    }

    /// Whether another attempt is allowed after `attempts_made` tries.
    pub fn allows_another(&self, attempts_made: u32) -> bool {
        attempts_made < self.max_attempts.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_caps() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.ceiling(1), Duration::from_millis(500));
        assert_eq!(policy.ceiling(2), Duration::from_secs(1));
        assert_eq!(policy.ceiling(3), Duration::from_secs(2));
        assert_eq!(policy.ceiling(10), Duration::from_secs(30));
        assert_eq!(policy.ceiling(u32::MAX), Duration::from_secs(30));
        for attempt in 1..12 {
            for _ in 0..50 {
                assert!(policy.backoff(attempt) <= policy.ceiling(attempt));
            }
        }
    }

    #[test]
    fn attempts_are_capped() {
        let policy = RetryPolicy::default();
        assert!(policy.allows_another(5));
        assert!(!policy.allows_another(6));
        assert!(!RetryPolicy::none().allows_another(1));
    }

    #[test]
    fn scaling_shrinks_every_delay() {
        let policy = RetryPolicy::default().scaled(0.0);
        assert_eq!(policy.backoff(3), Duration::ZERO);
        assert!(RetryPolicy::fast_for_tests().ceiling(10) <= Duration::from_millis(20));
    }
}
