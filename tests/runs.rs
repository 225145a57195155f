//! Runs: every `apply` after an ended run converges on the tenant as it is now, only an
//! interrupted run resumes (and only with the same roster, mode and prune setting), one run at a
//! time per journal, the journal's format version 1 is read as a legacy run, and `plan --check`
//! tells drift by its exit code.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions too: any failure is a failed test"
)]

use std::collections::BTreeSet;
use std::fs;
use std::time::Duration;

use roster_e2e::{
    AssigneeType, Limits, SimConfig, World, assign, interrupt, tenant, wait_child, wait_for, write_requests,
};

/// A roster of `users` in `Space {space}`, each with `roles`.
fn roster(space: usize, users: std::ops::Range<usize>, roles: &str) -> String {
    let mut text = String::from("space,type,assignee,roles\n");
    for who in users {
        text.push_str(&format!("Space {space},user,user{who}@example.com,{roles}\n"));
    }
    text
}

/// A tenant that answers every request after 50 ms, and runs with 2 writes in flight: a run of N
/// rows lasts at least N/40 seconds, whatever the rate limits allow.
fn slow_world(users: usize, spaces: usize) -> World {
    let mut config = SimConfig::new(tenant(users, spaces, 0));
    config.tier1_per_min = None;
    config.tier2_per_min = None;
    config.latency = Duration::from_millis(50);
    let mut world = World::with_config(config, Limits::NONE);
    world.set_concurrency(2);
    world
}

/// Remove the journal's `end` marker: what a run killed after its last record looks like.
fn cut_the_end(world: &World) {
    let path = world.path(".roster/journal-sim.jsonl");
    let text = fs::read_to_string(&path).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with("{\"end\":"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(kept, text, "the run had ended");
    fs::write(&path, kept).unwrap();
}

/// The journal files of earlier runs.
fn history(world: &World) -> Vec<String> {
    let mut files: Vec<String> = fs::read_dir(world.path(".roster/history"))
        .map(|entries| {
            entries
                .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Whether the journal's run ended.
fn ended(world: &World) -> bool {
    world.journal_lines().iter().any(|l| l.get("end").is_some())
}

/// Every record's key, asserting none is recorded twice.
fn keys_once(world: &World) -> BTreeSet<String> {
    let records = world.journal();
    let keys: BTreeSet<String> = records
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), records.len(), "a row was recorded twice: {records:?}");
    keys
}

#[test]
fn drift_after_an_ended_run_is_written_again_and_plan_check_sees_it() {
    let world = World::start(tenant(3, 1, 0), Limits::NONE);
    world.write("roster.csv", &roster(0, 0..3, "consumer"));

    let check = world.plan("roster.csv", &["--check", "-q"]);
    assert_eq!(check.code, Some(3), "three creates to make:\n{}", check.stderr);
    let run = world.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(world.writes().len(), 3);
    assert!(ended(&world));
    let check = world.plan("roster.csv", &["--check"]);
    assert_eq!(check.code, Some(0), "in place:\n{}{}", check.stdout, check.stderr);

    // Someone removes user1's assignment in the tenant.
    let mut drifted = world.sim.tenant();
    drifted.assignments.retain(|a| a.assignee_id != "u1");
    let mut world = world;
    world.replace_sim(SimConfig {
        tier1_per_min: None,
        tier2_per_min: None,
        ..SimConfig::new(drifted)
    });
    let plan = world.plan("roster.csv", &[]);
    assert_eq!(plan.code, Some(0), "{}", plan.stderr);
    assert!(plan.stdout.contains("+ user"), "{}", plan.stdout);
    let check = world.plan("roster.csv", &["--check", "-q"]);
    assert_eq!(check.code, Some(3), "{}", check.stderr);

    // apply agrees with plan: a new run writes exactly the missing assignment.
    let run = world.apply("roster.csv", &["--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!run.stderr.contains("resuming"), "{}", run.stderr);
    let writes = world.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].assignee_id, "u1");
    let last = run.json_lines().pop().unwrap();
    assert_eq!(last["totals"]["created"], 1);
    assert_eq!(last["totals"]["unchanged"], 2);
    assert_eq!(world.state().len(), 3);
    assert_eq!(world.plan("roster.csv", &["--check", "-q"]).code, Some(0));

    // Nothing is lost: the first run is in the history, the second is the journal.
    let old = history(&world);
    assert_eq!(old.len(), 1);
    assert_eq!(
        old[0]
            .lines()
            .filter(|l| l.contains("\"outcome\":\"created\""))
            .count(),
        3
    );
    assert_eq!(keys_once(&world).len(), 3);
    assert!(ended(&world));

    // With a row that cannot be done and nothing to write, --check says 1; with drift too, 3.
    world.write(
        "bad.csv",
        &format!(
            "{}Space 0,user,nobody@example.com,consumer\n",
            roster(0, 0..3, "consumer")
        ),
    );
    assert_eq!(world.plan("bad.csv", &["--check", "-q"]).code, Some(1));
    world.write(
        "more.csv",
        &format!(
            "{}Space 0,user,nobody@example.com,consumer\n",
            roster(0, 0..3, "producer")
        ),
    );
    assert_eq!(world.plan("more.csv", &["--check", "-q"]).code, Some(3));
    assert!(world.writes().len() == 1, "plan --check writes nothing");
}

#[test]
fn two_applies_on_one_journal_one_runs_and_the_other_refuses_before_any_request() {
    let world = slow_world(60, 2);
    world.write("a.csv", &roster(0, 0..40, "consumer"));
    world.write("b.csv", &roster(1, 0..10, "consumer"));

    let a = world.spawn_apply("a.csv", &[]);
    wait_for("the first run's first write", Duration::from_secs(20), || {
        !world.writes().is_empty()
    });

    // The second run targets another simulator under the same target name, so anything it sent
    // would show there: it must send nothing.
    let other = sim::Sim::start_blocking(SimConfig::new(tenant(60, 2, 0))).unwrap();
    let b = world.apply("b.csv", &["--server", &other.base_url()]);
    assert_eq!(b.code, Some(2), "{}", b.stderr);
    for needle in [
        "journal-sim.jsonl",
        "in use",
        &format!("process {}", a.id()),
        "started 20",
        "--state-dir",
        "nothing was sent",
    ] {
        assert!(b.stderr.contains(needle), "{needle:?} in:\n{}", b.stderr);
    }
    assert!(other.request_log().is_empty(), "{:?}", other.request_log());
    // A prune run and a migration into the same journal refuse the same way.
    let prune = world.apply(
        "b.csv",
        &[
            "--server",
            &other.base_url(),
            "--mode",
            "exact",
            "--prune",
            "--yes",
        ],
    );
    assert_eq!(prune.code, Some(2), "{}", prune.stderr);
    assert!(prune.stderr.contains("in use"), "{}", prune.stderr);
    let config = world.read("roster.toml");
    world.write(
        "roster.toml",
        &format!(
            "{config}\n[targets.src]\nkind = \"qlik\"\nserver = \"{}\"\napi_key_env = \"{}\"\n",
            other.base_url(),
            roster_e2e::KEY_VAR
        ),
    );
    let migrate = world.run(&["migrate", "--from", "src", "--to", "sim", "--yes"]);
    assert_eq!(migrate.code, Some(2), "{}", migrate.stderr);
    assert!(migrate.stderr.contains("in use"), "{}", migrate.stderr);
    assert!(other.request_log().is_empty());

    let a = wait_child(a, Duration::from_secs(60));
    assert_eq!(a.code, Some(0), "{}", a.stderr);
    assert_eq!(keys_once(&world).len(), 40, "one record per finished row");
    assert!(ended(&world));
    assert_eq!(world.state().len(), 40);
}

#[test]
fn two_applies_started_together_only_one_runs() {
    let world = slow_world(60, 2);
    world.write("c.csv", &roster(1, 0..30, "consumer"));
    world.write("d.csv", &roster(1, 30..60, "consumer"));
    let c = world.spawn_apply("c.csv", &["--json"]);
    let d = world.spawn_apply("d.csv", &["--json"]);
    let c = wait_child(c, Duration::from_secs(60));
    let d = wait_child(d, Duration::from_secs(60));
    let mut codes = [c.code, d.code];
    codes.sort();
    assert_eq!(codes, [Some(0), Some(2)], "c: {}\nd: {}", c.stderr, d.stderr);
    let (winner, loser) = if c.code == Some(0) {
        (0..30, &d)
    } else {
        (30..60, &c)
    };
    assert!(loser.stderr.contains("in use"), "{}", loser.stderr);
    assert!(
        loser.stdout.is_empty(),
        "the loser started nothing: {}",
        loser.stdout
    );
    // Only the winner's rows were written, each once, and each has exactly one record.
    let written: BTreeSet<String> = world.writes().iter().map(|w| w.assignee_id.clone()).collect();
    let expected: BTreeSet<String> = winner.map(|i| format!("u{i}")).collect();
    assert_eq!(written, expected);
    assert_eq!(world.writes().len(), 30);
    assert_eq!(keys_once(&world).len(), 30);
    assert!(ended(&world));
}

#[test]
fn a_killed_run_leaves_no_lock_behind_and_resumes_without_resending_its_finished_rows() {
    let world = slow_world(60, 1);
    world.write("roster.csv", &roster(0, 0..60, "consumer"));
    let mut child = world.spawn_apply("roster.csv", &[]);
    let pid = child.id();
    wait_for("10 writes", Duration::from_secs(30), || {
        world.writes().len() >= 10
    });
    child.kill().unwrap();
    let killed = wait_child(child, Duration::from_secs(10));
    assert_eq!(killed.code, None, "killed by the signal");
    assert!(!ended(&world), "a killed run has not ended");
    let lock = world.read(".roster/journal-sim.lock");
    assert!(lock.contains(&format!("\"pid\":{pid}")), "{lock}");

    // The rows recorded done, by roster line (line 2 is user0).
    let done: BTreeSet<String> = world
        .journal()
        .iter()
        .filter(|r| r["outcome"] != "failed")
        .map(|r| format!("u{}", r["line"].as_u64().unwrap() - 2))
        .collect();
    assert!(!done.is_empty());
    let before = world.writes().len();

    let run = world.apply("roster.csv", &[]);
    assert_eq!(
        run.code,
        Some(0),
        "the killed run's lock does not block: {}",
        run.stderr
    );
    assert!(
        run.stderr
            .starts_with(&format!("resuming: {} of 60 rows already done", done.len())),
        "{}",
        run.stderr
    );
    let resent: Vec<_> = world.writes()[before..]
        .iter()
        .filter(|w| done.contains(&w.assignee_id))
        .map(|w| w.assignee_id.clone())
        .collect();
    assert!(resent.is_empty(), "finished rows were sent again: {resent:?}");
    assert_eq!(world.state().len(), 60);
    assert_eq!(keys_once(&world).len(), 60);
    assert!(ended(&world));
    assert!(history(&world).is_empty(), "one run, resumed: nothing rotated");
}

#[test]
fn an_interrupted_run_resumes_only_with_the_same_mode() {
    let mut t = tenant(10, 1, 0);
    for who in 0..5 {
        assign(
            &mut t,
            "s0",
            AssigneeType::User,
            &format!("u{who}"),
            &["consumer", "producer"],
        );
    }
    let world = World::start(t, Limits::NONE);
    world.write("roster.csv", &roster(0, 0..10, "consumer"));
    let run = world.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(world.writes().len(), 5, "merge: five creates, five unchanged");
    cut_the_end(&world);

    // The rows the merge run finished are not done for --mode exact: a new run, said so.
    let run = world.apply("roster.csv", &["--mode", "exact"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let first = run.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("starting a new run: the interrupted run in")
            && first.contains("--mode merge")
            && first.contains("history"),
        "{}",
        run.stderr
    );
    let writes = world.writes();
    assert_eq!(writes.len(), 10, "five updates more: {writes:?}");
    assert!(world.state().values().all(|roles| roles == &["consumer"]));
    assert_eq!(history(&world).len(), 1);

    // The same settings resume the interrupted run: nothing sent for its rows.
    cut_the_end(&world);
    let requests = world.requests().len();
    let run = world.apply("roster.csv", &["--mode", "exact"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.starts_with("resuming: 10 of 10 rows already done"),
        "{}",
        run.stderr
    );
    assert_eq!(world.requests().len(), requests);
    assert!(ended(&world));
    assert_eq!(history(&world).len(), 1);
}

#[test]
fn only_failed_reruns_the_failed_rows_of_an_interrupted_run() {
    let world = World::start(tenant(5, 1, 0), Limits::NONE);
    world.write(
        "roster.csv",
        &format!(
            "{}Space 0,user,user9@example.com,consumer\n",
            roster(0, 0..5, "consumer")
        ),
    );
    let run = world.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    cut_the_end(&world);
    let run = world.apply("roster.csv", &["--only-failed", "--json"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let finished: Vec<_> = run
        .json_lines()
        .into_iter()
        .filter(|e| e["event"] == "row_finished")
        .collect();
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0]["row"]["assignee"], "user9@example.com");
    // Its records join the run they retry; every row of that run now has an outcome, so it ends.
    assert!(history(&world).is_empty());
    assert_eq!(world.journal().len(), 7);
    assert!(
        world
            .journal_lines()
            .iter()
            .any(|l| l["resumed"]["only_failed"] == true)
    );
    assert!(ended(&world));

    // A different mode is refused: the failed rows belong to a merge run.
    let run = world.apply("roster.csv", &["--only-failed", "--mode", "exact"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("--mode merge"), "{}", run.stderr);
}

#[test]
fn a_version_1_journal_is_read_as_a_legacy_run() {
    let world = World::start(tenant(5, 1, 0), Limits::NONE);
    world.write(
        "roster.csv",
        &format!(
            "{}Space 0,user,user9@example.com,consumer\n",
            roster(0, 0..5, "consumer")
        ),
    );
    let to_version_1 = || {
        let records: String = world.journal().iter().map(|r| format!("{r}\n")).collect();
        world.write(
            ".roster/journal-sim.jsonl",
            &format!("{{\"format\":\"roster-journal\",\"version\":1,\"target\":\"sim\"}}\n{records}"),
        );
    };
    let run = world.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    to_version_1();

    // --only-failed takes the failed rows from it.
    let run = world.apply("roster.csv", &["--only-failed", "--json"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("format 1"), "{}", run.stderr);
    let finished = run
        .json_lines()
        .into_iter()
        .filter(|e| e["event"] == "row_finished")
        .count();
    assert_eq!(finished, 1);
    let old = history(&world);
    assert_eq!(old.len(), 1);
    assert!(
        old[0].starts_with("{\"format\":\"roster-journal\",\"version\":1,"),
        "{}",
        old[0]
    );
    let header = &world.journal_lines()[0];
    assert_eq!(header["version"], 3);
    assert_eq!(header["run"]["mode"], "merge");

    // A plain apply never resumes one (its roster and mode are unknown): a new run that checks
    // every row and writes nothing that is in place.
    to_version_1();
    let writes = world.writes().len();
    let run = world.apply("roster.csv", &["--json"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("format 1"), "{}", run.stderr);
    assert_eq!(world.writes().len(), writes);
    let last = run.json_lines().pop().unwrap();
    assert_eq!(last["totals"]["unchanged"], 5);
    assert_eq!(last["totals"]["resumed"], 0);

    // A newer version is refused with a clear message, and nothing is sent.
    world.write(
        ".roster/journal-sim.jsonl",
        "{\"format\":\"roster-journal\",\"version\":4,\"target\":\"sim\"}\n",
    );
    let requests = world.requests().len();
    let run = world.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("newer roster"), "{}", run.stderr);
    assert_eq!(world.requests().len(), requests);
}

#[test]
fn fresh_stopped_before_any_row_is_decided_keeps_the_last_run() {
    let mut world = World::start(tenant(5, 1, 0), Limits::NONE);
    world.write("roster.csv", &roster(0, 0..5, "consumer"));
    let run = world.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let journal = world.read(".roster/journal-sim.jsonl");

    // A tenant that takes 5 s to answer: Ctrl-C comes while the first read is out.
    let mut slow = SimConfig::new(world.sim.tenant());
    slow.tier1_per_min = None;
    slow.tier2_per_min = None;
    slow.latency = Duration::from_secs(5);
    world.replace_sim(slow);
    let child = world.spawn_apply("roster.csv", &["--fresh"]);
    wait_for("the first read", Duration::from_secs(20), || {
        !world.requests().is_empty()
    });
    interrupt(&child);
    let run = wait_child(child, Duration::from_secs(30));
    assert_eq!(run.code, Some(130));
    assert!(write_requests(&world.requests()).is_empty());
    assert_eq!(
        world.read(".roster/journal-sim.jsonl"),
        journal,
        "the last run is kept"
    );
    assert!(history(&world).is_empty());
}

#[test]
fn a_run_cut_by_a_lost_connection_resumes() {
    let mut world = slow_world(60, 1);
    world.write("roster.csv", &roster(0, 0..60, "consumer"));
    let child = world.spawn_apply("roster.csv", &[]);
    wait_for("10 writes", Duration::from_secs(30), || {
        world.writes().len() >= 10
    });
    // The tenant goes away mid-run; a new simulator (on another port) holds what was written.
    let kept = world.sim.tenant();
    world.replace_sim(SimConfig {
        tier1_per_min: None,
        tier2_per_min: None,
        ..SimConfig::new(kept)
    });
    let cut = wait_child(child, Duration::from_secs(60));
    assert_eq!(cut.code, Some(1), "the unanswered rows failed: {}", cut.stderr);
    assert!(!ended(&world), "a run cut by the network has not ended");
    let done: BTreeSet<String> = world
        .journal()
        .iter()
        .filter(|r| r["outcome"] != "failed")
        .map(|r| format!("u{}", r["line"].as_u64().unwrap() - 2))
        .collect();
    let done_count = done.len();
    assert!((10..60).contains(&done_count), "{done_count}");

    let run = world.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with(&format!("resuming: {done_count} of 60 rows already done")),
        "{}",
        run.stderr
    );
    // Only rows the cut run had not finished were written, and they all are now.
    let state = world.state();
    for who in (0..60).map(|i| format!("u{i}")).filter(|u| !done.contains(u)) {
        assert!(state.contains_key(&("s0".to_owned(), who.clone())), "{who}");
    }
    assert!(world.writes().iter().all(|w| !done.contains(&w.assignee_id)));
    assert!(ended(&world));
}
