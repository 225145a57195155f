//! The rig of the reliability and security tests (`faults`, `crash`, `bad_input`, `security`):
//! a simulator with a `roster.toml` whose target options each test chooses (timeouts,
//! credentials, limits), this module's own API key and OAuth client (so the secrets those tests
//! search output for are theirs alone), and rosters made of [`Row`]s.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command};

use sim::{ApiKey, OAuthClient, SimConfig, SimHandle, Tenant};

pub use super::{Run, assign, roster_bin, wait_child, wait_for};
use super::{on_sim, spawn_captured};
pub use sim::generate::Mix as Seeded;

/// The API key the tenant accepts; runs get it through [`KEY_VAR`].
pub const KEY: &str = "hardening-key-7f3a91c2e8d4b605";
/// The variable the target's `api_key_env` names.
pub const KEY_VAR: &str = "ROSTER_HARDENING_KEY";
/// An OAuth client of the tenant.
pub const CLIENT_ID: &str = "hardening-client";
/// Its secret; runs get it through [`SECRET_VAR`].
pub const CLIENT_SECRET: &str = "hardening-secret-52c0e7a9d1f64b38";
/// The variable the target's `client_secret_env` names.
pub const SECRET_VAR: &str = "ROSTER_HARDENING_SECRET";
pub use super::OWNER_ID;

/// A tenant as [`super::tenant`] builds it, with this module's own API key and an OAuth
/// client.
pub fn tenant(users: usize, spaces: usize, groups: usize) -> Tenant {
    let mut tenant = super::tenant(users, spaces, groups);
    tenant.tenant_id = "hardening".to_owned();
    tenant.api_keys = vec![ApiKey {
        id: "hardening-key".to_owned(),
        key: KEY.to_owned(),
        user_id: OWNER_ID.to_owned(),
    }];
    tenant.oauth_clients = vec![OAuthClient {
        client_id: CLIENT_ID.to_owned(),
        client_secret: CLIENT_SECRET.to_owned(),
        user_id: OWNER_ID.to_owned(),
    }];
    tenant
}

/// Assignments as (space id, assignee id) -> sorted roles.
pub use super::State;

/// One roster row: space index, user (`true`) or group, assignee index, roles.
#[derive(Debug, Clone)]
pub struct Row {
    /// `Space {space}`.
    pub space: usize,
    /// A user (`user{who}@example.com`) or a group (`Group {who}`).
    pub user: bool,
    /// The assignee's index.
    pub who: usize,
    /// Role names as the API spells them.
    pub roles: Vec<&'static str>,
}

/// The roster CSV of `rows`.
pub fn roster_csv(rows: &[Row]) -> String {
    let mut text = String::from("space,type,assignee,roles\n");
    for row in rows {
        let (kind, name) = if row.user {
            ("user", format!("user{}@example.com", row.who))
        } else {
            ("group", format!("Group {}", row.who))
        };
        text.push_str(&format!(
            "Space {},{kind},{name},{}\n",
            row.space,
            row.roles.join(";")
        ));
    }
    text
}

/// What the tenant holds after merging `rows` into `before`.
pub fn merged(before: &State, rows: &[Row]) -> State {
    let mut state = before.clone();
    for row in rows {
        let id = if row.user {
            format!("u{}", row.who)
        } else {
            format!("g{}", row.who)
        };
        let entry = state.entry((format!("s{}", row.space), id)).or_default();
        entry.extend(row.roles.iter().map(|r| (*r).to_owned()));
        entry.sort();
        entry.dedup();
    }
    state
}

/// A temp directory holding `roster.toml` (target `sim`) and a running simulator.
pub struct Rig {
    /// The working directory of every run.
    pub dir: tempfile::TempDir,
    /// The simulator.
    pub sim: SimHandle,
    /// Extra lines for the `[targets.sim]` table, e.g. `timeout_secs = 1`.
    target_lines: Vec<String>,
}

impl Rig {
    /// Start a simulator from `config`; the target uses the API key and `target_lines`.
    pub fn start(config: SimConfig, target_lines: &[&str]) -> Rig {
        let sim = sim::Sim::start_blocking(config).expect("start the simulator");
        let dir = tempfile::tempdir().expect("temp dir");
        let rig = Rig {
            dir,
            sim,
            target_lines: target_lines.iter().map(|l| (*l).to_owned()).collect(),
        };
        rig.write_config(&format!("api_key_env = \"{KEY_VAR}\""));
        rig
    }

    /// Rewrite `roster.toml` with `credential_lines` (e.g. `client_id = ...`) instead of the API
    /// key.
    pub fn write_config(&self, credential_lines: &str) {
        let mut text = format!(
            "[targets.sim]\nkind = \"qlik\"\nserver = \"{}\"\n{credential_lines}\n",
            self.sim.base_url()
        );
        for line in &self.target_lines {
            text.push_str(line);
            text.push('\n');
        }
        // The simulator paces strictly unless given a window; so does the client unless told.
        if !self.target_lines.iter().any(|l| l.starts_with("pace")) {
            text.push_str("pace = \"steady\"\n");
        }
        self.write("roster.toml", &text);
    }

    /// A path in the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write a file into the directory.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        fs::write(&path, contents).expect("write file");
        path
    }

    /// `roster ARGS` in the directory: the key in the environment, short retry delays, no colour,
    /// stdin closed.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = super::roster_command(self.dir.path(), args);
        command.env(KEY_VAR, KEY);
        command
    }

    /// Run `roster ARGS` to its end.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from_output(self.command(args).output().expect("run roster"))
    }

    /// `roster apply ROSTER --to sim EXTRA...`.
    pub fn apply(&self, roster: &str, extra: &[&str]) -> Run {
        self.run(&on_sim("apply", roster, extra))
    }

    /// Start `roster apply ROSTER --to sim EXTRA...` in the background, output captured.
    pub fn spawn_apply(&self, roster: &str, extra: &[&str]) -> Child {
        spawn_captured(self.command(&on_sim("apply", roster, extra)))
    }

    /// The tenant's assignments now.
    pub fn state(&self) -> State {
        super::assignments(&self.sim)
    }

    /// How many times each (space, assignee) was created.
    pub fn creates(&self) -> BTreeMap<(String, String), usize> {
        let mut counts = BTreeMap::new();
        for w in self.sim.write_log() {
            if w.op == sim::WriteOp::Create {
                *counts.entry((w.space_id, w.assignee_id)).or_default() += 1;
            }
        }
        counts
    }

    /// Requests that wrote assignments (POST, PUT, PATCH or DELETE), answered with any status or
    /// none.
    pub fn write_requests(&self) -> usize {
        super::write_requests(&self.sim.request_log()).len()
    }

    /// The journal of target `sim` in the default state directory.
    pub fn journal_path(&self) -> PathBuf {
        self.path(".roster/journal-sim.jsonl")
    }

    /// The journal's records after the header (not the run's markers); panics (failing the
    /// test) when any line, including the last, is not valid JSON.
    pub fn journal(&self) -> Vec<serde_json::Value> {
        super::journal_records(&self.journal_path())
    }
}
