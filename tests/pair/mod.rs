//! Two simulated tenants with different ids, and `roster` run against them by target name
//! (`a` and `b` in the world's `roster.toml`).

#![allow(dead_code, reason = "each test file uses a different part")]
#![allow(
    clippy::expect_used,
    reason = "test support: a setup step that fails must fail the test at once"
)]

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use roster_e2e::{SimConfig, SimHandle, Tenant, roster_bin};

pub const KEY_A: &str = "ROSTER_E2E_KEY_A";
pub const KEY_B: &str = "ROSTER_E2E_KEY_B";

/// Give every id of a tenant a prefix and set its tenant id, so two tenants share names and
/// emails but no ids.
pub fn rebrand(mut t: Tenant, prefix: &str) -> Tenant {
    let p = |id: &str| format!("{prefix}{id}");
    t.tenant_id = format!("{prefix}tenant");
    for u in &mut t.users {
        u.id = p(&u.id);
    }
    for g in &mut t.groups {
        g.id = p(&g.id);
    }
    for s in &mut t.spaces {
        s.id = p(&s.id);
        s.owner_id = p(&s.owner_id);
    }
    for k in &mut t.api_keys {
        k.user_id = p(&k.user_id);
    }
    for a in &mut t.assignments {
        a.id = p(&a.id);
        a.space_id = p(&a.space_id);
        a.assignee_id = p(&a.assignee_id);
    }
    t
}

/// How `b` is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Qlik,
    Alumio,
}

pub struct Pair {
    pub dir: tempfile::TempDir,
    pub a: SimHandle,
    pub b: SimHandle,
    b_kind: Kind,
    b_writes_per_min: u32,
}

#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Pair {
    /// Two simulators without limits; `b` is spoken to as `b_kind`.
    pub fn start(a: Tenant, b: Tenant, b_kind: Kind) -> Pair {
        let config = |t: Tenant| {
            let mut c = SimConfig::new(t);
            c.tier1_per_min = None;
            c.tier2_per_min = None;
            c.alumio.reads_per_min = None;
            c.alumio.writes_per_min = None;
            c
        };
        let a = sim::Sim::start_blocking(config(a)).expect("start a");
        let b = sim::Sim::start_blocking(config(b)).expect("start b");
        let pair = Pair {
            dir: tempfile::tempdir().expect("temp dir"),
            a,
            b,
            b_kind,
            b_writes_per_min: 0,
        };
        pair.write_config();
        pair
    }

    /// Pace writes to `b` (client and simulator), so a run lasts long enough to be killed.
    pub fn pace_b(&mut self, writes_per_min: u32) {
        self.b
            .set_limits(None, (writes_per_min > 0).then_some(writes_per_min));
        self.b_writes_per_min = writes_per_min;
        self.write_config();
    }

    fn write_config(&self) {
        let b = match self.b_kind {
            Kind::Qlik => format!("kind = \"qlik\"\nserver = \"{}\"\n", self.b.base_url()),
            Kind::Alumio => format!("kind = \"alumio\"\nserver = \"{}\"\n", self.b.alumio_base_url()),
        };
        let text = format!(
            "[targets.a]\nkind = \"qlik\"\nserver = \"{}\"\napi_key_env = \"{KEY_A}\"\ntier1_per_min = 0\ntier2_per_min = 0\n\n\
             [targets.b]\n{b}api_key_env = \"{KEY_B}\"\ntier1_per_min = 0\ntier2_per_min = {}\n",
            self.a.base_url(),
            self.b_writes_per_min,
        );
        fs::write(self.path("roster.toml"), text).expect("write roster.toml");
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) {
        fs::write(self.path(name), text).expect("write file");
    }

    pub fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let key_b = match self.b_kind {
            Kind::Qlik => self.b.api_keys()[0].clone(),
            Kind::Alumio => self.b.alumio_api_keys()[0].clone(),
        };
        let mut command = Command::new(roster_bin());
        command
            .args(args)
            .current_dir(self.dir.path())
            .env(KEY_A, &self.a.api_keys()[0])
            .env(KEY_B, key_b)
            .env("NO_COLOR", "1")
            .env("ROSTER_RETRY_SCALE", "0.01")
            .env_remove("ROSTER_CONFIG")
            .env_remove("CI")
            .stdin(Stdio::null());
        command
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.command(args).output().expect("run roster");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start roster")
    }

    /// `roster migrate --from a --to b EXTRA...`
    pub fn migrate(&self, extra: &[&str]) -> Run {
        let mut args = vec!["migrate", "--from", "a", "--to", "b"];
        args.extend_from_slice(extra);
        self.run(&args)
    }
}

/// A Qlik tenant's assignments by names: (space name, "user"/"group", email or group name) ->
/// sorted roles.
pub fn by_name(sim: &SimHandle) -> BTreeMap<(String, String, String), Vec<String>> {
    let t = sim.tenant();
    let space = |id: &str| {
        t.spaces
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    };
    sim.assignments()
        .into_iter()
        .map(|a| {
            let (kind, who) = match t.users.iter().find(|u| u.id == a.assignee_id) {
                Some(u) => ("user", u.email.clone().unwrap_or_default()),
                None => (
                    "group",
                    t.groups
                        .iter()
                        .find(|g| g.id == a.assignee_id)
                        .map(|g| g.name.clone())
                        .unwrap_or_default(),
                ),
            };
            let mut roles = a.roles;
            roles.sort();
            ((space(&a.space_id), kind.to_owned(), who), roles)
        })
        .collect()
}
