//! The planner's tests against the fake target of `plan::fake`: one action per row, and the reads
//! each roster costs.

use core_api::target::{AssigneeKind, GroupInfo};

use super::fake::{Fake, State, roles, space, user};
use super::*;
use crate::model::{Action, AssigneeRef, Mode, ParsedRow, PlanItem, RosterRow, RowProblem, SpaceRef};

pub(crate) fn urow(line: u64, space: &str, email: &str, r: &[&str]) -> ParsedRow {
    ParsedRow {
        line,
        row: Ok(RosterRow {
            line,
            space: SpaceRef::Name(space.to_owned()),
            assignee_kind: AssigneeKind::User,
            assignee: AssigneeRef::Email(email.to_owned()),
            roles: roles(r),
        }),
    }
}

pub(crate) fn grow(line: u64, space: &str, group: &str, r: &[&str]) -> ParsedRow {
    ParsedRow {
        line,
        row: Ok(RosterRow {
            line,
            space: SpaceRef::Name(space.to_owned()),
            assignee_kind: AssigneeKind::Group,
            assignee: AssigneeRef::Name(group.to_owned()),
            roles: roles(r),
        }),
    }
}

/// Two spaces (S1 owned by u0), five users, one group, three existing assignments in S1.
pub(crate) fn tenant() -> Fake {
    let fake = Fake::new(State {
        spaces: vec![space("s1", "S1", Some("u0")), space("s2", "S2", None)],
        users: (0..5)
            .map(|i| user(&format!("u{i}"), &format!("user{i}@example.com")))
            .collect(),
        groups: vec![GroupInfo {
            id: "g1".into(),
            name: "Analysts".into(),
        }],
        ..State::default()
    });
    fake.assign("s1", AssigneeKind::User, "u1", &["consumer"]);
    fake.assign("s1", AssigneeKind::User, "u2", &["consumer", "producer"]);
    fake.assign("s1", AssigneeKind::Group, "g1", &["consumer"]);
    fake
}

pub(crate) fn mixed_rows() -> Vec<ParsedRow> {
    vec![
        urow(2, "S1", "user1@example.com", &["consumer", "producer"]),
        urow(3, "S1", "USER2@example.com", &["consumer"]),
        urow(4, "S2", "user3@example.com", &["consumer"]),
        urow(5, "Nope", "user3@example.com", &["consumer"]),
        urow(6, "S1", "nobody@example.com", &["consumer"]),
        grow(7, "S1", "Analysts", &["consumer"]),
        grow(8, "S1", "Ghosts", &["consumer"]),
        urow(9, "S1", "user0@example.com", &["consumer"]),
        urow(10, "S2", "user4@example.com", &["publisher"]),
        ParsedRow {
            line: 11,
            row: Err(RowProblem {
                line: 11,
                column: Some("roles".into()),
                message: "unknown role \"x\"".into(),
                said: Box::new(crate::model::RowSaid {
                    space: "S2".into(),
                    kind: "grp".into(),
                    assignee: "user5@example.com".into(),
                }),
            }),
        },
    ]
}

pub(crate) fn no_progress(_: &PlanProgress) {}

pub(crate) async fn plan_with(fake: &Fake, rows: Vec<ParsedRow>, mode: Mode) -> Planned {
    let mut opts = PlanOptions::new("test", mode);
    opts.write_limit_per_min = Some(60);
    build(rows, fake, &opts, &no_progress).await.unwrap()
}

fn code(item: &PlanItem) -> &str {
    match &item.action {
        Action::Create { .. } => "create",
        Action::Update { .. } => "update",
        Action::Unchanged { .. } => "unchanged",
        Action::Delete { .. } => "delete",
        Action::Error(e) => &e.code,
    }
}

#[tokio::test]
async fn every_row_gets_exactly_one_action_merge() {
    let fake = tenant();
    let planned = plan_with(&fake, mixed_rows(), Mode::Merge).await;
    // Rows in memory are planned from the back to save memory; the plan is the same.
    let opts = PlanOptions {
        write_limit_per_min: Some(60),
        ..PlanOptions::new("test", Mode::Merge)
    };
    let owned = build_owned(mixed_rows(), &tenant(), &opts, &no_progress)
        .await
        .unwrap();
    assert_eq!(owned.plan, planned.plan);
    let plan = &planned.plan;
    let codes: Vec<(u64, &str)> = plan.items.iter().map(|i| (i.line, code(i))).collect();
    assert_eq!(
        codes,
        vec![
            (2, "update"),
            (3, "unchanged"),
            (4, "create"),
            (5, "unknown_space"),
            (6, "unknown_user"),
            (7, "unchanged"),
            (8, "unknown_group"),
            (9, "space_owner"),
            (10, "role_not_assignable"),
            (11, "invalid_row"),
        ]
    );
    assert_eq!(
        plan.items[0].action,
        Action::Update {
            assignment_id: "a1".into(),
            old: roles(&["consumer"]),
            new: roles(&["consumer", "producer"])
        }
    );
    assert_eq!(
        plan.items[1].action,
        Action::Unchanged {
            roles: roles(&["consumer", "producer"])
        }
    );
    assert_eq!(
        plan.items[2].action,
        Action::Create {
            roles: roles(&["consumer"])
        }
    );
    assert_eq!(plan.items[2].assignee_id.as_deref(), Some("u3"));
    assert_eq!(
        plan.items[2].space_info.as_ref().map(|s| s.id.as_str()),
        Some("s2")
    );
    let Action::Error(e) = &plan.items[8].action else {
        panic!()
    };
    assert!(
        e.message.contains("publisher") && e.message.contains("S2"),
        "{}",
        e.message
    );
    let Action::Error(e) = &plan.items[9].action else {
        panic!()
    };
    assert_eq!(e.message, "column roles: unknown role \"x\"");
    assert_eq!(plan.counts.create, 1);
    assert_eq!(plan.counts.update, 1);
    assert_eq!(plan.counts.unchanged, 2);
    assert_eq!(plan.counts.error, 6);
    assert_eq!(plan.write_calls, 2);
    assert_eq!(plan.min_write_time, std::time::Duration::from_secs(2));
    // Spaces and users looked up once each, one assignment listing per touched space, no writes.
    let mut calls = fake.calls();
    calls.sort();
    assert_eq!(
        calls,
        vec![
            "find_groups:2",
            "find_space:Nope",
            "find_space:S1",
            "find_space:S2",
            "find_users:6",
            "list_assignments:s1",
            "list_assignments:s2",
        ]
    );
    assert_eq!(planned.resolve.assignment_lists, 2);
}

#[tokio::test]
async fn exact_mode_removes_roles() {
    let fake = tenant();
    let plan = plan_with(&fake, mixed_rows(), Mode::Exact).await.plan;
    assert_eq!(
        plan.items[1].action,
        Action::Update {
            assignment_id: "a2".into(),
            old: roles(&["consumer", "producer"]),
            new: roles(&["consumer"])
        }
    );
    // Same roles in another order are unchanged in either mode.
    assert_eq!(
        plan.items[5].action,
        Action::Unchanged {
            roles: roles(&["consumer"])
        }
    );
}

#[tokio::test]
async fn many_names_page_the_directories_instead() {
    let mut state = State::default();
    for s in 0..6 {
        state
            .spaces
            .push(space(&format!("s{s}"), &format!("Space {s}"), None));
    }
    state.users = (0..40)
        .map(|i| user(&format!("u{i}"), &format!("u{i}@x.io")))
        .collect();
    let fake = Fake::new(state);
    let rows: Vec<ParsedRow> = (0..240)
        .map(|n| {
            urow(
                n + 2,
                &format!("Space {}", n % 6),
                &format!("u{}@x.io", n % 40),
                &["consumer"],
            )
        })
        .collect();
    let seen = parking_lot::Mutex::new(Vec::new());
    let opts = PlanOptions::new("t", Mode::Merge);
    let planned = build(rows, &fake, &opts, &|p: &PlanProgress| {
        seen.lock().push(p.clone())
    })
    .await
    .unwrap();
    assert_eq!(planned.plan.counts.create, 240);
    let calls = fake.calls();
    assert_eq!(calls.iter().filter(|c| *c == "list_spaces").count(), 1);
    assert_eq!(calls.iter().filter(|c| *c == "list_users").count(), 1);
    assert_eq!(
        calls.iter().filter(|c| c.starts_with("list_assignments")).count(),
        6
    );
    assert_eq!(calls.len(), 8, "{calls:?}");
    let strategies: Vec<(Directory, Strategy)> = planned
        .resolve
        .directories
        .iter()
        .map(|d| (d.directory, d.strategy))
        .collect();
    assert_eq!(
        strategies,
        vec![
            (Directory::Spaces, Strategy::ListAll),
            (Directory::Users, Strategy::ListAll)
        ]
    );
    let seen = seen.lock();
    assert!(matches!(
        seen[0],
        PlanProgress::RowsRead {
            rows: 240,
            spaces: 6,
            users: 40,
            groups: 0
        }
    ));
    assert!(seen.contains(&PlanProgress::Assignments { done: 6, total: 6 }));
    assert!(matches!(seen.last(), Some(PlanProgress::Done { .. })));
}

#[tokio::test]
async fn groups_fail_on_targets_without_groups() {
    let mut fake = tenant();
    fake.caps.groups = false;
    let plan = plan_with(&fake, vec![grow(2, "S1", "Analysts", &["consumer"])], Mode::Merge)
        .await
        .plan;
    assert_eq!(code(&plan.items[0]), "groups_unsupported");
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

#[tokio::test]
async fn a_space_that_cannot_be_read_fails_only_its_rows() {
    let fake = tenant();
    fake.state.lock().fail_listing.insert("s1".into(), 403);
    let rows = vec![
        urow(2, "S1", "user3@example.com", &["consumer"]),
        urow(3, "S2", "user3@example.com", &["consumer"]),
    ];
    let plan = plan_with(&fake, rows, Mode::Merge).await.plan;
    let Action::Error(e) = &plan.items[0].action else {
        panic!("{:?}", plan.items[0])
    };
    assert_eq!((e.code.as_str(), e.http_status), ("forbidden", Some(403)));
    assert!(
        e.message.starts_with("read the assignments of space \"S1\""),
        "{}",
        e.message
    );
    assert_eq!(code(&plan.items[1]), "create");
}

#[tokio::test]
async fn nothing_to_plan_sends_nothing() {
    let fake = tenant();
    let plan = plan_with(&fake, Vec::new(), Mode::Merge).await.plan;
    assert!(plan.items.is_empty());
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn rows_by_id_are_resolved() {
    let fake = tenant();
    let rows = vec![ParsedRow {
        line: 2,
        row: Ok(RosterRow {
            line: 2,
            space: SpaceRef::Id("s2".into()),
            assignee_kind: AssigneeKind::User,
            assignee: AssigneeRef::Id("u4".into()),
            roles: roles(&["consumer"]),
        }),
    }];
    let plan = plan_with(&fake, rows, Mode::Merge).await.plan;
    assert_eq!(code(&plan.items[0]), "create");
    assert_eq!(plan.items[0].assignee_id.as_deref(), Some("u4"));
    assert_eq!(fake.calls(), vec!["get_space:s2", "list_assignments:s2"]);
}

/// The scale bar's shape with an in-memory tenant: 1,000,000 rows, all already in place.
/// Run with `cargo test --release -p engine --lib plan::tests::million -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "takes seconds in release and minutes in debug; a measurement, not a check"]
async fn million_unchanged_rows() {
    let users = 10_000;
    let spaces = 100;
    let mut state = State::default();
    for s in 0..spaces {
        state
            .spaces
            .push(space(&format!("s{s}"), &format!("Space {s}"), Some("owner")));
    }
    state.users = (0..users)
        .map(|i| user(&format!("u{i}"), &format!("user{i}@example.com")))
        .collect();
    let fake = Fake::new(state);
    {
        let mut st = fake.state.lock();
        for s in 0..spaces {
            let list = st.assignments.entry(format!("s{s}")).or_default();
            for u in 0..users {
                list.push(core_api::target::AssignmentInfo {
                    id: format!("a{s}-{u}"),
                    assignee_kind: AssigneeKind::User,
                    assignee_id: format!("u{u}"),
                    roles: roles(&["consumer"]),
                });
            }
        }
    }
    let rss = || {
        std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("VmHWM"))
            .unwrap_or_default()
            .to_owned()
    };
    eprintln!("tenant built: {}", rss());
    let rows = (0..spaces * users).map(|n| {
        urow(
            n as u64 + 2,
            &format!("Space {}", n % spaces),
            &format!("user{}@example.com", n / spaces),
            &["consumer"],
        )
    });
    let started = std::time::Instant::now();
    let planned = build(rows, &fake, &PlanOptions::new("t", Mode::Merge), &no_progress)
        .await
        .unwrap();
    eprintln!(
        "planned in {:?} ({:?}): {}",
        started.elapsed(),
        planned.timings,
        rss()
    );
    assert_eq!(planned.plan.counts.unchanged, 1_000_000);
    eprintln!("item size {} bytes", size_of::<PlanItem>());
}

#[tokio::test]
async fn unpaced_runs_look_names_up_when_that_takes_fewer_round_trips() {
    let tenant = || {
        let mut state = State::default();
        state.spaces.push(space("s0", "Space 0", None));
        state.users = (0..300)
            .map(|i| user(&format!("u{i}"), &format!("u{i}@x.io")))
            .collect();
        Fake::new(state)
    };
    let fake = tenant();
    let rows = || -> Vec<ParsedRow> {
        (0..300)
            .map(|n| urow(n + 2, "Space 0", &format!("u{n}@x.io"), &["consumer"]))
            .collect()
    };
    // 300 lookups (one each here) at 200 in flight: 2 round trips; paging: at least 3.
    let opts = PlanOptions {
        concurrency: 200,
        fewest_round_trips: true,
        ..PlanOptions::new("t", Mode::Merge)
    };
    let planned = build(rows(), &fake, &opts, &no_progress).await.unwrap();
    assert_eq!(planned.plan.counts.create, 300);
    let users = planned
        .resolve
        .directories
        .iter()
        .find(|d| d.directory == Directory::Users)
        .unwrap();
    assert_eq!((users.strategy, users.found), (Strategy::Lookup, 300));
    let calls = fake.calls();
    assert_eq!(calls.iter().filter(|c| *c == "find_users:1").count(), 300);
    assert!(!calls.iter().any(|c| c == "list_users"), "{calls:?}");

    // Paced writes: fewer requests win, so the directory is paged.
    let fake = tenant();
    let opts = PlanOptions {
        concurrency: 200,
        ..PlanOptions::new("t", Mode::Merge)
    };
    let planned = build(rows(), &fake, &opts, &no_progress).await.unwrap();
    assert_eq!(planned.plan.counts.create, 300);
    assert_eq!(fake.calls().iter().filter(|c| *c == "list_users").count(), 1);
}

#[test]
fn bursting_writes_take_round_trips_within_the_budget_and_windows_beyond_it() {
    use std::time::Duration;

    use crate::model::WriteWindow;
    let qlik = WriteWindow {
        budget: 500,
        window: Duration::from_secs(300),
    };
    let rtt = Duration::from_millis(80);
    // 300 writes, 8 at a time: 38 round trips, no wait for the window.
    assert_eq!(burst_write_time(300, qlik, 8, rtt), Duration::from_millis(3040));
    // 10,000 writes: 19 waits of the client's window (300 s + 3 s slack), then 500 writes.
    let t = burst_write_time(10_000, qlik, 8, rtt);
    assert_eq!(t, Duration::from_secs(19 * 303) + rtt * 63);
    assert!((94.0..97.0).contains(&(t.as_secs_f64() / 60.0)), "{t:?}");
    assert_eq!(burst_write_time(0, qlik, 8, rtt), Duration::ZERO);
    // The 501st write waits for the window.
    assert!(burst_write_time(501, qlik, 8, rtt) > Duration::from_secs(300));
}
