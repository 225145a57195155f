//! `--json`: one JSON object per executor event, one per line, on stdout.
//!
//! This is a public format, versioned by `format_version` in the `started` event. Within a
//! version fields may be added, never removed or renamed; consumers should ignore fields they do
//! not know. Every object has an `event` field; durations are whole milliseconds; row events
//! carry `index` (the row's position in the plan) and `row`, the row as the roster names it:
//!
//! ```text
//! {"event":"started","format_version":1,"target":"prod","write_limit_per_min":100,"write_budget":500,"write_window_secs":300,"totals":{…}}
//! {"event":"row_started","index":7,"row":{"line":12,"key":"…","space":"Sales","space_id":"…","assignee_kind":"user","assignee":"a@example.com","assignee_id":"…"}}
//! {"event":"row_retrying","index":7,"row":{…},"attempt":2,"delay_ms":1000,"cause":"server error (HTTP 503)","totals":{…}}
//! {"event":"throttled","resume_in_ms":13000,"totals":{…}}
//! {"event":"throttled","resume_in_ms":2000,"pacing_per_min":100,"totals":{…}}
//! {"event":"row_finished","index":7,"row":{…},"outcome":"created","attempts":1,"totals":{…}}
//! {"event":"row_finished","index":9,"row":{…},"outcome":"failed","error":{"code":"unknown_user","http_status":null,"message":"…","attempts":0},"attempts":0,"totals":{…}}
//! {"event":"interrupted","totals":{…}}
//! {"event":"finished","elapsed_ms":45012,"interrupted":false,"totals":{…}}
//! ```
//!
//! `outcome` is one of `created`, `updated`, `unchanged`, `deleted`, `failed`. `totals` has the
//! running counts `total`, `done`, `resumed`, `created`, `updated`, `unchanged`, `deleted`,
//! `failed`, `retrying`, `writes` and `throttled` (429 responses received).

use std::io::{self, Write};
use std::time::Duration;

use core_api::target::AssigneeKind;
use serde::Serialize;

use super::diff::{assignee_label, space_label};
use engine::model::{Event, Plan, Reporter, RowError, RowOutcome, Totals};

/// The version of the JSON event stream (`format_version` in `started`).
pub const EVENTS_JSON_VERSION: u32 = 1;

/// A row as the roster names it, with the ids it resolved to.
#[derive(Debug, Serialize)]
struct RowJson<'a> {
    line: u64,
    key: &'a str,
    space: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    space_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assignee_kind: Option<AssigneeKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stated_type: Option<&'a str>,
    assignee: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    assignee_id: Option<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum JsonEvent<'a> {
    Started {
        format_version: u32,
        /// Left out when the line already carries its target first (a fleet's stream).
        #[serde(skip_serializing_if = "Option::is_none")]
        target: Option<&'a str>,
        write_limit_per_min: u32,
        /// Pace burst: the writes any window may hold, and the window.
        #[serde(skip_serializing_if = "Option::is_none")]
        write_budget: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        write_window_secs: Option<u64>,
        totals: &'a Totals,
    },
    RowStarted {
        index: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        row: Option<RowJson<'a>>,
    },
    RowRetrying {
        index: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        row: Option<RowJson<'a>>,
        attempt: u32,
        delay_ms: u64,
        cause: &'a str,
        totals: &'a Totals,
    },
    Throttled {
        resume_in_ms: u64,
        /// Set on the 429 that refused a burst: writes pace steadily at this rate from then on.
        #[serde(skip_serializing_if = "Option::is_none")]
        pacing_per_min: Option<u32>,
        totals: &'a Totals,
    },
    RowFinished {
        index: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        row: Option<RowJson<'a>>,
        outcome: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'a RowError>,
        attempts: u32,
        totals: &'a Totals,
    },
    Interrupted {
        totals: &'a Totals,
    },
    Finished {
        elapsed_ms: u64,
        interrupted: bool,
        totals: &'a Totals,
    },
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn row(plan: &Plan, index: usize) -> Option<RowJson<'_>> {
    plan.items.get(index).map(|item| RowJson {
        line: item.line,
        key: &item.key.0,
        space: space_label(item),
        space_id: item.space_info.as_ref().map(|s| s.id.as_str()),
        assignee_kind: super::diff::json_kind(item),
        stated_type: item.stated_type.as_deref(),
        assignee: assignee_label(item),
        assignee_id: item.assignee_id.as_deref(),
    })
}

/// `own_target`: whether `started` names the plan's target itself (a single run's stream).
fn to_json<'a>(plan: &'a Plan, event: &'a Event, own_target: bool) -> Option<JsonEvent<'a>> {
    Some(match event {
        // The created assignment's id is for the journal; the stream's rows stay as documented.
        Event::RowCreated { .. } | Event::RowFound { .. } => return None,
        Event::Started {
            totals,
            write_limit_per_min,
            write_window,
        } => JsonEvent::Started {
            format_version: EVENTS_JSON_VERSION,
            target: own_target.then_some(plan.target.as_str()),
            write_limit_per_min: *write_limit_per_min,
            write_budget: write_window.map(|w| w.budget),
            write_window_secs: write_window.map(|w| w.window.as_secs()),
            totals,
        },
        Event::RowStarted { index } => JsonEvent::RowStarted {
            index: *index,
            row: row(plan, *index),
        },
        Event::RowRetrying {
            index,
            attempt,
            delay,
            cause,
            totals,
        } => JsonEvent::RowRetrying {
            index: *index,
            row: row(plan, *index),
            attempt: *attempt,
            delay_ms: ms(*delay),
            cause,
            totals,
        },
        Event::Throttled {
            resume_in,
            totals,
            pacing_per_min,
        } => JsonEvent::Throttled {
            resume_in_ms: ms(*resume_in),
            pacing_per_min: *pacing_per_min,
            totals,
        },
        Event::RowFinished {
            index,
            outcome,
            attempts,
            totals,
        } => {
            let (outcome, error) = match outcome {
                RowOutcome::Created => ("created", None),
                RowOutcome::Updated => ("updated", None),
                RowOutcome::Unchanged => ("unchanged", None),
                RowOutcome::Deleted => ("deleted", None),
                RowOutcome::Failed(err) => ("failed", Some(err)),
            };
            JsonEvent::RowFinished {
                index: *index,
                row: row(plan, *index),
                outcome,
                error,
                attempts: *attempts,
                totals,
            }
        }
        Event::Interrupted { totals } => JsonEvent::Interrupted { totals },
        Event::Finished {
            totals,
            elapsed,
            interrupted,
        } => JsonEvent::Finished {
            elapsed_ms: ms(*elapsed),
            interrupted: *interrupted,
            totals,
        },
    })
}

/// Write one event as one line of JSON.
pub fn write_event(plan: &Plan, event: &Event, out: &mut impl Write) -> io::Result<()> {
    let Some(json) = to_json(plan, event, true) else {
        return Ok(());
    };
    serde_json::to_writer(&mut *out, &json)?;
    out.write_all(b"\n")
}

/// Write one event as one line of JSON with `"target":TARGET` as its first field, and no other
/// `target` (a fleet's stream: `started` would otherwise name it twice). `target` is the
/// target's name already serialized as a JSON string. Nothing is written for an event the
/// stream leaves out.
pub fn write_event_for(target: &str, plan: &Plan, event: &Event, out: &mut impl Write) -> io::Result<()> {
    let Some(json) = to_json(plan, event, false) else {
        return Ok(());
    };
    let mut line = Vec::with_capacity(256);
    serde_json::to_writer(&mut line, &json)?;
    // Every event object starts with `{`: the target goes in as its first field.
    let Some(rest) = line.strip_prefix(b"{") else {
        return Ok(());
    };
    out.write_all(b"{\"target\":")?;
    out.write_all(target.as_bytes())?;
    out.write_all(b",")?;
    out.write_all(rest)?;
    out.write_all(b"\n")
}

/// The `--json` reporter: every event, one line each, flushed as written so a consumer sees
/// the run live.
pub struct JsonReporter {
    out: Box<dyn Write + Send>,
}

impl JsonReporter {
    /// Write to `out` (stdout in the CLI).
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self { out }
    }

    /// Write to the process's stdout.
    pub fn stdout() -> Self {
        Self::new(Box::new(io::stdout()))
    }
}

impl Reporter for JsonReporter {
    fn on_event(&mut self, plan: &Plan, event: &Event) -> io::Result<()> {
        write_event(plan, event, &mut self.out)?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::{SharedBuf, demo_events, demo_plan, interrupted_events};

    fn lines(events: &[(Duration, Event)]) -> String {
        let plan = demo_plan();
        let buf = SharedBuf::default();
        let mut r = JsonReporter::new(Box::new(buf.clone()));
        for (_, e) in events {
            r.on_event(&plan, e).unwrap();
        }
        buf.text()
    }

    #[test]
    fn json_event_lines() {
        let plan = demo_plan();
        let events = demo_events(&plan);
        let text = lines(&events);
        assert_eq!(text.lines().count(), events.len(), "one line per event");
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v["event"].is_string(), "{line}");
        }
        insta::assert_snapshot!(text);
    }

    /// A fleet's lines carry the target once, first, in every event kind (`started` names its
    /// target itself in a single run's stream, and must not name it again).
    #[test]
    fn a_fleet_event_line_carries_its_target_once_and_first() {
        let plan = demo_plan();
        let mut events = demo_events(&plan);
        events.extend(interrupted_events(&plan));
        let mut kinds = std::collections::BTreeSet::new();
        for (_, event) in &events {
            let mut line = Vec::new();
            write_event_for("\"cust-01\"", &plan, event, &mut line).unwrap();
            if matches!(event, Event::RowCreated { .. }) {
                assert!(line.is_empty());
                continue;
            }
            let text = String::from_utf8(line).unwrap();
            assert!(text.starts_with("{\"target\":\"cust-01\",\"event\":"), "{text}");
            assert!(text.ends_with('\n'), "{text}");
            assert_eq!(text.matches("\"target\":").count(), 1, "{text}");
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            kinds.insert(value["event"].as_str().unwrap().to_owned());
        }
        for kind in [
            "started",
            "row_started",
            "row_finished",
            "interrupted",
            "finished",
        ] {
            assert!(kinds.contains(kind), "no {kind} event among {kinds:?}");
        }
    }

    #[test]
    fn json_event_lines_interrupted() {
        let plan = demo_plan();
        let text = lines(&interrupted_events(&plan));
        let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["event"], "finished");
        assert_eq!(last["interrupted"], true);
        insta::assert_snapshot!(text);
    }
}
