//! A fleet of simulated tenants for the fleet tests: one [`SimHandle`] per tenant, each a copy
//! of one tenant with keys of its own, and the fleet files (`roster.toml` with `[fleets.sim]`,
//! `tenants.csv`, `keys/`) that the simulator's own generator writes for `roster sim --tenants`.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use sim::fleet::{FleetMember, tenant_copy, tenant_name, write_fleet};
use sim::{SimConfig, SimHandle, Tenant};

use crate::{Run, roster_bin};

/// Simulated tenants and the fleet that reaches them.
pub struct Fleet {
    /// The working directory (roster.toml, tenants.csv, keys/, rosters, state).
    pub dir: tempfile::TempDir,
    /// The tenants' simulators, in fleet order.
    pub sims: Vec<SimHandle>,
    /// The fleet's members as written.
    pub members: Vec<FleetMember>,
}

impl Fleet {
    /// `count` tenants copied from `tenant`, each served with `config` (its tenant replaced);
    /// `extra` goes into `[fleets.sim]` (the client's limits and pace).
    pub fn start(count: usize, tenant: &Tenant, config: &SimConfig, extra: &str) -> Fleet {
        Fleet::start_each(count, extra, |_| {
            let mut one = config.clone();
            one.tenant = tenant.clone();
            one
        })
    }

    /// `count` tenants, tenant `index` served as `config(index)` says (its tenant's keys made
    /// its own), for fleets whose tenants differ in data or speed.
    pub fn start_each(count: usize, extra: &str, config: impl Fn(usize) -> SimConfig) -> Fleet {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut sims = Vec::new();
        let mut members = Vec::new();
        for index in 0..count {
            let mut one = config(index);
            one.tenant = tenant_copy(&one.tenant, index);
            let sim = sim::Sim::start_blocking(one).expect("start a simulated tenant");
            members.push(FleetMember {
                name: tenant_name(index, count),
                url: sim.base_url(),
                api_key: sim.api_keys().into_iter().next().expect("an api key"),
            });
            sims.push(sim);
        }
        write_fleet(dir.path(), "sim", &members, extra).expect("write the fleet");
        Fleet { dir, sims, members }
    }

    /// A path in the fleet's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write a file into the fleet's directory.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path(name);
        fs::write(&path, contents).expect("write file");
        path
    }

    /// Rewrite `tenants.csv` with tenant `index` at `url` instead.
    pub fn set_url(&self, index: usize, url: &str) {
        let mut csv = String::from("name,server\n");
        for (i, member) in self.members.iter().enumerate() {
            let url = if i == index { url } else { member.url.as_str() };
            csv.push_str(&format!("{},{url}\n", member.name));
        }
        self.write("tenants.csv", &csv);
    }

    /// Put `key` in tenant `index`'s key file.
    pub fn set_key(&self, index: usize, key: &str) {
        self.write(&format!("keys/{}.key", self.members[index].name), key);
    }

    /// `roster ARGS` in the fleet's directory, with no colour and fast retries.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(roster_bin());
        command.args(args);
        self.configure(command)
    }

    /// [`Fleet::command`], started by `sh` after `ulimit ULIMIT` (e.g. `-n 128`): the limits a
    /// user's shell may give it.
    pub fn command_under_ulimit(&self, ulimit: &str, args: &[&str]) -> Command {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("ulimit {ulimit} && exec \"$0\" \"$@\""))
            .arg(roster_bin())
            .args(args);
        self.configure(command)
    }

    fn configure(&self, mut command: Command) -> Command {
        command
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env("ROSTER_RETRY_SCALE", "0.01")
            .env_remove("ROSTER_CONFIG")
            .env_remove("CI")
            .stdin(Stdio::null());
        command
    }

    /// Run `roster ARGS` to its end.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from_output(self.command(args).output().expect("run roster"))
    }

    /// Run `roster ARGS` to its end under `ulimit ULIMIT`, as [`Fleet::command_under_ulimit`].
    pub fn run_under_ulimit(&self, ulimit: &str, args: &[&str]) -> Run {
        Run::from_output(
            self.command_under_ulimit(ulimit, args)
                .output()
                .expect("run roster"),
        )
    }

    /// Start `roster ARGS` in the background, output captured.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start roster")
    }

    /// Tenant `index`'s assignments, as (space id, assignee id) -> sorted roles.
    pub fn state(&self, index: usize) -> BTreeMap<(String, String), Vec<String>> {
        self.sims[index]
            .assignments()
            .into_iter()
            .map(|a| {
                let mut roles = a.roles;
                roles.sort();
                ((a.space_id, a.assignee_id), roles)
            })
            .collect()
    }

    /// Writes tenant `index` applied.
    pub fn writes(&self, index: usize) -> usize {
        self.sims[index].write_log().len()
    }
}

/// A loopback URL nothing listens on (a port just freed).
pub fn closed_port_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_or(9, |addr| addr.port());
    format!("http://127.0.0.1:{port}")
}

/// `(target, status)` of every `tenant_finished` event of a fleet's `--json` stream.
pub fn finished_statuses(lines: &[serde_json::Value]) -> Vec<(String, String)> {
    lines
        .iter()
        .filter(|l| l["event"] == "tenant_finished")
        .map(|l| {
            (
                l["target"].as_str().unwrap_or_default().to_owned(),
                l["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}
