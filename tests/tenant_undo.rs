//! Undoing a `roster tenant apply` through the binary against the simulator: group roles,
//! settings, space descriptions, created groups and spaces and the assignments, put back exactly
//! as the tenant's API showed them before; a change made since is a conflict unless `--force`;
//! the undo can itself be undone; and a tenant apply killed in its configuration phase leaves a
//! before-state for every configuration write the tenant received.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions too: any failure is a failed test"
)]

use std::process::Stdio;
use std::time::Duration;

use roster_e2e::{Limits, World, tenant, wait_child, wait_for};

/// Changes Group 0's roles, two settings and Space 0's description; creates a group and a space
/// with assignments, and an assignment in Space 1.
const FILE: &str = r#"[settings]
auto_create_groups = true
auto_assign_analyzer = true

[[groups]]
name = "Group 0"
roles = ["AuditAdmin"]

[[groups]]
name = "New Team"
roles = ["DataAdmin"]

[[spaces]]
name = "Space 0"
description = "Changed by the file"

[[spaces]]
name = "Fresh"
type = "shared"
description = "Made by the file"
assignments = [
  { group = "New Team", roles = ["consumer"] },
  { user = "user1@example.com", roles = ["producer"] },
]

[[spaces]]
name = "Space 1"
assignments = [{ user = "user2@example.com", roles = ["consumer"] }]
"#;

fn world() -> World {
    let mut t = tenant(4, 2, 1);
    t.spaces[0].description = "As it was".to_owned();
    World::start(t, Limits::NONE)
}

/// The tenant as its API shows it: `roster tenant export` of every group, space and setting.
fn export(world: &World) -> String {
    let run = world.run(&["tenant", "export", "--from", "sim", "-o", "-"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // The first lines name the time of the export.
    run.stdout
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

fn apply(world: &World) -> String {
    world.write("tenant.toml", FILE);
    let run = world.run(&["tenant", "apply", "tenant.toml", "--to", "sim", "--yes"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    last_run_id(world)
}

fn runs(world: &World) -> Vec<serde_json::Value> {
    let run = world.run(&["runs", "--to", "sim", "--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    serde_json::from_str::<Vec<serde_json::Value>>(&run.stdout).expect("runs --json")
}

fn last_run_id(world: &World) -> String {
    runs(world).last().expect("a run")["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

fn undo(world: &World, id: &str, extra: &[&str]) -> roster_e2e::Run {
    let mut args = vec!["undo", id, "--to", "sim"];
    args.extend_from_slice(extra);
    world.run(&args)
}

#[test]
fn a_tenant_apply_is_undone_exactly_and_the_undo_can_be_undone() {
    let world = world();
    let before = export(&world);
    let id = apply(&world);
    let after = export(&world);
    assert_ne!(before, after);

    // runs lists the run with its configuration writes counted beside its rows.
    let listed = runs(&world);
    let run = listed.iter().find(|r| r["id"] == id.as_str()).unwrap();
    let changed = run["config"]["done"].as_u64().unwrap();
    assert!(changed >= 6, "{run}");
    assert_eq!(run["config"]["failed"], 0, "{run}");
    assert_eq!(run["counts"]["created"], 3, "{run}");
    let text = world.run(&["runs", "--to", "sim"]);
    let line = text.stdout.lines().find(|l| l.starts_with(&id)).unwrap();
    assert!(
        line.ends_with(&format!("; configuration {changed} changed")),
        "{line}"
    );

    // runs show lists the configuration changes with their before-states.
    let show = world.run(&["runs", "show", &id, "--to", "sim", "--json"]);
    assert_eq!(show.code, Some(0), "{}", show.stderr);
    let shown: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    let config = shown["configuration"].as_array().unwrap();
    let whats: Vec<&str> = config
        .iter()
        .map(|c| c["before"]["what"].as_str().unwrap())
        .collect();
    for what in [
        "group_settings",
        "license_settings",
        "group",
        "group_roles",
        "space",
        "space_description",
    ] {
        assert!(whats.contains(&what), "{what} missing: {whats:?}");
    }
    assert!(config.iter().all(|c| c["outcome"] == "done"), "{config:?}");
    let roles = config
        .iter()
        .find(|c| c["before"]["what"] == "group_roles")
        .unwrap();
    assert_eq!(roles["before"]["roles"], serde_json::json!([]));
    assert_eq!(roles["before"]["after"], serde_json::json!(["AuditAdmin"]));
    let text = world.run(&["runs", "show", &id, "--to", "sim"]);
    assert!(
        text.stdout
            .contains("space description \"Space 0\": \"As it was\" -> \"Changed by the file\""),
        "{}",
        text.stdout
    );

    let undone = undo(&world, &id, &["--yes"]);
    assert_eq!(undone.code, Some(0), "{}\n{}", undone.stdout, undone.stderr);
    assert!(undone.stdout.contains("- Fresh"), "{}", undone.stdout);
    assert!(undone.stdout.contains("- New Team"), "{}", undone.stdout);
    assert_eq!(export(&world), before, "the tenant is as before the apply");

    // The undo is a run, and undoing it puts back what it took away, but the group and space
    // it deleted come back new: settings, roles and descriptions are as the apply left them.
    let undo_id = last_run_id(&world);
    assert_ne!(undo_id, id);
    let again = undo(&world, &undo_id, &["--yes"]);
    assert_eq!(again.code, Some(0), "{}\n{}", again.stdout, again.stderr);
    let redone = export(&world);
    for line in [
        "auto_create_groups = true",
        "auto_assign_analyzer = true",
        "name = \"New Team\"",
        "name = \"Fresh\"",
        "description = \"Changed by the file\"",
        "roles = [\"AuditAdmin\"]",
        "group = \"New Team\"",
        "user = \"user1@example.com\"",
    ] {
        assert!(redone.contains(line), "{line} missing in:\n{redone}");
    }
}

#[test]
fn a_change_made_since_is_a_conflict_unless_forced() {
    let world = world();
    let before = export(&world);
    let id = apply(&world);
    // Someone gives Group 0 another role after the apply.
    world.write(
        "later.toml",
        "[[groups]]\nname = \"Group 0\"\nroles = [\"DataAdmin\"]\n",
    );
    let later = world.run(&["tenant", "apply", "later.toml", "--to", "sim", "--yes"]);
    assert_eq!(later.code, Some(0), "{}", later.stderr);

    let undone = undo(&world, &id, &["--yes"]);
    assert_eq!(undone.code, Some(1), "{}\n{}", undone.stdout, undone.stderr);
    assert!(undone.stdout.contains("! Group 0  conflict"), "{}", undone.stdout);
    assert!(undone.stderr.contains("(conflict)"), "{}", undone.stderr);
    let now = export(&world);
    assert!(now.contains("roles = [\"DataAdmin\"]"), "left alone:\n{now}");
    assert!(!now.contains("New Team"), "the rest is undone:\n{now}");

    // --force puts the before-state over the later change.
    let forced = undo(&world, &id, &["--yes", "--force"]);
    assert_eq!(forced.code, Some(0), "{}\n{}", forced.stdout, forced.stderr);
    assert_eq!(export(&world), before);
}

#[test]
fn a_tenant_apply_killed_in_its_configuration_phase_left_a_before_line_for_every_write() {
    let world = World::start(
        tenant(2, 1, 1),
        Limits {
            tier1: None,
            tier2: Some(120),
        },
    );
    let mut text = String::from(
        "[settings]\nauto_create_groups = true\n[[groups]]\nname = \"Group 0\"\nroles = [\"AuditAdmin\"]\n",
    );
    for i in 0..30 {
        text.push_str(&format!(
            "[[groups]]\nname = \"Team {i}\"\nroles = [\"DataAdmin\"]\n"
        ));
    }
    world.write("big.toml", &text);
    let child = world
        .command(&["tenant", "apply", "big.toml", "--to", "sim", "--yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let created = |world: &World| {
        world
            .writes()
            .iter()
            .filter(|w| w.resource == sim::WriteResource::Group && w.op == sim::WriteOp::Create)
            .count()
    };
    wait_for("some groups created", Duration::from_secs(30), || {
        created(&world) >= 3
    });
    let kill = std::process::Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let _ = wait_child(child, Duration::from_secs(10));
    let received = world.writes();
    assert!(created(&world) < 31, "killed before the end");

    // Every configuration write the tenant received has its before line, under one run id.
    let lines: Vec<serde_json::Value> = world
        .read(".roster/tenant-sim.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let befores: Vec<&serde_json::Value> = lines.iter().filter_map(|l| l.get("before")).collect();
    let run_ids: std::collections::BTreeSet<&str> = lines.iter().filter_map(|l| l["run"].as_str()).collect();
    assert_eq!(run_ids.len(), 1, "{run_ids:?}");
    let snapshot = world.sim.tenant();
    for write in &received {
        match (write.resource, write.op) {
            (sim::WriteResource::Group, sim::WriteOp::Create) => {
                let name = &snapshot.groups.iter().find(|g| g.id == write.id).unwrap().name;
                assert!(
                    befores.iter().any(|b| b["what"] == "group"
                        && b["group"] == name.as_str()
                        && b["change"] == "create"),
                    "no before line for the create of {name}"
                );
            }
            (sim::WriteResource::Group, sim::WriteOp::Update) => assert!(
                befores.iter().any(|b| b["what"] == "group_roles"
                    && b["group_id"] == write.id.as_str()
                    && b["roles"] == serde_json::json!([])),
                "no before line for the roles of {}",
                write.id
            ),
            (sim::WriteResource::GroupsSettings, _) => assert!(
                befores
                    .iter()
                    .any(|b| b["what"] == "group_settings" && b["before"]["auto_create_groups"] == false),
                "no before line for the settings"
            ),
            other => panic!("unexpected write {other:?}"),
        }
    }

    // The killed run is listed, and its undo removes what it made.
    let id = *run_ids.iter().next().unwrap();
    let show = world.run(&["runs", "show", id, "--to", "sim"]);
    assert_eq!(show.code, Some(0), "{}", show.stderr);
    assert!(show.stdout.contains("create group \"Team 0\""), "{}", show.stdout);
    let undone = undo(&world, id, &["--yes"]);
    assert_eq!(undone.code, Some(0), "{}\n{}", undone.stdout, undone.stderr);
    let left = world.sim.tenant();
    assert!(
        !left.groups.iter().any(|g| g.name.starts_with("Team ")),
        "{:?}",
        left.groups
    );
    assert!(
        left.groups
            .iter()
            .any(|g| g.name == "Group 0" && g.roles.is_empty())
    );
    assert!(!left.groups_settings.auto_create_groups);
}

#[test]
fn a_created_group_assigned_since_in_another_space_is_not_deleted_even_with_force() {
    let world = world();
    let id = apply(&world);
    // Someone assigns the group the apply created in a space the apply did not touch for it.
    world.write(
        "later.csv",
        "space,type,assignee,roles\nSpace 0,group,New Team,consumer\n",
    );
    let later = world.run(&["apply", "later.csv", "--to", "sim", "--yes", "-q"]);
    assert_eq!(later.code, Some(0), "{}", later.stderr);
    let group_deletes = |world: &World| {
        world
            .requests()
            .iter()
            .filter(|r| r.method == "DELETE" && r.path.starts_with("/api/v1/groups/"))
            .count()
    };

    let undone = undo(&world, &id, &["--yes", "--force"]);
    assert_eq!(undone.code, Some(1), "{}\n{}", undone.stdout, undone.stderr);
    let line = undone
        .stdout
        .lines()
        .find(|l| l.contains("New Team") && l.trim_start().starts_with('!'))
        .unwrap_or_else(|| panic!("no refusal for New Team:\n{}", undone.stdout));
    assert!(line.contains("in use") && line.contains("Space 0"), "{line}");
    assert_eq!(group_deletes(&world), 0);
    let now = export(&world);
    assert!(now.contains("name = \"New Team\""), "the group stays:\n{now}");
    assert!(!now.contains("name = \"Fresh\""), "the rest is undone:\n{now}");
}
