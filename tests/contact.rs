//! What a new admin meets in the first hour, through the binary:
//! - `export -o` writes a FIFO (or a link to one) in place and `-o -` to standard output, and
//!   renames only over a regular file;
//! - connection and TLS failures end at once with a hint that names the fix;
//! - a server URL is accepted with or without `/api/v1` and a trailing slash;
//! - a closed standard output ends a command quietly; `-vv` logs every request.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions too: any failure is a failed test"
)]

use std::fs;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use roster_e2e::{AssigneeType, KEY_VAR, Limits, TlsServer, World, assign, tenant};

/// A tenant with two spaces: Space 0 holds user0 (consumer) and Group 0 (producer).
fn world() -> World {
    let mut t = tenant(2, 2, 1);
    assign(&mut t, "s0", AssigneeType::User, "u0", &["consumer"]);
    assign(&mut t, "s0", AssigneeType::Group, "g0", &["producer"]);
    assign(&mut t, "s1", AssigneeType::User, "u1", &["consumer"]);
    World::start(t, Limits::NONE)
}

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().expect("run mkfifo");
    assert!(made.success(), "mkfifo failed");
}

/// Read a FIFO to its end on another thread; the text arrives on the channel.
fn drain(path: &Path) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Ok(mut fifo) = fs::File::open(&path) {
            let _ = fifo.read_to_string(&mut text);
        }
        let _ = tx.send(text);
    });
    rx
}

fn is_fifo(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

#[test]
fn export_writes_a_fifo_in_place_and_dash_to_stdout() {
    let w = world();

    // `-o -`: the space's members on standard output; the closing line stays on stderr.
    let run = w.run(&["export", "--from", "sim", "--space", "Space 0", "-o", "-"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("space,type,assignee,roles,space_id,assignee_id\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Space 0,user,user0@example.com,consumer,s0,u0\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Space 0,group,Group 0,producer,s0,g0\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("Space 1"), "{}", run.stdout);
    assert!(run.stderr.contains("to standard output"), "{}", run.stderr);
    assert!(!w.path("-").exists(), "no file named -");

    // A FIFO is written in place, not replaced by a regular file.
    let fifo = w.path("members.fifo");
    mkfifo(&fifo);
    let text = drain(&fifo);
    let run = w.run(&[
        "export",
        "--from",
        "sim",
        "--space",
        "Space 0",
        "-o",
        "members.fifo",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        is_fifo(&fifo),
        "the FIFO was replaced: {:?}",
        fs::symlink_metadata(&fifo)
    );
    let text = text
        .recv_timeout(Duration::from_secs(20))
        .expect("the reader got the export");
    assert!(
        text.contains("Space 0,user,user0@example.com,consumer,s0,u0\n"),
        "{text}"
    );

    // The same through a symbolic link to a FIFO (as /dev/stdout is): the link and the FIFO stay.
    let link = w.path("out.csv");
    std::os::unix::fs::symlink(&fifo, &link).expect("symlink");
    let text = drain(&fifo);
    let run = w.run(&["export", "--from", "sim", "-o", "out.csv"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()));
    assert!(is_fifo(&fifo));
    let text = text
        .recv_timeout(Duration::from_secs(20))
        .expect("the reader got the export");
    assert!(
        text.contains("Space 1,user,user1@example.com,consumer,s1,u1\n"),
        "{text}"
    );

    // A regular file is still replaced whole, and no temporary file is left behind.
    w.write("file.csv", "old\n");
    let run = w.run(&["export", "--from", "sim", "-o", "file.csv"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(w.read("file.csv").starts_with("space,type,"));
    let leftovers: Vec<_> = fs::read_dir(w.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `roster ARGS | head`, where the reader has gone before roster writes: stdout is a pipe whose
/// read end is already closed, so the first write fails with a broken pipe.
fn with_closed_stdout(w: &World, args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let output = w
        .command(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run roster");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_ends_a_command_quietly() {
    let w = world();
    w.write(
        "roster.csv",
        "space,type,assignee,roles\nSpace 1,user,user0@example.com,consumer\n",
    );
    for args in [
        vec!["completions", "bash"],
        vec!["completions", "zsh"],
        vec!["export", "--from", "sim", "-o", "-"],
        vec!["plan", "roster.csv", "--to", "sim"],
        vec!["apply", "roster.csv", "--to", "sim", "--json"],
    ] {
        let (code, stderr) = with_closed_stdout(&w, &args);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
}

/// `roster ARGS` in the world's directory with the key under another variable name, retries at
/// their real pace (so a retried failure would show in the attempt count and the time).
fn run_real_retries(w: &World, args: &[&str]) -> roster_e2e::Run {
    let output = w
        .command(args)
        .env_remove("ROSTER_RETRY_SCALE")
        .output()
        .expect("run roster");
    roster_e2e::Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn plan_at(w: &World, server: &str, extra: &[&str]) -> roster_e2e::Run {
    let mut args = vec!["plan", "roster.csv", "--server", server, "--api-key-env", KEY_VAR];
    args.extend_from_slice(extra);
    run_real_retries(w, &args)
}

fn assert_failed_at_once(run: &roster_e2e::Run, started: Instant, what: &str) {
    assert_eq!(run.code, Some(2), "{what}: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
    assert!(
        !run.stderr.contains("attempts"),
        "{what}: retried: {}",
        run.stderr
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{what}: took {:?}: {}",
        started.elapsed(),
        run.stderr
    );
    assert!(run.stderr.contains("\nhint: "), "{what}: no hint: {}", run.stderr);
}

#[test]
fn connection_failures_end_at_once_with_a_hint_that_names_the_fix() {
    let w = world();
    w.write(
        "roster.csv",
        "space,type,assignee,roles\nSpace 0,user,user0@example.com,consumer\n",
    );
    let base = w.sim.base_url();
    let address = base.trim_start_matches("http://").to_owned();

    // Plain http to a host other than loopback is refused before anything is sent, naming
    // the flag that allows it (the name is never looked up). It runs first: a run that
    // ended on an error may leave a request in flight that the simulator logs later.
    let run = plan_at(&w, "http://tenant.example.invalid", &[]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("plain http"), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: ") && run.stderr.contains("--allow-http"),
        "{}",
        run.stderr
    );
    assert!(w.requests().is_empty(), "{:?}", w.requests());

    // No scheme: https is assumed, and the plain-http simulator does not answer in TLS.
    let started = Instant::now();
    let run = plan_at(&w, &address, &[]);
    assert_failed_at_once(&run, started, "no scheme");
    assert!(run.stderr.contains("did not answer in TLS"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("--server http://{address}")),
        "{}",
        run.stderr
    );

    // A closed port: refused, nothing listens; no retries before the server ever answered.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let started = Instant::now();
    let run = plan_at(&w, &format!("http://127.0.0.1:{closed}"), &[]);
    assert_failed_at_once(&run, started, "closed port");
    assert!(run.stderr.contains("nothing listens"), "{}", run.stderr);
    assert!(run.stderr.contains("--server"), "{}", run.stderr);

    // A wrong key: the hint says where the key comes from.
    let started = Instant::now();
    let run = w
        .command(&["plan", "roster.csv", "--server", &base, "--api-key-env", KEY_VAR])
        .env(KEY_VAR, "not-the-key")
        .output()
        .map(|o| roster_e2e::Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        })
        .expect("run roster");
    assert_failed_at_once(&run, started, "wrong key");
    assert!(run.stderr.contains("401"), "{}", run.stderr);
    assert!(run.stderr.contains("refused the API key"), "{}", run.stderr);
    assert!(run.stderr.contains("--api-key-env"), "{}", run.stderr);
    assert!(!run.stderr.contains("not-the-key"), "{}", run.stderr);

    // `roster export`'s hints name its own flags.
    let run = w.run(&["export", "--from", "nope", "-o", "x.csv"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("--from qlik:nope"), "{}", run.stderr);
    assert!(!run.stderr.contains("--to"), "{}", run.stderr);
}

#[test]
fn an_untrusted_certificate_fails_at_once_and_names_insecure() {
    let server = TlsServer::start();
    let w = world();
    w.write(
        "roster.csv",
        "space,type,assignee,roles\nSpace 0,user,user0@example.com,consumer\n",
    );
    let started = Instant::now();
    let run = plan_at(&w, &format!("https://127.0.0.1:{}", server.port), &[]);
    assert_failed_at_once(&run, started, "self-signed certificate");
    assert!(
        run.stderr.contains("certificate is not trusted"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--insecure"), "{}", run.stderr);
}

#[test]
fn a_server_url_is_taken_with_or_without_api_v1_and_a_trailing_slash() {
    let w = world();
    w.write(
        "roster.csv",
        "space,type,assignee,roles\nSpace 0,user,user0@example.com,consumer\n",
    );
    let base = w.sim.base_url();
    for server in [
        base.clone(),
        format!("{base}/"),
        format!("{base}/api/v1"),
        format!("{base}/api/v1/"),
    ] {
        let run = w.run(&[
            "plan",
            "roster.csv",
            "--server",
            &server,
            "--api-key-env",
            KEY_VAR,
        ]);
        assert_eq!(run.code, Some(0), "{server}: {}", run.stderr);
        assert!(run.stdout.contains("0 to create"), "{server}: {}", run.stdout);
    }
    let requests = w.requests();
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|r| r.path.starts_with("/api/v1/") && !r.path.contains("/api/v1/api/v1")),
        "{:?}",
        requests.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
}

#[test]
fn very_verbose_logs_every_request_without_secrets() {
    let w = world();
    w.write(
        "roster.csv",
        "space,type,assignee,roles\nSpace 1,user,user0@example.com,consumer\n",
    );
    let run = w.apply("roster.csv", &["-vv"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let logged: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("request: "))
        .collect();
    let sent = w.requests();
    assert_eq!(logged.len(), sent.len(), "{}", run.stderr);
    assert!(
        logged
            .iter()
            .any(|l| l.starts_with("request: GET /api/v1/spaces -> 200 in ")),
        "{}",
        run.stderr
    );
    assert!(
        logged
            .iter()
            .any(|l| l.starts_with("request: POST /api/v1/spaces/s1/assignments -> 201 in ")),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(roster_e2e::api_key()), "{}", run.stderr);

    // Without -vv, no request lines.
    let run = w.plan("roster.csv", &["-v"]);
    assert!(
        !run.stderr.lines().any(|l| l.starts_with("request: ")),
        "{}",
        run.stderr
    );
}
