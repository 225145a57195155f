//! `roster apply --mode exact --prune`: deletes exactly what the roster's spaces hold beyond the
//! roster, never touches other spaces, refuses past --max-deletes or without a confirmation, and
//! resumes after a kill.

use std::time::Duration;

use roster_e2e::{AssigneeType, Limits, World, assign, tenant, wait_child, wait_for};

fn world() -> World {
    let mut t = tenant(6, 2, 1);
    assign(&mut t, "s0", AssigneeType::User, "u0", &["consumer"]);
    assign(&mut t, "s0", AssigneeType::User, "u1", &["consumer"]);
    assign(&mut t, "s0", AssigneeType::User, "u2", &["producer"]);
    assign(&mut t, "s0", AssigneeType::Group, "g0", &["consumer"]);
    assign(&mut t, "s1", AssigneeType::User, "u3", &["consumer"]);
    let world = World::start(t, Limits::NONE);
    // Space 0: u0 stays, g0 stays, u4 is new, u1 and u2 go; Space 1 is not named.
    world.write(
        "roster.csv",
        "space,type,assignee,roles\n\
         Space 0,user,user0@example.com,consumer\n\
         Space 0,group,Group 0,consumer\n\
         Space 0,user,user4@example.com,consumer\n",
    );
    world
}

fn ops(world: &World) -> Vec<(String, String, String)> {
    world
        .writes()
        .into_iter()
        .map(|w| (format!("{:?}", w.op), w.space_id, w.assignee_id))
        .collect()
}

#[test]
fn prune_deletes_exactly_the_extra_assignments_of_the_named_spaces() {
    let world = world();
    let run = world.plan("roster.csv", &["--mode", "exact", "--prune"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let space0 = run.stdout.split("Space 0").nth(1).unwrap_or_default();
    let first_rows: Vec<&str> = space0.lines().skip(1).take(2).collect();
    assert!(
        first_rows.iter().all(|l| l.trim_start().starts_with('-')),
        "deletes come first:\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("- user   user1@example.com"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("2 to delete"), "{}", run.stdout);
    assert!(!run.stdout.contains("user3@example.com"), "{}", run.stdout);
    assert!(world.writes().is_empty());

    let run = world.apply("roster.csv", &["--mode", "exact", "--prune", "--yes"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut done = ops(&world);
    done.sort();
    assert_eq!(
        done,
        vec![
            ("Create".to_owned(), "s0".to_owned(), "u4".to_owned()),
            ("Delete".to_owned(), "s0".to_owned(), "u1".to_owned()),
            ("Delete".to_owned(), "s0".to_owned(), "u2".to_owned()),
        ]
    );
    let state = world.state();
    let keys: Vec<(&str, &str)> = state.keys().map(|(s, a)| (s.as_str(), a.as_str())).collect();
    assert_eq!(keys, vec![("s0", "g0"), ("s0", "u0"), ("s0", "u4"), ("s1", "u3")]);

    // Again: nothing left to do, nothing sent.
    let run = world.apply("roster.csv", &["--mode", "exact", "--prune", "--yes", "--fresh"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(world.writes().len(), 3);
}

#[test]
fn prune_refuses_past_max_deletes_without_a_yes_and_without_exact() {
    let world = world();
    let run = world.apply(
        "roster.csv",
        &["--mode", "exact", "--prune", "--yes", "--max-deletes", "1"],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("deletes 2 assignments, more than --max-deletes 1"),
        "{}",
        run.stderr
    );

    // Standard input is not a terminal in tests: without --yes it refuses, with a hint.
    let run = world.apply("roster.csv", &["--mode", "exact", "--prune"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint:") && run.stderr.contains("--yes"),
        "{}",
        run.stderr
    );

    let run = world.apply("roster.csv", &["--prune", "--yes"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("--mode exact"), "{}", run.stderr);

    // A roster with an unreadable row may be hiding an assignee: no prune.
    world.write(
        "bad.csv",
        "space,type,assignee,roles\nSpace 0,user,user0@example.com,consumer\nSpace 0,user,user1@example.com,Can fly\n",
    );
    let run = world.apply("bad.csv", &["--mode", "exact", "--prune", "--yes"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("refusing to prune"), "{}", run.stderr);
    assert!(world.writes().is_empty(), "{:?}", world.writes());
}

#[test]
fn a_killed_prune_resumes_and_keeps_what_it_created() {
    let mut t = tenant(40, 1, 0);
    for u in 20..40 {
        assign(&mut t, "s0", AssigneeType::User, &format!("u{u}"), &["consumer"]);
    }
    let mut config = roster_e2e::SimConfig::new(t);
    config.tier1_per_min = None;
    config.tier2_per_min = Some(600);
    let world = World::with_config(
        config,
        Limits {
            tier1: None,
            tier2: Some(600),
        },
    );
    // The roster keeps u0..u19 (all new) and drops u20..u39.
    let mut roster = String::from("space,type,assignee,roles\n");
    for u in 0..20 {
        roster.push_str(&format!("Space 0,user,user{u}@example.com,consumer\n"));
    }
    world.write("roster.csv", &roster);
    let args = ["--mode", "exact", "--prune", "--yes", "--max-deletes", "20"];
    let child = world.spawn_apply("roster.csv", &args);
    wait_for("some writes", Duration::from_secs(30), || {
        world.writes().len() >= 8
    });
    let mut child = child;
    child.kill().expect("SIGKILL");
    let _ = wait_child(child, Duration::from_secs(10));
    assert!(world.writes().len() < 40);

    world.sim.set_limits(None, None);
    let run = world.apply("roster.csv", &args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("resuming: "), "{}", run.stderr);
    let state = world.state();
    let mut expected: Vec<String> = (0..20).map(|u| format!("u{u}")).collect();
    expected.sort();
    let held: Vec<String> = state.keys().map(|(_, a)| a.clone()).collect();
    assert_eq!(held, expected);
    let mut per = std::collections::BTreeMap::new();
    for w in world.writes() {
        *per.entry(w.assignee_id).or_insert(0) += 1;
    }
    assert_eq!(per.len(), 40);
    assert!(per.values().all(|n| *n == 1), "{per:?}");
}
