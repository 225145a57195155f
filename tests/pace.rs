//! Writes that burst within the tenant's window: against a simulator that evaluates its limit over
//! a window, as Qlik documents, a roster under the budget goes out at once, a larger one keeps
//! every window within the budget, and a tenant stricter than its documentation costs one 429
//! episode, after which the run paces steadily and ends correctly.
//!
//! Windows and limits are scaled down (seconds, not minutes) so that each test takes seconds.

use std::time::Duration;

use roster_e2e::{Limits, RequestRecord, SimConfig, World, tenant, write_requests};

/// `n` creates over `spaces` spaces, each (space, user) once, as a roster.
fn roster(n: usize, spaces: usize) -> String {
    let mut text = String::from("space,type,assignee,roles\n");
    for i in 0..n {
        text.push_str(&format!(
            "Space {},user,user{}@example.com,consumer\n",
            i % spaces,
            i / spaces
        ));
    }
    text
}

/// A simulator whose Tier 2 allows `per_min` over `window`, with no read limit, and a client
/// with the same write limit bursting within `client_window_secs`.
fn world(n: usize, spaces: usize, per_min: u32, window: Duration, client_window_secs: u64) -> World {
    let mut config = SimConfig::new(tenant(n.div_ceil(spaces), spaces, 0));
    config.tier1_per_min = None;
    config.tier2_per_min = Some(per_min);
    config.window = Some(window);
    let mut world = World::with_config(
        config,
        Limits {
            tier1: None,
            tier2: Some(per_min),
        },
    );
    world.set_burst(client_window_secs);
    world.write("roster.csv", &roster(n, spaces));
    world
}

fn finished(run: &roster_e2e::Run) -> serde_json::Value {
    run.json_lines()
        .into_iter()
        .find(|e| e["event"] == "finished")
        .unwrap_or_else(|| panic!("no finished event: {}", run.stderr))
}

/// The most accepted writes whose arrival falls within any span of `window`.
fn most_in_any_window(requests: &[RequestRecord], window: Duration) -> usize {
    let times: Vec<Duration> = write_requests(requests)
        .into_iter()
        .filter(|r| r.status != 429)
        .map(|r| r.at)
        .collect();
    (0..times.len())
        .map(|i| times[i..].iter().take_while(|&&t| t < times[i] + window).count())
        .max()
        .unwrap_or(0)
}

/// Runs of 429s on writes not separated by an accepted write.
fn episodes_of_429(requests: &[RequestRecord]) -> usize {
    let mut episodes = 0;
    let mut in_episode = false;
    for r in write_requests(requests) {
        match (r.status == 429, in_episode) {
            (true, false) => {
                episodes += 1;
                in_episode = true;
            }
            (false, true) if (200..300).contains(&r.status) => in_episode = false,
            _ => {}
        }
    }
    episodes
}

#[test]
fn three_hundred_writes_within_the_budget_go_out_at_once_without_a_429() {
    // 600/min over 30 s: a budget of 300; paced steadily they would take 30 s.
    let world = world(300, 10, 600, Duration::from_secs(30), 30);
    let run = world.apply("roster.csv", &["--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let finished = finished(&run);
    assert_eq!(finished["totals"]["created"], 300);
    assert_eq!(finished["totals"]["throttled"], 0);
    let requests = world.requests();
    assert_eq!(requests.iter().filter(|r| r.status == 429).count(), 0);
    let elapsed = Duration::from_millis(finished["elapsed_ms"].as_u64().unwrap_or(u64::MAX));
    let steady = Duration::from_secs(30);
    assert!(
        elapsed < steady / 10,
        "{elapsed:?} is not a small fraction of the steady {steady:?}"
    );
    let stats = world.sim.stats();
    assert_eq!(stats.by_tier["qlik-tier2"].max_in_window, Some(300));
    // The started event names the window the writes burst within.
    let started = run
        .json_lines()
        .into_iter()
        .find(|e| e["event"] == "started")
        .expect("started event");
    assert_eq!(started["write_budget"], 300);
    assert_eq!(started["write_window_secs"], 30);
}

#[test]
fn twelve_hundred_writes_keep_every_window_within_the_budget_without_a_429() {
    // 12,000/min over 1 s: a budget of 200, so 1,200 writes are six budgets, five windows apart.
    let window = Duration::from_secs(1);
    let world = world(1200, 40, 12_000, window, 1);
    let run = world.apply("roster.csv", &["--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let finished = finished(&run);
    assert_eq!(finished["totals"]["created"], 1200);
    assert_eq!(finished["totals"]["throttled"], 0);
    let requests = world.requests();
    assert_eq!(requests.iter().filter(|r| r.status == 429).count(), 0);
    let most = most_in_any_window(&requests, window);
    assert!(most <= 200, "{most} writes arrived within one window");
    assert_eq!(most, 200, "the budget was used");
    let stats = world.sim.stats();
    assert_eq!(stats.by_tier["qlik-tier2"].max_in_window, Some(200));
    let elapsed = Duration::from_millis(finished["elapsed_ms"].as_u64().unwrap_or(0));
    assert!(
        elapsed >= window * 5,
        "{elapsed:?}: six budgets need five windows"
    );
}

#[test]
fn a_tenant_stricter_than_its_window_costs_one_429_episode_then_writes_are_paced() {
    // The simulator allows 6,000/min over 1 s (100 at once); the client assumes 4 s (400).
    let world = world(600, 20, 6000, Duration::from_secs(1), 4);
    let before = world.state();
    assert!(before.is_empty());
    let run = world.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let requests = world.requests();
    assert!(
        requests.iter().any(|r| r.status == 429),
        "the simulator refused the burst"
    );
    assert_eq!(episodes_of_429(&requests), 1, "one 429 episode");
    let said = "the tenant refused a burst: pacing writes at 6,000/min";
    assert_eq!(run.stderr.matches(said).count(), 1, "{}", run.stderr);
    // Every row landed once.
    let state = world.state();
    assert_eq!(state.len(), 600);
    let mut creates = std::collections::BTreeMap::new();
    for w in world.writes() {
        *creates.entry((w.space_id, w.assignee_id)).or_insert(0) += 1;
    }
    assert!(creates.values().all(|&n| n == 1), "each assignment created once");
    assert!(run.stderr.contains("done: 600 rows"), "{}", run.stderr);
}

#[test]
fn plan_estimates_the_write_time_with_the_same_model() {
    // Qlik's limits and window: 300 writes fit in one budget of 500.
    let mut config = SimConfig::new(tenant(30, 10, 0));
    config.tier1_per_min = None;
    config.window = Some(Duration::from_secs(300));
    let mut world = World::with_config(
        config,
        Limits {
            tier1: None,
            tier2: Some(100),
        },
    );
    world.write("roster.csv", &roster(300, 10));
    let steady = world.plan("roster.csv", &[]);
    assert!(
        steady
            .stdout
            .contains("300 write calls, at least 3m 00s at the write rate limit"),
        "{}",
        steady.stdout
    );
    world.set_burst(300);
    let burst = world.plan("roster.csv", &[]);
    let line = burst
        .stdout
        .lines()
        .find(|l| l.starts_with("300 write calls"))
        .unwrap_or_else(|| panic!("{}", burst.stdout));
    // Round trips on loopback take well under a second: seconds, not minutes.
    let estimate = line
        .strip_prefix("300 write calls, about ")
        .and_then(|rest| rest.strip_suffix(" at the write rate limit"))
        .unwrap_or_else(|| panic!("{line}"));
    assert!(
        estimate.ends_with('s') && estimate[..estimate.len() - 1].parse::<f64>().is_ok(),
        "{line}"
    );
    // The same roster with --pace steady on the command line: the flag wins over the config.
    let flagged = world.plan("roster.csv", &["--pace", "steady"]);
    assert!(flagged.stdout.contains("at least 3m 00s"), "{}", flagged.stdout);
}
