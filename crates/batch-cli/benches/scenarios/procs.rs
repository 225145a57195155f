//! Child processes in their own process groups, so a run that overstays its deadline is ended
//! with everything it started, and nothing is left behind when the benchmark stops.

use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Start `command` as the leader of a new process group.
pub fn spawn_group(command: &mut Command) -> Result<Child> {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
    Ok(command.spawn()?)
}

/// Send `signal` to the group `child` leads.
pub fn signal_group(child: &Child, signal: Signal) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // The group may be gone already; that is what we wanted.
        let _ = killpg(Pid::from_raw(pid), signal);
    }
}

/// Wait for `child`; past `deadline`, kill its group and fail.
pub fn wait_with_deadline(mut child: Child, deadline: Duration) -> Result<ExitStatus> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().context("wait for a child")? {
            return Ok(status);
        }
        if started.elapsed() > deadline {
            signal_group(&child, Signal::SIGKILL);
            let _ = child.wait();
            bail!("did not finish within {} s", deadline.as_secs());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Stop a long-running child (a simulator) and its group, and reap it.
pub fn stop(child: &mut Child) {
    signal_group(child, Signal::SIGKILL);
    let _ = child.wait();
}
