//! The process's limit on open files, which every connection and journal counts against.
//!
//! A fleet holds, for each tenant in flight, up to a connection per read and per write in flight
//! and a few files. Many systems start a process with a low soft limit (1,024 on most Linux
//! distributions, 256 on macOS) and a much higher hard one. roster raises the soft limit to the
//! hard one, as far as the system allows, and when even that cannot hold `--tenants-in-flight`
//! tenants at their concurrency, runs fewer at once and says so, rather than letting tenants fail
//! on "too many open files".

/// Descriptors kept aside for everything but the tenants: the standard streams, the config and
/// roster files, the runtime's own, the fleet's shared files.
pub const RESERVED: u64 = 32;

/// Files and connections one tenant in flight may hold at `concurrency`: a connection per read
/// and per write in flight (the planner reads while the first writes go), and its lock,
/// journal, failed-rows file and tenant journal.
pub fn per_tenant(concurrency: usize) -> u64 {
    2 * concurrency as u64 + 4
}

/// The tenants in flight that fit under `limit` open files at `concurrency` each: `requested`,
/// or fewer (never less than one) when they would not fit.
pub fn fit_in_flight(requested: usize, concurrency: usize, limit: u64) -> usize {
    let fits = limit.saturating_sub(RESERVED) / per_tenant(concurrency);
    requested.min(usize::try_from(fits).unwrap_or(usize::MAX).max(1))
}

/// Raise the soft limit on open files towards the hard limit and return the soft limit now in
/// force; `None` where the system has no such limit to read. Calling it again changes nothing.
#[cfg(unix)]
pub fn raise_limit() -> Option<u64> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    // The hard limit may be "unlimited", which Linux refuses above its own ceiling (nr_open) and
    // macOS above OPEN_MAX: the next candidates are values both accept.
    for wanted in [hard, 1 << 20, 1 << 16, 10_240] {
        if wanted <= soft || wanted > hard {
            continue;
        }
        if setrlimit(Resource::RLIMIT_NOFILE, wanted, hard).is_ok() {
            return Some(wanted);
        }
    }
    Some(soft)
}

/// No limit to raise or read off Unix.
#[cfg(not(unix))]
pub fn raise_limit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_in_flight_fit_under_the_limit() {
        // 16 connections each way and 4 files: 36 a tenant.
        assert_eq!(per_tenant(16), 36);
        assert_eq!(fit_in_flight(50, 16, 1_000_000), 50);
        assert_eq!(fit_in_flight(50, 16, 1024), (1024 - 32) / 36);
        assert_eq!(fit_in_flight(12, 16, 128), 2);
        // One tenant always runs, whatever the limit.
        assert_eq!(fit_in_flight(8, 256, 256), 1);
        assert_eq!(fit_in_flight(8, 16, 0), 1);
    }

    #[cfg(unix)]
    #[test]
    fn raising_never_lowers_the_limit() {
        use nix::sys::resource::{Resource, getrlimit};
        let (before, _) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        let now = raise_limit().unwrap();
        assert!(now >= before);
        assert_eq!(getrlimit(Resource::RLIMIT_NOFILE).unwrap().0, now);
        assert_eq!(raise_limit(), Some(now));
    }
}
