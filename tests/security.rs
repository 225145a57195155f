//! Secrets stay secret, transport stays safe, and what roster writes is readable by the user only:
//! - API keys, client secrets and access tokens appear in no output, log, journal, failed-rows
//!   CSV or JSON event, across runs with auth failures, retries and token refreshes;
//! - TLS certificates are verified unless `--insecure`, which prints a warning;
//! - plain http to a host other than loopback is refused before anything is sent;
//! - a config file holding secrets that others can read gets a warning;
//! - keys come from an environment variable, a file or standard input (as the README says);
//! - the state directory, journal and failed-rows CSV are created user-only.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions too: any failure is a failed test"
)]

use roster_e2e::rig as hardening;

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use hardening::{
    CLIENT_ID, CLIENT_SECRET, KEY, KEY_VAR, Rig, Row, Run, SECRET_VAR, merged, roster_csv, tenant,
};
use roster_e2e::TlsServer;
use sim::{Faults, SimConfig};

/// `rows` creates over 2 spaces plus one row naming a user who does not exist (it fails).
fn roster_with_a_failure(rows: usize) -> (Vec<Row>, String) {
    let mut all: Vec<Row> = (0..rows)
        .map(|i| Row {
            space: i % 2,
            user: true,
            who: i / 2,
            roles: vec!["consumer"],
        })
        .collect();
    all.push(Row {
        space: 0,
        user: true,
        who: 99_999,
        roles: vec!["consumer"],
    });
    let csv = roster_csv(&all);
    all.pop();
    (all, csv)
}

/// Every file under `dir`, recursively, with its contents.
fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = fs::read(&path) {
                files.push((path, bytes));
            }
        }
    }
    files
}

fn assert_clean(what: &str, text: &[u8], secrets: &[&str]) {
    let text = String::from_utf8_lossy(text);
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "{what} holds a secret ({secret}):\n{text}"
        );
    }
    // Access tokens are `sim-at-<32 hex>`; even the prefix must not show.
    assert!(!text.contains("sim-at-"), "{what} holds an access token:\n{text}");
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn no_secret_or_token_in_any_output_log_journal_or_file() {
    hardening::roster_bin();
    let mut config = SimConfig::new(tenant(40, 2, 0));
    config.tier1_per_min = None;
    config.tier2_per_min = None;
    config.seed = 3;
    // Tokens expire mid-run, so the client fetches new ones.
    config.token_ttl = Duration::from_millis(300);
    config.faults = Faults {
        p500: 0.1,
        p503: 0.05,
        reset: 0.05,
        slow: 0.0,
        slow_delay: Duration::from_secs(2),
        apply_before_fault: true,
    };
    let rig = Rig::start(
        config,
        &["tier1_per_min = 0", "tier2_per_min = 1200", "concurrency = 2"],
    );
    let (rows, csv) = roster_with_a_failure(60);
    rig.write("roster.csv", &csv);
    let bad_key = "hardening-wrong-key-0c4e7d1a99b2";
    let mut runs: Vec<(String, Run)> = Vec::new();
    let loud = |command: &mut Command| {
        command
            .env("RUST_LOG", "trace")
            .env("ROSTER_LOG", "trace")
            .env("RUST_BACKTRACE", "1");
    };

    // 1. A key the tenant does not know: 401.
    let mut command = rig.command(&["apply", "roster.csv", "--to", "sim", "-vv"]);
    command.env(KEY_VAR, bad_key);
    loud(&mut command);
    let run = Run::from_output(command.output().expect("run"));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        rig.sim.request_log().iter().any(|r| r.status == 401),
        "the tenant refused the key"
    );
    runs.push(("wrong key".into(), run));

    // 2. The API key, with faults and retries, verbose, JSON events; one row fails.
    for extra in [&["-vv"][..], &["--json", "-vv"][..]] {
        let mut args = vec!["apply", "roster.csv", "--to", "sim", "--fresh"];
        args.extend_from_slice(extra);
        let mut command = rig.command(&args);
        loud(&mut command);
        let run = Run::from_output(command.output().expect("run"));
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        // The logs are really on, so the search below covers what they print.
        assert!(run.stderr.contains("core_api"), "no trace logs: {}", run.stderr);
        runs.push((format!("api key {extra:?}"), run));
    }
    let retried = rig.sim.request_log().iter().filter(|r| r.fault.is_some()).count();
    assert!(retried > 0, "faults were injected and retried");

    // 3. OAuth client credentials, tokens expiring during the run.
    rig.write_config(&format!(
        "client_id = \"{CLIENT_ID}\"\nclient_secret_env = \"{SECRET_VAR}\""
    ));
    // Each run adds a role to every row, so it writes long enough for tokens to expire.
    let tokens_before = oauth_requests(&rig);
    let mut expected = merged(&Default::default(), &rows);
    for (name, role, extra) in [
        ("producer.csv", "producer", &["-vv"][..]),
        ("facilitator.csv", "facilitator", &["--json", "-vv"][..]),
    ] {
        let more: Vec<Row> = rows
            .iter()
            .map(|r| Row {
                roles: vec![role],
                ..r.clone()
            })
            .collect();
        expected = merged(&expected, &more);
        rig.write(name, roster_csv(&more));
        let mut args = vec!["apply", name, "--to", "sim"];
        args.extend_from_slice(extra);
        let mut command = rig.command(&args);
        command.env(SECRET_VAR, CLIENT_SECRET).env_remove(KEY_VAR);
        loud(&mut command);
        let run = Run::from_output(command.output().expect("run"));
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        runs.push((format!("oauth {extra:?}"), run));
    }
    assert!(
        oauth_requests(&rig) >= tokens_before + 3,
        "tokens were fetched again as they expired ({} token requests)",
        oauth_requests(&rig) - tokens_before
    );
    // 4. A wrong client secret: the token request is refused.
    let mut command = rig.command(&["apply", "roster.csv", "--to", "sim", "-vv"]);
    command
        .env(SECRET_VAR, "hardening-wrong-secret-77d2e1")
        .env_remove(KEY_VAR);
    loud(&mut command);
    let run = Run::from_output(command.output().expect("run"));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    runs.push(("wrong secret".into(), run));

    assert_eq!(rig.state(), expected);
    let secrets = [KEY, CLIENT_SECRET, bad_key, "hardening-wrong-secret-77d2e1"];
    for (what, run) in &runs {
        run.assert_no_panic();
        assert_clean(&format!("stdout of {what}"), run.stdout.as_bytes(), &secrets);
        assert_clean(&format!("stderr of {what}"), run.stderr.as_bytes(), &secrets);
    }
    // The journal, the failed-rows CSV and whatever else was written (roster.toml names only
    // variables).
    let files = all_files(rig.dir.path());
    assert!(files.iter().any(|(p, _)| p.ends_with("roster.failed.csv")));
    assert!(files.iter().any(|(p, _)| p.ends_with("journal-sim.jsonl")));
    for (path, bytes) in &files {
        assert_clean(&path.display().to_string(), bytes, &secrets);
    }
}

fn oauth_requests(rig: &Rig) -> usize {
    rig.sim
        .request_log()
        .iter()
        .filter(|r| r.path.ends_with("/oauth/token"))
        .count()
}

#[test]
fn the_state_directory_journal_and_failed_csv_are_for_the_user_only() {
    let mut config = SimConfig::new(tenant(4, 2, 0));
    config.tier1_per_min = None;
    config.tier2_per_min = None;
    let rig = Rig::start(config, &["tier1_per_min = 0", "tier2_per_min = 0"]);
    let (_, csv) = roster_with_a_failure(4);
    rig.write("roster.csv", &csv);
    // However permissive the umask, the files are user-only.
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!(
            "umask 000 && exec \"{}\" apply roster.csv --to sim",
            hardening::roster_bin().display()
        ))
        .current_dir(rig.dir.path())
        .env(KEY_VAR, KEY)
        .env("NO_COLOR", "1")
        .env_remove("ROSTER_CONFIG")
        .stdin(Stdio::null());
    let run = Run::from_output(command.output().expect("run"));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(mode(&rig.path(".roster")), 0o700, "state directory");
    assert_eq!(mode(&rig.journal_path()), 0o600, "journal");
    assert_eq!(mode(&rig.path("roster.failed.csv")), 0o600, "failed-rows CSV");

    // Also with --state-dir, nested.
    let run = rig.apply("roster.csv", &["--state-dir", "deep/state", "--fresh"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(mode(&rig.path("deep/state")), 0o700);
    assert_eq!(mode(&rig.path("deep/state/journal-sim.jsonl")), 0o600);
}

#[test]
fn a_config_file_or_key_file_others_can_read_gets_a_warning() {
    let mut config = SimConfig::new(tenant(1, 1, 0));
    config.tier1_per_min = None;
    let rig = Rig::start(config, &["tier1_per_min = 0", "tier2_per_min = 0"]);
    rig.write(
        "roster.csv",
        "space,type,assignee,roles\nSpace 0,user,user0@example.com,consumer\n",
    );

    // A key written into the config file.
    rig.write_config(&format!("api_key = \"{KEY}\""));
    let toml = rig.path("roster.toml");
    for (file_mode, warned) in [(0o644, true), (0o640, true), (0o604, true), (0o600, false)] {
        fs::set_permissions(&toml, fs::Permissions::from_mode(file_mode)).expect("chmod");
        let run = rig.run(&["plan", "roster.csv", "--to", "sim"]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let warning = run
            .stderr
            .lines()
            .find(|l| l.starts_with("warning:") && l.contains("roster.toml"));
        assert_eq!(warning.is_some(), warned, "mode {file_mode:o}: {}", run.stderr);
        if let Some(warning) = warning {
            assert!(warning.contains("chmod 600"), "{warning}");
        }
        assert_clean("stderr", run.stderr.as_bytes(), &[KEY]);
    }

    // A key file.
    rig.write("prod.key", format!("{KEY}\n"));
    rig.write_config("api_key_file = \"prod.key\"");
    fs::set_permissions(&toml, fs::Permissions::from_mode(0o644)).expect("chmod");
    for (file_mode, warned) in [(0o644, true), (0o600, false)] {
        fs::set_permissions(rig.path("prod.key"), fs::Permissions::from_mode(file_mode)).expect("chmod");
        let run = rig.run(&["plan", "roster.csv", "--to", "sim"]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let warned_now = run
            .stderr
            .lines()
            .any(|l| l.starts_with("warning:") && l.contains("prod.key"));
        assert_eq!(warned_now, warned, "key file mode {file_mode:o}: {}", run.stderr);
        // roster.toml names a file, not a secret: no warning for it.
        assert!(!run.stderr.contains("roster.toml"), "{}", run.stderr);
    }
}

#[test]
fn keys_come_from_an_environment_variable_a_file_or_standard_input() {
    let mut config = SimConfig::new(tenant(1, 1, 0));
    config.tier1_per_min = None;
    let rig = Rig::start(config, &[]);
    rig.write(
        "roster.csv",
        "space,type,assignee,roles\nSpace 0,user,user0@example.com,consumer\n",
    );
    fs::remove_file(rig.path("roster.toml")).expect("no config file");
    let server = rig.sim.base_url();
    let plan = |extra: &[&str]| {
        let mut args = vec!["plan", "roster.csv", "--server", server.as_str()];
        args.extend_from_slice(extra);
        let mut command = rig.command(&args);
        command.env_remove(KEY_VAR);
        command
    };

    // QLIK_API_KEY, the default variable.
    let mut command = plan(&[]);
    command.env("QLIK_API_KEY", KEY);
    let run = Run::from_output(command.output().expect("run"));
    assert_eq!(run.code, Some(0), "QLIK_API_KEY: {}", run.stderr);

    // A variable named with --api-key-env.
    let mut command = plan(&["--api-key-env", "MY_KEY"]);
    command.env("MY_KEY", KEY);
    let run = Run::from_output(command.output().expect("run"));
    assert_eq!(run.code, Some(0), "--api-key-env: {}", run.stderr);

    // A file.
    let key_file = rig.write("key.txt", format!("{KEY}\n"));
    fs::set_permissions(&key_file, fs::Permissions::from_mode(0o600)).expect("chmod");
    let run = Run::from_output(plan(&["--api-key-file", "key.txt"]).output().expect("run"));
    assert_eq!(run.code, Some(0), "--api-key-file: {}", run.stderr);

    // Standard input.
    let mut child = plan(&["--api-key-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start roster");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{KEY}\n").as_bytes())
        .expect("write the key");
    let run = Run::from_output(child.wait_with_output().expect("run"));
    assert_eq!(run.code, Some(0), "--api-key-stdin: {}", run.stderr);

    // Every run authenticated with the key; a missing key is a usage error that sends nothing.
    let requests = rig.sim.request_log();
    assert!(!requests.is_empty() && requests.iter().all(|r| r.status != 401));
    let run = Run::from_output(plan(&[]).output().expect("run"));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("QLIK_API_KEY"), "{}", run.stderr);
    assert_eq!(rig.sim.request_log().len(), requests.len());

    // The README tells people to keep keys off the command line, naming the three ways.
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README");
    let advice = readme
        .split("\n- ")
        .find(|item| item.contains("off the command line"))
        .expect("the README advises keeping keys off the command line");
    for way in ["environment variable", "file", "--api-key-stdin", "chmod 600"] {
        assert!(
            advice.contains(way),
            "the README's advice does not mention {way}: {advice}"
        );
    }
}

/// A host address of this machine that is not loopback, if it has one.
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    // Connecting a UDP socket sends nothing; it only picks the outgoing interface.
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn plain_http_to_a_host_other_than_loopback_is_refused_before_anything_is_sent() {
    // The simulator listens on every interface, so a request to this machine's own network
    // address would reach it and show in its log.
    let Some(ip) = non_loopback_ip() else {
        panic!("this machine has no non-loopback address to test with");
    };
    let mut config = SimConfig::new(tenant(1, 1, 0));
    config.addr = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
    config.tier1_per_min = None;
    let rig = Rig::start(config, &[]);
    let port = rig
        .sim
        .base_url()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .expect("port");
    rig.write(
        "roster.csv",
        "space,type,assignee,roles\nSpace 0,user,user0@example.com,consumer\n",
    );
    let server = format!("http://{ip}:{port}");

    for args in [
        vec![
            "plan",
            "roster.csv",
            "--server",
            server.as_str(),
            "--api-key-env",
            KEY_VAR,
        ],
        vec![
            "apply",
            "roster.csv",
            "--server",
            server.as_str(),
            "--api-key-env",
            KEY_VAR,
        ],
    ] {
        let run = rig.run(&args);
        run.assert_no_panic();
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(run.stderr.contains("plain http"), "{}", run.stderr);
        assert!(
            run.stderr.contains("--allow-http") || run.stderr.contains("https"),
            "{}",
            run.stderr
        );
        assert!(
            rig.sim.request_log().is_empty(),
            "a request was sent: {:?}",
            rig.sim.request_log()
        );
    }
    // The same in a config file.
    fs::write(
        rig.path("roster.toml"),
        format!("[targets.remote]\nserver = \"{server}\"\napi_key_env = \"{KEY_VAR}\"\n"),
    )
    .expect("config");
    let run = rig.run(&["apply", "roster.csv", "--to", "remote"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("plain http"), "{}", run.stderr);
    assert!(rig.sim.request_log().is_empty());
    assert!(!rig.path(".roster").exists(), "nothing was written either");

    // Only --allow-http lets it through: then the requests arrive.
    let run = rig.run(&[
        "plan",
        "roster.csv",
        "--server",
        server.as_str(),
        "--api-key-env",
        KEY_VAR,
        "--allow-http",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!rig.sim.request_log().is_empty());
}

#[test]
fn tls_certificates_are_verified_unless_insecure_which_warns() {
    let server = TlsServer::start();
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(
        dir.path().join("roster.csv"),
        "space,type,assignee,roles\nSpace 0,user,user0@example.com,consumer\n",
    )
    .expect("roster");
    let url = format!("https://127.0.0.1:{}", server.port);
    let run = |extra: &[&str]| {
        let mut command = Command::new(hardening::roster_bin());
        command
            .args([
                "plan",
                "roster.csv",
                "--server",
                url.as_str(),
                "--api-key-env",
                KEY_VAR,
            ])
            .args(extra)
            .current_dir(dir.path())
            .env(KEY_VAR, KEY)
            .env("ROSTER_RETRY_SCALE", "0")
            .env("NO_COLOR", "1")
            .env_remove("ROSTER_CONFIG")
            .stdin(Stdio::null());
        Run::from_output(command.output().expect("run roster"))
    };

    let verified = run(&[]);
    verified.assert_no_panic();
    assert_eq!(verified.code, Some(2), "{}", verified.stderr);
    assert!(
        verified.stderr.to_lowercase().contains("certificate"),
        "the failure names the certificate: {}",
        verified.stderr
    );
    assert!(!verified.stderr.contains("not verified"), "{}", verified.stderr);

    // --insecure: a warning first, and the connection gets past TLS (the server is no tenant,
    // so the run still fails, but not on the certificate).
    let insecure = run(&["--insecure"]);
    insecure.assert_no_panic();
    let first = insecure.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("warning:") && first.contains("not verified") && first.contains("--insecure"),
        "{}",
        insecure.stderr
    );
    assert!(
        !insecure.stderr.to_lowercase().contains("certificate verify")
            && !insecure.stderr.contains("UnknownIssuer"),
        "{}",
        insecure.stderr
    );
    assert_clean("stderr", insecure.stderr.as_bytes(), &[KEY]);
    assert_clean("stderr", verified.stderr.as_bytes(), &[KEY]);
}
