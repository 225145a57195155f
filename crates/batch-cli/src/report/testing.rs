//! Hand-built plans and event sequences for the reporters' snapshot tests: no network, no clock.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use engine::model::{Action, Event, Plan, RowOutcome, Totals};

/// A writer whose bytes the test can read back after handing a clone to a reporter.
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().clone()).unwrap()
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The plan the event sequence runs: every kind of row.
pub(crate) fn demo_plan() -> Plan {
    crate::report::diff::tests::sample_plan()
}

/// Keeps totals as an executor would, so the hand-built events are consistent.
struct Tally {
    t: Totals,
}

impl Tally {
    fn finish(&mut self, plan: &Plan, index: usize, attempts: u32) -> Event {
        let outcome = match &plan.items[index].action {
            Action::Create { .. } => RowOutcome::Created,
            Action::Update { .. } => RowOutcome::Updated,
            Action::Unchanged { .. } => RowOutcome::Unchanged,
            Action::Delete { .. } => RowOutcome::Deleted,
            Action::Error(e) => RowOutcome::Failed(e.clone()),
        };
        match &outcome {
            RowOutcome::Created => self.t.created += 1,
            RowOutcome::Updated => self.t.updated += 1,
            RowOutcome::Unchanged => self.t.unchanged += 1,
            RowOutcome::Deleted => self.t.deleted += 1,
            RowOutcome::Failed(_) => self.t.failed += 1,
        }
        self.t.done += 1;
        Event::RowFinished {
            index,
            outcome,
            attempts,
            totals: self.t,
        }
    }
}

/// A run of [`demo_plan`] with a transient failure, one 429 pause seen by two writes, row errors,
/// and an update that needed a second attempt; each event with its time since the start.
pub(crate) fn demo_events(plan: &Plan) -> Vec<(Duration, Event)> {
    let ms = Duration::from_millis;
    let mut k = Tally {
        t: Totals {
            total: plan.items.len() as u64,
            ..Totals::default()
        },
    };
    let mut ev = vec![(
        ms(0),
        Event::Started {
            totals: k.t,
            write_limit_per_min: 120,
            write_window: None,
        },
    )];
    // Unchanged and error rows end at once, without a write.
    for index in [0, 3, 4, 5] {
        ev.push((ms(0), k.finish(plan, index, 0)));
    }
    ev.push((ms(100), Event::RowStarted { index: 7 }));
    k.t.writes += 1;
    ev.push((ms(600), k.finish(plan, 7, 1)));
    ev.push((ms(600), Event::RowStarted { index: 1 }));
    k.t.writes += 1;
    k.t.retrying += 1;
    ev.push((
        ms(1100),
        Event::RowRetrying {
            index: 1,
            attempt: 2,
            delay: ms(1000),
            cause: "server error (HTTP 503)".to_owned(),
            totals: k.t,
        },
    ));
    ev.push((ms(1200), Event::RowStarted { index: 2 }));
    k.t.writes += 1;
    k.t.throttled += 1;
    ev.push((
        ms(1700),
        Event::Throttled {
            resume_in: Duration::from_secs(13),
            totals: k.t,
            pacing_per_min: None,
        },
    ));
    k.t.writes += 1;
    k.t.throttled += 1;
    ev.push((
        ms(2100),
        Event::Throttled {
            resume_in: ms(12_600),
            totals: k.t,
            pacing_per_min: None,
        },
    ));
    k.t.writes += 1;
    ev.push((ms(14_800), k.finish(plan, 2, 2)));
    k.t.writes += 1;
    k.t.retrying -= 1;
    ev.push((ms(15_300), k.finish(plan, 1, 3)));
    ev.push((ms(15_400), Event::RowStarted { index: 6 }));
    k.t.writes += 1;
    ev.push((ms(15_900), k.finish(plan, 6, 1)));
    ev.push((
        ms(15_900),
        Event::Finished {
            totals: k.t,
            elapsed: ms(15_900),
            interrupted: false,
        },
    ));
    ev
}

/// The same run stopped by Ctrl-C after the delete.
pub(crate) fn interrupted_events(plan: &Plan) -> Vec<(Duration, Event)> {
    let mut ev: Vec<_> = demo_events(plan).into_iter().take(7).collect();
    let totals = match ev.last() {
        Some((_, Event::RowFinished { totals, .. })) => *totals,
        _ => Totals::default(),
    };
    let ms = Duration::from_millis;
    ev.push((ms(700), Event::Interrupted { totals }));
    ev.push((
        ms(900),
        Event::Finished {
            totals,
            elapsed: ms(900),
            interrupted: true,
        },
    ));
    ev
}
