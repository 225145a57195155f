//! `roster apply` killed with SIGKILL at seeded random moments and resumed, and journals left
//! torn or corrupted: the tenant ends at the roster, nothing is written twice beyond what was in
//! flight, and the journal is never silently misread.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions too: any failure is a failed test"
)]

use roster_e2e::rig as hardening;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::time::Duration;

use hardening::{Rig, Row, Seeded, merged, roster_csv, tenant, wait_child, wait_for};
use sim::SimConfig;

const CONCURRENCY: usize = 8;

/// `spaces` x `users` user rows with one role each.
fn grid(spaces: usize, users: usize) -> Vec<Row> {
    (0..spaces)
        .flat_map(|space| {
            (0..users).map(move |who| Row {
                space,
                user: true,
                who,
                roles: vec!["consumer"],
            })
        })
        .collect()
}

fn rig(users: usize, spaces: usize, writes_per_min: u32) -> Rig {
    let mut config = SimConfig::new(tenant(users, spaces, 0));
    config.tier1_per_min = None;
    config.tier2_per_min = None;
    Rig::start(
        config,
        &[
            "tier1_per_min = 0",
            &format!("tier2_per_min = {writes_per_min}"),
            &format!("concurrency = {CONCURRENCY}"),
        ],
    )
}

/// Every key's outcomes in journal order.
fn outcomes_by_key(records: &[serde_json::Value]) -> BTreeMap<String, Vec<String>> {
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in records {
        let key = r["key"].as_str().expect("a key").to_owned();
        let outcome = r["outcome"].as_str().expect("an outcome").to_owned();
        by_key.entry(key).or_default().push(outcome);
    }
    by_key
}

#[test]
fn five_sigkills_at_random_moments_then_a_resume_end_exactly_at_the_roster() {
    hardening::roster_bin();
    let rig = rig(300, 5, 15_000);
    let mut rows = grid(5, 300);
    // Rows that fail every time (no such user): they must never be recorded done.
    for who in 0..10 {
        rows.push(Row {
            space: who % 5,
            user: true,
            who: 10_000 + who,
            roles: vec!["consumer"],
        });
    }
    let valid = 1_500;
    rig.write("roster.csv", roster_csv(&rows));
    let before = rig.state();

    let mut random = Seeded::new(0x5EED_C0DE);
    let mut kills = 0;
    for round in 0..5 {
        let writes_before = rig.write_requests();
        // The moment: after 0 to 200 more write requests (0 kills it while it reads the tenant).
        let after = random.below(201);
        let child = rig.spawn_apply("roster.csv", &[]);
        wait_for(
            &format!("{after} writes in round {round}"),
            Duration::from_secs(60),
            || rig.write_requests() >= writes_before + after,
        );
        let mut child = child;
        child.kill().expect("SIGKILL");
        let killed = wait_child(child, Duration::from_secs(10));
        killed.assert_no_panic();
        if killed.code.is_none() {
            kills += 1;
        }
        // The journal stays readable after every kill: at most its last line is torn.
        let text = fs::read_to_string(rig.journal_path()).unwrap_or_default();
        let complete: Vec<&str> = text.split_inclusive('\n').filter(|l| l.ends_with('\n')).collect();
        for (i, line) in complete.iter().enumerate() {
            assert!(
                serde_json::from_str::<serde_json::Value>(line).is_ok(),
                "round {round}: journal line {} is not JSON: {line}",
                i + 1
            );
        }
    }
    assert_eq!(kills, 5, "every round was killed, not finished");
    assert!(rig.creates().len() < valid, "the kills came before the end");

    let run = rig.apply("roster.csv", &["--json"]);
    run.assert_no_panic();
    assert_eq!(run.code, Some(1), "the 10 unknown users fail:\n{}", run.stderr);
    assert!(run.stderr.starts_with("resuming: "), "{}", run.stderr);

    // The tenant holds exactly the valid rows.
    assert_eq!(rig.state(), merged(&before, &rows[..valid]));
    let creates = rig.creates();
    assert_eq!(creates.len(), valid);
    assert!(
        creates.values().all(|&n| n == 1),
        "an assignment was created twice"
    );
    // Every write request beyond one per row was in flight at one of the five kills.
    let writes = rig.write_requests();
    assert!(
        writes <= valid + 5 * CONCURRENCY,
        "{writes} write requests for {valid} rows and 5 kills with {CONCURRENCY} in flight"
    );

    // The journal parses; no row is both failed and done; every row has a record.
    let records = rig.journal();
    let by_key = outcomes_by_key(&records);
    assert_eq!(by_key.len(), rows.len(), "a record for every row");
    let mut failed = 0;
    for (key, outcomes) in &by_key {
        let any_failed = outcomes.iter().any(|o| o == "failed");
        let any_done = outcomes.iter().any(|o| o != "failed");
        assert!(
            !(any_failed && any_done),
            "{key} is both failed and done: {outcomes:?}"
        );
        if any_failed {
            failed += 1;
        }
        if any_done {
            assert_eq!(
                outcomes.len(),
                1,
                "{key} was recorded done more than once: {outcomes:?}"
            );
        }
    }
    assert_eq!(failed, 10);

    // That resume ended the run, so the next apply is a new run: it checks every row against the
    // tenant, finds the valid ones in place and writes nothing more.
    let writes = rig.write_requests();
    let run = rig.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(!run.stderr.contains("resuming"), "{}", run.stderr);
    assert_eq!(rig.write_requests(), writes);
}

#[test]
fn a_torn_last_journal_line_is_tolerated_and_its_row_is_done_again() {
    let rig = rig(20, 1, 0);
    let rows = grid(1, 20);
    rig.write("roster.csv", roster_csv(&rows));
    let run = rig.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);

    // Cut the last record in the middle, as a crash during its write would (so the run has no
    // end marker either).
    let path = rig.journal_path();
    let text: String = fs::read_to_string(&path)
        .expect("journal")
        .lines()
        .filter(|l| !l.starts_with("{\"end\":") && !l.starts_with("{\"finished\":"))
        .map(|l| format!("{l}\n"))
        .collect();
    let last_start = text.trim_end().rfind('\n').expect("records") + 1;
    let last: serde_json::Value = serde_json::from_str(text[last_start..].trim()).expect("record");
    let torn_key = last["key"].as_str().expect("key").to_owned();
    let cut = last_start + (text.len() - last_start) / 2;
    fs::write(&path, &text[..cut]).expect("tear the journal");

    let requests = rig.sim.request_log().len();
    let run = rig.apply("roster.csv", &["--json"]);
    run.assert_no_panic();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.starts_with("resuming: 19 of 20 rows already done"),
        "{}",
        run.stderr
    );
    let redone: Vec<_> = run
        .json_lines()
        .into_iter()
        .filter(|e| e["event"] == "row_finished")
        .collect();
    assert_eq!(redone.len(), 1, "only the torn row is done again");
    assert_eq!(redone[0]["row"]["key"], torn_key.as_str());
    assert!(
        rig.sim.request_log().len() > requests,
        "the torn row was checked again"
    );

    // The torn bytes are gone: every line parses, and the row is recorded once, done.
    let records = rig.journal();
    assert_eq!(records.len(), 20);
    let by_key = outcomes_by_key(&records);
    assert_eq!(by_key.len(), 20);
    assert_eq!(by_key[&torn_key].len(), 1);
    assert_eq!(rig.state(), merged(&Default::default(), &rows));
}

#[test]
fn a_journal_corrupted_in_the_middle_is_a_located_error_and_nothing_is_sent() {
    let rig = rig(10, 1, 0);
    let rows = grid(1, 10);
    rig.write("roster.csv", roster_csv(&rows));
    // Half the rows done, so a resume would have work to do.
    rig.write("half.csv", roster_csv(&rows[..5]));
    fs::create_dir_all(rig.path("state")).expect("state dir");
    let run = rig.apply("half.csv", &["--state-dir", "state"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let path = rig.path("state/journal-sim.jsonl");
    let text = fs::read_to_string(&path).expect("journal");
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        13,
        "header, five before-states, five records, the process's totals, end: {text}"
    );

    for (what, bad) in [
        ("garbage", "}{ not json"),
        ("a record cut short", "{\"key\":\"abc\",\"line\":"),
        (
            "an unknown outcome",
            "{\"key\":\"abc\",\"line\":2,\"outcome\":\"maybe\",\"attempts\":1}",
        ),
    ] {
        let original = lines[2];
        lines[2] = bad;
        let mut file = fs::File::create(&path).expect("rewrite journal");
        for line in &lines {
            writeln!(file, "{line}").expect("write");
        }
        drop(file);
        lines[2] = original;

        let requests = rig.sim.request_log().len();
        let run = rig.apply("roster.csv", &["--state-dir", "state"]);
        run.assert_no_panic();
        assert_eq!(run.code, Some(2), "{what}: {}", run.stderr);
        assert!(
            run.stderr.contains("journal-sim.jsonl") && run.stderr.contains("line 3"),
            "{what}: the error names the file and the line: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("--fresh"),
            "{what}: it says how to start over: {}",
            run.stderr
        );
        assert_eq!(rig.sim.request_log().len(), requests, "{what}: nothing is sent");
    }

    // A damaged header is refused the same way.
    let body: String = lines[1..].iter().map(|l| format!("{l}\n")).collect();
    fs::write(&path, format!("not a header\n{body}")).expect("rewrite journal");
    let requests = rig.sim.request_log().len();
    let run = rig.apply("roster.csv", &["--state-dir", "state"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("journal-sim.jsonl"), "{}", run.stderr);
    assert_eq!(rig.sim.request_log().len(), requests);
}
