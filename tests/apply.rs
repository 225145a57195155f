//! `roster apply` against the simulator: exact results, resume after a kill or Ctrl-C, failed
//! rows that rerun, and writes paced at the limit.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use roster_e2e::{
    AssigneeType, Limits, World, assign, interrupt, tenant, wait_child, wait_for, write_requests,
};

type State = BTreeMap<(String, String), Vec<String>>;

/// What the tenant should hold after merging `rows` (space index, "user"/"group", index, roles)
/// into `before`.
fn merged(before: &State, rows: &[(usize, &str, usize, &[&str])]) -> State {
    let mut state = before.clone();
    for (space, kind, who, roles) in rows {
        let id = if *kind == "user" {
            format!("u{who}")
        } else {
            format!("g{who}")
        };
        let entry = state.entry((format!("s{space}"), id)).or_default();
        entry.extend(roles.iter().map(|r| (*r).to_owned()));
        entry.sort();
        entry.dedup();
    }
    state
}

fn csv(rows: &[(usize, &str, usize, &[&str])]) -> String {
    let mut text = String::from("space,type,assignee,roles\n");
    for (space, kind, who, roles) in rows {
        let name = if *kind == "user" {
            format!("user{who}@example.com")
        } else {
            format!("Group {who}")
        };
        text.push_str(&format!("Space {space},{kind},{name},{}\n", roles.join(";")));
    }
    text
}

/// `n` creates: users spread over `spaces` spaces, each (space, user) once.
fn creates(n: usize, spaces: usize) -> Vec<(usize, &'static str, usize, &'static [&'static str])> {
    (0..n)
        .map(|i| (i % spaces, "user", i / spaces, &["consumer"][..]))
        .collect()
}

fn count_creates(world: &World) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for w in world.writes() {
        if format!("{:?}", w.op).to_lowercase().contains("create") {
            *counts
                .entry((w.space_id.clone(), w.assignee_id.clone()))
                .or_default() += 1;
        }
    }
    counts
}

#[test]
fn a_fresh_load_applies_exactly_the_roster_and_a_second_run_writes_nothing() {
    let mut t = tenant(30, 3, 3);
    assign(&mut t, "s0", AssigneeType::User, "u0", &["consumer"]);
    assign(&mut t, "s1", AssigneeType::Group, "g1", &["consumer"]);
    let world = World::start(t, Limits::NONE);
    let before = world.state();
    let mut rows: Vec<(usize, &str, usize, &[&str])> = creates(60, 3);
    rows[0].3 = &["consumer", "producer"]; // s0/u0: an update
    rows.push((1, "group", 1, &["consumer"])); // unchanged
    rows.push((2, "group", 2, &["facilitator"])); // a group create
    world.write("roster.csv", &csv(&rows));

    let run = world.apply("roster.csv", &["--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(world.state(), merged(&before, &rows));
    let events = run.json_lines();
    let finished: Vec<_> = events.iter().filter(|e| e["event"] == "row_finished").collect();
    assert_eq!(finished.len(), rows.len(), "one row_finished per row");
    let indices: BTreeSet<_> = finished.iter().map(|e| e["index"].as_u64().unwrap()).collect();
    assert_eq!(indices.len(), rows.len());
    let last = events.last().unwrap();
    assert_eq!(last["event"], "finished");
    assert_eq!(last["totals"]["created"], 60);
    assert_eq!(last["totals"]["updated"], 1);
    assert_eq!(last["totals"]["unchanged"], 1);
    assert_eq!(write_requests(&world.requests()).len(), 61);
    assert_eq!(world.journal().len(), rows.len());
    assert!(!world.path("roster.failed.csv").exists());

    // Rerun: the last run ended, so this is a new run planned against the tenant: it reads,
    // finds every row in place and writes nothing.
    let run = world.apply("roster.csv", &["--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!run.stderr.contains("resuming"), "{}", run.stderr);
    assert_eq!(write_requests(&world.requests()).len(), 61);
    let last = run.json_lines().pop().unwrap();
    assert_eq!(last["totals"]["unchanged"], rows.len());
    assert_eq!(last["totals"]["resumed"], 0);
    assert_eq!(world.journal().len(), rows.len());
    assert!(world.journal().iter().all(|r| r["outcome"] == "unchanged"));

    // --fresh after an ended run is the same: reads, zero writes.
    let run = world.apply("roster.csv", &["--fresh"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(write_requests(&world.requests()).len(), 61);
    assert_eq!(world.state(), merged(&before, &rows));
}

#[test]
fn merge_adds_roles_and_exact_makes_them_equal() {
    let mut t = tenant(3, 1, 0);
    assign(&mut t, "s0", AssigneeType::User, "u0", &["consumer"]);
    assign(&mut t, "s0", AssigneeType::User, "u1", &["consumer", "producer"]);
    let world = World::start(t, Limits::NONE);
    world.write(
        "roster.csv",
        "space,type,assignee,roles\n\
         Space 0,user,user0@example.com,dataconsumer\n\
         Space 0,user,user1@example.com,consumer\n",
    );
    let run = world.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let state = world.state();
    let roles = |s: &State, u: &str| s[&("s0".to_owned(), u.to_owned())].clone();
    assert_eq!(roles(&state, "u0"), ["consumer", "dataconsumer"]);
    assert_eq!(roles(&state, "u1"), ["consumer", "producer"]);
    assert_eq!(
        write_requests(&world.requests()).len(),
        1,
        "u1 already had consumer"
    );

    let run = world.apply("roster.csv", &["--mode", "exact", "--fresh"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let state = world.state();
    assert_eq!(roles(&state, "u0"), ["dataconsumer"]);
    assert_eq!(roles(&state, "u1"), ["consumer"]);
    assert_eq!(write_requests(&world.requests()).len(), 3);
}

#[test]
fn unknown_names_and_unassignable_roles_fail_only_their_rows_and_rerun_from_the_failed_csv() {
    let mut world = World::start(tenant(6, 2, 1), Limits::NONE);
    world.write(
        "roster.csv",
        "space,type,assignee,roles,note\n\
         Space 0,user,user0@example.com,consumer,ok\n\
         Space 0,user,user7@example.com,consumer,joins later\n\
         Space 9,user,user1@example.com,consumer,no such space\n\
         Space 1,group,Group 5,consumer,no such group\n\
         Space 1,user,user2@example.com,publisher,=cmd|' /C calc'!A0\n\
         Space 1,user,user3@example.com,producer,=HYPERLINK(\"x\")\n",
    );
    let run = world.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("roster.failed.csv"), "{}", run.stderr);
    let state = world.state();
    assert_eq!(state.len(), 2, "only the good rows were written: {state:?}");
    assert!(state.contains_key(&("s0".to_owned(), "u0".to_owned())));
    assert!(state.contains_key(&("s1".to_owned(), "u3".to_owned())));

    let failed = world.read("roster.failed.csv");
    let mut lines = failed.lines();
    assert_eq!(
        lines.next(),
        Some("space,type,assignee,roles,note,error_code,http_status,message,attempts,line")
    );
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(failed.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let summary: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (r[2].as_str(), r[5].as_str(), r[9].as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("user7@example.com", "unknown_user", "3"),
            ("user1@example.com", "unknown_space", "4"),
            ("Group 5", "unknown_group", "5"),
            ("user2@example.com", "role_not_assignable", "6"),
        ]
    );
    assert!(
        rows.iter().all(|r| !r[7].is_empty()),
        "every failure has a reason"
    );
    assert_eq!(rows[3][4], "'=cmd|' /C calc'!A0", "formula cells are escaped");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(world.path("roster.failed.csv"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // user7 joins the tenant; rerunning the failed CSV sends exactly that row, and the others fail
    // again with their reasons.
    let mut next = world.sim.tenant();
    next.users.push(roster_e2e::User {
        id: "u7".into(),
        subject: "auth0|user7".into(),
        name: "User 7".into(),
        email: Some("user7@example.com".into()),
        status: "active".into(),
        roles: None,
    });
    world.replace_sim(roster_e2e::SimConfig {
        tier1_per_min: None,
        tier2_per_min: None,
        ..roster_e2e::SimConfig::new(next)
    });
    let run = world.apply("roster.failed.csv", &["--json"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let writes = world.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(
        (writes[0].space_id.as_str(), writes[0].assignee_id.as_str()),
        ("s0", "u7")
    );
    let events = run.json_lines();
    assert_eq!(events.iter().filter(|e| e["event"] == "row_finished").count(), 4);
    let again = world.read("roster.failed.failed.csv");
    assert_eq!(again.lines().count(), 4, "{again}");

    // --only-failed does the same from the journal, which the rerun above shares (rows are keyed
    // by content): only the three rows that still fail.
    let run = world.apply("roster.csv", &["--only-failed", "--json"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let finished: Vec<_> = run
        .json_lines()
        .into_iter()
        .filter(|e| e["event"] == "row_finished")
        .collect();
    assert_eq!(finished.len(), 3);
    assert_eq!(world.writes().len(), 1, "user7 is assigned already: no new write");
}

#[test]
fn a_run_killed_partway_resumes_to_the_exact_roster_without_writing_rows_twice() {
    let limits = Limits {
        tier1: None,
        tier2: Some(1200),
    };
    let world = World::start(tenant(40, 2, 0), limits);
    let rows = creates(80, 2);
    world.write("roster.csv", &csv(&rows));
    let before = world.state();

    let mut child = world.spawn_apply("roster.csv", &[]);
    wait_for("15 writes", Duration::from_secs(20), || {
        world.writes().len() >= 15
    });
    child.kill().expect("SIGKILL");
    let killed = wait_child(child, Duration::from_secs(10));
    assert_eq!(killed.code, None, "killed by a signal");
    let written_before_rerun = world.writes().len();
    assert!(written_before_rerun < rows.len(), "killed partway");

    let run = world.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let first = run.stderr.lines().next().unwrap_or_default().to_owned();
    assert!(
        first.starts_with("resuming: ") && first.ends_with(" of 80 rows already done"),
        "{first}"
    );
    assert_eq!(world.state(), merged(&before, &rows));
    // Each assignment was created once; a create sent again (in flight at the kill) met a 409.
    assert!(count_creates(&world).values().all(|&n| n == 1));
    let posts = write_requests(&world.requests()).len();
    assert!(
        posts <= rows.len() + 8,
        "{posts} write requests for {} rows and 8 in flight",
        rows.len()
    );
    // The journal parses, and every row is recorded done exactly at its last record.
    let records = world.journal();
    let done: BTreeSet<_> = records
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(done.len(), rows.len());
    assert!(records.iter().all(|r| r["outcome"] != "failed"));
}

#[test]
fn ctrl_c_exits_130_and_the_run_resumes() {
    let limits = Limits {
        tier1: None,
        tier2: Some(600),
    };
    let world = World::start(tenant(30, 2, 0), limits);
    let rows = creates(60, 2);
    world.write("roster.csv", &csv(&rows));
    let before = world.state();

    let child = world.spawn_apply("roster.csv", &[]);
    wait_for("5 writes", Duration::from_secs(20), || world.writes().len() >= 5);
    interrupt(&child);
    let run = wait_child(child, Duration::from_secs(30));
    assert_eq!(run.code, Some(130), "{}", run.stderr);
    assert!(run.stderr.contains("interrupted"), "{}", run.stderr);
    assert!(
        run.stderr.contains("rerun the same command to resume"),
        "{}",
        run.stderr
    );
    let written = world.writes().len();
    assert!(written < rows.len(), "stopped early");
    // Everything written so far is in the journal (in-flight writes finished and were recorded).
    let recorded = world
        .journal()
        .iter()
        .filter(|r| r["outcome"] == "created")
        .count();
    assert_eq!(recorded, written);

    let run = world.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with(&format!("resuming: {written} of 60 rows already done")),
        "{}",
        run.stderr
    );
    assert_eq!(world.state(), merged(&before, &rows));
    assert_eq!(
        write_requests(&world.requests()).len(),
        rows.len(),
        "no row written twice"
    );
}

#[test]
fn at_600_writes_per_minute_300_creates_take_the_ideal_time_without_a_429() {
    let limits = Limits {
        tier1: None,
        tier2: Some(600),
    };
    let world = World::start(tenant(100, 3, 0), limits);
    let rows = creates(300, 3);
    world.write("roster.csv", &csv(&rows));
    let run = world.apply("roster.csv", &["--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let finished = run
        .json_lines()
        .into_iter()
        .find(|e| e["event"] == "finished")
        .expect("finished event");
    assert_eq!(finished["totals"]["created"], 300);
    assert_eq!(finished["totals"]["throttled"], 0);
    let rejected = world.requests().iter().filter(|r| r.status == 429).count();
    assert_eq!(rejected, 0, "no 429 from the simulator");
    let elapsed = Duration::from_millis(finished["elapsed_ms"].as_u64().unwrap());
    let ideal = Duration::from_secs(30);
    assert!(
        elapsed <= ideal.mul_f64(1.05),
        "{elapsed:?} is more than 5% over the ideal {ideal:?}"
    );
    assert!(
        elapsed >= ideal.mul_f64(0.9),
        "{elapsed:?}: the writes were not paced at the limit"
    );
}

#[test]
fn faults_and_429s_are_retried_to_the_exact_roster_and_counted() {
    let mut config = roster_e2e::SimConfig::new(tenant(20, 2, 0));
    config.tier1_per_min = None;
    // The server allows less than the client sends, so real 429s arrive.
    config.tier2_per_min = Some(1200);
    config.faults = roster_e2e::Faults {
        p500: 0.1,
        p503: 0.05,
        reset: 0.05,
        apply_before_fault: true,
        ..roster_e2e::Faults::none()
    };
    let world = World::with_config(
        config,
        Limits {
            tier1: None,
            tier2: Some(6000),
        },
    );
    let rows = creates(40, 2);
    world.write("roster.csv", &csv(&rows));
    let before = world.state();
    let run = world.apply("roster.csv", &["--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(world.state(), merged(&before, &rows));
    assert!(
        count_creates(&world).values().all(|&n| n == 1),
        "each assignment created once"
    );
    let events = run.json_lines();
    let finished = events
        .iter()
        .find(|e| e["event"] == "finished")
        .expect("finished event");
    let t = &finished["totals"];
    assert_eq!(
        t["created"].as_u64().unwrap() + t["unchanged"].as_u64().unwrap(),
        40,
        "{t}"
    );
    assert_eq!(t["failed"], 0);
    let rejected = world.requests().iter().filter(|r| r.status == 429).count() as u64;
    assert!(rejected > 0, "the test needs real 429s");
    assert_eq!(t["throttled"].as_u64().unwrap(), rejected, "every 429 is counted");
    assert!(
        events.iter().any(|e| e["event"] == "row_retrying"),
        "retries are reported per row"
    );
    assert!(
        events.iter().any(|e| e["event"] == "throttled"),
        "pauses are reported"
    );
    let records = world.journal();
    assert_eq!(records.len(), 40);
    assert!(records.iter().all(|r| r["outcome"] != "failed"));
}
