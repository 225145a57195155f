//! `roster plan` and `roster apply` against the simulated Alumio API: bulk writes, rows that fail
//! alone, group rows, the email confirmation, resume and the failed-rows rerun.

#![expect(
    clippy::expect_used,
    reason = "a run that cannot start is a failed test, helper or not"
)]

use std::collections::BTreeSet;

use roster_e2e::{Limits, Run, World, tenant};
use sim::{AlumioApiKey, AlumioSpace, AlumioTenant, AlumioUser, SimConfig};

const KEY_VAR: &str = "ROSTER_E2E_ALUMIO_KEY";
const KEY: &str = "alumio-e2e-key";
const SPACES: usize = 10;
const USERS: usize = 100;

fn email(i: usize) -> String {
    format!("user{i}@example.com")
}

/// 10 spaces, 100 known users, and a roster of every user in every space (1,000 rows), plus a
/// group row and a row for an email Alumio does not know.
fn world() -> World {
    let mut t = tenant(0, 0, 0);
    t.alumio = AlumioTenant {
        api_keys: vec![AlumioApiKey {
            id: "e2e".into(),
            key: KEY.into(),
        }],
        users: (0..USERS)
            .map(|i| AlumioUser {
                email: email(i),
                name: String::new(),
            })
            .collect(),
        spaces: (0..SPACES)
            .map(|i| AlumioSpace {
                identifier: format!("space-{i}"),
                name: format!("Space {i}"),
                description: String::new(),
            })
            .collect(),
        members: Vec::new(),
    };
    let mut config = SimConfig::new(t);
    config.alumio.reads_per_min = None;
    config.alumio.writes_per_min = None;
    let world = World::with_config(config, Limits::NONE);
    world.write(
        "roster.toml",
        &format!(
            "[targets.al]\nkind = \"alumio\"\nserver = \"{}\"\napi_key_env = \"{KEY_VAR}\"\n\
             tier1_per_min = 0\ntier2_per_min = 0\nbatch_size = 50\n",
            world.sim.alumio_base_url()
        ),
    );
    let mut csv = String::from("space,type,assignee,roles\n");
    for s in 0..SPACES {
        for u in 0..USERS {
            let role = if u % 10 == 0 { "editor" } else { "Viewer" };
            csv.push_str(&format!("space-{s},user,{},{role}\n", email(u)));
        }
    }
    csv.push_str("space-0,group,Finance Analysts,viewer\n");
    csv.push_str("space-3,user,nobody@example.com,viewer\n");
    world.write("roster.csv", &csv);
    world
}

fn run(world: &World, args: &[&str]) -> Run {
    let mut command = world.command(args);
    command.env(KEY_VAR, KEY);
    let output = command.output().expect("run roster");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn bulk_apply_asks_before_emailing_batches_writes_and_reruns_only_failures() {
    let world = world();

    // The plan says who would be emailed; nothing is written. Two rows cannot be done (exit 1).
    let plan = run(&world, &["plan", "roster.csv", "--to", "al"]);
    assert_eq!(plan.code, Some(1), "{}", plan.stderr);
    assert!(
        plan.stdout
            .contains("1,001 new members will be emailed by the target"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("assigns users only") || plan.stdout.contains("group"));

    // More than a handful of emails and no --yes on a non-terminal: refused, nothing sent.
    let refused = run(&world, &["apply", "roster.csv", "--to", "al"]);
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(world.sim.alumio_write_log().is_empty());

    // With --yes: every good row lands in about rows/batch calls; the two bad rows fail alone.
    let applied = run(&world, &["apply", "roster.csv", "--to", "al", "--yes"]);
    assert_eq!(applied.code, Some(1), "{}", applied.stderr);
    let calls = world.sim.alumio_write_log();
    assert!(
        (20..=22).contains(&calls.len()),
        "1,001 rows in batches of 50 over 10 spaces: {} calls",
        calls.len()
    );
    assert!(calls.iter().all(|c| c.batch_size <= 50));
    let members: BTreeSet<(String, String)> = world
        .sim
        .alumio_members()
        .into_iter()
        .map(|m| (m.space, m.email))
        .collect();
    assert_eq!(members.len(), SPACES * USERS);
    for m in world.sim.alumio_members() {
        // Every tenth user (user0, user10, ...) is an editor.
        let editor = m.email.ends_with("0@example.com");
        let want = if editor { "ROLE_EDITOR" } else { "ROLE_USER" };
        assert_eq!(m.roles, vec![want.to_owned()], "{} in {}", m.email, m.space);
    }

    // The failed rows: the group (never sent) and the unknown email, with reasons.
    let failed = world.read("roster.failed.csv");
    let lines: Vec<&str> = failed.lines().collect();
    assert_eq!(lines.len(), 3, "{failed}");
    assert!(
        lines[0].starts_with("space,type,assignee,roles,error_code"),
        "{failed}"
    );
    assert!(
        failed.contains("Finance Analysts") && failed.contains("groups_unsupported"),
        "{failed}"
    );
    assert!(failed.contains("nobody@example.com"), "{failed}");

    // Rerunning the failed file sends only the row that can be sent, and it fails again.
    let before = world.sim.alumio_write_log().len();
    let rerun = run(&world, &["apply", "roster.failed.csv", "--to", "al", "--yes"]);
    assert_eq!(rerun.code, Some(1), "{}", rerun.stderr);
    let sent: Vec<_> = world.sim.alumio_write_log().into_iter().skip(before).collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].entries.len(), 1);
    assert_eq!(sent[0].entries[0].0, "nobody@example.com");

    // Rerunning the roster after those runs ended is a new run: it finds the done rows in place
    // and writes nothing new.
    let before = world.sim.alumio_write_log().len();
    let again = run(&world, &["apply", "roster.csv", "--to", "al", "--yes"]);
    assert_eq!(again.code, Some(1), "{}", again.stderr);
    assert!(!again.stderr.contains("resuming"), "{}", again.stderr);
    let sent: Vec<_> = world.sim.alumio_write_log().into_iter().skip(before).collect();
    assert!(
        sent.iter()
            .all(|c| c.entries.iter().all(|(e, _)| e == "nobody@example.com")),
        "{sent:?}"
    );
}
