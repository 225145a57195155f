//! Ctrl-C during `roster apply`: nothing new is sent after it, the rows left wait for the
//! resume, and a second Ctrl-C stops at once with the journal whole.

use std::io::{BufRead, BufReader};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use roster_e2e::{Limits, SimConfig, World, interrupt, tenant, wait_child, wait_for, write_requests};

const ROWS: usize = 10;

/// A roster of `n` users to add to `Space 0`.
fn roster(n: usize) -> String {
    let mut text = String::from("space,type,assignee,roles\n");
    for i in 0..n {
        text.push_str(&format!("Space 0,user,user{i}@example.com,consumer\n"));
    }
    text
}

fn write_count(world: &World) -> usize {
    write_requests(&world.requests()).len()
}

#[test]
fn after_ctrl_c_rows_waiting_for_the_rate_limit_are_not_sent() {
    // Two writes a second: with 8 rows in flight, most of them wait for the limiter.
    let limits = Limits {
        tier1: None,
        tier2: Some(120),
    };
    let world = World::start(tenant(ROWS, 1, 0), limits);
    world.write("roster.csv", &roster(ROWS));

    let child = world.spawn_apply("roster.csv", &[]);
    wait_for("3 writes", Duration::from_secs(30), || write_count(&world) >= 3);
    interrupt(&child);
    let at_interrupt = write_count(&world);
    let run = wait_child(child, Duration::from_secs(30));
    assert_eq!(run.code, Some(130), "{}", run.stderr);
    assert!(run.stderr.contains("stopped early"), "{}", run.stderr);

    // At most the write on the wire when the signal came (and, on a loaded machine, the one
    // paced half a second later while the signal was on its way); before, every row waiting
    // for the limiter went out after Ctrl-C, two a second.
    let written = write_count(&world);
    assert!(
        written <= at_interrupt + 2,
        "{} writes after Ctrl-C",
        written - at_interrupt
    );
    assert!(written < ROWS, "rows are left for the resume");
    let recorded = world
        .journal()
        .iter()
        .filter(|r| r["outcome"] == "created")
        .count();
    assert_eq!(recorded, written, "every write sent is recorded, nothing more");

    // The rerun does the rest, and no row twice.
    let run = world.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with(&format!("resuming: {written} of {ROWS} rows already done")),
        "{}",
        run.stderr
    );
    // (The sim may refuse one write with a 429 when the rerun starts within its window.)
    assert_eq!(world.writes().len(), ROWS, "no row written twice");
    assert_eq!(world.state().len(), ROWS);
}

#[test]
fn a_second_ctrl_c_stops_at_once_and_the_journal_stays_whole() {
    let limits = Limits {
        tier1: None,
        tier2: Some(120),
    };
    let world = World::start(tenant(ROWS, 1, 0), limits);
    world.write("roster.csv", &roster(ROWS));

    let mut child = world.spawn_apply("roster.csv", &["--json"]);
    // Read the event stream as it comes, to send the second Ctrl-C once the first was seen.
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let stdout = child.stdout.take().expect("piped stdout");
    let reader = {
        let lines = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.lock().expect("lines").push(line);
            }
        })
    };
    let seen = |what: &str| lines.lock().expect("lines").iter().any(|l| l.contains(what));
    wait_for("2 writes", Duration::from_secs(30), || write_count(&world) >= 2);
    interrupt(&child);
    wait_for("the interrupted event", Duration::from_secs(10), || {
        seen("\"interrupted\"")
    });
    interrupt(&child);
    let run = wait_child(child, Duration::from_secs(10));
    let _ = reader.join();
    assert_eq!(run.code, Some(130), "{}", run.stderr);

    // Every record of the journal is whole, and the rerun finishes the job.
    let records = world.journal();
    assert!(records.len() < ROWS);
    let run = world.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(world.state().len(), ROWS);
}

#[test]
fn ctrl_c_while_the_last_writes_are_on_the_wire_is_no_early_stop() {
    // Every answer takes a second: the three writes are all on the wire at the Ctrl-C.
    let mut config = SimConfig::new(tenant(3, 1, 0));
    config.latency = Duration::from_millis(1000);
    config.tier1_per_min = None;
    config.tier2_per_min = None;
    let world = World::with_config(config, Limits::NONE);
    world.write("roster.csv", &roster(3));

    let child = world.spawn_apply("roster.csv", &[]);
    wait_for("3 writes sent", Duration::from_secs(30), || {
        write_count(&world) >= 3
    });
    interrupt(&child);
    let run = wait_child(child, Duration::from_secs(30));
    // They finish, and nothing is left to resume: not "stopped early: 3 of 3 rows done".
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!run.stderr.contains("stopped early"), "{}", run.stderr);
    assert!(run.stderr.contains("done: 3 rows"), "{}", run.stderr);
    assert_eq!(world.state().len(), 3);
}
