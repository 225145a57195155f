//! A `roster sim` process serving one scenario's tenant, and its counters.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;

/// How long a simulator may take to build its tenant and start listening (a million
/// assignments take a few seconds).
const START_DEADLINE: Duration = Duration::from_secs(300);

/// A running simulator; dropped, it is killed.
pub struct SimProcess {
    child: Child,
    /// Base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    /// The Qlik API key (secret: only ever passed through the environment).
    pub key: String,
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
}

/// Counters for one tier, as `GET /_sim/stats` serves them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TierStats {
    /// Requests seen.
    pub requests: u64,
    /// The most requests admitted within one window (limited tiers only).
    #[serde(default)]
    pub max_in_window: Option<u64>,
}

/// The part of `GET /_sim/stats` the scenarios read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Stats {
    /// Per API and tier (`qlik-tier1`, `qlik-tier2`, ...).
    #[serde(default)]
    pub by_tier: BTreeMap<String, TierStats>,
    /// All 429s sent.
    pub rate_limited: u64,
    /// Faults injected, by kind.
    #[serde(default)]
    pub faults: BTreeMap<String, u64>,
    /// Assignment writes applied, per space id and assignee id.
    #[serde(default)]
    pub writes_applied: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Stats {
    fn tier(&self, name: &str) -> u64 {
        self.by_tier.get(name).map_or(0, |t| t.requests)
    }

    /// Qlik API requests (reads and writes: every lookup, list and write call).
    pub fn qlik_requests(&self) -> u64 {
        self.tier("qlik-tier1") + self.tier("qlik-tier2")
    }

    /// The most requests of `tier` the simulator admitted within one window.
    pub fn most_in_window(&self, tier: &str) -> u64 {
        self.by_tier.get(tier).and_then(|t| t.max_in_window).unwrap_or(0)
    }

    /// Qlik writes (Tier 2) seen.
    pub fn qlik_writes(&self) -> u64 {
        self.tier("qlik-tier2")
    }

    /// Assignees written more than once in the same space.
    pub fn duplicate_writes(&self) -> u64 {
        self.writes_applied
            .values()
            .flat_map(BTreeMap::values)
            .filter(|&&n| n > 1)
            .map(|n| n - 1)
            .sum()
    }

    /// Distinct (space, assignee) pairs written.
    pub fn assignees_written(&self) -> u64 {
        self.writes_applied.values().map(|m| m.len() as u64).sum()
    }

    /// Faults injected, all kinds.
    pub fn faults_injected(&self) -> u64 {
        self.faults.values().sum()
    }
}

impl SimProcess {
    /// Start `roster sim` on `tenant` with `flags`; its stderr goes to `log`.
    pub fn start(roster: &Path, tenant: &Path, flags: &[String], log: &Path) -> Result<SimProcess> {
        let mut command = Command::new(roster);
        command
            .arg("sim")
            .arg("--tenant")
            .arg(tenant)
            .arg("--qlik-only")
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(log).context("create the simulator log")?);
        let mut child = crate::procs::spawn_group(&mut command).context("start roster sim")?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("roster sim has no stdout"))?;
        // Read the first two lines on a thread, so a simulator that never starts cannot hang us.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let url = lines.next();
            let key = lines.next();
            let _ = tx.send((url, key));
            // Keep the pipe open until the simulator exits.
            for _ in lines {}
        });
        let (url, key) = match rx.recv_timeout(START_DEADLINE) {
            Ok((Some(Ok(url)), Some(Ok(key)))) => (url, key),
            Ok(_) => {
                crate::procs::stop(&mut child);
                bail!("roster sim exited before serving (see {})", log.display());
            }
            Err(_) => {
                crate::procs::stop(&mut child);
                bail!("roster sim did not start within {} s", START_DEADLINE.as_secs());
            }
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("start a runtime for the stats requests")?;
        Ok(SimProcess {
            child,
            url,
            key,
            runtime,
            http: reqwest::Client::new(),
        })
    }

    /// The simulator's counters now.
    pub fn stats(&self) -> Result<Stats> {
        let url = format!("{}/_sim/stats", self.url);
        self.runtime.block_on(async {
            let response = self
                .http
                .get(&url)
                .timeout(Duration::from_secs(60))
                .send()
                .await?
                .error_for_status()?;
            Ok(response.json::<Stats>().await?)
        })
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        crate::procs::stop(&mut self.child);
    }
}

/// A `roster sim --tenants N` process: N tenants, each at its own URL with its own key and rate
/// budget, and the fleet files it wrote for them.
pub struct FleetSim {
    child: Child,
    /// Each tenant's base URL.
    pub urls: Vec<String>,
    /// `roster.toml` with `[fleets.sim]`.
    pub config: std::path::PathBuf,
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl FleetSim {
    /// Start `roster sim --tenants COUNT --fleet-dir DIR` on `tenant` with `flags`.
    pub fn start(
        roster: &Path,
        tenant: &Path,
        count: usize,
        dir: &Path,
        flags: &[&str],
        log: &Path,
    ) -> Result<FleetSim> {
        let mut command = Command::new(roster);
        command
            .arg("sim")
            .arg("--tenant")
            .arg(tenant)
            .arg("--qlik-only")
            .arg("--tenants")
            .arg(count.to_string())
            .arg("--fleet-dir")
            .arg(dir)
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(log).context("create the simulator log")?);
        let mut child = crate::procs::spawn_group(&mut command).context("start roster sim --tenants")?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("roster sim has no stdout"))?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let mut urls = Vec::new();
            for _ in 0..count {
                match lines.next() {
                    Some(Ok(line)) => {
                        urls.push(line.split_whitespace().nth(1).unwrap_or_default().to_owned())
                    }
                    _ => break,
                }
            }
            let _ = tx.send(urls);
            for _ in lines {}
        });
        let urls = match rx.recv_timeout(START_DEADLINE) {
            Ok(urls) if urls.len() == count => urls,
            Ok(_) => {
                crate::procs::stop(&mut child);
                bail!("roster sim exited before serving (see {})", log.display());
            }
            Err(_) => {
                crate::procs::stop(&mut child);
                bail!("roster sim did not start within {} s", START_DEADLINE.as_secs());
            }
        };
        // The fleet files are written after the tenants are printed.
        let config = dir.join("roster.toml");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !config.exists() {
            if std::time::Instant::now() > deadline {
                crate::procs::stop(&mut child);
                bail!("roster sim wrote no fleet into {}", dir.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("start a runtime for the stats requests")?;
        Ok(FleetSim {
            child,
            urls,
            config,
            runtime,
            http: reqwest::Client::new(),
        })
    }

    /// Every tenant's counters now, in fleet order.
    pub fn stats(&self) -> Result<Vec<Stats>> {
        self.runtime.block_on(async {
            let mut all = Vec::with_capacity(self.urls.len());
            for url in &self.urls {
                let response = self
                    .http
                    .get(format!("{url}/_sim/stats"))
                    .timeout(Duration::from_secs(60))
                    .send()
                    .await?
                    .error_for_status()?;
                all.push(response.json::<Stats>().await?);
            }
            Ok(all)
        })
    }
}

impl Drop for FleetSim {
    fn drop(&mut self) {
        crate::procs::stop(&mut self.child);
    }
}
