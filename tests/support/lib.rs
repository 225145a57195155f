//! Shared helpers for the end-to-end suite: start the simulator, run the `roster` binary, read
//! its outputs.
//!
//! The tests run the real binary (`target/<profile>/roster`); [`roster_bin`] makes sure it is
//! built and current. Most tests run in a [`World`] (a simulator and a `roster.toml` the world
//! writes); the reliability and security tests, which choose every target option themselves,
//! run in a [`rig::Rig`].

#![expect(
    clippy::expect_used,
    reason = "test support: a setup step that fails must fail the test at once"
)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub mod fleet;

pub use sim::{
    ApiKey, AssigneeType, Assignment, Faults, Group, RequestRecord, SimConfig, SimHandle, Space, SpaceType,
    Tenant, User, WriteRecord,
};

pub mod rig;

/// The API key the simulated tenant accepts; the tests pass it through this variable.
pub const KEY_VAR: &str = "ROSTER_E2E_API_KEY";
const KEY: &str = "e2e-secret-key-0b7d9c1f";

/// The API key the simulated tenant accepts, for fixtures that must hold it (qlik-cli contexts).
pub fn api_key() -> &'static str {
    KEY
}
/// The owner of every space and of the API key.
pub const OWNER_ID: &str = "owner";

/// The `roster` binary next to this test executable (`target/<profile>/deps/..`).
///
/// Built once per test process with `cargo build -p batch-cli --bin roster` in the same profile
/// and target directory (a no-op when it is up to date), so running this package alone never
/// tests a stale binary.
pub fn roster_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap_or_default();
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let bin = profile_dir.join(format!("roster{}", std::env::consts::EXE_SUFFIX));
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--quiet", "-p", "batch-cli", "--bin", "roster"]);
        match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => {}
            Some("release") => {
                build.arg("--release");
            }
            Some(other) => {
                build.args(["--profile", other]);
            }
        }
        if let Some(target_dir) = profile_dir.parent() {
            build.arg("--target-dir").arg(target_dir);
        }
        let built = build.current_dir(env!("CARGO_MANIFEST_DIR")).status();
        assert!(
            bin.exists(),
            "{} is missing and `cargo build -p batch-cli --bin roster` did not make it ({built:?})",
            bin.display()
        );
        bin
    })
    .clone()
}

/// A tenant for tests: an owner (who holds the API key and owns every space), `users` users
/// (`user{i}@example.com`, id `u{i}`), `spaces` shared spaces (`Space {i}`, id `s{i}`) and
/// `groups` groups (`Group {i}`, id `g{i}`), no assignments.
pub fn tenant(users: usize, spaces: usize, groups: usize) -> Tenant {
    let mut all_users = vec![User {
        id: OWNER_ID.to_owned(),
        subject: "auth0|owner".to_owned(),
        name: "Owner".to_owned(),
        email: Some("owner@example.com".to_owned()),
        status: "active".to_owned(),
        roles: None,
    }];
    all_users.extend((0..users).map(|i| User {
        id: format!("u{i}"),
        subject: format!("auth0|user{i}"),
        name: format!("User {i}"),
        email: Some(format!("user{i}@example.com")),
        status: "active".to_owned(),
        roles: None,
    }));
    Tenant {
        version: sim::TENANT_FORMAT_VERSION,
        tenant_id: "e2e-tenant".to_owned(),
        api_keys: vec![ApiKey {
            id: "e2e".to_owned(),
            key: KEY.to_owned(),
            user_id: OWNER_ID.to_owned(),
        }],
        oauth_clients: Vec::new(),
        users: all_users,
        groups: (0..groups)
            .map(|i| Group {
                id: format!("g{i}"),
                name: format!("Group {i}"),
                status: "active".to_owned(),
                provider_type: "custom".to_owned(),
                description: String::new(),
                roles: Vec::new(),
            })
            .collect(),
        spaces: (0..spaces)
            .map(|i| Space {
                id: format!("s{i}"),
                name: format!("Space {i}"),
                space_type: SpaceType::Shared,
                owner_id: OWNER_ID.to_owned(),
                description: String::new(),
                assignable_roles: None,
            })
            .collect(),
        assignments: Vec::new(),
        alumio: Default::default(),
        roles: Vec::new(),
        groups_settings: Default::default(),
        license_settings: Default::default(),
    }
}

/// Add an assignment to a tenant under construction.
pub fn assign(tenant: &mut Tenant, space_id: &str, kind: AssigneeType, assignee_id: &str, roles: &[&str]) {
    let id = format!("a{}", tenant.assignments.len());
    tenant.assignments.push(Assignment {
        id,
        space_id: space_id.to_owned(),
        assignee_type: kind,
        assignee_id: assignee_id.to_owned(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    });
}

/// Limits for the simulator and the client, per minute; `None` is unlimited.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Reads.
    pub tier1: Option<u32>,
    /// Writes.
    pub tier2: Option<u32>,
}

impl Limits {
    /// No limit on either side: the fastest runs.
    pub const NONE: Limits = Limits {
        tier1: None,
        tier2: None,
    };
}

/// The pace every world starts with: the simulator paces strictly unless given a window.
const STEADY: &str = "pace = \"steady\"\n";

/// One test's world: a temp directory with a `roster.toml` naming target `sim`, and a simulator.
pub struct World {
    /// The working directory of every run (rosters, journal and failed CSVs live here).
    pub dir: tempfile::TempDir,
    /// The simulator.
    pub sim: SimHandle,
    limits: Limits,
    concurrency: usize,
    /// The target's pace lines in `roster.toml`.
    pace: String,
}

/// How a run ended.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// From a finished child's output.
    pub fn from_output(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The stdout as JSON lines (`--json` events).
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    /// Neither stream mentions a panic.
    pub fn assert_no_panic(&self) {
        for text in [&self.stdout, &self.stderr] {
            assert!(
                !text.contains("panicked") && !text.contains("RUST_BACKTRACE"),
                "the run panicked:\n{text}"
            );
        }
    }
}

/// Assignments as (space id, assignee id) -> sorted roles.
pub type State = BTreeMap<(String, String), Vec<String>>;

/// The tenant's assignments now.
pub fn assignments(sim: &SimHandle) -> State {
    sim.assignments()
        .into_iter()
        .map(|a| {
            let mut roles = a.roles;
            roles.sort();
            ((a.space_id, a.assignee_id), roles)
        })
        .collect()
}

/// `roster ARGS` in `dir`: short retry delays (backoff, not a server's retry-after, shrunk a
/// hundredfold), no colour, stdin closed, and none of the caller's config, key or log settings.
/// The caller adds the key's variable.
pub fn roster_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(roster_bin());
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("ROSTER_RETRY_SCALE", "0.01")
        .env_remove("ROSTER_CONFIG")
        .env_remove("QLIK_API_KEY")
        .env_remove("CI")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    command
}

/// `COMMAND ROSTER --to sim EXTRA...`: the words of a run against the target every world and
/// rig names `sim`.
pub fn on_sim<'a>(command: &'a str, roster: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![command, roster, "--to", "sim"];
    args.extend_from_slice(extra);
    args
}

/// Start `command` in the background, its output captured for [`wait_child`].
pub fn spawn_captured(mut command: Command) -> Child {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start roster")
}

/// Every line of the journal at `path`, header and markers included, as JSON; panics (failing
/// the test) when any line, the last included, is not valid JSON or the header is not a
/// journal's.
pub fn journal_file(path: &Path) -> Vec<serde_json::Value> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let lines: Vec<serde_json::Value> = text
        .lines()
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("journal line {}: {e}: {l}", i + 1)))
        .collect();
    assert_eq!(
        lines.first().map(|h| &h["format"]),
        Some(&"roster-journal".into())
    );
    lines
}

/// The journal's records at `path` (after the header, without the run's markers).
pub fn journal_records(path: &Path) -> Vec<serde_json::Value> {
    journal_file(path)
        .into_iter()
        .skip(1)
        .filter(|line| line.get("key").is_some())
        .collect()
}

impl World {
    /// Start a simulator with `tenant` and `limits` (the client is configured with the same
    /// limits), no latency and no faults.
    pub fn start(tenant: Tenant, limits: Limits) -> World {
        let mut config = SimConfig::new(tenant);
        config.tier1_per_min = limits.tier1;
        config.tier2_per_min = limits.tier2;
        World::with_config(config, limits)
    }

    /// Start a simulator from a full config; `client` are the limits the client uses.
    pub fn with_config(config: SimConfig, client: Limits) -> World {
        let sim = sim::Sim::start_blocking(config).expect("start the simulator");
        let dir = tempfile::tempdir().expect("temp dir");
        let world = World {
            dir,
            sim,
            limits: client,
            concurrency: 8,
            pace: STEADY.to_owned(),
        };
        world.write_config();
        world
    }

    /// Burst within a window of `window_secs` (written to `roster.toml`). Worlds pace steadily
    /// unless told, as the simulator does by default.
    pub fn set_burst(&mut self, window_secs: u64) {
        self.pace = format!("pace = \"burst\"\ntier2_window_secs = {window_secs}\n");
        self.write_config();
    }

    /// Rows in flight for the runs (written to `roster.toml`).
    pub fn set_concurrency(&mut self, concurrency: usize) {
        self.concurrency = concurrency;
        self.write_config();
    }

    /// Replace the simulator (e.g. with one holding a changed tenant); `roster.toml` follows it,
    /// and the target keeps its name, so journals stay valid.
    pub fn replace_sim(&mut self, config: SimConfig) {
        self.sim = sim::Sim::start_blocking(config).expect("start the simulator");
        self.write_config();
    }

    fn write_config(&self) {
        let limit = |l: Option<u32>| l.unwrap_or(0);
        let text = format!(
            "[targets.sim]\nkind = \"qlik\"\nserver = \"{}\"\napi_key_env = \"{KEY_VAR}\"\n\
             tier1_per_min = {}\ntier2_per_min = {}\nconcurrency = {}\n{}",
            self.sim.base_url(),
            limit(self.limits.tier1),
            limit(self.limits.tier2),
            self.concurrency,
            self.pace,
        );
        fs::write(self.path("roster.toml"), text).expect("write roster.toml");
    }

    /// A path in the world's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write a file into the world's directory.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path(name);
        fs::write(&path, contents).expect("write file");
        path
    }

    /// Read a file of the world's directory.
    pub fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    /// `roster ARGS` in the world's directory, with the key in the environment and no colour.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = roster_command(self.dir.path(), args);
        command.env(KEY_VAR, KEY);
        command
    }

    /// Run `roster ARGS` to its end.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().expect("run roster");
        Run::from_output(output)
    }

    /// `roster apply ROSTER --to sim EXTRA...`.
    pub fn apply(&self, roster: &str, extra: &[&str]) -> Run {
        self.run(&on_sim("apply", roster, extra))
    }

    /// `roster plan ROSTER --to sim EXTRA...`.
    pub fn plan(&self, roster: &str, extra: &[&str]) -> Run {
        self.run(&on_sim("plan", roster, extra))
    }

    /// Start `roster apply ROSTER --to sim EXTRA...` in the background, output captured.
    pub fn spawn_apply(&self, roster: &str, extra: &[&str]) -> Child {
        spawn_captured(self.command(&on_sim("apply", roster, extra)))
    }

    /// The tenant's assignments now, as (space id, assignee id) -> sorted roles.
    pub fn state(&self) -> State {
        assignments(&self.sim)
    }

    /// Writes the simulator applied, in order.
    pub fn writes(&self) -> Vec<WriteRecord> {
        self.sim.write_log()
    }

    /// Every request the simulator answered, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.sim.request_log()
    }

    /// The journal's records (after the header, without the run's markers), as JSON.
    pub fn journal(&self) -> Vec<serde_json::Value> {
        journal_records(&self.path(".roster/journal-sim.jsonl"))
    }

    /// Every line of the journal, header and markers included, as JSON.
    pub fn journal_lines(&self) -> Vec<serde_json::Value> {
        journal_file(&self.path(".roster/journal-sim.jsonl"))
    }
}

/// Requests that wrote (POST, PUT or DELETE on assignments), answered with any status.
pub fn write_requests(requests: &[RequestRecord]) -> Vec<&RequestRecord> {
    requests
        .iter()
        .filter(|r| r.path.contains("/assignments") && r.method != "GET")
        .collect()
}

/// Poll `check` until it is true or `timeout` passes (then panic with `what`).
pub fn wait_for(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Wait for a child to exit, killing it after `timeout`.
pub fn wait_child(mut child: Child, timeout: Duration) -> Run {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                break;
            }
        }
    }
    Run::from_output(child.wait_with_output().expect("collect output"))
}

/// Send SIGINT (Ctrl-C) to a child.
pub fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

/// A roster CSV from rows of (space, type, assignee, roles).
pub fn roster_csv(rows: &[(String, &str, String, &str)]) -> String {
    let mut text = String::from("space,type,assignee,roles\n");
    for (space, kind, assignee, roles) in rows {
        text.push_str(&format!("{space},{kind},{assignee},{roles}\n"));
    }
    text
}

/// A TLS server with a self-signed certificate for 127.0.0.1, made and served by `openssl`.
pub struct TlsServer {
    child: Child,
    /// The port it serves on, at 127.0.0.1.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl TlsServer {
    /// Make a certificate and serve it; panics (failing the test) when `openssl` is missing.
    pub fn start() -> TlsServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let made = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                "key.pem",
                "-out",
                "cert.pem",
            ])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run openssl (needed for the TLS test)");
        assert!(made.success(), "openssl req failed");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("openssl")
            .args([
                "s_server", "-quiet", "-www", "-cert", "cert.pem", "-key", "key.pem", "-accept",
            ])
            .arg(format!("127.0.0.1:{port}"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start openssl s_server");
        wait_for("the TLS server", Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        TlsServer {
            child,
            port,
            _dir: dir,
        }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
