//! `roster tenant plan|apply|export` over a fleet of simulated tenants: every good tenant is
//! configured exactly (settings, groups with their roles, spaces, assignments), the broken ones
//! are reported and the others go on, a rerun after fixing sends only what remains, Ctrl-C
//! stops every tenant and the rerun sends nothing twice, `--check` and export work tenant by
//! tenant; and `roster demo --fleet` runs to its end.

use std::collections::BTreeSet;

use roster_e2e::fleet::{Fleet, closed_port_url, finished_statuses};
use std::time::Duration;

use roster_e2e::{SimConfig, SpaceType, interrupt, tenant, wait_child, wait_for};

const TENANTS: usize = 5;
const UNREACHABLE: usize = 1;
const BAD_KEY: usize = 3;
const USERS: usize = 6;
const SPACES: usize = 2;

/// The tutorial's file: settings, two groups (one with roles), a shared and a managed space,
/// inline assignments and a roster.
const TENANT_FILE: &str = r#"[settings]
auto_create_groups = true

[[groups]]
name = "Embedded Admins"
roles = ["AnalyticsAdmin", "AuditAdmin"]

[[groups]]
name = "Customer Viewers"

[[spaces]]
name = "Customer Staging"
type = "shared"
description = "Staging for deployed content"

[[spaces]]
name = "Customer Analytics"
type = "managed"
assignments = [
  { group = "Customer Viewers", roles = ["consumer"] },
  { user = "user0@example.com", roles = ["facilitator"] },
]

[assignments]
rosters = ["roster.csv"]
"#;

/// Every user in every existing space as a consumer.
fn roster() -> String {
    let mut text = String::from("space,type,assignee,roles\n");
    for s in 0..SPACES {
        for u in 0..USERS {
            text.push_str(&format!("Space {s},user,user{u}@example.com,consumer\n"));
        }
    }
    text
}

/// Assignments the file makes on a tenant: the roster's and the two inline ones.
const ASSIGNMENTS: usize = SPACES * USERS + 2;

fn fleet() -> Fleet {
    let mut config = SimConfig::new(tenant(USERS, SPACES, 0));
    config.tier1_per_min = None;
    config.tier2_per_min = None;
    let fleet = Fleet::start(
        TENANTS,
        &tenant(USERS, SPACES, 0),
        &config,
        "tier1_per_min = 0\ntier2_per_min = 0\ntimeout_secs = 5\n",
    );
    fleet.write("roster.csv", &roster());
    fleet.write("tenant.toml", TENANT_FILE);
    fleet
}

/// Tenant `index`'s writes: every request but reads, as `METHOD PATH`.
fn writes(fleet: &Fleet, index: usize) -> Vec<String> {
    fleet.sims[index]
        .request_log()
        .into_iter()
        .filter(|r| r.method != "GET" && r.path.starts_with("/api/v1"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// Tenant `index` holds exactly what the file says.
fn assert_configured(fleet: &Fleet, index: usize) {
    let name = &fleet.members[index].name;
    let state = fleet.sims[index].tenant();
    let group = |wanted: &str| {
        state
            .groups()
            .iter()
            .find(|g| g.name == wanted)
            .unwrap_or_else(|| panic!("{name}: no group {wanted:?}"))
    };
    let mut roles = group("Embedded Admins").roles.clone();
    roles.sort();
    assert_eq!(roles, ["AnalyticsAdmin", "AuditAdmin"], "{name}");
    let viewers = group("Customer Viewers").id.clone();
    let space = |wanted: &str| {
        state
            .spaces()
            .iter()
            .find(|s| s.name == wanted)
            .unwrap_or_else(|| panic!("{name}: no space {wanted:?}"))
    };
    let staging = space("Customer Staging");
    assert_eq!(staging.space_type, SpaceType::Shared, "{name}");
    assert_eq!(staging.description, "Staging for deployed content", "{name}");
    let analytics = space("Customer Analytics");
    assert_eq!(analytics.space_type, SpaceType::Managed, "{name}");
    let assignments = fleet.state(index);
    assert_eq!(assignments.len(), ASSIGNMENTS, "{name}: {assignments:?}");
    assert_eq!(
        assignments.get(&(analytics.id.clone(), viewers)),
        Some(&vec!["consumer".to_owned()]),
        "{name}"
    );
    assert_eq!(
        assignments.get(&(analytics.id.clone(), "u0".to_owned())),
        Some(&vec!["facilitator".to_owned()]),
        "{name}"
    );
    assert!(state.groups_settings.auto_create_groups, "{name}");
}

#[test]
fn a_tenant_file_over_a_fleet_configures_the_good_tenants_and_a_rerun_does_only_what_remains() {
    let fleet = fleet();
    fleet.set_url(UNREACHABLE, &closed_port_url());
    fleet.set_key(BAD_KEY, "not-the-key");
    let broken = |i: usize| i == UNREACHABLE || i == BAD_KEY;

    // Planned: every reachable tenant would change; --check says so before the failures.
    let check = fleet.run(&["tenant", "plan", "tenant.toml", "--to", "sim", "--check", "-q"]);
    assert_eq!(check.code, Some(3), "{}", check.stderr);
    assert!((0..TENANTS).all(|i| writes(&fleet, i).is_empty()), "plan wrote");

    let run = fleet.run(&[
        "tenant",
        "apply",
        "tenant.toml",
        "--to",
        "sim",
        "--json",
        "--tenants-in-flight",
        "3",
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let lines = run.json_lines();
    assert!(
        lines
            .iter()
            .all(|l| l["target"].is_string() || l["event"] == "fleet_finished"),
        "{}",
        run.stdout
    );
    let statuses = finished_statuses(&lines);
    assert_eq!(statuses.len(), TENANTS, "{}", run.stdout);
    for (i, member) in fleet.members.iter().enumerate() {
        let status = statuses
            .iter()
            .find(|(name, _)| *name == member.name)
            .map(|(_, s)| s.as_str());
        assert_eq!(
            status,
            Some(if broken(i) { "failed" } else { "ok" }),
            "{}",
            member.name
        );
        if broken(i) {
            assert!(writes(&fleet, i).is_empty(), "{}", member.name);
            continue;
        }
        assert_configured(&fleet, i);
        // Each configuration write is a `tenant_write` event of its tenant, and in its journal.
        let configuration = lines
            .iter()
            .filter(|l| l["event"] == "tenant_write" && l["target"] == member.name.as_str())
            .count();
        assert_eq!(configuration, 5, "{}: {}", member.name, run.stdout);
        let journal = std::fs::read_to_string(fleet.path(&format!(".roster/tenant-{}.jsonl", member.name)))
            .expect("a tenant journal per tenant");
        // Each write is recorded with its before-state ahead of it, under a `start` line.
        let recorded = |key: &str| {
            journal
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter(|l| l.get(key).is_some())
                .count()
        };
        assert_eq!(recorded("write"), 5, "{journal}");
        assert_eq!(recorded("before"), 5, "{journal}");
        assert_eq!(recorded("start"), 1, "{journal}");
        // The configuration and the assignments are one run: `roster undo RUN` reverses both.
        let config_run: Vec<String> = journal
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|l| l["run"].as_str().map(str::to_owned))
            .collect();
        let assignments =
            std::fs::read_to_string(fleet.path(&format!(".roster/journal-{}.jsonl", member.name)))
                .expect("an assignments journal per tenant");
        let header: serde_json::Value =
            serde_json::from_str(assignments.lines().next().unwrap_or_default()).expect("a journal header");
        let run_id = header["run"]["id"].as_str().expect("the run's id");
        assert!(
            !config_run.is_empty() && config_run.iter().all(|id| id == run_id),
            "{}: configuration under {config_run:?}, assignments under {run_id}",
            member.name
        );
    }
    let first_run_writes = writes(&fleet, 0).len();
    assert_eq!(first_run_writes, 5 + ASSIGNMENTS, "{:?}", writes(&fleet, 0));
    assert!(run.stderr.contains("2 tenants failed"), "{}", run.stderr);
    for i in [UNREACHABLE, BAD_KEY] {
        let name = &fleet.members[i].name;
        assert!(
            run.stderr.lines().any(|l| l.starts_with(&format!("  {name}: "))),
            "{name} not explained:\n{}",
            run.stderr
        );
    }
    let summary = lines.last().expect("a fleet_finished event");
    assert_eq!(summary["event"], "fleet_finished");
    assert_eq!(summary["exit_code"], 1);

    // Fixed: the rerun writes only to the two tenants that failed, all of the file.
    fleet.set_url(UNREACHABLE, &fleet.members[UNREACHABLE].url);
    fleet.set_key(BAD_KEY, &fleet.members[BAD_KEY].api_key);
    let before: Vec<usize> = (0..TENANTS).map(|i| writes(&fleet, i).len()).collect();
    let rerun = fleet.run(&["tenant", "apply", "tenant.toml", "--to", "sim", "-q"]);
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    for (i, before) in before.iter().enumerate() {
        let sent = writes(&fleet, i).len() - before;
        let expected = if broken(i) { first_run_writes } else { 0 };
        assert_eq!(
            sent, expected,
            "{} wrote {sent} on the rerun",
            fleet.members[i].name
        );
        assert_configured(&fleet, i);
    }
    assert!(
        rerun.stderr.contains(&format!("{TENANTS} tenants: {TENANTS} ok")),
        "{}",
        rerun.stderr
    );

    let check = fleet.run(&[
        "tenant",
        "plan",
        "tenant.toml",
        "--to",
        "sim",
        "--check",
        "--json",
    ]);
    assert_eq!(check.code, Some(0), "{}", check.stderr);
    // Each tenant's whole plan, as `roster tenant plan --json` writes it, carried by its target.
    let plans: Vec<serde_json::Value> = check
        .json_lines()
        .iter()
        .filter(|l| l["event"] == "tenant_plan")
        .map(|l| l["plan"]["write_count"]["total"].clone())
        .collect();
    assert_eq!(plans.len(), TENANTS, "{}", check.stdout);
    assert!(plans.iter().all(|total| *total == 0), "{}", check.stdout);
}

#[test]
fn ctrl_c_stops_a_tenant_file_fleet_and_the_rerun_sends_nothing_twice() {
    const IN_FLIGHT: usize = 3;
    // Ten writes a second per tenant, paced strictly: each tenant's 19 writes take two seconds.
    let mut config = SimConfig::new(tenant(USERS, SPACES, 0));
    config.tier1_per_min = None;
    config.tier2_per_min = Some(600);
    config.window = None;
    let fleet = Fleet::start(
        IN_FLIGHT,
        &tenant(USERS, SPACES, 0),
        &config,
        "tier1_per_min = 0\ntier2_per_min = 600\npace = \"steady\"\n",
    );
    fleet.write("roster.csv", &roster());
    fleet.write("tenant.toml", TENANT_FILE);
    let all = 5 + ASSIGNMENTS;

    let child = fleet.spawn(&["tenant", "apply", "tenant.toml", "--to", "sim"]);
    // Past the configuration, into the assignments, on every tenant.
    wait_for("assignments on every tenant", Duration::from_secs(30), || {
        (0..IN_FLIGHT).all(|i| writes(&fleet, i).len() >= 8)
    });
    interrupt(&child);
    let run = wait_child(child, Duration::from_secs(30));
    assert_eq!(run.code, Some(130), "{}", run.stderr);
    assert!(run.stderr.contains("interrupted"), "{}", run.stderr);
    let at_stop: usize = (0..IN_FLIGHT).map(|i| writes(&fleet, i).len()).sum();
    assert!(at_stop < IN_FLIGHT * all, "the run finished before Ctrl-C");

    let rerun = fleet.run(&["tenant", "apply", "tenant.toml", "--to", "sim", "-q"]);
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    for i in 0..IN_FLIGHT {
        assert_configured(&fleet, i);
        // Every write exactly once across both runs.
        assert_eq!(writes(&fleet, i).len(), all, "{:?}", writes(&fleet, i));
    }
}

#[test]
fn a_fleet_tenant_export_writes_one_file_per_tenant_that_plans_back_to_no_change() {
    let fleet = fleet();
    let apply = fleet.run(&["tenant", "apply", "tenant.toml", "--to", "sim", "-q"]);
    assert_eq!(apply.code, Some(0), "{}", apply.stderr);
    fleet.set_key(BAD_KEY, "not-the-key");
    let export = fleet.run(&["tenant", "export", "--from", "sim", "-o", "tenants", "-q"]);
    assert_eq!(export.code, Some(1), "{}", export.stderr);
    for (i, member) in fleet.members.iter().enumerate() {
        let path = fleet.path(&format!("tenants/{}.toml", member.name));
        if i == BAD_KEY {
            assert!(!path.exists(), "{}", path.display());
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("one tenant file per tenant");
        for wanted in [
            "name = \"Embedded Admins\"",
            "\"AnalyticsAdmin\"",
            "name = \"Customer Analytics\"",
            "user0@example.com",
        ] {
            assert!(text.contains(wanted), "{}: no {wanted}:\n{text}", member.name);
        }
    }
    fleet.set_key(BAD_KEY, &fleet.members[BAD_KEY].api_key);
    // One tenant's file planned over the whole fleet: every tenant holds the same configuration
    // now, so nothing would change anywhere.
    let file = format!("tenants/{}.toml", fleet.members[0].name);
    let plan = fleet.run(&["tenant", "plan", &file, "--to", "sim", "--check", "-q"]);
    assert_eq!(plan.code, Some(0), "{}", plan.stderr);

    let stdout = fleet.run(&["tenant", "export", "--from", "sim", "-o", "-"]);
    assert_eq!(stdout.code, Some(2), "{}", stdout.stderr);
    assert!(stdout.stderr.contains("one file per tenant"), "{}", stdout.stderr);
}

#[test]
fn an_alumio_tenant_in_a_fleet_is_refused_before_anything_is_sent() {
    let fleet = fleet();
    let mut toml = std::fs::read_to_string(fleet.path("roster.toml")).expect("roster.toml");
    for (i, member) in fleet.members.iter().enumerate().take(2) {
        toml.push_str(&format!(
            "\n[targets.cust-{i}]\nserver = \"{}\"\napi_key_file = \"keys/{}.key\"\n",
            member.url, member.name
        ));
    }
    toml.push_str(&format!(
        "\n[targets.cust-erp]\nkind = \"alumio\"\nserver = \"{}\"\napi_key_file = \"keys/{}.key\"\n",
        fleet.sims[2].alumio_base_url(),
        fleet.members[2].name
    ));
    fleet.write("roster.toml", &toml);
    let run = fleet.run(&["tenant", "apply", "tenant.toml", "--to", "cust-*"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("cust-erp"), "{}", run.stderr);
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    assert!(fleet.sims.iter().all(|s| s.request_log().is_empty()));

    // A comma list of the Qlik ones goes ahead.
    let run = fleet.run(&["tenant", "apply", "tenant.toml", "--to", "cust-0,cust-1", "-q"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let names: BTreeSet<usize> = (0..TENANTS).filter(|i| !writes(&fleet, *i).is_empty()).collect();
    assert_eq!(names, BTreeSet::from([0, 1]));
}

#[test]
fn the_fleet_demo_runs_to_its_end() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tenant_path = dir.path().join("tiny.json");
    std::fs::write(&tenant_path, tenant(2, 1, 0).to_json_pretty()).expect("tenant file");
    let output = std::process::Command::new(roster_e2e::roster_bin())
        .args([
            "demo",
            "--fleet",
            "4",
            "--fault-rate",
            "0",
            "--latency-ms",
            "0",
            "-q",
            "--tenant",
        ])
        .arg(&tenant_path)
        .arg("--dir")
        .arg(dir.path().join("work"))
        .env("NO_COLOR", "1")
        .env("ROSTER_RETRY_SCALE", "0.01")
        .env_remove("ROSTER_CONFIG")
        .env_remove("CI")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run roster demo");
    let run = roster_e2e::Run::from_output(output);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let all = format!("{}{}", run.stdout, run.stderr);
    // Both runs' tables, the second with every tenant landed.
    assert!(all.contains("4 tenants: 2 ok, 2 failed"), "{all}");
    assert!(all.contains("4 tenants: 4 ok"), "{all}");
    assert!(all.contains("what happened: step 1 landed 2 tenants"), "{all}");
    assert!(all.contains("0 writes to the others"), "{all}");
}

/// A JSON value whose objects, at every depth, name each key once (`serde_json::Value` would
/// keep the last of two and hide the duplicate).
struct UniqueKeys;

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!("key {key:?} twice")));
            }
            map.next_value::<UniqueKeys>()?;
        }
        Ok(UniqueKeys)
    }
}

/// Every line of a fleet's `--json` stream is one object whose keys are unique at every depth,
/// and every line about a tenant has its `target`; the events of `kinds` all appear.
fn assert_unique_keys(stdout: &str, kinds: &[&str]) {
    let mut seen = BTreeSet::new();
    for line in stdout.lines() {
        if let Err(error) = serde_json::from_str::<UniqueKeys>(line) {
            panic!("{error}: {line}");
        }
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}"));
        let event = value["event"].as_str().unwrap_or_default().to_owned();
        assert!(
            value["target"].is_string() || event == "fleet_finished",
            "no target: {line}"
        );
        seen.insert(event);
    }
    for kind in kinds {
        assert!(seen.contains(*kind), "no {kind} event in:\n{stdout}");
    }
}

#[test]
fn every_line_of_a_fleets_json_streams_names_each_key_once() {
    let mut config = SimConfig::new(tenant(USERS, SPACES, 0));
    config.tier1_per_min = None;
    config.tier2_per_min = None;
    let fleet = Fleet::start(
        2,
        &tenant(USERS, SPACES, 0),
        &config,
        "tier1_per_min = 0\ntier2_per_min = 0\ntimeout_secs = 5\n",
    );
    fleet.write("roster.csv", &roster());
    fleet.write("tenant.toml", TENANT_FILE);
    // The roster alone first (its rows created), then the whole file.
    let plan = fleet.run(&["plan", "roster.csv", "--to", "sim", "--json"]);
    assert_eq!(plan.code, Some(0), "{}", plan.stderr);
    assert_unique_keys(&plan.stdout, &["plan", "tenant_finished", "fleet_finished"]);
    let apply = fleet.run(&["apply", "roster.csv", "--to", "sim", "--json"]);
    assert_eq!(apply.code, Some(0), "{}", apply.stderr);
    assert_unique_keys(
        &apply.stdout,
        &["started", "row_finished", "finished", "fleet_finished"],
    );
    let plan = fleet.run(&["tenant", "plan", "tenant.toml", "--to", "sim", "--json"]);
    assert_eq!(plan.code, Some(0), "{}", plan.stderr);
    assert_unique_keys(
        &plan.stdout,
        &["tenant_started", "tenant_plan", "tenant_finished"],
    );
    let apply = fleet.run(&["tenant", "apply", "tenant.toml", "--to", "sim", "--json"]);
    assert_eq!(apply.code, Some(0), "{}", apply.stderr);
    assert_unique_keys(
        &apply.stdout,
        &[
            "tenant_write",
            "started",
            "row_started",
            "row_finished",
            "finished",
        ],
    );
}

#[test]
fn vv_over_a_fleet_logs_every_request_on_a_line_naming_its_tenant() {
    let fleet = fleet();
    let api_requests = |i: usize| {
        fleet.sims[i]
            .request_log()
            .into_iter()
            .filter(|r| r.path.starts_with("/api/"))
            .count()
    };
    for args in [
        &["plan", "roster.csv", "--to", "sim", "-vv"][..],
        &["tenant", "apply", "tenant.toml", "--to", "sim", "-vv"][..],
    ] {
        let before: Vec<usize> = (0..TENANTS).map(api_requests).collect();
        let run = fleet.run(args);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        for (i, member) in fleet.members.iter().enumerate() {
            let logged = run
                .stderr
                .lines()
                .filter(|l| l.starts_with(&format!("{}: request: ", member.name)))
                .count();
            // Every request the tenant saw, on a line of its own naming it.
            let seen = api_requests(i) - before[i];
            assert!(logged > 0, "{args:?}: {}", run.stderr);
            assert_eq!(logged, seen, "{}: {args:?}: {}", member.name, run.stderr);
        }
    }
}

#[test]
fn one_tenant_of_a_fleet_is_reached_by_its_name_and_its_tenant_apply_undone_whole() {
    let fleet = fleet();
    let apply = fleet.run(&["tenant", "apply", "tenant.toml", "--to", "sim", "-q"]);
    assert_eq!(apply.code, Some(0), "{}", apply.stderr);
    let name = fleet.members[0].name.clone();

    // `runs` of one member: the configuration and the assignments are one tenant-apply run.
    let runs = fleet.run(&["runs", "--to", &name, "--json"]);
    assert_eq!(runs.code, Some(0), "{}", runs.stderr);
    let runs: Vec<serde_json::Value> = serde_json::from_str(&runs.stdout).expect("runs --json");
    assert_eq!(runs.len(), 1, "{runs:?}");
    let id = runs[0]["id"].as_str().expect("a run id").to_owned();

    let undo = fleet.run(&["undo", &id, "--to", &name, "--yes", "-q"]);
    assert_eq!(undo.code, Some(0), "{}\n{}", undo.stdout, undo.stderr);
    // The member is as before the apply: no group, space, assignment or setting of the file.
    let state = fleet.sims[0].tenant();
    let groups: Vec<&str> = state.groups().iter().map(|g| g.name.as_str()).collect();
    assert!(
        !groups.contains(&"Embedded Admins") && !groups.contains(&"Customer Viewers"),
        "{groups:?}"
    );
    let spaces: Vec<&str> = state.spaces().iter().map(|s| s.name.as_str()).collect();
    assert!(
        !spaces.contains(&"Customer Staging") && !spaces.contains(&"Customer Analytics"),
        "{spaces:?}"
    );
    assert!(fleet.state(0).is_empty(), "{:?}", fleet.state(0));
    assert!(!state.groups_settings.auto_create_groups);
    // The fleet's other tenants are untouched by the member's undo.
    for i in 1..TENANTS {
        assert_configured(&fleet, i);
    }
}
