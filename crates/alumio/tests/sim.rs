//! The Alumio client against the simulator, under every answer the simulator can give to the
//! API's unknowns: batch limits, all-or-nothing or partial batches, violations with or without
//! entry indexes, existing members, unknown emails, a missing member list, faults and 429s.

#![expect(
    clippy::unwrap_used,
    reason = "test setup fails loudly; helpers are outside #[test] functions"
)]

use alumio::{Client, Config, Credentials, RateLimits, RetryPolicy};
use core_api::target::{AssigneeKind, SpaceInfo, Target, WriteOp, WriteOutcome};
use sim::{
    AlumioApiKey, AlumioBatchMode, AlumioConfig, AlumioExistingMember, AlumioMember, AlumioSpace,
    AlumioTenant, AlumioUnknownEmail, AlumioUser, Faults, Sim, SimConfig, SimHandle, Tenant,
};

const KEY: &str = "alumio-test-key";

fn email(i: usize) -> String {
    format!("user{i}@example.com")
}

/// An environment of `spaces` spaces (`space-N`, named "Space N") that knows `users` users and
/// has the given members.
fn environment(spaces: usize, users: usize, members: Vec<AlumioMember>) -> Tenant {
    let mut tenant = sim::generate::small_tenant();
    tenant.alumio = AlumioTenant {
        api_keys: vec![AlumioApiKey {
            id: "test".to_owned(),
            key: KEY.to_owned(),
        }],
        users: (0..users)
            .map(|i| AlumioUser {
                email: email(i),
                name: String::new(),
            })
            .collect(),
        spaces: (0..spaces)
            .map(|i| AlumioSpace {
                identifier: format!("space-{i}"),
                name: format!("Space {i}"),
                description: String::new(),
            })
            .collect(),
        members,
    };
    tenant
}

fn member(space: usize, user: usize, role: &str) -> AlumioMember {
    AlumioMember {
        space: format!("space-{space}"),
        email: email(user),
        roles: vec![role.to_owned()],
    }
}

/// A simulator without rate limits or faults unless the test sets them.
async fn start(tenant: Tenant, tweak: impl FnOnce(&mut AlumioConfig)) -> SimHandle {
    let mut config = SimConfig::new(tenant);
    config.qlik_enabled = false;
    config.alumio.reads_per_min = None;
    config.alumio.writes_per_min = None;
    tweak(&mut config.alumio);
    Sim::start(config).await.unwrap()
}

fn client_with(sim: &SimHandle, batch_size: usize) -> Client {
    let mut config = Config::new(sim.alumio_base_url().parse().unwrap(), Credentials::api_key(KEY))
        .with_batch_size(batch_size);
    config.http.retry = RetryPolicy::fast_for_tests();
    config.http.limits = RateLimits::unlimited();
    Client::new(config).unwrap()
}

fn space(i: usize) -> SpaceInfo {
    SpaceInfo {
        id: format!("space-{i}"),
        name: format!("Space {i}"),
        space_type: String::new(),
        owner_id: None,
        assignable_roles: Vec::new(),
        description: None,
    }
}

fn create(email: &str, role: &str) -> WriteOp {
    WriteOp::Create {
        assignee_kind: AssigneeKind::User,
        assignee_id: email.to_owned(),
        roles: vec![role.to_owned()],
    }
}

fn update(email: &str, role: &str) -> WriteOp {
    WriteOp::Update {
        assignment_id: email.to_owned(),
        assignee_kind: AssigneeKind::User,
        assignee_id: email.to_owned(),
        roles: vec![role.to_owned()],
    }
}

/// What the executor does: the ops of one space in chunks of the target's batch size.
async fn write_all(
    client: &Client,
    space: &SpaceInfo,
    ops: &[WriteOp],
) -> Vec<Result<WriteOutcome, core_api::Error>> {
    let max = client.capabilities().max_batch;
    let mut outcomes = Vec::new();
    for chunk in ops.chunks(max) {
        let got = client.write(space, chunk).await;
        assert_eq!(got.len(), chunk.len(), "one outcome per op");
        outcomes.extend(got);
    }
    outcomes
}

fn members_of(sim: &SimHandle, space: &str) -> Vec<(String, Vec<String>)> {
    sim.alumio_members()
        .into_iter()
        .filter(|m| m.space == space)
        .map(|m| (m.email, m.roles))
        .collect()
}

/// `assign_users` calls that reached the server's validation.
fn write_calls(sim: &SimHandle) -> Vec<(usize, u16)> {
    sim.alumio_write_log()
        .into_iter()
        .map(|w| (w.batch_size, w.status))
        .collect()
}

fn requests(sim: &SimHandle, method: &str, path_part: &str) -> Vec<sim::RequestRecord> {
    sim.request_log()
        .into_iter()
        .filter(|r| r.method == method && r.path.contains(path_part))
        .collect()
}

fn title(result: &Result<WriteOutcome, core_api::Error>) -> Option<String> {
    result.as_ref().err().and_then(|e| e.title().map(str::to_owned))
}

#[tokio::test]
async fn a_thousand_rows_over_ten_spaces_take_one_call_per_batch() {
    let sim = start(environment(10, 1000, Vec::new()), |_| {}).await;
    let client = client_with(&sim, 50);
    for s in 0..10 {
        let ops: Vec<WriteOp> = (s * 100..(s + 1) * 100)
            .map(|u| create(&email(u), "ROLE_USER"))
            .collect();
        let outcomes = write_all(&client, &space(s), &ops).await;
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, Ok(WriteOutcome::Created(Some(a))) if a.roles == ["ROLE_USER"])),
            "{outcomes:?}"
        );
    }
    let calls = write_calls(&sim);
    // ceil(1000 / 50), every one accepted at once.
    assert_eq!(calls.len(), 1000_usize.div_ceil(50));
    assert!(
        calls.iter().all(|&(size, status)| size == 50 && status == 200),
        "{calls:?}"
    );
    assert_eq!(sim.alumio_members().len(), 1000);
}

#[tokio::test]
async fn three_bad_emails_fail_exactly_their_rows_and_the_rest_land() {
    for (mode, status_as_string) in [
        (AlumioBatchMode::Partial, false),
        (AlumioBatchMode::AllOrNothing, false),
        (AlumioBatchMode::AllOrNothing, true),
    ] {
        let sim = start(environment(1, 50, Vec::new()), |c| {
            c.batch_mode = mode;
            c.status_as_string = status_as_string;
        })
        .await;
        let client = client_with(&sim, 50);
        let mut ops: Vec<WriteOp> = (0..20).map(|u| create(&email(u), "ROLE_EDITOR")).collect();
        ops[3] = create("not-an-email", "ROLE_EDITOR");
        ops[9] = create("stranger@unknown.example", "ROLE_EDITOR");
        ops[15] = create("two words@example.com", "ROLE_EDITOR");
        let outcomes = client.write(&space(0), &ops).await;
        assert_eq!(outcomes.len(), 20);
        for (i, outcome) in outcomes.iter().enumerate() {
            match i {
                3 | 15 => assert_eq!(
                    title(outcome).as_deref(),
                    Some("This value is not a valid email address."),
                    "{mode:?} row {i}"
                ),
                9 => assert_eq!(
                    title(outcome).as_deref(),
                    Some("No user exists with this email address."),
                    "{mode:?} row {i}"
                ),
                _ => assert!(
                    matches!(outcome, Ok(WriteOutcome::Created(_))),
                    "{mode:?} row {i}: {outcome:?}"
                ),
            }
        }
        let failed = outcomes.iter().find_map(|o| o.as_ref().err()).unwrap();
        assert_eq!(failed.kind_code(), "invalid");
        assert_eq!(failed.status(), Some(422));
        assert_eq!(members_of(&sim, "space-0").len(), 17, "{mode:?}");
        // The rejected batch, then the 17 good rows once more.
        assert_eq!(write_calls(&sim), [(20, 422), (17, 200)], "{mode:?}");
    }
}

#[tokio::test]
async fn a_rejection_without_indexes_is_bisected() {
    let sim = start(environment(1, 100, Vec::new()), |c| {
        c.indexed_violations = false;
        c.batch_mode = AlumioBatchMode::AllOrNothing;
    })
    .await;
    let client = client_with(&sim, 32);
    let mut ops: Vec<WriteOp> = (0..32).map(|u| create(&email(u), "ROLE_USER")).collect();
    ops[13] = create("broken", "ROLE_USER");
    let outcomes = client.write(&space(0), &ops).await;
    for (i, outcome) in outcomes.iter().enumerate() {
        if i == 13 {
            assert_eq!(
                title(outcome).as_deref(),
                Some("This value is not a valid email address.")
            );
        } else {
            assert!(
                matches!(outcome, Ok(WriteOutcome::Created(_))),
                "row {i}: {outcome:?}"
            );
        }
    }
    let calls = write_calls(&sim);
    // The first call, then at most two halves per level down to the bad row: 1 + 2 * log2(32).
    assert!(calls.len() > 5 && calls.len() <= 1 + 2 * 5, "{calls:?}");
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.1 == 422)
            .map(|c| c.0)
            .collect::<Vec<_>>(),
        [32, 16, 2, 1]
    );
    // One read showed that the rejected batch changed nothing; it is not read again.
    assert_eq!(requests(&sim, "GET", "/current_space/users").len(), 1);
    assert_eq!(members_of(&sim, "space-0").len(), 31);

    // A second bad batch: bisected without reading the space again.
    let mut ops: Vec<WriteOp> = (32..64).map(|u| create(&email(u), "ROLE_USER")).collect();
    ops[0] = create("broken-too", "ROLE_USER");
    let outcomes = client.write(&space(0), &ops).await;
    assert_eq!(outcomes.iter().filter(|o| o.is_err()).count(), 1);
    assert!(outcomes[0].is_err());
    assert_eq!(requests(&sim, "GET", "/current_space/users").len(), 1);
    assert!(write_calls(&sim).len() - calls.len() <= 1 + 2 * 5);
    assert_eq!(members_of(&sim, "space-0").len(), 62);

    // Partial application but no member list to read back: bisected all the same.
    let sim = start(environment(1, 100, Vec::new()), |c| {
        c.indexed_violations = false;
        c.list_enabled = false;
    })
    .await;
    let client = client_with(&sim, 32);
    let mut ops: Vec<WriteOp> = (0..32).map(|u| create(&email(u), "ROLE_USER")).collect();
    ops[31] = create("broken", "ROLE_USER");
    let outcomes = client.write(&space(0), &ops).await;
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 31);
    assert!(outcomes[31].is_err());
    assert!(write_calls(&sim).len() <= 1 + 2 * 5, "{:?}", write_calls(&sim));
    assert_eq!(members_of(&sim, "space-0").len(), 31);
}

#[tokio::test]
async fn a_partial_rejection_without_indexes_is_read_back_not_bisected() {
    let sim = start(environment(1, 100, Vec::new()), |c| {
        c.indexed_violations = false;
        c.batch_mode = AlumioBatchMode::Partial;
    })
    .await;
    let client = client_with(&sim, 48);
    // One bad row: the read-back shows every other row applied; the violation is its own.
    let mut ops: Vec<WriteOp> = (0..20).map(|u| create(&email(u), "ROLE_USER")).collect();
    ops[6] = create("broken", "ROLE_USER");
    let outcomes = client.write(&space(0), &ops).await;
    assert_eq!(
        title(&outcomes[6]).as_deref(),
        Some("This value is not a valid email address.")
    );
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 19);
    assert_eq!(write_calls(&sim), [(20, 422)]);
    assert_eq!(requests(&sim, "GET", "/current_space/users").len(), 1);

    // Three bad rows: each is sent alone once, for its own message.
    let mut ops: Vec<WriteOp> = (20..68).map(|u| create(&email(u), "ROLE_USER")).collect();
    for bad in [2, 20, 41] {
        ops[bad] = create(&format!("bad{bad}"), "ROLE_USER");
    }
    let outcomes = client.write(&space(0), &ops).await;
    let failed: Vec<usize> = (0..48).filter(|&i| outcomes[i].is_err()).collect();
    assert_eq!(failed, [2, 20, 41]);
    assert!(
        failed
            .iter()
            .all(|&i| title(&outcomes[i]).is_some_and(|t| t.contains("not a valid email")))
    );
    assert_eq!(write_calls(&sim)[1..], [(48, 422), (1, 422), (1, 422), (1, 422)]);
    assert_eq!(requests(&sim, "GET", "/current_space/users").len(), 2);
    assert_eq!(members_of(&sim, "space-0").len(), 19 + 45);
}

#[tokio::test]
async fn the_servers_batch_limit_is_learned_and_respected() {
    let sim = start(environment(1, 200, Vec::new()), |c| c.batch_limit = Some(20)).await;
    let client = client_with(&sim, 50);
    let ops: Vec<WriteOp> = (0..100).map(|u| create(&email(u), "ROLE_USER")).collect();
    let outcomes = write_all(&client, &space(0), &ops).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let calls = write_calls(&sim);
    // One batch of 50 refused, then nothing above the limit: 20 + 20 + 10, twice.
    assert_eq!(calls.iter().filter(|c| c.1 == 422).count(), 1, "{calls:?}");
    assert_eq!(calls[0], (50, 422));
    assert!(
        calls[1..]
            .iter()
            .all(|&(size, status)| size <= 20 && status == 200),
        "{calls:?}"
    );
    assert_eq!(calls.len(), 7, "{calls:?}");
    assert_eq!(client.batch_size(), 20);
    assert_eq!(client.capabilities().max_batch, 20);
    assert_eq!(members_of(&sim, "space-0").len(), 100);
}

#[tokio::test]
async fn memberships_come_from_the_list_in_pages() {
    let members: Vec<AlumioMember> = (0..250).map(|u| member(0, u, "ROLE_EDITOR")).collect();
    let sim = start(environment(2, 300, members), |_| {}).await;
    let client = client_with(&sim, 50);
    let listed = client.list_assignments(&space(0)).await.unwrap();
    assert_eq!(listed.len(), 250);
    assert!(
        listed
            .iter()
            .all(|a| a.roles == ["ROLE_EDITOR"] && a.id == a.assignee_id)
    );
    assert_eq!(requests(&sim, "GET", "/current_space/users").len(), 3);
    assert!(client.list_assignments(&space(1)).await.unwrap().is_empty());
}

#[tokio::test]
async fn without_a_member_list_members_are_read_one_by_one() {
    let members = vec![
        member(0, 0, "ROLE_USER"),
        member(0, 1, "ROLE_ADMINISTRATOR"),
        member(1, 2, "ROLE_EDITOR"),
    ];
    let sim = start(environment(2, 10, members), |c| c.list_enabled = false).await;
    let client = client_with(&sim, 50);
    let asked = [email(0), email(1), email(5)];
    let mut found = client.list_assignments_of(&space(0), &asked).await.unwrap();
    found.sort_by(|a, b| a.assignee_id.cmp(&b.assignee_id));
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].assignee_id, email(0));
    assert_eq!(found[0].roles, ["ROLE_USER"]);
    assert_eq!(found[1].roles, ["ROLE_ADMINISTRATOR"]);
    assert_eq!(requests(&sim, "GET", "/spaces/space-0/users/").len(), 3);

    // The planner's plain listing uses the emails it looked up; the missing list is not asked
    // for again.
    let users = client
        .find_users_by_email(&[email(2).to_uppercase(), email(3)])
        .await
        .unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0].id, email(2));
    let found = client.list_assignments(&space(1)).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].assignee_id, email(2));
    assert_eq!(requests(&sim, "GET", "/current_space/users").len(), 1);
}

#[tokio::test]
async fn transient_errors_retry_the_whole_batch() {
    let sim = start(environment(2, 200, Vec::new()), |_| {}).await;
    sim.set_faults(Faults {
        p500: 0.1,
        p503: 0.1,
        ..Faults::none()
    });
    let client = client_with(&sim, 10);
    for s in 0..2 {
        let ops: Vec<WriteOp> = (s * 100..(s + 1) * 100)
            .map(|u| create(&email(u), "ROLE_USER"))
            .collect();
        let outcomes = write_all(&client, &space(s), &ops).await;
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    }
    let posts = requests(&sim, "POST", "/assign_users");
    assert!(posts.iter().any(|r| r.status >= 500), "no fault was injected");
    // Every accepted call carried a whole batch.
    let calls = write_calls(&sim);
    assert_eq!(calls.len(), 20, "{calls:?}");
    assert!(calls.iter().all(|&(size, status)| size == 10 && status == 200));
    assert_eq!(sim.alumio_members().len(), 200);

    // Lost responses: the batch was applied, the retry re-assigns the same roles.
    let sim = start(environment(1, 100, Vec::new()), |_| {}).await;
    sim.set_faults(Faults {
        p500: 0.2,
        apply_before_fault: true,
        ..Faults::none()
    });
    let client = client_with(&sim, 10);
    let ops: Vec<WriteOp> = (0..100).map(|u| create(&email(u), "ROLE_USER")).collect();
    let outcomes = write_all(&client, &space(0), &ops).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(members_of(&sim, "space-0").len(), 100);
}

#[tokio::test]
async fn a_429_pauses_and_retries_the_batch() {
    let sim = start(environment(1, 40, Vec::new()), |c| c.writes_per_min = Some(600)).await;
    let client = client_with(&sim, 1);
    let ops: Vec<WriteOp> = (0..20).map(|u| create(&email(u), "ROLE_USER")).collect();
    let outcomes = write_all(&client, &space(0), &ops).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let posts = requests(&sim, "POST", "/assign_users");
    assert!(posts.iter().any(|r| r.status == 429), "the burst was not limited");
    assert_eq!(posts.iter().filter(|r| r.status == 200).count(), 20);
    assert_eq!(members_of(&sim, "space-0").len(), 20);
}

#[tokio::test]
async fn existing_members_under_every_rule() {
    let existing = || vec![member(0, 0, "ROLE_USER"), member(0, 1, "ROLE_USER")];

    // Re-assigning replaces the roles.
    let sim = start(environment(1, 10, existing()), |c| {
        c.existing_member = AlumioExistingMember::Replace;
    })
    .await;
    let client = client_with(&sim, 50);
    let outcomes = client
        .write(
            &space(0),
            &[update(&email(0), "ROLE_EDITOR"), create(&email(5), "ROLE_USER")],
        )
        .await;
    assert!(
        matches!(outcomes[0], Ok(WriteOutcome::Updated(_))),
        "{outcomes:?}"
    );
    assert!(
        matches!(outcomes[1], Ok(WriteOutcome::Created(_))),
        "{outcomes:?}"
    );
    assert!(members_of(&sim, "space-0").contains(&(email(0), vec!["ROLE_EDITOR".to_owned()])));

    // Re-assigning is accepted but ignored: found out once, then updates are not sent.
    let sim = start(environment(1, 10, existing()), |c| {
        c.existing_member = AlumioExistingMember::Keep;
    })
    .await;
    let client = client_with(&sim, 50);
    let outcomes = client.write(&space(0), &[update(&email(0), "ROLE_EDITOR")]).await;
    let message = outcomes[0].as_ref().unwrap_err().to_string();
    assert!(message.contains("kept the old roles"), "{message}");
    let before = write_calls(&sim).len();
    let outcomes = client
        .write(
            &space(0),
            &[update(&email(1), "ROLE_EDITOR"), create(&email(6), "ROLE_USER")],
        )
        .await;
    assert!(outcomes[0].is_err());
    assert!(
        matches!(outcomes[1], Ok(WriteOutcome::Created(_))),
        "{outcomes:?}"
    );
    assert_eq!(write_calls(&sim).len(), before + 1);
    assert_eq!(write_calls(&sim)[before].0, 1, "the update was not sent");

    // Re-assigning is refused: a create meets the member as it is, an update is refused.
    let sim = start(environment(1, 10, existing()), |c| {
        c.existing_member = AlumioExistingMember::Reject;
    })
    .await;
    let client = client_with(&sim, 50);
    let outcomes = client
        .write(
            &space(0),
            &[
                create(&email(0), "ROLE_EDITOR"),
                create(&email(7), "ROLE_USER"),
                update(&email(1), "ROLE_EDITOR"),
            ],
        )
        .await;
    match &outcomes[0] {
        Ok(WriteOutcome::AlreadyExists(a)) => {
            assert_eq!(a.assignee_id, email(0));
            assert_eq!(a.roles, ["ROLE_USER"]);
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert!(
        matches!(outcomes[1], Ok(WriteOutcome::Created(_))),
        "{outcomes:?}"
    );
    let message = outcomes[2].as_ref().unwrap_err().to_string();
    assert!(message.contains("does not re-assign"), "{message}");

    // Refused without indexes, all or nothing: once one refusal is isolated, the other role
    // changes of the call are not sent again.
    let existing: Vec<AlumioMember> = (0..8).map(|u| member(0, u, "ROLE_USER")).collect();
    let sim = start(environment(1, 40, existing), |c| {
        c.existing_member = AlumioExistingMember::Reject;
        c.indexed_violations = false;
        c.batch_mode = AlumioBatchMode::AllOrNothing;
    })
    .await;
    let client = client_with(&sim, 50);
    let ops: Vec<WriteOp> = (0..32)
        .map(|u| {
            if u < 8 {
                update(&email(u), "ROLE_EDITOR")
            } else {
                create(&email(u), "ROLE_USER")
            }
        })
        .collect();
    let outcomes = client.write(&space(0), &ops).await;
    for (u, outcome) in outcomes.iter().enumerate() {
        if u < 8 {
            let message = outcome.as_ref().unwrap_err().to_string();
            assert!(message.contains("does not re-assign"), "{message}");
        } else {
            assert!(matches!(outcome, Ok(WriteOutcome::Created(_))), "{outcome:?}");
        }
    }
    let calls = write_calls(&sim);
    assert!(calls.len() <= 1 + 2 * 5 + 1, "{calls:?}");
    assert_eq!(members_of(&sim, "space-0").len(), 32);
}

#[tokio::test]
async fn partial_batches_are_learned_and_good_rows_not_sent_twice() {
    let sim = start(environment(1, 50, Vec::new()), |c| {
        c.batch_mode = AlumioBatchMode::Partial;
        c.existing_member = AlumioExistingMember::Reject;
    })
    .await;
    let client = client_with(&sim, 10);
    let mut ops: Vec<WriteOp> = (0..10).map(|u| create(&email(u), "ROLE_USER")).collect();
    ops[4] = create("nope", "ROLE_USER");
    let outcomes = client.write(&space(0), &ops).await;
    let failed: Vec<usize> = (0..10).filter(|&i| outcomes[i].is_err()).collect();
    assert_eq!(failed, [4]);
    assert!(
        outcomes
            .iter()
            .enumerate()
            .all(|(i, o)| i == 4 || matches!(o, Ok(WriteOutcome::Created(_)))),
        "{outcomes:?}"
    );
    // The resend met the members the rejected batch had added; one listing read them back.
    assert_eq!(write_calls(&sim), [(10, 422), (9, 422)]);
    assert_eq!(requests(&sim, "GET", "/current_space/users").len(), 1);

    // Now known: the next rejected batch is not followed by a resend.
    let mut ops: Vec<WriteOp> = (10..20).map(|u| create(&email(u), "ROLE_USER")).collect();
    ops[7] = create("nope either", "ROLE_USER");
    let outcomes = client.write(&space(0), &ops).await;
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 9);
    assert_eq!(write_calls(&sim).len(), 3);
    assert_eq!(members_of(&sim, "space-0").len(), 18);
}

#[tokio::test]
async fn unknown_emails_are_invited_when_alumio_invites() {
    let sim = start(environment(1, 5, Vec::new()), |c| {
        c.unknown_email = AlumioUnknownEmail::Invite;
    })
    .await;
    let client = client_with(&sim, 50);
    let outcomes = client
        .write(&space(0), &[create("newcomer@example.org", "ROLE_USER")])
        .await;
    assert!(
        matches!(outcomes[0], Ok(WriteOutcome::Created(_))),
        "{outcomes:?}"
    );
    assert_eq!(members_of(&sim, "space-0").len(), 1);
}

#[tokio::test]
async fn groups_and_deletes_fail_without_a_request() {
    let sim = start(environment(1, 5, vec![member(0, 0, "ROLE_USER")]), |_| {}).await;
    let client = client_with(&sim, 50);
    let ops = [
        WriteOp::Create {
            assignee_kind: AssigneeKind::Group,
            assignee_id: "Finance team".to_owned(),
            roles: vec!["ROLE_USER".to_owned()],
        },
        WriteOp::Delete {
            assignment_id: email(0),
            assignee_kind: AssigneeKind::User,
            assignee_id: email(0),
        },
        create(&email(1), "ROLE_USER"),
    ];
    let outcomes = client.write(&space(0), &ops).await;
    let group = outcomes[0].as_ref().unwrap_err().to_string();
    assert!(group.contains("assigns users only"), "{group}");
    let delete = outcomes[1].as_ref().unwrap_err().to_string();
    assert!(delete.contains("no call for it"), "{delete}");
    assert!(matches!(outcomes[2], Ok(WriteOutcome::Created(_))));
    assert_eq!(write_calls(&sim), [(1, 200)]);
    let caps = client.capabilities();
    assert!(!caps.groups && !caps.delete && caps.emails_new_members);
    assert_eq!(caps.max_batch, 50);
    assert!(
        client
            .find_groups_by_name(&["Finance team".to_owned()])
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn spaces_by_name_or_identifier() {
    let sim = start(environment(150, 1, Vec::new()), |_| {}).await;
    let client = client_with(&sim, 50);
    let by_name = client.find_space_by_name("Space 3").await.unwrap().unwrap();
    assert_eq!(by_name.id, "space-3");
    assert_eq!(by_name.space_type, "");
    assert_eq!(
        by_name.assignable_roles,
        ["ROLE_USER", "ROLE_EDITOR", "ROLE_ADMINISTRATOR"]
    );
    let by_id = client.find_space_by_name("space-140").await.unwrap().unwrap();
    assert_eq!(by_id.name, "Space 140");
    assert_eq!(client.find_space_by_name("space 3").await.unwrap(), None);
    // One listing (two pages) served every name lookup.
    assert_eq!(requests(&sim, "GET", "/alumio/api/v1/spaces").len(), 2);
    assert_eq!(client.list_spaces().await.unwrap().len(), 150);

    assert_eq!(
        client.get_space("space-7").await.unwrap().unwrap().name,
        "Space 7"
    );
    assert_eq!(client.get_space("space-999").await.unwrap(), None);
    let before = sim.request_log().len();
    assert_eq!(client.get_space("Not An Identifier").await.unwrap(), None);
    assert_eq!(
        sim.request_log().len(),
        before,
        "an impossible identifier is not asked for"
    );
}

#[tokio::test]
async fn the_api_key_is_sent_and_a_wrong_one_fails_every_row() {
    let sim = start(environment(1, 5, Vec::new()), |_| {}).await;
    let mut config = Config::new(
        sim.alumio_base_url().parse().unwrap(),
        Credentials::api_key("wrong"),
    );
    config.http.retry = RetryPolicy::fast_for_tests();
    config.http.limits = RateLimits::unlimited();
    let client = Client::new(config).unwrap();
    let outcomes = client
        .write(
            &space(0),
            &[create(&email(0), "ROLE_USER"), create(&email(1), "ROLE_USER")],
        )
        .await;
    for outcome in &outcomes {
        let error = outcome.as_ref().unwrap_err();
        assert_eq!(error.kind_code(), "auth");
        assert!(!error.to_string().contains("wrong"), "{error}");
    }
    assert_eq!(requests(&sim, "POST", "/assign_users").len(), 1);
}
