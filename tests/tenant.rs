//! `roster tenant plan|apply|export` through the binary against the simulator: the whole of
//! Qlik's "Configure a tenant" tutorial from one file, written once and never again, every
//! section's diff, refused files located with nothing sent, unknown roles with the closest names,
//! the 403 hint, type mismatches, the export round trip, and resume after SIGKILL.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions too: any failure is a failed test"
)]

use std::process::Stdio;
use std::time::Duration;

use roster_e2e::{Limits, RequestRecord, World, tenant, wait_child, wait_for};

/// The issue's example file, with its user and roster made to fit the test tenant.
const EXAMPLE: &str = r#"[settings]
auto_create_groups = true
sync_idp_groups = true
auto_assign_professional = false
auto_assign_analyzer = true

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
rosters = ["finance.csv"]   # roster CSVs, relative to this file, applied as `roster apply` applies them
"#;

const FINANCE: &str = "space,type,assignee,roles\nSpace 0,user,user1@example.com,consumer\nCustomer Analytics,user,user2@example.com,consumer\n";

fn world() -> World {
    let world = World::start(tenant(5, 1, 1), Limits::NONE);
    world.write("finance.csv", FINANCE);
    world
}

fn writes(requests: &[RequestRecord]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.method != "GET" && r.path.starts_with("/api/v1"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn api_requests(requests: &[RequestRecord]) -> usize {
    requests.iter().filter(|r| r.path.starts_with("/api/v1")).count()
}

fn tenant_apply(world: &World, file: &str, extra: &[&str]) -> roster_e2e::Run {
    let mut args = vec!["tenant", "apply", file, "--to", "sim"];
    args.extend_from_slice(extra);
    world.run(&args)
}

fn tenant_plan(world: &World, file: &str, extra: &[&str]) -> roster_e2e::Run {
    let mut args = vec!["tenant", "plan", file, "--to", "sim"];
    args.extend_from_slice(extra);
    world.run(&args)
}

#[test]
fn the_example_applies_in_dependency_order_and_a_rerun_sends_no_write() {
    let world = world();
    world.write("tenant.toml", EXAMPLE);
    let run = tenant_apply(&world, "tenant.toml", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let sent = writes(&world.requests());
    let position = |prefix: &str| {
        sent.iter()
            .position(|w| w.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {sent:?}"))
    };
    // Settings, then groups, then spaces, then assignments.
    assert_eq!(
        sent.iter()
            .filter(|w| *w == "PATCH /api/v1/groups/settings")
            .count(),
        1,
        "{sent:?}"
    );
    assert!(position("PATCH /api/v1/groups/settings") < position("POST /api/v1/groups"));
    assert_eq!(
        sent.iter().filter(|w| *w == "POST /api/v1/groups").count(),
        2,
        "{sent:?}"
    );
    assert_eq!(
        sent.iter().filter(|w| *w == "POST /api/v1/spaces").count(),
        2,
        "{sent:?}"
    );
    assert!(position("POST /api/v1/groups") < position("POST /api/v1/spaces"));
    let last_space = sent.iter().rposition(|w| w == "POST /api/v1/spaces").unwrap();
    let first_assignment = position("POST /api/v1/spaces/");
    assert!(last_space < first_assignment, "{sent:?}");
    // Two inline assignments and the roster's two rows.
    let assignments = sent.iter().filter(|w| w.ends_with("/assignments")).count();
    assert_eq!(assignments, 4, "{sent:?}");

    let before = world.requests().len();
    let rerun = tenant_apply(&world, "tenant.toml", &[]);
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    let again = writes(&world.requests()[before..]);
    assert!(again.is_empty(), "a rerun wrote: {again:?}");

    let check = tenant_plan(&world, "tenant.toml", &["--check"]);
    assert_eq!(check.code, Some(0), "{}{}", check.stdout, check.stderr);
}

#[test]
fn plan_shows_every_section_writes_nothing_and_check_exits_3() {
    let world = World::start(
        tenant(5, 1, 1),
        Limits {
            tier1: None,
            tier2: Some(6000),
        },
    );
    world.write("finance.csv", FINANCE);
    world.write("tenant.toml", EXAMPLE);
    let plan = tenant_plan(&world, "tenant.toml", &[]);
    assert_eq!(plan.code, Some(0), "{}", plan.stderr);
    for needle in [
        "settings\n",
        "groups\n",
        "group roles\n",
        "spaces\n",
        "assignments\n",
        "+ Embedded Admins",
        "+ Customer Staging",
        "~ auto_create_groups",
        "tenant: 10 writes (6 configuration, 4 assignments); at least",
        "at the write limit (6000/min)",
    ] {
        assert!(plan.stdout.contains(needle), "no {needle:?} in\n{}", plan.stdout);
    }
    assert!(writes(&world.requests()).is_empty());
    // A user the tenant lacks, waiting for a space the plan creates, is shown as apply will meet it.
    world.write(
        "nobody.toml",
        "[[spaces]]\nname = \"Fresh\"\ntype = \"shared\"\nassignments = [{ user = \"nobody@example.com\", roles = [\"consumer\"] }]\n",
    );
    let nobody = tenant_plan(&world, "nobody.toml", &[]);
    assert_eq!(nobody.code, Some(1), "{}{}", nobody.stdout, nobody.stderr);
    assert!(nobody.stdout.contains("nobody@example.com"), "{}", nobody.stdout);
    let check = tenant_plan(&world, "tenant.toml", &["--check", "-q"]);
    assert_eq!(check.code, Some(3), "{}", check.stderr);

    let json = tenant_plan(&world, "tenant.toml", &["--json"]);
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    assert_eq!(doc["format"], "roster-tenant-plan");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["groups"].as_array().map(Vec::len), Some(2));
    // 1 settings patch, 1 license put, 2 groups, 2 spaces, 4 assignments.
    assert_eq!(doc["write_count"]["total"], 10, "{doc}");
    assert_eq!(doc["writes"][0]["write"], "group_settings", "{doc}");
    assert!(doc["min_write_time_ms"].as_u64().unwrap() > 0, "{doc}");
    assert!(writes(&world.requests()).is_empty());
}

#[test]
fn group_roles_are_replaced_only_where_they_differ() {
    let world = world();
    world.write(
        "roles.toml",
        "[[groups]]\nname = \"Group 0\"\nroles = [\"AuditAdmin\"]\n[[groups]]\nname = \"Other\"\n",
    );
    let run = tenant_apply(&world, "roles.toml", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let sent = writes(&world.requests());
    assert_eq!(
        sent,
        vec![
            "POST /api/v1/groups".to_owned(),
            "PATCH /api/v1/groups/g0".to_owned()
        ]
    );
    let before = world.requests().len();
    let rerun = tenant_apply(&world, "roles.toml", &[]);
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    assert!(writes(&world.requests()[before..]).is_empty());
}

#[test]
fn license_settings_are_read_merged_and_put_whole() {
    let world = world();
    world.write("lic.toml", "[settings]\nauto_assign_analyzer = true\n");
    let exported_before = world.run(&["tenant", "export", "--from", "sim", "-o", "-"]);
    assert_eq!(exported_before.code, Some(0), "{}", exported_before.stderr);
    let professional_before = exported_before
        .stdout
        .lines()
        .find(|l| l.starts_with("auto_assign_professional"))
        .map(str::to_owned)
        .unwrap();
    let run = tenant_apply(&world, "lic.toml", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let after = world.run(&["tenant", "export", "--from", "sim", "-o", "-"]);
    assert!(
        after.stdout.contains("auto_assign_analyzer = true"),
        "{}",
        after.stdout
    );
    assert!(after.stdout.contains(&professional_before), "{}", after.stdout);
    let sent = writes(&world.requests());
    assert!(
        sent.iter().all(|w| w == "PUT /api/v1/licenses/settings"),
        "{sent:?}"
    );
}

#[test]
fn a_malformed_file_is_refused_whole_located_and_nothing_is_sent() {
    let world = world();
    let cases = [
        (
            "syntax.toml",
            "[[groups]]\nname = \"A\nroles = []\n",
            "syntax.toml:2:",
        ),
        (
            "key.toml",
            "[settings]\nauto_create_group = true\n",
            "key.toml:2:1",
        ),
        (
            "type.toml",
            "[settings]\nauto_create_groups = \"yes\"\n",
            "type.toml:2:22",
        ),
        (
            "dupgroup.toml",
            "[[groups]]\nname = \"A\"\n[[groups]]\nname = \"A\"\n",
            "dupgroup.toml:4:8",
        ),
        (
            "dupspace.toml",
            "[[spaces]]\nname = \"S\"\ntype = \"shared\"\n[[spaces]]\nname = \"S\"\ntype = \"shared\"\n",
            "dupspace.toml:5:8",
        ),
        (
            "spacetype.toml",
            "[[spaces]]\nname = \"S\"\ntype = \"manged\"\n",
            "spacetype.toml:3:8",
        ),
    ];
    for (name, text, located) in cases {
        world.write(name, text);
        for command in ["plan", "apply"] {
            let run = world.run(&["tenant", command, name, "--to", "sim"]);
            assert_eq!(run.code, Some(2), "{name} {command}: {}", run.stderr);
            assert!(
                run.stderr.contains(located),
                "{name}: no {located} in {}",
                run.stderr
            );
            assert!(run.stderr.contains("hint: "), "{name}: {}", run.stderr);
            assert!(run.stderr.contains("nothing was sent"), "{name}: {}", run.stderr);
        }
    }
    assert_eq!(api_requests(&world.requests()), 0);
}

#[test]
fn an_unknown_role_is_located_with_the_closest_names_before_any_write() {
    let world = world();
    world.write(
        "roles.toml",
        "[[groups]]\nname = \"New\"\nroles = [\"AuditAdmn\"]\n[[spaces]]\nname = \"N\"\ntype = \"shared\"\n",
    );
    for command in ["plan", "apply"] {
        let run = world.run(&["tenant", command, "roles.toml", "--to", "sim"]);
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(run.stderr.contains("roles.toml:3:10"), "{}", run.stderr);
        assert!(run.stderr.contains("\"AuditAdmin\""), "{}", run.stderr);
    }
    assert!(writes(&world.requests()).is_empty());
}

#[test]
fn a_type_mismatch_is_an_error_not_a_recreate() {
    let world = world();
    world.write(
        "t.toml",
        "[[spaces]]\nname = \"Space 0\"\ntype = \"managed\"\n[[groups]]\nname = \"New\"\n",
    );
    let plan = tenant_plan(&world, "t.toml", &[]);
    assert_eq!(plan.code, Some(1), "{}", plan.stderr);
    assert!(plan.stdout.contains("! Space 0"), "{}", plan.stdout);
    let apply = tenant_apply(&world, "t.toml", &[]);
    assert_eq!(apply.code, Some(2), "{}", apply.stderr);
    assert!(apply.stderr.contains("t.toml:3:8"), "{}", apply.stderr);
    assert!(apply.stderr.contains("cannot change"), "{}", apply.stderr);
    assert!(writes(&world.requests()).is_empty());
}

#[test]
fn an_export_plans_back_to_no_change() {
    let world = world();
    world.write("tenant.toml", EXAMPLE);
    assert_eq!(tenant_apply(&world, "tenant.toml", &[]).code, Some(0));
    let export = world.run(&["tenant", "export", "--from", "sim", "-o", "exported.toml"]);
    assert_eq!(export.code, Some(0), "{}", export.stderr);
    let text = world.read("exported.toml");
    assert!(text.contains("name = \"Embedded Admins\""), "{text}");
    assert!(
        text.contains("{ user = \"user0@example.com\", roles = [\"facilitator\"] }"),
        "{text}"
    );
    let before = world.requests().len();
    let plan = tenant_plan(&world, "exported.toml", &["--check"]);
    assert_eq!(plan.code, Some(0), "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        !plan.stdout.contains("\n  + ") && !plan.stdout.contains("\n  ~ "),
        "{}",
        plan.stdout
    );
    let apply = tenant_apply(&world, "exported.toml", &[]);
    assert_eq!(apply.code, Some(0), "{}", apply.stderr);
    assert!(writes(&world.requests()[before..]).is_empty());
}

#[test]
fn a_killed_apply_resumes_without_redoing_writes() {
    let world = World::start(
        tenant(60, 1, 0),
        Limits {
            tier1: None,
            tier2: Some(600),
        },
    );
    let mut text = String::from(
        "[[groups]]\nname = \"Team\"\nroles = [\"AuditAdmin\"]\n[[spaces]]\nname = \"Big\"\ntype = \"shared\"\nassignments = [\n",
    );
    for i in 0..60 {
        text.push_str(&format!(
            "  {{ user = \"user{i}@example.com\", roles = [\"consumer\"] }},\n"
        ));
    }
    text.push_str("]\n");
    world.write("big.toml", &text);
    let child = world
        .command(&["tenant", "apply", "big.toml", "--to", "sim"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("some assignments written", Duration::from_secs(30), || {
        world
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/assignments") && r.status == 201)
            .count()
            >= 5
    });
    let kill = std::process::Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let _ = wait_child(child, Duration::from_secs(10));
    let rerun = tenant_apply(&world, "big.toml", &[]);
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    let sent = writes(&world.requests());
    assert_eq!(
        sent.iter().filter(|w| *w == "POST /api/v1/groups").count(),
        1,
        "{sent:?}"
    );
    assert_eq!(
        sent.iter().filter(|w| *w == "POST /api/v1/spaces").count(),
        1,
        "{sent:?}"
    );
    let creates = sent.iter().filter(|w| w.ends_with("/assignments")).count();
    // One create per assignee; at most what was in flight at the kill answered 409 on the rerun.
    assert!((60..=68).contains(&creates), "{creates} creates: {sent:?}");
    assert_eq!(world.state().len(), 60);
}

#[test]
fn an_alumio_target_is_refused_with_a_hint() {
    let world = world();
    world.write("tenant.toml", EXAMPLE);
    let run = world
        .command(&[
            "tenant",
            "plan",
            "tenant.toml",
            "--server",
            "http://127.0.0.1:9",
            "--kind",
            "alumio",
        ])
        .env("ALUMIO_API_KEY", "k")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("alumio") && stderr.contains("hint: "), "{stderr}");
}

#[test]
fn a_key_whose_user_may_not_read_roles_gets_a_hint_naming_the_role() {
    let mut tenant = tenant(5, 1, 1);
    tenant.users[0].roles = Some(vec!["AnalyticsAdmin".to_owned()]);
    let world = World::start(tenant, Limits::NONE);
    world.write(
        "roles.toml",
        "[[groups]]\nname = \"New\"\nroles = [\"AuditAdmin\"]\n",
    );
    for command in ["plan", "apply"] {
        let run = world.run(&["tenant", command, "roles.toml", "--to", "sim"]);
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(
            run.stderr.contains("403") || run.stderr.contains("forbidden"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("hint: ") && run.stderr.contains("TenantAdmin"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("owner@example.com"), "{}", run.stderr);
    }
    assert!(writes(&world.requests()).is_empty());
}
