//! Rate limits, latency, injected faults, counters and shutdown.
#![expect(clippy::unwrap_used, reason = "test helpers panic on unexpected answers")]

mod common;

use std::time::{Duration, Instant};

use common::{qlik_error_code, start};
use reqwest::StatusCode;
use serde_json::json;
use sim::{FaultKind, Faults, generate};

/// Post an assignment of the n-th assignable user to the Sandbox space.
fn assignment_body(n: usize) -> (String, serde_json::Value) {
    let t = generate::small_tenant();
    let space = t.space_by_name("Sandbox").unwrap();
    let users: Vec<&sim::User> = t
        .users()
        .iter()
        .filter(|u| u.id != space.owner_id && !t.assignments_of(&space.id).any(|a| a.assignee_id == u.id))
        .collect();
    (
        format!("/api/v1/spaces/{}/assignments", space.id),
        json!({"type": "user", "assigneeId": users[n].id, "roles": ["consumer"]}),
    )
}

#[tokio::test]
async fn over_the_write_limit_blocks_writes_but_not_reads() {
    // 60/min with a 1 s burst window: two writes at once are fine, a third is not.
    let api = start(|c| {
        c.tier1_per_min = Some(1000);
        c.tier2_per_min = Some(60);
    })
    .await;
    for n in 0..2 {
        let (path, body) = assignment_body(n);
        let (status, _) = api.post(&path, body).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (path, body) = assignment_body(2);
    let (status, headers, answer) = api
        .send(api.http.post(api.url(&path)).bearer_auth(&api.token).json(&body))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(qlik_error_code(&answer, status), "HTTP-429");
    assert_eq!(answer["errors"][0]["title"], "API rate limit reached.");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "whole seconds, at least 1: {retry}");
    assert!(
        answer["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("{retry} seconds"))
    );

    // Blocked: every write of this user, even a delete, is refused; reads still work.
    let (status, _) = api.delete(&format!("{path}/whatever")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _) = api.get("/api/v1/spaces").await;
    assert_eq!(status, StatusCode::OK);
    // Another credential (another user) is not blocked.
    let other = api.sim.api_keys()[1].clone();
    let (status, _, _) = api
        .send(api.http.post(api.url(&path)).bearer_auth(&other).json(&body))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(api.sim.write_log().len(), 3, "refused writes are not applied");

    // Once retry-after has passed, writes go through again.
    let deadline = Instant::now() + Duration::from_secs(retry + 2);
    let (path3, body3) = assignment_body(3);
    loop {
        let (status, _) = api.post(&path3, body3.clone()).await;
        if status == StatusCode::CREATED {
            break;
        }
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(Instant::now() < deadline, "still blocked after retry-after");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stats = api.sim.stats();
    assert!(stats.rate_limited >= 2);
    assert_eq!(stats.by_tier["qlik-tier2"].rate_limited, stats.rate_limited);
    assert_eq!(stats.by_tier["qlik-tier1"].by_status[&200], 1);
}

#[tokio::test]
async fn over_the_read_limit_blocks_reads_but_not_writes() {
    let api = start(|c| {
        c.tier1_per_min = Some(60);
        c.tier2_per_min = Some(100);
    })
    .await;
    let statuses = futures_statuses(&api, "/api/v1/users", 4).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        2
    );
    let (status, _) = api.get("/api/v1/groups").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the whole tier is blocked");
    let (path, body) = assignment_body(0);
    let (status, _) = api.post(&path, body).await;
    assert_eq!(status, StatusCode::CREATED);
    let log = api.sim.request_log();
    assert!(log.iter().filter(|r| r.status == 429).all(|r| r.tier == Some(1)));
}

async fn futures_statuses(api: &common::Api, path: &str, n: usize) -> Vec<StatusCode> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(api.get(path).await.0);
    }
    out
}

#[tokio::test]
async fn pacing_at_the_limit_is_never_refused_but_a_burst_is() {
    // 3000/min = one request every 20 ms; 40 ms of slack allows a burst of 3.
    let api = start(|c| {
        c.tier1_per_min = Some(3000);
        c.burst_window = Duration::from_millis(40);
    })
    .await;
    let mut ticks = tokio::time::interval(Duration::from_millis(20));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for _ in 0..40 {
        ticks.tick().await;
        let (status, _) = api.get("/api/v1/spaces").await;
        assert_eq!(status, StatusCode::OK);
    }
    let burst = futures::future::join_all((0..10).map(|_| api.get("/api/v1/spaces"))).await;
    let refused = burst
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        refused >= 6,
        "a burst of 10 should mostly be refused, got {refused}"
    );
}

#[tokio::test]
async fn set_limits_changes_them_at_run_time() {
    let api = start(|c| c.tier2_per_min = Some(60)).await;
    api.sim.set_limits(None, None);
    for n in 0..6 {
        let (path, body) = assignment_body(n);
        assert_eq!(api.post(&path, body).await.0, StatusCode::CREATED);
    }
    api.sim.set_limits(Some(60), Some(60));
    let statuses = futures_statuses(&api, "/api/v1/spaces", 3).await;
    assert_eq!(statuses[2], StatusCode::TOO_MANY_REQUESTS);
}

async fn fault_sequence(seed: u64) -> Vec<(u16, Option<FaultKind>)> {
    let api = start(|c| {
        c.seed = seed;
        c.faults = Faults {
            p500: 0.2,
            p503: 0.2,
            ..Faults::none()
        };
    })
    .await;
    let mut seen = Vec::new();
    for _ in 0..40 {
        let (status, body) = api.get("/api/v1/spaces").await;
        if status.is_server_error() {
            qlik_error_code(&body, status);
        }
        seen.push(status.as_u16());
    }
    let log = api.sim.request_log();
    assert_eq!(log.iter().map(|r| r.status).collect::<Vec<_>>(), seen);
    log.iter().map(|r| (r.status, r.fault)).collect()
}

#[tokio::test]
async fn faults_are_reproducible_by_seed() {
    let a = fault_sequence(7).await;
    let b = fault_sequence(7).await;
    let c = fault_sequence(8).await;
    assert_eq!(a, b);
    assert_ne!(a, c);
    for (status, fault) in &a {
        match fault {
            None => assert_eq!(*status, 200),
            Some(FaultKind::Http500) => assert_eq!(*status, 500),
            Some(FaultKind::Http503) => assert_eq!(*status, 503),
            Some(other) => panic!("unexpected fault {other:?}"),
        }
    }
    let faults = a.iter().filter(|(s, _)| *s != 200).count();
    assert!(
        (4..=28).contains(&faults),
        "about 40% of 40 requests should fail, got {faults}"
    );
}

#[tokio::test]
async fn a_reset_is_a_transport_error_not_a_status() {
    let api = start(|c| {
        c.faults = Faults {
            reset: 1.0,
            ..Faults::none()
        }
    })
    .await;
    let err = api
        .http
        .get(api.url("/api/v1/spaces"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none(), "{err:?}");
    assert!(!err.is_timeout(), "{err:?}");
    let log = api.sim.request_log();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].status, log[0].fault), (0, Some(FaultKind::Reset)));
    api.sim.set_faults(Faults::none());
    let (status, _) = api.get("/api/v1/spaces").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(api.sim.stats().faults["reset"], 1);
}

#[tokio::test]
async fn a_fault_on_a_write_happens_before_it_unless_told_otherwise() {
    let api = start(|c| {
        c.faults = Faults {
            p500: 1.0,
            ..Faults::none()
        }
    })
    .await;
    let (path, body) = assignment_body(0);
    let (status, _) = api.post(&path, body.clone()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(api.sim.write_log().is_empty());

    // Applied, then the connection is dropped: the client never hears it worked.
    api.sim.set_faults(Faults {
        reset: 1.0,
        apply_before_fault: true,
        ..Faults::none()
    });
    let err = api
        .http
        .post(api.url(&path))
        .bearer_auth(&api.token)
        .json(&body)
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none());
    assert_eq!(api.sim.write_log().len(), 1);
    let assignee = body["assigneeId"].as_str().unwrap();
    assert!(api.sim.assignments().iter().any(|a| a.assignee_id == assignee));

    // Retrying the lost write now conflicts.
    api.sim.set_faults(Faults::none());
    let (status, answer) = api.post(&path, body).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(qlik_error_code(&answer, status), "AssignmentConflict");

    // A 503 after applying: reads are never "applied first", writes are.
    api.sim.set_faults(Faults {
        p503: 1.0,
        apply_before_fault: true,
        ..Faults::none()
    });
    let (path1, body1) = assignment_body(1);
    assert_eq!(api.post(&path1, body1).await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(api.sim.write_log().len(), 2);
}

#[tokio::test]
async fn a_slow_response_outlasts_a_client_timeout() {
    let api = start(|c| {
        c.faults = Faults {
            slow: 1.0,
            slow_delay: Duration::from_millis(300),
            ..Faults::none()
        };
    })
    .await;
    let err = api
        .http
        .get(api.url("/api/v1/spaces"))
        .bearer_auth(&api.token)
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    let started = Instant::now();
    let (status, _) = api.get("/api/v1/spaces").await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(
        api.sim
            .request_log()
            .iter()
            .all(|r| r.fault == Some(FaultKind::Slow))
    );
}

#[tokio::test]
async fn latency_delays_every_response() {
    let api = start(|c| {
        c.latency = Duration::from_millis(60);
        c.jitter = Duration::from_millis(20);
    })
    .await;
    let started = Instant::now();
    for _ in 0..3 {
        assert_eq!(api.get("/api/v1/spaces").await.0, StatusCode::OK);
    }
    assert!(started.elapsed() >= Duration::from_millis(180));
}

#[tokio::test]
async fn stats_are_served_without_auth_and_not_logged() {
    let api = start(|_| {}).await;
    api.get("/api/v1/spaces").await;
    api.get("/api/v1/nothing").await;
    let (path, body) = assignment_body(0);
    api.post(&path, body.clone()).await;
    let resp = api.http.get(api.url("/_sim/stats")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let stats: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(stats["requests"], 3);
    assert_eq!(stats["by_tier"]["qlik-tier1"]["requests"], 2);
    assert_eq!(stats["by_tier"]["qlik-tier1"]["by_status"]["404"], 1);
    assert_eq!(stats["by_tier"]["qlik-tier2"]["by_status"]["201"], 1);
    let space = path.split('/').nth(4).unwrap();
    assert_eq!(
        stats["writes_applied"][space][body["assigneeId"].as_str().unwrap()],
        1
    );
    assert_eq!(api.sim.request_log().len(), 3);
}

#[tokio::test]
async fn shutdown_closes_the_port() {
    let api = start(|_| {}).await;
    let url = api.url("/api/v1/spaces");
    assert_eq!(api.get("/api/v1/spaces").await.0, StatusCode::OK);
    api.sim.clone().shutdown().await;
    let fresh = reqwest::Client::new();
    assert!(fresh.get(&url).bearer_auth(&api.token).send().await.is_err());
}

#[test]
fn a_simulator_on_its_own_thread_serves_synchronous_callers() {
    let mut config = sim::SimConfig::new(generate::small_tenant());
    config.tier1_per_min = None;
    let handle = sim::Sim::start_blocking(config).unwrap();
    let url = format!("{}/api/v1/spaces", handle.base_url());
    let key = handle.api_keys()[0].clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let status =
        runtime.block_on(async { client.get(&url).bearer_auth(&key).send().await.unwrap().status() });
    assert_eq!(status, StatusCode::OK);
    assert_eq!(handle.request_log().len(), 1);

    // Dropping the last handle stops it.
    drop(handle);
    let deadline = Instant::now() + Duration::from_secs(5);
    runtime.block_on(async {
        loop {
            let fresh = reqwest::Client::new();
            if fresh.get(&url).bearer_auth(&key).send().await.is_err() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "still serving after the handle was dropped"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
}
