//! The executor's tests against the fake target of `plan::fake`: what is sent, what each row
//! ends as, and the events the reporters see.

use std::sync::Arc;
use std::time::Duration;

use core_api::target::AssigneeKind;
use parking_lot::Mutex;

use super::*;
use crate::journal;
use crate::model::{Event, Mode, Plan, Reporter, RowOutcome};
use crate::plan::fake::{Fake, roles};
use crate::plan::tests::{mixed_rows, plan_with, tenant, urow};

/// Keeps every event for the test to inspect.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Event>>>);

impl Reporter for Recorder {
    fn on_event(&mut self, _plan: &Plan, event: &Event) -> std::io::Result<()> {
        self.0.lock().push(event.clone());
        Ok(())
    }
}

impl Recorder {
    fn finished(&self) -> Vec<(usize, RowOutcome)> {
        self.0
            .lock()
            .iter()
            .filter_map(|e| match e {
                Event::RowFinished { index, outcome, .. } => Some((*index, outcome.clone())),
                _ => None,
            })
            .collect()
    }

    fn last(&self) -> Event {
        self.0.lock().last().cloned().unwrap()
    }
}

fn opts() -> ExecOptions {
    ExecOptions {
        concurrency: 4,
        ..ExecOptions::default()
    }
}

async fn run(fake: &Fake, plan: &mut Plan, recorder: &Recorder) -> RunResult {
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(recorder.clone())];
    execute(plan, fake, &mut reporters, &opts(), &mut Interrupts::none())
        .await
        .unwrap()
}

fn outcome_name(o: &RowOutcome) -> &str {
    match o {
        RowOutcome::Created => "created",
        RowOutcome::Updated => "updated",
        RowOutcome::Unchanged => "unchanged",
        RowOutcome::Deleted => "deleted",
        RowOutcome::Failed(e) => &e.code,
    }
}

#[tokio::test]
async fn applies_the_plan_and_a_second_run_writes_nothing() {
    let fake = tenant();
    let mut plan = plan_with(&fake, mixed_rows(), Mode::Merge).await.plan;
    let recorder = Recorder::default();
    let result = run(&fake, &mut plan, &recorder).await;
    assert!(!result.interrupted);
    let mut finished = recorder.finished();
    finished.sort_by_key(|(i, _)| *i);
    let names: Vec<&str> = finished.iter().map(|(_, o)| outcome_name(o)).collect();
    assert_eq!(
        names,
        vec![
            "updated",
            "unchanged",
            "created",
            "unknown_space",
            "unknown_user",
            "unchanged",
            "unknown_group",
            "space_owner",
            "role_not_assignable",
            "invalid_row"
        ]
    );
    let t = result.totals;
    assert_eq!(
        (
            t.total,
            t.done,
            t.created,
            t.updated,
            t.unchanged,
            t.failed,
            t.writes
        ),
        (10, 10, 1, 1, 2, 6, 2)
    );
    assert_eq!(fake.roles_of("s1", "u1"), Some(roles(&["consumer", "producer"])));
    assert_eq!(fake.roles_of("s2", "u3"), Some(roles(&["consumer"])));
    assert!(matches!(recorder.0.lock()[0], Event::Started { .. }));
    assert!(matches!(
        recorder.last(),
        Event::Finished {
            interrupted: false,
            ..
        }
    ));

    let writes = fake.writes();
    let mut again = plan_with(&fake, mixed_rows(), Mode::Merge).await.plan;
    assert_eq!(again.counts.create + again.counts.update, 0);
    run(&fake, &mut again, &Recorder::default()).await;
    assert_eq!(fake.writes(), writes);
}

#[tokio::test]
async fn a_create_that_finds_the_assignment_compares_then_updates_or_skips() {
    for (mode, existing, wanted, expect, roles_after) in [
        (
            Mode::Merge,
            &["consumer"][..],
            &["producer"][..],
            "updated",
            &["consumer", "producer"][..],
        ),
        (
            Mode::Merge,
            &["consumer", "producer"],
            &["producer"],
            "unchanged",
            &["consumer", "producer"],
        ),
        (
            Mode::Exact,
            &["consumer", "producer"],
            &["producer"],
            "updated",
            &["producer"],
        ),
        (
            Mode::Exact,
            &["producer"],
            &["producer"],
            "unchanged",
            &["producer"],
        ),
    ] {
        let fake = tenant();
        let mut plan = plan_with(&fake, vec![urow(2, "S2", "user3@example.com", wanted)], mode)
            .await
            .plan;
        assert_eq!(plan.counts.create, 1);
        // Someone else assigns the user between plan and apply: the create meets a conflict.
        fake.assign("s2", AssigneeKind::User, "u3", existing);
        let recorder = Recorder::default();
        let result = run(&fake, &mut plan, &recorder).await;
        let finished = recorder.finished();
        assert_eq!(finished.len(), 1);
        assert_eq!(
            outcome_name(&finished[0].1),
            expect,
            "{mode:?} {existing:?} {wanted:?}"
        );
        assert_eq!(fake.roles_of("s2", "u3"), Some(roles(roles_after)));
        let expected_writes = if expect == "updated" { 2 } else { 1 };
        assert_eq!(result.totals.writes, expected_writes);
        assert_eq!(fake.writes(), expected_writes as usize);
    }
}

#[tokio::test]
async fn a_failed_write_fails_only_its_row_with_the_reason() {
    let fake = tenant();
    fake.state.lock().fail_writes.insert("u3".into(), (403, 1));
    let rows = vec![
        urow(2, "S2", "user3@example.com", &["consumer"]),
        urow(3, "S2", "user4@example.com", &["consumer"]),
    ];
    let mut plan = plan_with(&fake, rows, Mode::Merge).await.plan;
    let recorder = Recorder::default();
    let result = run(&fake, &mut plan, &recorder).await;
    assert_eq!((result.totals.created, result.totals.failed), (1, 1));
    let failed: Vec<_> = recorder
        .finished()
        .into_iter()
        .filter_map(|(i, o)| match o {
            RowOutcome::Failed(e) => Some((i, e)),
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, 0);
    assert_eq!(
        (
            failed[0].1.code.as_str(),
            failed[0].1.http_status,
            failed[0].1.attempts
        ),
        ("forbidden", Some(403), 1)
    );
    assert_eq!(fake.roles_of("s2", "u4"), Some(roles(&["consumer"])));
}

#[tokio::test]
async fn bulk_targets_get_writes_of_one_space_in_batches() {
    let mut fake = tenant();
    fake.caps.max_batch = 3;
    let mut rows: Vec<_> = (0..5)
        .map(|i| urow(i + 2, "S2", &format!("user{i}@example.com"), &["consumer"]))
        .collect();
    rows.push(urow(9, "S1", "user3@example.com", &["consumer"]));
    let mut plan = plan_with(&fake, rows, Mode::Merge).await.plan;
    assert_eq!(plan.write_calls, 3);
    let result = run(&fake, &mut plan, &Recorder::default()).await;
    assert_eq!(result.totals.created, 6);
    assert_eq!(result.totals.writes, 3);
}

fn gated(fake: &mut Fake) -> Arc<tokio::sync::Semaphore> {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    fake.gate = Some(Arc::clone(&gate));
    gate
}

async fn wait_entered(fake: &Fake, n: u64) {
    let mut rx = fake.entered.subscribe();
    tokio::time::timeout(Duration::from_secs(10), rx.wait_for(|v| *v >= n))
        .await
        .unwrap()
        .unwrap();
}

/// `n` new users, each to be assigned in S2.
fn creates(fake: &Fake, n: u64) -> Vec<crate::model::ParsedRow> {
    let mut state = fake.state.lock();
    (0..n)
        .map(|i| {
            state.users.push(crate::plan::fake::user(
                &format!("c{i}"),
                &format!("c{i}@example.com"),
            ));
            urow(i + 2, "S2", &format!("c{i}@example.com"), &["consumer"])
        })
        .collect()
}

#[tokio::test]
async fn first_interrupt_lets_in_flight_writes_finish_and_takes_no_new_rows() {
    let mut fake = tenant();
    let gate = gated(&mut fake);
    let rows: Vec<_> = (0..4)
        .map(|i| urow(i + 2, "S2", &format!("user{i}@example.com"), &["consumer"]))
        .collect();
    let mut plan = plan_with(&fake, rows, Mode::Merge).await.plan;
    assert_eq!(plan.counts.create, 4);
    let recorder = Recorder::default();
    let (tx, mut interrupts) = Interrupts::channel();
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(recorder.clone())];
    let options = ExecOptions {
        concurrency: 2,
        ..ExecOptions::default()
    };
    let run = execute(&mut plan, &fake, &mut reporters, &options, &mut interrupts);
    let control = async {
        wait_entered(&fake, 2).await;
        tx.send(()).unwrap();
        // Let the loop see the interrupt before the writes return.
        let mut waited = 0;
        while !recorder
            .0
            .lock()
            .iter()
            .any(|e| matches!(e, Event::Interrupted { .. }))
        {
            tokio::task::yield_now().await;
            waited += 1;
            assert!(waited < 100_000);
        }
        gate.add_permits(10);
    };
    let (result, ()) = tokio::join!(run, control);
    let result = result.unwrap();
    assert!(result.interrupted);
    assert_eq!(result.totals.created, 2);
    assert_eq!(recorder.finished().len(), 2);
    assert_eq!(fake.writes(), 2);
    assert!(matches!(
        recorder.last(),
        Event::Finished {
            interrupted: true,
            ..
        }
    ));
}

#[tokio::test]
async fn first_interrupt_drops_the_writes_still_waiting_to_be_sent() {
    let mut fake = tenant();
    let gate = gated(&mut fake);
    let send_gate = Arc::new(tokio::sync::Semaphore::new(1));
    fake.send_gate = Some(Arc::clone(&send_gate));
    let mut plan = plan_with(&fake, creates(&fake, 6), Mode::Merge).await.plan;
    let recorder = Recorder::default();
    let (tx, mut interrupts) = Interrupts::channel();
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(recorder.clone())];
    let options = opts();
    let run = execute(&mut plan, &fake, &mut reporters, &options, &mut interrupts);
    let control = async {
        // One write is on the wire; the others wait to be sent, as behind a rate limiter.
        wait_entered(&fake, 1).await;
        tx.send(()).unwrap();
        let mut waited = 0;
        while !recorder
            .0
            .lock()
            .iter()
            .any(|e| matches!(e, Event::Interrupted { .. }))
        {
            tokio::task::yield_now().await;
            waited += 1;
            assert!(waited < 100_000);
        }
        // Were the waiting writes still there, these permits would send them.
        send_gate.add_permits(10);
        gate.add_permits(10);
    };
    let (result, ()) = tokio::time::timeout(Duration::from_secs(10), async { tokio::join!(run, control) })
        .await
        .unwrap();
    let result = result.unwrap();
    assert!(result.interrupted);
    assert_eq!(fake.writes(), 1, "only the write on the wire was sent");
    assert_eq!(result.totals.created, 1);
    assert_eq!(recorder.finished().len(), 1);
}

#[tokio::test]
async fn an_interrupt_after_the_last_row_leaves_nothing_to_resume() {
    let mut fake = tenant();
    let gate = gated(&mut fake);
    let mut plan = plan_with(&fake, creates(&fake, 2), Mode::Merge).await.plan;
    let recorder = Recorder::default();
    let (tx, mut interrupts) = Interrupts::channel();
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(recorder.clone())];
    let options = opts();
    let run = execute(&mut plan, &fake, &mut reporters, &options, &mut interrupts);
    let control = async {
        wait_entered(&fake, 2).await;
        tx.send(()).unwrap();
        let mut waited = 0;
        while !recorder
            .0
            .lock()
            .iter()
            .any(|e| matches!(e, Event::Interrupted { .. }))
        {
            tokio::task::yield_now().await;
            waited += 1;
            assert!(waited < 100_000);
        }
        gate.add_permits(10);
    };
    let (result, ()) = tokio::join!(run, control);
    let result = result.unwrap();
    assert_eq!(result.totals.created, 2);
    assert!(!result.interrupted, "every row is done: nothing to resume");
    assert!(matches!(
        recorder.last(),
        Event::Finished {
            interrupted: false,
            ..
        }
    ));
}

#[tokio::test]
async fn second_interrupt_stops_at_once() {
    let mut fake = tenant();
    let _gate = gated(&mut fake);
    let mut plan = plan_with(&fake, creates(&fake, 6), Mode::Merge).await.plan;
    let recorder = Recorder::default();
    let (tx, mut interrupts) = Interrupts::channel();
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(recorder.clone())];
    let options = opts();
    let run = execute(&mut plan, &fake, &mut reporters, &options, &mut interrupts);
    let control = async {
        wait_entered(&fake, 4).await;
        tx.send(()).unwrap();
        tx.send(()).unwrap();
    };
    let (result, ()) = tokio::time::timeout(Duration::from_secs(10), async { tokio::join!(run, control) })
        .await
        .unwrap();
    let result = result.unwrap();
    assert!(result.interrupted);
    assert_eq!(result.totals.done, 0);
    assert!(recorder.finished().is_empty());
    assert!(matches!(
        recorder.last(),
        Event::Finished {
            interrupted: true,
            ..
        }
    ));
}

#[tokio::test]
async fn in_flight_writes_get_a_bounded_wait() {
    let mut fake = tenant();
    let _gate = gated(&mut fake);
    let mut plan = plan_with(&fake, creates(&fake, 3), Mode::Merge).await.plan;
    let (tx, mut interrupts) = Interrupts::channel();
    let mut reporters: Vec<Box<dyn Reporter>> = Vec::new();
    let options = ExecOptions {
        drain_timeout: Duration::from_millis(200),
        ..opts()
    };
    let run = execute(&mut plan, &fake, &mut reporters, &options, &mut interrupts);
    let control = async {
        wait_entered(&fake, 3).await;
        tx.send(()).unwrap();
    };
    let (result, ()) = tokio::join!(run, control);
    let result = result.unwrap();
    assert!(result.interrupted);
    assert_eq!(result.totals.done, 0);
    assert!(result.elapsed >= Duration::from_millis(200));
}

#[tokio::test]
async fn the_journal_records_every_finished_row_for_resume() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal::path_for(dir.path(), "test");
    let fake = tenant();
    let mut plan = plan_with(&fake, mixed_rows(), Mode::Merge).await.plan;
    let writer = journal::Writer::open(&path, "test", false).unwrap();
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(writer)];
    execute(&mut plan, &fake, &mut reporters, &opts(), &mut Interrupts::none())
        .await
        .unwrap();
    drop(reporters);
    let state = journal::read(&path, "test").unwrap();
    assert_eq!(state.records, 10);
    for item in &plan.items {
        let done = matches!(
            item.action,
            crate::model::Action::Create { .. }
                | crate::model::Action::Update { .. }
                | crate::model::Action::Unchanged { .. }
        );
        assert_eq!(state.is_done(&item.key), done, "line {}", item.line);
        assert_eq!(state.is_failed(&item.key), !done, "line {}", item.line);
    }
}

/// The journal holds its lines until the loop's turn ends, but never past a send: when a write
/// reaches the tenant, its row's before-state is already in the file, and when the run returns,
/// every record is.
#[tokio::test]
async fn each_before_state_is_on_disk_when_its_write_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal::path_for(dir.path(), "test");
    let befores = {
        let path = path.clone();
        move || {
            std::fs::read_to_string(&path)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.starts_with(r#"{"before""#))
                .count()
        }
    };
    let mut fake = tenant();
    let gate = gated(&mut fake);
    // What the journal holds as each write is sent.
    let seen = Arc::new(Mutex::new(Vec::new()));
    fake.on_send = Some(Box::new({
        let seen = Arc::clone(&seen);
        let befores = befores.clone();
        move || seen.lock().push(befores())
    }));
    let rows = creates(&fake, 6);
    let mut plan = plan_with(&fake, rows, Mode::Merge).await.plan;
    assert_eq!(plan.counts.create, 6);
    let writer = journal::Writer::open(&path, "test", false).unwrap();
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(writer)];
    let options = ExecOptions {
        concurrency: 4,
        ..ExecOptions::default()
    };
    let mut interrupts = Interrupts::none();
    let run = execute(&mut plan, &fake, &mut reporters, &options, &mut interrupts);
    let control = async {
        wait_entered(&fake, 4).await;
        gate.add_permits(10);
    };
    let (result, ()) = tokio::join!(run, control);
    let result = result.unwrap();
    assert_eq!(result.totals.created, 6);
    // The n-th write left with at least n before-states in the file.
    let seen = seen.lock().clone();
    assert_eq!(seen.len(), 6);
    for (n, count) in seen.iter().enumerate() {
        assert!(
            *count > n,
            "write {} was sent with {count} before-states on disk",
            n + 1
        );
    }
    // Read while the writer is still open: nothing waits in memory once the run has returned.
    assert_eq!(befores(), 6);
    let state = journal::read(&path, "test").unwrap();
    assert_eq!(state.records, 6);
    for item in &plan.items {
        assert!(state.is_done(&item.key), "line {}", item.line);
    }
    drop(reporters);
}

/// A reporter that cannot write stops the run.
struct Broken;

impl Reporter for Broken {
    fn on_event(&mut self, _plan: &Plan, event: &Event) -> std::io::Result<()> {
        match event {
            Event::RowFinished { .. } => Err(std::io::Error::other("disk full")),
            _ => Ok(()),
        }
    }
}

#[tokio::test]
async fn a_reporter_error_stops_the_run() {
    let fake = tenant();
    let mut plan = plan_with(&fake, creates(&fake, 6), Mode::Merge).await.plan;
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(Broken)];
    let err = execute(&mut plan, &fake, &mut reporters, &opts(), &mut Interrupts::none())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("disk full"), "{err}");
    assert!(fake.writes() <= 4);
}

/// Plan and execute `rows` at once against `fake`, recording the events; also says whether the
/// reporters were opened.
async fn pipelined(
    fake: &Fake,
    rows: Vec<crate::model::ParsedRow>,
    recorder: &Recorder,
) -> (Result<RunResult, PipelineError<()>>, bool) {
    let mut plan_opts = crate::plan::PlanOptions::new("test", Mode::Merge);
    plan_opts.concurrency = 4;
    let mut started = 0;
    let mut on_started = || started += 1;
    let mut opened = false;
    let result = plan_and_execute(
        rows,
        fake,
        &plan_opts,
        &|_| {},
        &mut on_started,
        || {
            opened = true;
            Ok(vec![Box::new(recorder.clone()) as Box<dyn Reporter>])
        },
        &opts(),
        &mut Interrupts::none(),
    )
    .await;
    assert!(started <= 1, "told of the start {started} times");
    (result, opened)
}

#[tokio::test]
async fn planning_while_executing_ends_each_row_as_planning_first_does() {
    let fake = tenant();
    let mut plan = plan_with(&fake, mixed_rows(), Mode::Merge).await.plan;
    let first = Recorder::default();
    run(&fake, &mut plan, &first).await;
    let mut expected: Vec<(u64, String)> = first
        .finished()
        .iter()
        .map(|(i, o)| (plan.items[*i].line, outcome_name(o).to_owned()))
        .collect();
    expected.sort();

    let fake = tenant();
    let second = Recorder::default();
    let result = pipelined(&fake, mixed_rows(), &second).await.0.unwrap();
    // The pipelined plan holds the rows in roster order too, so indexes name the same lines.
    let mut got: Vec<(u64, String)> = second
        .finished()
        .iter()
        .map(|(i, o)| (plan.items[*i].line, outcome_name(o).to_owned()))
        .collect();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(result.totals.done, plan.items.len() as u64);
    assert_eq!(
        result.totals.writes,
        first
            .finished()
            .iter()
            .filter(|(_, o)| matches!(o, RowOutcome::Created | RowOutcome::Updated))
            .count() as u64
    );
    assert!(matches!(second.0.lock().first(), Some(Event::Started { .. })));
    assert!(matches!(
        second.last(),
        Event::Finished {
            interrupted: false,
            ..
        }
    ));
}

#[tokio::test]
async fn writes_start_while_other_spaces_are_still_being_read() {
    let mut fake = tenant();
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    fake.listing_gate = Some(("s2".to_owned(), Arc::clone(&gate)));
    let rows = vec![
        urow(2, "S1", "user3@example.com", &["consumer"]),
        urow(3, "S2", "user4@example.com", &["consumer"]),
    ];
    let recorder = Recorder::default();
    let run = pipelined(&fake, rows, &recorder);
    let check = async {
        // S1's create is sent while S2's assignments are held unread.
        let mut entered = fake.entered.subscribe();
        tokio::time::timeout(Duration::from_secs(10), entered.wait_for(|n| *n >= 1))
            .await
            .expect("no write was sent while a listing was in flight")
            .unwrap();
        assert!(
            fake.calls().contains(&"write:s1:create:u3".to_owned()),
            "{:?}",
            fake.calls()
        );
        assert!(!fake.calls().iter().any(|c| c.starts_with("write:s2")));
        gate.add_permits(1);
    };
    let ((result, _), ()) = tokio::join!(run, check);
    let result = result.unwrap();
    assert_eq!(result.totals.created, 2);
    assert_eq!(fake.roles_of("s2", "u4"), Some(roles(&["consumer"])));
}

#[tokio::test]
async fn a_tenant_that_cannot_be_read_opens_nothing_and_sends_nothing() {
    let fake = tenant();
    fake.state.lock().fail_spaces = Some(401);
    let recorder = Recorder::default();
    let (result, opened) = pipelined(&fake, mixed_rows(), &recorder).await;
    assert!(matches!(result, Err(PipelineError::Plan(_))));
    assert!(
        !opened,
        "the reporters were opened for a run that could not start"
    );
    assert!(recorder.0.lock().is_empty());
    assert_eq!(fake.writes(), 0);
}

#[tokio::test]
async fn a_create_that_met_a_409_records_the_roles_it_found_before_the_update_and_undo_restores_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal::path_for(dir.path(), "test");
    let fake = tenant();
    let mut plan = plan_with(
        &fake,
        vec![urow(2, "S2", "user3@example.com", &["producer"])],
        Mode::Exact,
    )
    .await
    .plan;
    fake.assign("s2", AssigneeKind::User, "u3", &["consumer"]);
    let writer = journal::Writer::open(&path, "test", false).unwrap();
    let recorder = Recorder::default();
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(writer), Box::new(recorder.clone())];
    execute(&mut plan, &fake, &mut reporters, &opts(), &mut Interrupts::none())
        .await
        .unwrap();
    drop(reporters);
    // The roles found come before the row's end, so before the update was answered.
    let events = recorder.0.lock().clone();
    let found = events
        .iter()
        .position(|e| matches!(e, Event::RowFound { roles, .. } if *roles == vec!["consumer".to_owned()]))
        .expect("a RowFound event");
    let finished = events
        .iter()
        .position(|e| matches!(e, Event::RowFinished { .. }))
        .unwrap();
    assert!(found < finished);

    let run = crate::history::read_run(&path).unwrap();
    let befores = run.before_of();
    let before = befores.values().next().unwrap();
    assert_eq!(before.change, crate::before::Change::Update);
    assert!(before.existing);
    assert_eq!(before.roles, Some(vec!["consumer".to_owned()]));
    // Undo puts the roles found back, rather than saying it cannot.
    let changes = crate::undo::changes(&run);
    let current = crate::undo::read_current(&fake, &changes, 1).await;
    let undo = crate::undo::plan("test", &fake, "r", &changes, &current, false);
    assert!(
        matches!(&undo.items[0].action, crate::model::Action::Update { new, .. } if *new == vec!["consumer".to_owned()]),
        "{:?}",
        undo.items[0].action
    );
}
