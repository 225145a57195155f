//! Latency that is what it says.
//!
//! tokio's timer rounds every deadline up to the next millisecond, and its driver parks for
//! whole milliseconds, so `sleep(100 ms)` answers after about 102 ms: 2% slower than the latency
//! asked for, which is most of what a latency-bound benchmark may lose. On Linux each wait is a
//! timerfd instead, polled by the runtime's own reactor. Even a timerfd fires a few hundred
//! microseconds late on a virtual machine, and not by the same amount each time, so each timer is
//! armed early by the running average of that lateness: answers then come at their deadline on
//! average, a single one up to a fraction of a millisecond either side of it, as on a real
//! network. Elsewhere, or should the timerfd fail, tokio's timer does the waiting: a little late,
//! never early.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How late the timerfd has fired, on average (nanoseconds, an exponentially weighted mean).
static LATENESS_NS: AtomicU64 = AtomicU64::new(0);

/// The most a timer is armed ahead of its deadline: a wake-up later than this is a stall of the
/// machine, not the timer's lateness, and must not make later answers early.
const MAX_EARLY: Duration = Duration::from_millis(1);

/// Wait until about `deadline` (see the module docs).
pub(crate) async fn until(deadline: Instant) {
    let now = Instant::now();
    if deadline <= now {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let early = Duration::from_nanos(LATENESS_NS.load(Ordering::Relaxed)).min(MAX_EARLY);
        let armed = deadline
            .checked_sub(early)
            .filter(|at| *at > now)
            .unwrap_or(deadline);
        if timerfd::sleep(armed - now).await.is_ok() {
            learn(Instant::now().saturating_duration_since(armed));
            return;
        }
    }
    tokio::time::sleep_until(deadline.into()).await;
}

/// Fold one observed lateness into the running average (weight 1/16).
fn learn(late: Duration) {
    let late = u64::try_from(late.min(MAX_EARLY * 4).as_nanos()).unwrap_or(u64::MAX);
    let _ = LATENESS_NS.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |mean| {
        Some(mean - mean / 16 + late / 16)
    });
}

#[cfg(target_os = "linux")]
mod timerfd {
    use std::io;
    use std::os::fd::{AsFd, AsRawFd, RawFd};
    use std::time::Duration;

    use nix::sys::time::TimeSpec;
    use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;

    /// tokio's reactor takes a raw descriptor; nix's timer lends a borrowed one.
    struct Timer(TimerFd);

    impl AsRawFd for Timer {
        fn as_raw_fd(&self) -> RawFd {
            self.0.as_fd().as_raw_fd()
        }
    }

    /// Sleep `wait` (non-zero: a zero expiration disarms a timerfd) on a one-shot timerfd.
    pub(super) async fn sleep(wait: Duration) -> io::Result<()> {
        let timer = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        timer.set(
            Expiration::OneShot(TimeSpec::from_duration(wait)),
            TimerSetTimeFlags::empty(),
        )?;
        #[expect(
            deprecated,
            reason = "sound here: the timer owns its descriptor, which closes only after the AsyncFd \
                      deregisters it on drop; the replacement is `unsafe`, which this workspace forbids"
        )]
        let timer = AsyncFd::with_interest(Timer(timer), Interest::READABLE)?;
        // Readable means expired; the descriptor is closed unread when it drops.
        let _ready = timer.readable().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn waits_end_about_at_their_deadline() {
        for ms in [5_u64, 20, 3, 40, 10] {
            let deadline = Instant::now() + Duration::from_millis(ms);
            until(deadline).await;
            let woke = Instant::now();
            // Early by at most what the timer is armed ahead (the lateness it has learnt).
            assert!(woke + MAX_EARLY >= deadline, "woke {:?} early", deadline - woke);
        }
    }

    #[test]
    fn lateness_is_learnt_as_a_running_mean() {
        LATENESS_NS.store(0, Ordering::Relaxed);
        for _ in 0..200 {
            learn(Duration::from_micros(300));
        }
        let mean = LATENESS_NS.load(Ordering::Relaxed);
        assert!((280_000..=300_000).contains(&mean), "{mean}");
        // A stall is clamped, so one frozen moment cannot make later answers very early.
        learn(Duration::from_secs(5));
        assert!(LATENESS_NS.load(Ordering::Relaxed) < 600_000);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn linux_waits_on_a_timerfd() {
        // How late a wake-up is depends on the machine's load, so the test checks the mechanism
        // (the timerfd is armed and fires) rather than a time.
        let started = Instant::now();
        timerfd::sleep(Duration::from_millis(3)).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(3));
    }

    #[tokio::test]
    async fn a_deadline_in_the_past_returns_at_once() {
        let before = Instant::now();
        until(before - Duration::from_millis(5)).await;
        assert!(before.elapsed() < Duration::from_millis(5));
    }
}
