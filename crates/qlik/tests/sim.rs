//! The Qlik client against the simulator: every call, paging, token refresh, error
//! classification, throttling, retries, lost responses and redaction.

#![expect(
    clippy::unwrap_used,
    reason = "test setup fails loudly; helpers are outside #[test] functions"
)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use core_api::target::{AssigneeKind, SpaceInfo, Target, WriteOp, WriteOutcome};
use core_api::{Event, ThrottleSource, Tier, Timeouts};
use parking_lot::Mutex;
use qlik::models::CreateSpace;
use qlik::{Client, Config, Credentials, RateLimits, RetryPolicy};
use sim::{FaultKind, Faults, Sim, SimConfig, SimHandle, Tenant};

fn small_tenant() -> Tenant {
    Tenant::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/tenant-small.json")).unwrap()
}

/// A simulator without rate limits unless the test sets them.
async fn start(tenant: Tenant, tweak: impl FnOnce(&mut SimConfig)) -> SimHandle {
    let mut config = SimConfig::new(tenant);
    config.tier1_per_min = None;
    config.tier2_per_min = None;
    tweak(&mut config);
    Sim::start(config).await.unwrap()
}

fn config(sim: &SimHandle) -> Config {
    let mut config = Config::new(
        sim.base_url().parse().unwrap(),
        Credentials::api_key(sim.api_keys()[0].clone()),
    );
    config.retry = RetryPolicy::fast_for_tests();
    config.limits = RateLimits::unlimited();
    config
}

fn client(sim: &SimHandle) -> Client {
    Client::new(config(sim)).unwrap()
}

/// A user of the tenant who has no assignment in the space and does not own it.
fn free_users(sim: &SimHandle, space_id: &str, count: usize) -> Vec<String> {
    let tenant = sim.tenant();
    let owner = tenant
        .spaces
        .iter()
        .find(|s| s.id == space_id)
        .unwrap()
        .owner_id
        .clone();
    let taken: Vec<String> = sim
        .assignments()
        .into_iter()
        .filter(|a| a.space_id == space_id)
        .map(|a| a.assignee_id)
        .collect();
    let free: Vec<String> = tenant
        .users
        .iter()
        .map(|u| u.id.clone())
        .filter(|id| *id != owner && !taken.contains(id))
        .take(count)
        .collect();
    assert_eq!(free.len(), count, "the tenant has too few free users");
    free
}

fn create(user: &str, roles: &[&str]) -> WriteOp {
    WriteOp::Create {
        assignee_kind: AssigneeKind::User,
        assignee_id: user.to_owned(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    }
}

#[tokio::test]
async fn spaces_happy_paths() {
    let sim = start(small_tenant(), |_| {}).await;
    let client = client(&sim);
    let tenant = sim.tenant();

    let all = client.spaces().list_all().await.unwrap();
    assert_eq!(all.len(), tenant.spaces.len());

    // `name` is a contains-search on the server: "Finance" also finds "Finance (dev)".
    let finance = client.spaces().find_by_name("Finance").await.unwrap().unwrap();
    assert_eq!(finance.name, "Finance");
    assert_eq!(
        finance.id,
        tenant.spaces.iter().find(|s| s.name == "Finance").unwrap().id
    );
    assert!(!finance.meta.assignable_roles.is_empty());
    assert_eq!(client.spaces().find_by_name("finance").await.unwrap(), None);
    assert_eq!(client.spaces().find_by_name("No such space").await.unwrap(), None);

    let got = client.spaces().get(&finance.id).await.unwrap();
    assert_eq!(got, finance);
    let err = client.spaces().get("000000000000000000000000").await.unwrap_err();
    assert_eq!(
        (err.status(), err.kind_code(), err.attempts()),
        (Some(404), "not_found", 1)
    );
    assert_eq!(client.get_space("000000000000000000000000").await.unwrap(), None);

    let body = CreateSpace {
        name: "Roster Test".into(),
        space_type: "shared".into(),
        description: Some("made by a test".into()),
    };
    let created = client.spaces().create(&body).await.unwrap();
    assert_eq!(
        (created.name.as_str(), created.space_type.as_str()),
        ("Roster Test", "shared")
    );
    assert_eq!(
        client
            .find_space_by_name("Roster Test")
            .await
            .unwrap()
            .unwrap()
            .id,
        created.id
    );
    let err = client.spaces().create(&body).await.unwrap_err();
    assert_eq!((err.status(), err.kind_code()), (Some(409), "conflict"));
    let info = client.create_space("Roster Other", "data", None).await.unwrap();
    assert_eq!(info.space_type, "data");
    assert_eq!(client.list_spaces().await.unwrap().len(), tenant.spaces.len() + 2);
}

#[tokio::test]
async fn users_and_groups_happy_paths() {
    let sim = start(small_tenant(), |_| {}).await;
    let client = client(&sim);
    let tenant = sim.tenant();
    let with_email: Vec<_> = tenant.users.iter().filter(|u| u.email.is_some()).collect();
    let first = with_email[0];
    let second = with_email[1];
    let email = first.email.clone().unwrap();

    let found = client
        .users()
        .find_by_email(&email.to_uppercase())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, first.id);
    assert_eq!(
        client.users().find_by_email("nobody@example.com").await.unwrap(),
        None
    );
    // A quote or backslash in the value must not break the filter.
    assert_eq!(
        client
            .users()
            .find_by_email(r#"x"y\z@example.com"#)
            .await
            .unwrap(),
        None
    );

    let wanted = vec![
        email.clone(),
        second.email.clone().unwrap().to_uppercase(),
        "nobody@example.com".to_owned(),
        email.clone(),
    ];
    let mut ids: Vec<String> = client
        .find_users_by_email(&wanted)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    ids.sort();
    let mut expected = vec![first.id.clone(), second.id.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(client.user_lookup_requests(&wanted), 1);
    assert_eq!(client.list_users().await.unwrap().len(), tenant.users.len());

    let group = &tenant.groups[0];
    assert_eq!(
        client
            .groups()
            .find_by_name(&group.name)
            .await
            .unwrap()
            .unwrap()
            .id,
        group.id
    );
    assert_eq!(
        client
            .groups()
            .find_by_name(&group.name.to_lowercase())
            .await
            .unwrap(),
        None
    );
    let names: Vec<String> = tenant
        .groups
        .iter()
        .map(|g| g.name.clone())
        .chain(["No such group".to_owned()])
        .collect();
    assert_eq!(
        client.find_groups_by_name(&names).await.unwrap().len(),
        tenant.groups.len()
    );
    assert_eq!(client.list_groups().await.unwrap().len(), tenant.groups.len());

    let created = client.create_group("Roster Group").await.unwrap();
    assert_eq!(created.name, "Roster Group");
    assert_eq!(
        client
            .groups()
            .find_by_name("Roster Group")
            .await
            .unwrap()
            .unwrap()
            .id,
        created.id
    );
    let err = client.groups().create("Roster Group").await.unwrap_err();
    assert_eq!(err.kind_code(), "conflict");
}

#[tokio::test]
async fn assignments_happy_paths_and_classification() {
    let sim = start(small_tenant(), |_| {}).await;
    let client = client(&sim);
    let tenant = sim.tenant();
    let space: SpaceInfo = client.find_space_by_name("Finance (dev)").await.unwrap().unwrap();
    let existing = client.list_assignments(&space).await.unwrap();
    let in_sim = sim
        .assignments()
        .into_iter()
        .filter(|a| a.space_id == space.id)
        .count();
    assert_eq!(existing.len(), in_sim);
    assert!(in_sim > 0);

    let user = free_users(&sim, &space.id, 1).remove(0);
    let outcome = client
        .write(&space, &[create(&user, &["consumer"])])
        .await
        .remove(0)
        .unwrap();
    let WriteOutcome::Created(Some(created)) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        (created.assignee_id.as_str(), created.roles.as_slice()),
        (user.as_str(), ["consumer".to_owned()].as_slice())
    );

    // A second create is a 409 on the wire and "already exists" to the engine.
    let outcome = client
        .write(&space, &[create(&user, &["producer"])])
        .await
        .remove(0)
        .unwrap();
    assert_eq!(outcome, WriteOutcome::AlreadyExists(created.clone()));
    let found = client
        .assignments(&space.id)
        .find_by_assignee(&user)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, created.id);

    let update = WriteOp::Update {
        assignment_id: created.id.clone(),
        assignee_kind: AssigneeKind::User,
        assignee_id: user.clone(),
        roles: vec!["consumer".into(), "producer".into()],
    };
    let WriteOutcome::Updated(Some(updated)) = client
        .write(&space, std::slice::from_ref(&update))
        .await
        .remove(0)
        .unwrap()
    else {
        panic!("not updated")
    };
    assert_eq!(updated.roles, ["consumer", "producer"]);

    let delete = WriteOp::Delete {
        assignment_id: created.id.clone(),
        assignee_kind: AssigneeKind::User,
        assignee_id: user.clone(),
    };
    assert_eq!(
        client
            .write(&space, std::slice::from_ref(&delete))
            .await
            .remove(0)
            .unwrap(),
        WriteOutcome::Deleted
    );
    let err = client.write(&space, &[delete]).await.remove(0).unwrap_err();
    assert_eq!(
        (err.status(), err.kind_code(), err.attempts()),
        (Some(404), "not_found", 1)
    );
    let err = client.write(&space, &[update]).await.remove(0).unwrap_err();
    assert_eq!(err.kind_code(), "not_found");

    // The API refuses an unknown role: a 400, never retried.
    let err = client
        .write(&space, &[create(&user, &["no-such-role"])])
        .await
        .remove(0)
        .unwrap_err();
    assert_eq!((err.kind_code(), err.attempts()), ("invalid", 1));
    // Each write counts once: create, update, delete.
    let writes = sim.write_log();
    assert_eq!(writes.len(), 3, "{writes:?}");
    assert_eq!(tenant.spaces.len(), client.list_spaces().await.unwrap().len());
}

#[tokio::test]
async fn pages_through_large_directories() {
    let sim = start(sim::generate::large_tenant(1), |_| {}).await;
    let client = client(&sim);
    let tenant = sim.tenant();
    let users = client.users().list_all().await.unwrap();
    assert_eq!(users.len(), tenant.users.len());
    let mut ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), tenant.users.len(), "a page was read twice");
    assert_eq!(
        client.groups().list_all().await.unwrap().len(),
        tenant.groups.len()
    );
    assert_eq!(
        client.spaces().list_all().await.unwrap().len(),
        tenant.spaces.len()
    );

    let log = sim.request_log();
    let user_pages = log.iter().filter(|r| r.path == "/api/v1/users").count();
    assert_eq!(user_pages, tenant.users.len().div_ceil(100));
    assert!(
        log.iter().filter(|r| r.path == "/api/v1/users").all(|r| r
            .query
            .as_deref()
            .unwrap_or("")
            .contains("limit=100"))
    );

    // Many emails at once: `or` chunks, far fewer requests than emails.
    let emails: Vec<String> = tenant
        .users
        .iter()
        .filter_map(|u| u.email.clone())
        .take(400)
        .collect();
    let before = sim.request_log().len();
    let found = client.find_users_by_email(&emails).await.unwrap();
    assert_eq!(found.len(), emails.len());
    let requests = sim.request_log().len() - before;
    assert_eq!(requests, client.user_lookup_requests(&emails));
    assert!(requests <= emails.len() / 20, "{requests}");
}

#[tokio::test]
async fn oauth_token_refreshes_after_a_401() {
    let sim = start(small_tenant(), |c| c.token_ttl = Duration::from_millis(300)).await;
    let (id, secret) = sim.oauth_clients().remove(0);
    let refreshed = Arc::new(AtomicU32::new(0));
    let counter = refreshed.clone();
    let mut config = config(&sim);
    config.credentials = Credentials::oauth(id, secret.clone());
    config.limits = RateLimits::per_minute(6000, 6000);
    config.observer = Some(Arc::new(move |e: &Event<'_>| {
        if matches!(e, Event::TokenRefreshed { .. }) {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }));
    let client = Client::new(config).unwrap();
    // Read until the token has expired on the server: every call must still succeed.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        client.spaces().list_all().await.unwrap();
        if sim.request_log().iter().any(|r| r.status == 401) {
            break;
        }
        assert!(Instant::now() < deadline, "the token never expired");
    }
    client.spaces().list_all().await.unwrap();
    let log = sim.request_log();
    let expired = log.iter().position(|r| r.status == 401).unwrap();
    assert_eq!(log[expired + 1].path, "/oauth/token");
    assert_eq!(log[expired + 2].status, 200);
    assert_eq!(log.iter().filter(|r| r.path == "/oauth/token").count(), 2);
    assert_eq!(refreshed.load(Ordering::SeqCst), 2);
    let printed = format!("{client:?}");
    assert!(!printed.contains(&secret));
}

#[tokio::test]
async fn oauth_token_is_refreshed_before_it_expires() {
    // A 2-second token: the client renews it ahead of expiry, so no request meets a 401.
    let sim = start(small_tenant(), |c| c.token_ttl = Duration::from_secs(2)).await;
    let (id, secret) = sim.oauth_clients().remove(0);
    let mut config = config(&sim);
    config.credentials = Credentials::oauth(id, secret);
    config.limits = RateLimits::per_minute(3000, 3000);
    let client = Client::new(config).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim
        .request_log()
        .iter()
        .filter(|r| r.path == "/oauth/token")
        .count()
        < 2
    {
        client.spaces().list_all().await.unwrap();
        assert!(Instant::now() < deadline, "the token was never renewed");
    }
    client.spaces().list_all().await.unwrap();
    let log = sim.request_log();
    assert!(
        log.iter().all(|r| r.status != 401),
        "a request met an expired token"
    );
}

#[tokio::test]
async fn secrets_stay_out_of_debug_and_errors() {
    let sim = start(small_tenant(), |_| {}).await;
    let key = sim.api_keys()[0].clone();
    let config = config(&sim);
    let printed = format!("{config:?} {:?}", Client::new(config.clone()).unwrap());
    assert!(!printed.contains(&key), "{printed}");

    let mut bad = config.clone();
    bad.credentials = Credentials::api_key("sim-wrong-key-1234567890");
    let err = Client::new(bad).unwrap().spaces().list_all().await.unwrap_err();
    assert_eq!(
        (err.status(), err.kind_code(), err.attempts()),
        (Some(401), "auth", 1)
    );
    let text = format!("{err} {err:?}");
    assert!(!text.contains("sim-wrong-key-1234567890"), "{text}");

    let (id, secret) = sim.oauth_clients().remove(0);
    let mut bad = config;
    bad.credentials = Credentials::oauth(id, format!("{secret}-wrong"));
    let err = Client::new(bad).unwrap().spaces().list_all().await.unwrap_err();
    assert_eq!(err.kind_code(), "auth");
    let text = format!("{err} {err:?}");
    assert!(!text.contains(&secret), "{text}");

    let err = Client::new(Config::new(
        "http://qlik.example.com".parse().unwrap(),
        Credentials::api_key(key),
    ))
    .unwrap_err();
    assert_eq!(err.kind_code(), "config");
}

/// Injects `faults` until the client schedules its first retry, then turns them off; the call
/// must succeed on its second attempt.
async fn survives(
    faults: Faults,
    timeout: Option<Duration>,
) -> (SimHandle, Result<WriteOutcome, core_api::Error>) {
    let sim = Arc::new(start(small_tenant(), |_| {}).await);
    let retries = Arc::new(AtomicU32::new(0));
    let mut config = config(&sim);
    if let Some(request) = timeout {
        config.timeouts = Timeouts {
            connect: Duration::from_secs(2),
            request,
        };
    }
    let (hook_sim, counter) = (sim.clone(), retries.clone());
    config.observer = Some(Arc::new(move |e: &Event<'_>| {
        if let Event::RetryScheduled { .. } = e {
            counter.fetch_add(1, Ordering::SeqCst);
            hook_sim.set_faults(Faults::none());
        }
    }));
    let client = Client::new(config).unwrap();
    let space = client.find_space_by_name("Finance (dev)").await.unwrap().unwrap();
    let user = free_users(&sim, &space.id, 1).remove(0);
    sim.set_faults(faults);
    let outcome = client
        .write(&space, &[create(&user, &["consumer"])])
        .await
        .remove(0);
    assert_eq!(retries.load(Ordering::SeqCst), 1);
    drop(client);
    let sim = Arc::try_unwrap(sim).unwrap_or_else(|_| panic!("simulator still shared"));
    (sim, outcome)
}

fn faulted_posts(sim: &SimHandle) -> Vec<Option<FaultKind>> {
    sim.request_log()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/assignments"))
        .map(|r| r.fault)
        .collect()
}

#[tokio::test]
async fn retries_500_503_resets_and_timeouts() {
    let cases = [
        (
            Faults {
                p500: 1.0,
                ..Faults::none()
            },
            FaultKind::Http500,
            None,
        ),
        (
            Faults {
                p503: 1.0,
                ..Faults::none()
            },
            FaultKind::Http503,
            None,
        ),
        (
            Faults {
                reset: 1.0,
                ..Faults::none()
            },
            FaultKind::Reset,
            None,
        ),
        (
            Faults {
                slow: 1.0,
                slow_delay: Duration::from_secs(3),
                ..Faults::none()
            },
            FaultKind::Slow,
            Some(Duration::from_millis(400)),
        ),
    ];
    for (faults, kind, timeout) in cases {
        let (sim, outcome) = survives(faults, timeout).await;
        assert!(
            matches!(outcome, Ok(WriteOutcome::Created(Some(_)))),
            "{kind:?}: {outcome:?}"
        );
        assert_eq!(faulted_posts(&sim), vec![Some(kind), None], "{kind:?}");
        assert_eq!(sim.write_log().len(), 1, "{kind:?}");
    }
}

#[tokio::test]
async fn a_lost_create_response_then_409_is_already_exists() {
    for (faults, kind) in [
        (
            Faults {
                p500: 1.0,
                apply_before_fault: true,
                ..Faults::none()
            },
            FaultKind::Http500,
        ),
        (
            Faults {
                reset: 1.0,
                apply_before_fault: true,
                ..Faults::none()
            },
            FaultKind::Reset,
        ),
    ] {
        let (sim, outcome) = survives(faults, None).await;
        let Ok(WriteOutcome::AlreadyExists(existing)) = outcome else {
            panic!("{kind:?}: {outcome:?}")
        };
        assert_eq!(existing.roles, ["consumer"]);
        assert_eq!(faulted_posts(&sim), vec![Some(kind), None], "{kind:?}");
        let writes = sim.write_log();
        assert_eq!(writes.len(), 1, "{kind:?}: {writes:?}");
        assert_eq!(writes[0].assignment_id, existing.id);
        let post = sim
            .request_log()
            .into_iter()
            .filter(|r| r.method == "POST")
            .nth(1)
            .unwrap();
        assert_eq!(post.status, 409);
    }
}

#[tokio::test]
async fn a_429_pauses_every_request_of_the_tier() {
    // 60 writes a minute with a burst of two: four simultaneous creates provoke a 429.
    let sim = start(small_tenant(), |c| c.tier2_per_min = Some(60)).await;
    let throttled = Arc::new(Mutex::new(Vec::new()));
    let mut config = config(&sim);
    let sink = throttled.clone();
    config.observer = Some(Arc::new(move |e: &Event<'_>| {
        if let Event::Throttled {
            tier,
            wait,
            source: ThrottleSource::Received429,
            ..
        } = e
        {
            sink.lock().push((*tier, *wait));
        }
    }));
    let client = Client::new(config).unwrap();
    let space = client.find_space_by_name("Finance (dev)").await.unwrap().unwrap();
    let users = free_users(&sim, &space.id, 4);
    let mut writers = Vec::new();
    for user in users {
        let (client, space) = (client.clone(), space.clone());
        writers.push(tokio::spawn(async move {
            client
                .write(&space, &[create(&user, &["consumer"])])
                .await
                .remove(0)
        }));
    }
    // Reads go on while writes are paused.
    let reader = {
        let client = client.clone();
        let writers_done = Arc::new(AtomicU32::new(0));
        let done = writers_done.clone();
        (
            tokio::spawn(async move {
                let mut reads = 0;
                while done.load(Ordering::SeqCst) == 0 {
                    client.spaces().get(&space.id).await.unwrap();
                    reads += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                reads
            }),
            writers_done,
        )
    };
    for writer in writers {
        assert!(matches!(writer.await.unwrap(), Ok(WriteOutcome::Created(_))));
    }
    reader.1.store(1, Ordering::SeqCst);
    assert!(reader.0.await.unwrap() > 0);
    assert!(
        throttled
            .lock()
            .iter()
            .all(|(tier, wait)| *tier == Tier::Tier2 && *wait >= Duration::from_millis(990))
    );

    let log = sim.request_log();
    let tier2: Vec<_> = log.iter().filter(|r| r.tier == Some(2)).collect();
    let blocks: Vec<Duration> = tier2.iter().filter(|r| r.status == 429).map(|r| r.at).collect();
    assert!(!blocks.is_empty(), "no 429 was provoked");
    // Requests already on the wire when the 429 was sent may land just after it; nothing else
    // of tier 2 may arrive before the pause (retry-after is at least 1 s) is over.
    let grace = Duration::from_millis(100);
    let first = blocks[0];
    let during: Vec<_> = tier2
        .iter()
        .filter(|r| r.at > first + grace && r.at < first + Duration::from_secs(1))
        .collect();
    assert!(during.is_empty(), "tier-2 requests during the pause: {during:?}");
    let reads_during = log
        .iter()
        .filter(|r| r.tier == Some(1) && r.at > first + grace && r.at < first + Duration::from_secs(1))
        .count();
    assert!(reads_during > 0, "tier 1 was paused too");
    assert_eq!(sim.write_log().len(), 4);
}

#[tokio::test]
async fn creates_at_the_write_limit_without_429s() {
    // The real limits scaled: Tier 2 at 600/min makes 300 creates take 30 s at best.
    let sim = start(sim::generate::large_tenant(1), |c| {
        c.tier1_per_min = Some(10_000);
        c.tier2_per_min = Some(600);
    })
    .await;
    let mut config = config(&sim);
    config.limits = RateLimits::per_minute(10_000, 600);
    let client = Client::new(config).unwrap();
    let space = client
        .list_spaces()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.assignable_roles.contains(&"consumer".to_owned()))
        .unwrap();
    let users = free_users(&sim, &space.id, 300);
    let start = Instant::now();
    let mut writers = Vec::new();
    for user in users {
        let (client, space) = (client.clone(), space.clone());
        writers.push(tokio::spawn(async move {
            client
                .write(&space, &[create(&user, &["consumer"])])
                .await
                .remove(0)
        }));
    }
    for writer in writers {
        assert!(matches!(writer.await.unwrap(), Ok(WriteOutcome::Created(_))));
    }
    let elapsed = start.elapsed();
    let log = sim.request_log();
    assert_eq!(log.iter().filter(|r| r.status == 429).count(), 0);
    assert_eq!(log.iter().filter(|r| r.tier == Some(2)).count(), 300);
    let ideal = Duration::from_secs(30);
    eprintln!("300 creates at 600/min took {elapsed:?}");
    assert!(elapsed <= ideal.mul_f64(1.05), "{elapsed:?}");
}

#[tokio::test]
async fn a_lost_delete_response_then_404_is_deleted() {
    let sim = Arc::new(start(small_tenant(), |_| {}).await);
    let mut config = config(&sim);
    let hook_sim = sim.clone();
    config.observer = Some(Arc::new(move |e: &Event<'_>| {
        if let Event::RetryScheduled { .. } = e {
            hook_sim.set_faults(Faults::none());
        }
    }));
    let client = Client::new(config).unwrap();
    let space = client.find_space_by_name("Finance (dev)").await.unwrap().unwrap();
    let existing = client.list_assignments(&space).await.unwrap().remove(0);
    sim.set_faults(Faults {
        p503: 1.0,
        apply_before_fault: true,
        ..Faults::none()
    });
    let delete = WriteOp::Delete {
        assignment_id: existing.id.clone(),
        assignee_kind: existing.assignee_kind,
        assignee_id: existing.assignee_id.clone(),
    };
    assert_eq!(
        client.write(&space, &[delete]).await.remove(0).unwrap(),
        WriteOutcome::Deleted
    );
    let deletes: Vec<u16> = sim
        .request_log()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.status)
        .collect();
    assert_eq!(deletes, [503, 404]);
    assert!(sim.assignments().iter().all(|a| a.id != existing.id));
}
