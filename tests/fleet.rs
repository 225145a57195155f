//! Fleets: one roster across many simulated tenants in one run. Broken tenants fail alone and
//! are reported; a rerun after fixing them resumes only what remains; Ctrl-C stops every
//! tenant and the rerun finishes them without sending anything twice; `--shard` partitions
//! the fleet exactly.

#![allow(
    clippy::expect_used,
    reason = "helpers outside #[test] functions too: any failure is a failed test"
)]

use std::collections::BTreeSet;
use std::time::Duration;

use roster_e2e::fleet::Fleet;
use roster_e2e::{SimConfig, interrupt, tenant, wait_child, wait_for};

const SPACES: usize = 3;
const USERS: usize = 10;

/// Every user in every space as a consumer: `SPACES * USERS` rows.
fn roster() -> String {
    let mut text = String::from("space,type,assignee,roles\n");
    for s in 0..SPACES {
        for u in 0..USERS {
            text.push_str(&format!("Space {s},user,user{u}@example.com,consumer\n"));
        }
    }
    text
}

fn unlimited() -> SimConfig {
    let mut config = SimConfig::new(tenant(USERS, SPACES, 0));
    config.tier1_per_min = None;
    config.tier2_per_min = None;
    config
}

/// `tenants` simulated tenants with no rate limit, and the roster written beside them.
fn unlimited_fleet(tenants: usize) -> Fleet {
    let fleet = Fleet::start(
        tenants,
        &tenant(USERS, SPACES, 0),
        &unlimited(),
        "tier2_per_min = 0\n",
    );
    fleet.write("roster.csv", &roster());
    fleet
}

/// A loopback port nothing listens on.
fn closed_port_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_or(9, |addr| addr.port());
    format!("http://127.0.0.1:{port}")
}

fn finished_statuses(lines: &[serde_json::Value]) -> Vec<(String, String)> {
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

#[test]
fn a_fleet_with_two_broken_tenants_lands_the_rest_and_a_rerun_does_only_what_remains() {
    const TENANTS: usize = 20;
    const UNREACHABLE: usize = 4;
    const BAD_KEY: usize = 11;
    let fleet = Fleet::start(
        TENANTS,
        &tenant(USERS, SPACES, 0),
        &unlimited(),
        "tier1_per_min = 0\ntier2_per_min = 0\ntimeout_secs = 5\n",
    );
    fleet.write("roster.csv", &roster());
    fleet.set_url(UNREACHABLE, &closed_port_url());
    fleet.set_key(BAD_KEY, "not-the-key");

    let run = fleet.run(&[
        "apply",
        "roster.csv",
        "--to",
        "sim",
        "--json",
        "--tenants-in-flight",
        "8",
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let lines = run.json_lines();
    // Every event says which tenant it is about.
    assert!(
        lines
            .iter()
            .all(|l| l["target"].is_string() || l["event"] == "fleet_finished")
    );
    let statuses = finished_statuses(&lines);
    assert_eq!(statuses.len(), TENANTS);
    for (i, member) in fleet.members.iter().enumerate() {
        let status = statuses
            .iter()
            .find(|(name, _)| *name == member.name)
            .map(|(_, s)| s.as_str());
        let expected = if i == UNREACHABLE || i == BAD_KEY {
            "failed"
        } else {
            "ok"
        };
        assert_eq!(status, Some(expected), "{}", member.name);
    }
    let expected_rows = SPACES * USERS;
    for i in 0..TENANTS {
        let landed = fleet.state(i).len();
        if i == UNREACHABLE || i == BAD_KEY {
            assert_eq!(landed, 0, "{}", fleet.members[i].name);
        } else {
            assert_eq!(landed, expected_rows, "{}", fleet.members[i].name);
            assert_eq!(fleet.writes(i), expected_rows, "{}", fleet.members[i].name);
        }
    }
    // The table names the broken tenants and why.
    let broken = [&fleet.members[UNREACHABLE].name, &fleet.members[BAD_KEY].name];
    assert!(run.stderr.contains("2 tenants failed"), "{}", run.stderr);
    for name in broken {
        assert!(
            run.stderr.lines().any(|l| l.starts_with(&format!("  {name}: "))),
            "{name} not explained:\n{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("401") || run.stderr.to_lowercase().contains("key"),
        "{}",
        run.stderr
    );
    let summary = lines.last().expect("a fleet_finished event");
    assert_eq!(summary["event"], "fleet_finished");
    assert_eq!(summary["failed"], 2);
    assert_eq!(summary["exit_code"], 1);

    // Fixed: the rerun writes only to the two tenants that failed.
    fleet.set_url(UNREACHABLE, &fleet.members[UNREACHABLE].url);
    fleet.set_key(BAD_KEY, &fleet.members[BAD_KEY].api_key);
    let before: Vec<usize> = (0..TENANTS).map(|i| fleet.writes(i)).collect();
    let rerun = fleet.run(&["apply", "roster.csv", "--to", "sim", "-q"]);
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    for (i, before) in before.iter().enumerate() {
        assert_eq!(fleet.state(i).len(), expected_rows, "{}", fleet.members[i].name);
        let sent = fleet.writes(i) - before;
        let expected = if i == UNREACHABLE || i == BAD_KEY {
            expected_rows
        } else {
            0
        };
        assert_eq!(
            sent, expected,
            "{} wrote {sent} on the rerun",
            fleet.members[i].name
        );
    }
    assert!(
        rerun.stderr.contains(&format!("{TENANTS} tenants: {TENANTS} ok")),
        "{}",
        rerun.stderr
    );
}

#[test]
fn ctrl_c_stops_every_tenant_and_the_rerun_resumes_without_sending_twice() {
    const TENANTS: usize = 4;
    // Five writes a second per tenant, paced strictly: 30 rows take each tenant six seconds.
    let mut config = unlimited();
    config.tier2_per_min = Some(300);
    config.window = None;
    let fleet = Fleet::start(
        TENANTS,
        &tenant(USERS, SPACES, 0),
        &config,
        "tier1_per_min = 0\ntier2_per_min = 300\npace = \"steady\"\n",
    );
    fleet.write("roster.csv", &roster());
    let total_writes = |fleet: &Fleet| (0..TENANTS).map(|i| fleet.writes(i)).sum::<usize>();

    let child = fleet.spawn(&["apply", "roster.csv", "--to", "sim"]);
    wait_for("writes on every tenant", Duration::from_secs(30), || {
        (0..TENANTS).all(|i| fleet.writes(i) >= 2)
    });
    interrupt(&child);
    let run = wait_child(child, Duration::from_secs(30));
    assert_eq!(run.code, Some(130), "{}", run.stderr);
    assert!(run.stderr.contains("interrupted"), "{}", run.stderr);
    let at_stop = total_writes(&fleet);
    assert!(
        at_stop < TENANTS * SPACES * USERS,
        "the run finished before Ctrl-C"
    );

    let rerun = fleet.run(&["apply", "roster.csv", "--to", "sim", "-q"]);
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    for i in 0..TENANTS {
        assert_eq!(fleet.state(i).len(), SPACES * USERS);
        // Each row written exactly once across both runs.
        assert_eq!(fleet.writes(i), SPACES * USERS, "{}", fleet.members[i].name);
    }
}

#[test]
fn shards_partition_the_fleet_exactly() {
    const TENANTS: usize = 10;
    const SHARDS: usize = 3;
    let fleet = unlimited_fleet(TENANTS);
    let mut seen = Vec::new();
    for index in 0..SHARDS {
        let shard = format!("{index}/{SHARDS}");
        let run = fleet.run(&["plan", "roster.csv", "--to", "sim", "--shard", &shard, "--json"]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        seen.extend(
            finished_statuses(&run.json_lines())
                .into_iter()
                .map(|(name, _)| name),
        );
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(seen.len(), TENANTS, "a tenant in two shards: {seen:?}");
    let all: BTreeSet<&String> = fleet.members.iter().map(|m| &m.name).collect();
    assert_eq!(unique, all);

    let bad = fleet.run(&["plan", "roster.csv", "--to", "sim", "--shard", "3/3"]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
}

#[test]
fn plan_check_export_and_globs_over_a_fleet() {
    const TENANTS: usize = 3;
    let fleet = unlimited_fleet(TENANTS);
    let check = fleet.run(&["plan", "roster.csv", "--to", "sim", "--check", "-q"]);
    assert_eq!(check.code, Some(3), "{}", check.stderr);
    let apply = fleet.run(&["apply", "roster.csv", "--to", "sim", "-q"]);
    assert_eq!(apply.code, Some(0), "{}", apply.stderr);
    let check = fleet.run(&["plan", "roster.csv", "--to", "sim", "--check", "-q"]);
    assert_eq!(check.code, Some(0), "{}", check.stderr);

    let export = fleet.run(&["export", "--from", "sim", "-o", "exports", "-q"]);
    assert_eq!(export.code, Some(0), "{}", export.stderr);
    for member in &fleet.members {
        let text = std::fs::read_to_string(fleet.path(&format!("exports/{}.csv", member.name)))
            .expect("one export per tenant");
        let rows = text
            .lines()
            .filter(|l| !l.starts_with('#') && l.contains("@example.com"))
            .count();
        assert_eq!(rows, SPACES * USERS, "{}", member.name);
    }

    // Targets of roster.toml by glob and comma list, beside the fleet.
    let mut toml = std::fs::read_to_string(fleet.path("roster.toml")).expect("roster.toml");
    for (i, member) in fleet.members.iter().enumerate() {
        toml.push_str(&format!(
            "\n[targets.cust-{i}]\nserver = \"{}\"\napi_key_file = \"keys/{}.key\"\n",
            member.url, member.name
        ));
    }
    fleet.write("roster.toml", &toml);
    let globbed = fleet.run(&["plan", "roster.csv", "--to", "cust-*", "--json"]);
    assert_eq!(globbed.code, Some(0), "{}", globbed.stderr);
    let names: Vec<String> = finished_statuses(&globbed.json_lines())
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names.len(), TENANTS, "{names:?}");
    let listed = fleet.run(&["plan", "roster.csv", "--to", "cust-0,cust-2", "--json"]);
    let names: BTreeSet<String> = finished_statuses(&listed.json_lines())
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, BTreeSet::from(["cust-0".to_owned(), "cust-2".to_owned()]));

    let none = fleet.run(&["plan", "roster.csv", "--to", "nope-*"]);
    assert_eq!(none.code, Some(2), "{}", none.stderr);
    assert!(none.stderr.contains("no target"), "{}", none.stderr);
}

#[test]
fn a_bad_fleet_is_a_located_usage_error_and_nothing_is_sent() {
    let fleet = Fleet::start(2, &tenant(USERS, SPACES, 0), &unlimited(), "");
    fleet.write("roster.csv", &roster());
    fleet.write("roster.toml", "[fleets.sim]\nservers_file = \"tenants.csv\"\n");
    let run = fleet.run(&["apply", "roster.csv", "--to", "sim"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("roster.toml:1: [fleets.sim]"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    fleet.write("tenants.csv", "name,server\ntenant-01,\n");
    fleet.write(
        "roster.toml",
        "[fleets.sim]\nservers_file = \"tenants.csv\"\napi_key_env = \"K_{NAME}\"\n",
    );
    let run = fleet.run(&["apply", "roster.csv", "--to", "sim"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("tenants.csv:2"), "{}", run.stderr);
    assert!(fleet.sims.iter().all(|s| s.request_log().is_empty()));
}

/// `roster sim ARGS --tenant TENANT --fleet-dir DIR/fleet --json`, started; its stdout's JSON
/// document (the tenants) once printed, and the fleet's `roster.toml` once written.
fn serve_fleet(
    dir: &std::path::Path,
    tenant_file: &std::path::Path,
    args: &[&str],
) -> (std::process::Child, Vec<serde_json::Value>, std::path::PathBuf) {
    use std::io::{BufRead, BufReader};

    let fleet_dir = dir.join("fleet");
    let mut sim = std::process::Command::new(roster_e2e::roster_bin())
        .arg("sim")
        .args(args)
        .args(["--qlik-only", "--json", "--tier2-per-min", "0"])
        .arg("--tenant")
        .arg(tenant_file)
        .arg("--fleet-dir")
        .arg(&fleet_dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start roster sim");
    let mut line = String::new();
    if let Some(stdout) = sim.stdout.take() {
        let _ = BufReader::new(stdout).read_line(&mut line);
    }
    let doc: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
    let tenants = doc["tenants"].as_array().cloned().unwrap_or_default();
    let config = fleet_dir.join("roster.toml");
    wait_for("the fleet files", Duration::from_secs(30), || config.exists());
    (sim, tenants, config)
}

#[test]
fn sim_serves_a_fleet_and_writes_its_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tenant_file = dir.path().join("tenant.json");
    std::fs::write(&tenant_file, tenant(USERS, SPACES, 0).to_json_pretty()).expect("tenant file");
    std::fs::write(dir.path().join("roster.csv"), roster()).expect("roster");
    let (mut sim, tenants, config) = serve_fleet(dir.path(), &tenant_file, &["--tenants", "3"]);
    let line = serde_json::json!(tenants).to_string();
    let run = std::process::Command::new(roster_e2e::roster_bin())
        .args(["plan", "roster.csv", "--to", "sim", "--json", "--config"])
        .arg(&config)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("ROSTER_CONFIG")
        .output()
        .expect("run roster plan");
    let _ = sim.kill();
    let _ = sim.wait();

    assert_eq!(tenants.len(), 3, "{line}");
    let urls: BTreeSet<&str> = tenants.iter().filter_map(|t| t["url"].as_str()).collect();
    let keys: BTreeSet<&str> = tenants.iter().filter_map(|t| t["api_key"].as_str()).collect();
    assert_eq!(
        (urls.len(), keys.len()),
        (3, 3),
        "each tenant its own URL and key: {line}"
    );
    assert_eq!(tenants[0]["name"], "tenant-01");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let finished = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["event"] == "tenant_finished" && l["status"] == "ok")
        .count();
    // Nothing is assigned yet, so every tenant would change; --check is not given: exit 0.
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(finished, 0, "{stdout}");
    let changes = stdout.matches("\"status\":\"changes\"").count();
    assert_eq!(changes, 3, "{stdout}");
}

/// A shell's low limit on open files: a soft limit alone is raised and changes nothing; a hard
/// one runs fewer tenants at a time, says so, and every tenant still lands (without the fit,
/// twelve tenants at 16 connections each would fail on "too many open files").
#[cfg(unix)]
#[test]
fn a_low_open_files_limit_runs_fewer_tenants_at_once_and_none_fails() {
    const TENANTS: usize = 12;
    let fleet = unlimited_fleet(TENANTS);
    let args = [
        "apply",
        "roster.csv",
        "--to",
        "sim",
        "--yes",
        "--tenants-in-flight",
        "12",
        "--concurrency",
        "16",
        "--json",
    ];

    // A soft limit below what the fleet needs, under a hard one that holds it: raised, silently.
    let raised = fleet.run_under_ulimit("-S -n 96", &args);
    assert_eq!(raised.code, Some(0), "{}", raised.stderr);
    assert!(!raised.stderr.contains("tenants at a time"), "{}", raised.stderr);

    for index in 0..TENANTS {
        assert_eq!(fleet.state(index).len(), SPACES * USERS, "tenant {index}");
    }

    // A hard limit of 128: (128 - 32) / 36 = 2 tenants at a time, and every row lands.
    let fleet = unlimited_fleet(TENANTS);
    let fitted = fleet.run_under_ulimit("-n 128", &args);
    assert_eq!(fitted.code, Some(0), "{}", fitted.stderr);
    assert!(
        fitted
            .stderr
            .contains("warning: running 2 tenants at a time, not 12"),
        "{}",
        fitted.stderr
    );
    assert!(fitted.stderr.contains("ulimit -n"), "{}", fitted.stderr);
    let statuses = finished_statuses(&fitted.json_lines());
    assert_eq!(statuses.len(), TENANTS);
    assert!(statuses.iter().all(|(_, status)| status == "ok"), "{statuses:?}");
    for index in 0..TENANTS {
        assert_eq!(fleet.state(index).len(), SPACES * USERS, "tenant {index}");
    }
}

#[test]
fn sim_goes_on_serving_when_the_reader_of_its_listing_has_gone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tenant_file = dir.path().join("tenant.json");
    std::fs::write(&tenant_file, tenant(USERS, SPACES, 0).to_json_pretty()).expect("tenant file");
    let fleet_dir = dir.path().join("fleet");
    // `roster sim --tenants N | head -1`: the reader closes the pipe before the listing is out.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut sim = std::process::Command::new(roster_e2e::roster_bin())
        .args(["sim", "--qlik-only", "--tenants", "20"])
        .arg("--tenant")
        .arg(&tenant_file)
        .arg("--fleet-dir")
        .arg(&fleet_dir)
        .stdin(std::process::Stdio::null())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start roster sim");
    let config = fleet_dir.join("roster.toml");
    let mut exited = None;
    wait_for(
        "the fleet files, or the sim's exit",
        Duration::from_secs(60),
        || {
            exited = sim.try_wait().ok().flatten();
            exited.is_some() || config.exists()
        },
    );
    let still_serving = sim.try_wait().ok().flatten().is_none();
    let _ = sim.kill();
    let output = sim.wait_with_output().expect("sim output");
    assert!(
        exited.is_none() && still_serving,
        "exited {exited:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tenants = std::fs::read_to_string(fleet_dir.join("tenants.csv")).expect("tenants.csv");
    assert_eq!(tenants.lines().count(), 21, "{tenants}");
}

#[test]
fn sim_serves_the_tenants_a_file_lists_each_with_its_own_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("acme.json"),
        tenant(USERS, SPACES, 0).to_json_pretty(),
    )
    .expect("tenant file");
    // globex has Space 0 only: the roster's rows in the other spaces fail there.
    let globex: serde_json::Value =
        serde_json::from_str(&tenant(USERS, 1, 0).to_json_pretty()).expect("tenant json");
    let list = serde_json::json!({
        "version": 1,
        "tenants": [
            { "name": "acme", "file": "acme.json" },
            { "name": "globex", "tenant": globex },
        ]
    });
    let list_file = dir.path().join("tenants.json");
    std::fs::write(&list_file, list.to_string()).expect("list");
    std::fs::write(dir.path().join("roster.csv"), roster()).expect("roster");
    let (mut sim, tenants, config) = serve_fleet(dir.path(), &list_file, &[]);
    let run = std::process::Command::new(roster_e2e::roster_bin())
        .args([
            "apply",
            "roster.csv",
            "--to",
            "sim",
            "--json",
            "--yes",
            "--config",
        ])
        .arg(&config)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("ROSTER_CONFIG")
        .output()
        .expect("run roster apply");
    let _ = sim.kill();
    let _ = sim.wait();

    let names: Vec<&str> = tenants.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ["acme", "globex"]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut statuses = finished_statuses(&lines);
    statuses.sort();
    assert_eq!(
        statuses,
        [
            ("acme".to_owned(), "ok".to_owned()),
            ("globex".to_owned(), "rows_failed".to_owned())
        ],
        "{stdout}"
    );
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}
