//! 10,000 rows against a simulator with every fault on at once: 500s, 503s, connection resets,
//! responses slower than the client's timeout, writes applied before their response is lost, and
//! a server limit below the client's rate, so real 429s arrive. Nothing may be lost, doubled or
//! miscounted.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions too: any failure is a failed test"
)]

use roster_e2e::rig as hardening;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::{Duration, Instant};

use hardening::{Rig, Row, assign, merged, roster_csv, tenant};
use sim::{AssigneeType, FaultKind, Faults, SimConfig};

const SPACES: usize = 50;
const USERS: usize = 190;
const GROUPS: usize = 10;

/// 50 spaces x (190 users + 10 groups) = 10,000 rows; the first 200 pairs are already assigned
/// (100 with the same role: unchanged, 100 with another: updated).
fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for space in 0..SPACES {
        for who in 0..USERS {
            rows.push(Row {
                space,
                user: true,
                who,
                roles: vec!["consumer"],
            });
        }
        for who in 0..GROUPS {
            rows.push(Row {
                space,
                user: false,
                who,
                roles: vec!["consumer", "facilitator"],
            });
        }
    }
    rows
}

#[test]
fn ten_thousand_rows_with_every_fault_at_once_end_exactly_at_the_roster() {
    // Built before the clock starts.
    hardening::roster_bin();
    let mut t = tenant(USERS, SPACES, GROUPS);
    for who in 0..100 {
        assign(
            &mut t,
            "s0",
            AssigneeType::User,
            &format!("u{who}"),
            &["consumer"],
        );
        assign(
            &mut t,
            "s1",
            AssigneeType::User,
            &format!("u{who}"),
            &["producer"],
        );
    }
    let mut config = SimConfig::new(t);
    config.seed = 9;
    // The server allows less than the client sends: 429s are real, not injected.
    config.tier1_per_min = Some(50_000);
    config.tier2_per_min = Some(40_000);
    config.faults = Faults {
        p500: 0.05,
        p503: 0.02,
        reset: 0.01,
        slow: 0.01,
        // Just above the client's timeout of 1 s: the client gives up and retries while the
        // server may still apply the write.
        slow_delay: Duration::from_millis(1_300),
        apply_before_fault: true,
    };
    let rig = Rig::start(
        config,
        &[
            "tier1_per_min = 60000",
            "tier2_per_min = 60000",
            "timeout_secs = 1",
            "concurrency = 32",
        ],
    );
    let rows = rows();
    assert_eq!(rows.len(), 10_000);
    rig.write("roster.csv", roster_csv(&rows));
    let before = rig.state();

    let started = Instant::now();
    let run = rig.apply("roster.csv", &["--json"]);
    let elapsed = started.elapsed();
    run.assert_no_panic();
    assert_eq!(run.code, Some(0), "every row should end ok:\n{}", run.stderr);

    // Every fault happened, and the server's own limit answered with 429s.
    let requests = rig.sim.request_log();
    let faults: HashSet<FaultKind> = requests.iter().filter_map(|r| r.fault).collect();
    assert_eq!(faults.len(), 4, "faults seen: {faults:?}");
    let throttled = requests.iter().filter(|r| r.status == 429).count();
    assert!(throttled > 0, "no 429 arrived");

    // The tenant holds exactly the roster merged into what was there.
    assert_eq!(rig.state(), merged(&before, &rows));

    // Every new assignment was created once, even where a lost response made the client send it
    // again; the ones that were there were never created.
    let creates = rig.creates();
    let doubled: Vec<_> = creates.iter().filter(|(_, n)| **n != 1).collect();
    assert!(doubled.is_empty(), "created more than once: {doubled:?}");
    assert_eq!(creates.len(), rows.len() - 200);

    // Exactly one journal record per row, none failed.
    let records = rig.journal();
    assert_eq!(records.len(), rows.len(), "one journal record per row");
    let keys: BTreeSet<&str> = records.iter().filter_map(|r| r["key"].as_str()).collect();
    assert_eq!(keys.len(), rows.len(), "one record for each row's key");
    let mut outcomes: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &records {
        *outcomes.entry(r["outcome"].as_str().unwrap_or("?")).or_default() += 1;
    }
    assert_eq!(outcomes.get("failed"), None, "{outcomes:?}");

    // The summary's counts add up to the rows, and agree with the journal.
    let events = run.json_lines();
    let finished = events.last().expect("events");
    assert_eq!(finished["event"], "finished");
    let totals = &finished["totals"];
    let count = |name: &str| totals[name].as_u64().unwrap_or(0);
    assert_eq!(count("total"), 10_000);
    assert_eq!(count("done"), 10_000);
    let sum: u64 = ["resumed", "created", "updated", "unchanged", "deleted", "failed"]
        .iter()
        .map(|n| count(n))
        .sum();
    assert_eq!(sum, 10_000, "totals: {totals}");
    assert_eq!(count("created"), outcomes.get("created").copied().unwrap_or(0));
    assert_eq!(count("updated"), outcomes.get("updated").copied().unwrap_or(0));
    assert_eq!(
        count("unchanged"),
        outcomes.get("unchanged").copied().unwrap_or(0)
    );
    assert_eq!(count("updated"), 100);
    // A create whose answer was lost and whose resend met a 409 was still created by this run.
    assert_eq!(count("created"), 9_800, "totals: {totals}");
    assert_eq!(count("unchanged"), 100, "totals: {totals}");
    assert!(count("throttled") > 0, "the summary counts the 429s: {totals}");
    let row_finished = events.iter().filter(|e| e["event"] == "row_finished").count();
    assert_eq!(row_finished, 10_000);

    assert!(
        elapsed < Duration::from_secs(90),
        "the run took {elapsed:?}; the test must stay fast"
    );
}
