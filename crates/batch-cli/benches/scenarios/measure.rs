//! Measuring one `roster` run alone: wall time, CPU time (user + sys) and peak RSS.
//!
//! `getrusage(RUSAGE_CHILDREN)` adds up every child a process has reaped and keeps the largest
//! peak RSS among them, so the benchmark process (which also reaps simulators) cannot ask it about
//! one run. Each measured run therefore goes through a small wrapper: this same binary, started
//! with [`CHILD_ARG`], whose only child is `roster`. The wrapper writes the figures to a file.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::resource::{UsageWho, getrusage};
use serde::{Deserialize, Serialize};

/// The first argument that turns this binary into the measuring wrapper.
pub const CHILD_ARG: &str = "__measure";

/// What one run cost.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Wall time from spawn to exit.
    pub wall: Duration,
    /// User CPU time.
    pub user: Duration,
    /// System CPU time.
    pub sys: Duration,
    /// Peak resident set size, in bytes.
    pub max_rss: u64,
    /// The exit code; `None` when a signal ended the run.
    pub code: Option<i32>,
}

impl Usage {
    /// User plus system time.
    pub fn cpu(&self) -> Duration {
        self.user + self.sys
    }
}

/// A run to measure.
pub struct Run<'a> {
    /// The program (`roster`).
    pub program: &'a Path,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables (the API key travels here, never on a command line).
    pub env: Vec<(String, String)>,
    /// Where its stdout goes.
    pub stdout: PathBuf,
    /// Where its stderr goes.
    pub stderr: PathBuf,
    /// Working directory.
    pub dir: &'a Path,
    /// Give up (and kill the run) after this long.
    pub deadline: Duration,
}

/// Run `run` through the wrapper and return what it cost.
pub fn measure(run: &Run<'_>) -> Result<Usage> {
    let me = std::env::current_exe().context("find the benchmark binary")?;
    let report = run.stdout.with_extension("usage.json");
    let mut command = Command::new(me);
    command
        .arg(CHILD_ARG)
        .arg(&report)
        .arg(run.program)
        .args(&run.args)
        .current_dir(run.dir)
        .stdin(Stdio::null())
        .stdout(File::create(&run.stdout).context("create the stdout file")?)
        .stderr(File::create(&run.stderr).context("create the stderr file")?);
    for (name, value) in &run.env {
        command.env(name, value);
    }
    let child = crate::procs::spawn_group(&mut command).context("start the measured run")?;
    crate::procs::wait_with_deadline(child, run.deadline)
        .with_context(|| format!("run roster {}", run.args.join(" ")))?;
    let text = std::fs::read_to_string(&report).context("read the measured figures")?;
    serde_json::from_str(&text).context("parse the measured figures")
}

/// The wrapper: run `program args...`, then write its [`Usage`] to the file named first.
pub fn child_main(args: &[String]) -> ExitCode {
    match child(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            crate::eprint_error(&error);
            ExitCode::from(3)
        }
    }
}

fn child(args: &[String]) -> Result<()> {
    let [report, program, rest @ ..] = args else {
        bail!("usage: {CHILD_ARG} REPORT PROGRAM [ARGS...]");
    };
    let started = Instant::now();
    let status = Command::new(program)
        .args(rest)
        .status()
        .with_context(|| format!("start {program}"))?;
    let wall = started.elapsed();
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).context("getrusage")?;
    let micros = |tv: nix::sys::time::TimeVal| {
        let us = tv.tv_sec() * 1_000_000 + tv.tv_usec();
        Duration::from_micros(u64::try_from(us).unwrap_or(0))
    };
    let figures = Usage {
        wall,
        user: micros(usage.user_time()),
        sys: micros(usage.system_time()),
        // Linux reports kilobytes.
        max_rss: u64::try_from(usage.max_rss()).unwrap_or(0) * 1024,
        code: status.code(),
    };
    std::fs::write(report, serde_json::to_vec(&figures)?).context("write the measured figures")?;
    Ok(())
}
