//! Fleets, continued: `plan --json` streams each tenant's whole plan (the single-target
//! document, carrying its target), `--prune` prunes every tenant with the single-target rules,
//! and without a terminal each tenant is a line as it finishes, with a status line every few
//! seconds.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use roster_e2e::fleet::Fleet;
use roster_e2e::{AssigneeType, SimConfig, assign, interrupt, tenant, wait_child, wait_for};

const SPACES: usize = 3;
const USERS: usize = 10;

/// Users 0..5 as consumers of Space 0 and Space 1 (Space 2 is not named).
fn roster() -> String {
    let mut text = String::from("space,type,assignee,roles\n");
    for s in 0..2 {
        for u in 0..5 {
            text.push_str(&format!("Space {s},user,user{u}@example.com,consumer\n"));
        }
    }
    text
}

/// Tenant `index` holds `index + 1` assignments in Space 0 the roster does not list (users 5..),
/// user 0 as a producer of Space 1 (an update in exact mode), and user 9 in Space 2, which the
/// roster does not name.
fn config(index: usize) -> SimConfig {
    let mut t = tenant(USERS, SPACES, 0);
    for u in 0..=index {
        assign(
            &mut t,
            "s0",
            AssigneeType::User,
            &format!("u{}", 5 + u),
            &["consumer"],
        );
    }
    assign(&mut t, "s1", AssigneeType::User, "u0", &["producer"]);
    assign(&mut t, "s2", AssigneeType::User, "u9", &["consumer"]);
    let mut config = SimConfig::new(t);
    config.tier1_per_min = None;
    config.tier2_per_min = None;
    config
}

fn fleet(count: usize) -> Fleet {
    let fleet = Fleet::start_each(count, "tier1_per_min = 0\ntier2_per_min = 0\n", config);
    fleet.write("roster.csv", &roster());
    fleet
}

/// The `plan` lines of a fleet's `plan --json`, by target.
fn plans(lines: &[serde_json::Value]) -> BTreeMap<String, serde_json::Value> {
    lines
        .iter()
        .filter(|l| l["event"] == "plan")
        .map(|l| (l["target"].as_str().unwrap_or_default().to_owned(), l.clone()))
        .collect()
}

fn assert_every_record_has_its_target(lines: &[serde_json::Value]) {
    for line in lines {
        if line["event"] != "fleet_finished" {
            assert!(line["target"].is_string(), "no target: {line}");
        }
    }
}

#[test]
fn fleet_plan_json_carries_each_tenants_whole_plan_as_a_single_plan_shows_it() {
    const TENANTS: usize = 3;
    let fleet = fleet(TENANTS);
    // Each member also as a target of its own in roster.toml, under the same name.
    let mut toml = std::fs::read_to_string(fleet.path("roster.toml")).expect("roster.toml");
    for member in &fleet.members {
        toml.push_str(&format!(
            "\n[targets.{}]\nserver = \"{}\"\napi_key_file = \"keys/{}.key\"\ntier1_per_min = 0\ntier2_per_min = 0\n",
            member.name, member.url, member.name
        ));
    }
    fleet.write("roster.toml", &toml);
    for extra in [&["--mode", "merge"][..], &["--mode", "exact", "--prune"][..]] {
        let mut args = vec!["plan", "roster.csv", "--to", "sim", "--json"];
        args.extend_from_slice(extra);
        let run = fleet.run(&args);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let lines = run.json_lines();
        assert_every_record_has_its_target(&lines);
        let plans = plans(&lines);
        assert_eq!(plans.len(), TENANTS, "{}", run.stdout);
        for member in &fleet.members {
            let name = &member.name;
            let fleet_plan = &plans[name];
            assert_eq!(fleet_plan["fleet_format_version"], 1);
            let mut args = vec!["plan", "roster.csv", "--to", name, "--json"];
            args.extend_from_slice(extra);
            let single = fleet.run(&args);
            assert_eq!(single.code, Some(0), "{}", single.stderr);
            let single: serde_json::Value = serde_json::from_str(&single.stdout).expect("a plan document");
            // The single-target document, field for field, with the event and the fleet's version.
            for field in [
                "format_version",
                "target",
                "mode",
                "counts",
                "write_calls",
                "items",
            ] {
                assert_eq!(fleet_plan[field], single[field], "{name}: {field}");
            }
            let items = fleet_plan["items"].as_array().map_or(0, Vec::len);
            assert!(items >= 10, "{name}: {fleet_plan}");
        }
        // The tenants differ, and each plan is its own tenant's.
        if extra.contains(&"--prune") {
            for (i, member) in fleet.members.iter().enumerate() {
                assert_eq!(plans[&member.name]["counts"]["delete"], i + 1, "{}", member.name);
                let deletes: Vec<&serde_json::Value> = plans[&member.name]["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|item| item["op"] == "-")
                    .collect();
                assert_eq!(deletes.len(), i + 1);
                assert!(deletes.iter().all(|d| d["space"] == "Space 0"), "{deletes:?}");
            }
        }
        // Every tenant's plan comes between its tenant_started and its tenant_finished.
        for member in &fleet.members {
            let at = |event: &str| {
                lines
                    .iter()
                    .position(|l| l["event"] == event && l["target"] == member.name.as_str())
            };
            let (started, plan, finished) = (at("tenant_started"), at("plan"), at("tenant_finished"));
            assert!(
                started < plan && plan < finished,
                "{}: {}",
                member.name,
                run.stdout
            );
        }
        assert!(fleet.sims.iter().all(|s| s.write_log().is_empty()));
    }
}

#[test]
fn fleet_apply_json_events_all_carry_their_target() {
    let fleet = fleet(2);
    // Flags mean what they mean for one target: --batch-size is checked (and taken) alike.
    let bad = fleet.run(&["apply", "roster.csv", "--to", "sim", "--batch-size", "0"]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(bad.stderr.contains("batch size"), "{}", bad.stderr);
    assert!(fleet.sims.iter().all(|s| s.request_log().is_empty()));
    let run = fleet.run(&[
        "apply",
        "roster.csv",
        "--to",
        "sim",
        "--json",
        "--batch-size",
        "20",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let lines = run.json_lines();
    assert_every_record_has_its_target(&lines);
    for member in &fleet.members {
        let events: Vec<&str> = lines
            .iter()
            .filter(|l| l["target"] == member.name.as_str())
            .filter_map(|l| l["event"].as_str())
            .collect();
        for event in [
            "tenant_started",
            "started",
            "row_finished",
            "finished",
            "tenant_finished",
        ] {
            assert!(
                events.contains(&event),
                "{}: no {event} in {events:?}",
                member.name
            );
        }
    }
    assert_eq!(
        lines.last().map(|l| l["event"].clone()),
        Some("fleet_finished".into())
    );
}

#[test]
fn prune_over_a_fleet_prunes_each_tenant_with_the_single_target_rules() {
    const TENANTS: usize = 3;
    let fleet = fleet(TENANTS);
    let no_writes = |fleet: &Fleet| fleet.sims.iter().all(|s| s.write_log().is_empty());

    // Usage errors before anything is sent: exact mode, and --yes (a fleet asks no questions).
    let merge = fleet.run(&["apply", "roster.csv", "--to", "sim", "--prune", "--yes"]);
    assert_eq!(merge.code, Some(2), "{}", merge.stderr);
    assert!(merge.stderr.contains("--mode exact"), "{}", merge.stderr);
    let unasked = fleet.run(&["apply", "roster.csv", "--to", "sim", "--mode", "exact", "--prune"]);
    assert_eq!(unasked.code, Some(2), "{}", unasked.stderr);
    assert!(unasked.stderr.contains("--yes"), "{}", unasked.stderr);
    // A roster with an unreadable row may leave out someone who must stay.
    fleet.write(
        "bad.csv",
        &format!("{}Space 0,user,not-an-email,consumer\n", roster()),
    );
    let bad = fleet.run(&[
        "apply", "bad.csv", "--to", "sim", "--mode", "exact", "--prune", "--yes",
    ]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(bad.stderr.contains("refusing to prune"), "{}", bad.stderr);
    assert!(no_writes(&fleet));
    assert!(fleet.sims.iter().all(|s| s.request_log().is_empty()));

    // --max-deletes is each tenant's: the third tenant would delete 3 and gets nothing sent.
    let args = [
        "apply",
        "roster.csv",
        "--to",
        "sim",
        "--mode",
        "exact",
        "--prune",
        "--yes",
    ];
    let mut capped = args.to_vec();
    capped.extend(["--max-deletes", "2", "--json"]);
    let run = fleet.run(&capped);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let lines = run.json_lines();
    assert_every_record_has_its_target(&lines);
    let third = &fleet.members[2].name;
    assert!(run.stderr.contains("more than --max-deletes 2"), "{}", run.stderr);
    let statuses: BTreeMap<String, String> = lines
        .iter()
        .filter(|l| l["event"] == "tenant_finished")
        .map(|l| {
            (
                l["target"].as_str().unwrap_or_default().to_owned(),
                l["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(statuses[third], "failed");
    assert!(fleet.sims[2].write_log().is_empty());
    let pruned = |i: usize| {
        let state = fleet.state(i);
        let mut expected = BTreeMap::new();
        for s in 0..2 {
            for u in 0..5 {
                expected.insert((format!("s{s}"), format!("u{u}")), vec!["consumer".to_owned()]);
            }
        }
        // Space 2 is not named by the roster: its assignment stays.
        expected.insert(("s2".to_owned(), "u9".to_owned()), vec!["consumer".to_owned()]);
        assert_eq!(state, expected, "{}", fleet.members[i].name);
    };
    for i in 0..2 {
        assert_eq!(statuses[&fleet.members[i].name], "ok");
        pruned(i);
        let deleted = lines
            .iter()
            .filter(|l| l["target"] == fleet.members[i].name.as_str())
            .filter(|l| l["event"] == "row_finished" && l["outcome"] == "deleted")
            .count();
        assert_eq!(deleted, i + 1, "{}", fleet.members[i].name);
    }

    // Raised: the rerun prunes the third tenant and sends nothing to the two that are done.
    let before: Vec<usize> = (0..TENANTS).map(|i| fleet.writes(i)).collect();
    let mut raised = args.to_vec();
    raised.extend(["--max-deletes", "3", "-q"]);
    let rerun = fleet.run(&raised);
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    for i in 0..TENANTS {
        pruned(i);
    }
    assert_eq!(fleet.writes(0), before[0]);
    assert_eq!(fleet.writes(1), before[1]);
    // 3 deletes, 5 creates in Space 0... and the update of user 0 in Space 1.
    assert!(fleet.writes(2) > before[2]);
}

#[test]
fn without_a_terminal_each_tenant_is_a_line_as_it_finishes_and_a_status_line_follows() {
    // Tenant 1 answers at once; tenant 2 takes 3 s a request, so it is still working when the
    // first status line is due (5 s).
    let fleet = Fleet::start_each(
        2,
        "tier1_per_min = 0\ntier2_per_min = 0\ntimeout_secs = 30\n",
        |index| {
            let mut config = config(index);
            if index == 1 {
                config.latency = Duration::from_secs(3);
            }
            config
        },
    );
    fleet.write("roster.csv", &roster());
    let mut child = fleet.spawn(&["apply", "roster.csv", "--to", "sim"]);
    let stderr = child.stderr.take().expect("stderr piped");
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let reader = {
        let seen = Arc::clone(&seen);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                seen.lock().map(|mut s| s.push(line)).ok();
            }
        })
    };
    let fast = format!("{}: ok in ", fleet.members[0].name);
    let has = |needle: &str| {
        seen.lock()
            .map(|s| s.iter().any(|l| l.contains(needle)))
            .unwrap_or(false)
    };
    wait_for("the fast tenant's line", Duration::from_secs(30), || has(&fast));
    wait_for("a status line", Duration::from_secs(30), || {
        has("1/2 tenants") && has("1 in flight")
    });
    // Both came while the slow tenant still ran: lines as things happen, not at the end.
    assert!(matches!(child.try_wait(), Ok(None)), "the run ended early");
    interrupt(&child);
    let run = wait_child(child, Duration::from_secs(60));
    let _ = reader.join();
    assert_eq!(run.code, Some(130), "{:?}", seen.lock().map(|s| s.join("\n")));
    let lines = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let fast_at = lines.iter().position(|l| l.contains(&fast));
    let status_at = lines.iter().position(|l| l.contains("1/2 tenants"));
    assert!(fast_at < status_at, "{lines:#?}");
    let status = &lines[status_at.unwrap_or_default()];
    assert!(status.starts_with('['), "{status}");
    // No bars or terminal codes without a terminal.
    assert!(lines.iter().all(|l| !l.contains('\u{1b}')), "{lines:#?}");
}

#[test]
fn a_tenant_files_prune_over_a_fleet_prunes_each_tenant_with_the_single_target_rules() {
    const TENANTS: usize = 3;
    let fleet = fleet(TENANTS);
    fleet.write(
        "tenant.toml",
        "[[groups]]\nname = \"Fleet Admins\"\n\n[assignments]\nrosters = [\"roster.csv\"]\n",
    );
    // Usage errors before anything is sent: exact mode, and --yes (a fleet asks no questions).
    let merge = fleet.run(&["tenant", "plan", "tenant.toml", "--to", "sim", "--prune"]);
    assert_eq!(merge.code, Some(2), "{}", merge.stderr);
    assert!(merge.stderr.contains("--mode exact"), "{}", merge.stderr);
    let unasked = fleet.run(&[
        "tenant",
        "apply",
        "tenant.toml",
        "--to",
        "sim",
        "--mode",
        "exact",
        "--prune",
    ]);
    assert_eq!(unasked.code, Some(2), "{}", unasked.stderr);
    assert!(unasked.stderr.contains("--yes"), "{}", unasked.stderr);
    assert!(fleet.sims.iter().all(|s| s.request_log().is_empty()));

    // Planned: each tenant's deletes are its own.
    let plan = fleet.run(&[
        "tenant",
        "plan",
        "tenant.toml",
        "--to",
        "sim",
        "--mode",
        "exact",
        "--prune",
        "--json",
    ]);
    assert_eq!(plan.code, Some(0), "{}", plan.stderr);
    let finished: BTreeMap<String, serde_json::Value> = plan
        .json_lines()
        .into_iter()
        .filter(|l| l["event"] == "tenant_finished")
        .map(|l| (l["target"].as_str().unwrap_or_default().to_owned(), l))
        .collect();
    for (i, member) in fleet.members.iter().enumerate() {
        assert_eq!(
            finished[&member.name]["totals"]["deleted"],
            i + 1,
            "{}",
            plan.stdout
        );
    }
    assert!(fleet.sims.iter().all(|s| s.write_log().is_empty()));

    // --max-deletes is each tenant's: the third would delete 3 and has no assignment deleted.
    let args = [
        "tenant",
        "apply",
        "tenant.toml",
        "--to",
        "sim",
        "--mode",
        "exact",
        "--prune",
        "--yes",
    ];
    let mut capped = args.to_vec();
    capped.extend(["--max-deletes", "2", "--json"]);
    let third_before = fleet.state(2);
    let run = fleet.run(&capped);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("more than --max-deletes 2"), "{}", run.stderr);
    let lines = run.json_lines();
    assert_every_record_has_its_target(&lines);
    let status = |name: &str| {
        lines
            .iter()
            .find(|l| l["event"] == "tenant_finished" && l["target"] == name)
            .map(|l| l["status"].clone())
    };
    assert_eq!(status(&fleet.members[2].name), Some("failed".into()));
    assert_eq!(fleet.state(2), third_before);
    let pruned = |i: usize| {
        let mut expected = BTreeMap::new();
        for s in 0..2 {
            for u in 0..5 {
                expected.insert((format!("s{s}"), format!("u{u}")), vec!["consumer".to_owned()]);
            }
        }
        // Space 2 is not named by the roster: its assignment stays.
        expected.insert(("s2".to_owned(), "u9".to_owned()), vec!["consumer".to_owned()]);
        assert_eq!(fleet.state(i), expected, "{}", fleet.members[i].name);
    };
    for i in 0..2 {
        let name = &fleet.members[i].name;
        assert_eq!(status(name), Some("ok".into()), "{}", run.stderr);
        pruned(i);
        let deleted = lines
            .iter()
            .filter(|l| l["target"] == name.as_str())
            .filter(|l| l["event"] == "row_finished" && l["outcome"] == "deleted")
            .count();
        assert_eq!(deleted, i + 1, "{name}");
        // The assignments' run is recorded as the tenant apply it is, as a single one is.
        let journal = std::fs::read_to_string(fleet.path(&format!(".roster/journal-{name}.jsonl")))
            .expect("the tenant's journal");
        assert!(journal.contains("\"command\":\"tenant apply\""), "{journal}");
        assert!(!journal.contains("\"command\":\"apply\""), "{journal}");
    }

    // Raised: the rerun prunes the third tenant and sends nothing to the two that are done.
    let before: Vec<usize> = (0..TENANTS).map(|i| fleet.writes(i)).collect();
    let mut raised = args.to_vec();
    raised.extend(["--max-deletes", "3", "-q"]);
    let rerun = fleet.run(&raised);
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    for i in 0..TENANTS {
        pruned(i);
    }
    assert_eq!(fleet.writes(0), before[0]);
    assert_eq!(fleet.writes(1), before[1]);
    assert!(fleet.writes(2) > before[2]);
}
