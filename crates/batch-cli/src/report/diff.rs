//! How a [`Plan`] looks: a text diff for people, one JSON document for programs.
//!
//! Both go to stdout (the plan is the data the user asked for); the resolve-phase progress that
//! comes before it goes to stderr (see [`super::resolve`]).
//!
//! The text diff groups rows by space, in the order the roster first names each space. Within a
//! space, deletes come first, then creates, updates, unchanged rows and errors, each in roster
//! order:
//!
//! ```text
//! Finance Prod (shared)
//!   - user   old@example.com     consumer  (not in the roster)
//!   + user   alice@example.com   consumer, producer  (line 3)
//!   ~ user   bob@example.com     consumer -> consumer, producer  (line 4)
//!   = group  Finance Analysts    consumer  (line 2)
//!   ! user   nobody@example.com  unknown user "nobody@example.com"  (line 9)
//! ```
//!
//! Then the counts, the number of write calls and the least time they need at the write rate
//! limit. The symbols carry the meaning; colour only repeats it.

use std::collections::HashMap;
use std::io::{self, Write};

use serde::Serialize;

use super::format::{self, Paint};
use engine::model::{Action, AssigneeRef, Plan, PlanCounts, PlanItem, RowError, SpaceRef};

/// The version of the plan's JSON document (`format_version`). Fields may be added within a
/// version; a removed or renamed field bumps it.
pub const PLAN_JSON_VERSION: u32 = 1;

/// The space as people know it: the tenant's name when it resolved, else what the roster said.
pub fn space_label(item: &PlanItem) -> &str {
    match (&item.space_info, &item.space) {
        (Some(info), _) => &info.name,
        (None, SpaceRef::Name(name) | SpaceRef::Id(name)) => name,
    }
}

/// The assignee as the roster names it.
pub fn assignee_label(item: &PlanItem) -> &str {
    match &item.assignee {
        AssigneeRef::Email(v) | AssigneeRef::Name(v) | AssigneeRef::Id(v) => v,
    }
}

/// The assignee's type as the row gives it: `user`, `group`, or, for an invalid row, whatever
/// its type cell says (`?` when empty).
pub fn kind_label(item: &PlanItem) -> String {
    match &item.stated_type {
        Some(stated) if stated.is_empty() => "?".to_owned(),
        Some(stated) => stated.clone(),
        None => item.assignee_kind.to_string(),
    }
}

/// `assignee_kind` for the JSON documents: absent when the row's type is neither user nor group
/// (`stated_type` then says what it is).
pub(crate) fn json_kind(item: &PlanItem) -> Option<core_api::target::AssigneeKind> {
    item.stated_type.is_none().then_some(item.assignee_kind)
}

/// The one-character marker of an action, shared by the diff and the JSON (`op`).
pub fn marker(action: &Action) -> char {
    match action {
        Action::Delete { .. } => '-',
        Action::Create { .. } => '+',
        Action::Update { .. } => '~',
        Action::Unchanged { .. } => '=',
        Action::Error(_) => '!',
    }
}

fn rank(action: &Action) -> u8 {
    match action {
        Action::Delete { .. } => 0,
        Action::Create { .. } => 1,
        Action::Update { .. } => 2,
        Action::Unchanged { .. } => 3,
        Action::Error(_) => 4,
    }
}

/// Longest assignee column before it stops being padded, so one long name does not push every
/// other row off the screen.
const MAX_ASSIGNEE_WIDTH: usize = 40;

/// Write the plan as a text diff. `color` adds ANSI colour (the text means the same without it).
pub fn render_text(plan: &Plan, out: &mut impl Write, color: bool) -> io::Result<()> {
    let paint = Paint::new(color);
    let rows = plan.items.iter().filter(|i| i.line > 0).count() as u64;
    let noun = if rows == 1 { "row" } else { "rows" };
    writeln!(
        out,
        "{}",
        paint.bold(&format!(
            "plan for target {:?} ({} mode, {} roster {noun})",
            plan.target,
            mode_name(plan),
            format::count(rows)
        ))
    )?;

    // Group by space in the order the plan first mentions it; keep the roster order inside.
    let mut order: Vec<&str> = Vec::new();
    let mut groups: HashMap<&str, Vec<&PlanItem>> = HashMap::new();
    for item in &plan.items {
        let label = space_label(item);
        groups
            .entry(label)
            .or_insert_with(|| {
                order.push(label);
                Vec::new()
            })
            .push(item);
    }

    for label in order {
        let Some(items) = groups.get_mut(label) else {
            continue;
        };
        items.sort_by_key(|i| (rank(&i.action), i.line));
        writeln!(out)?;
        writeln!(out, "{}", paint.bold(&space_heading(label, items)))?;
        let width = items
            .iter()
            .map(|i| assignee_label(i).chars().count())
            .max()
            .unwrap_or(0)
            .min(MAX_ASSIGNEE_WIDTH);
        for item in items.iter() {
            render_item(item, width, paint, out)?;
        }
    }

    writeln!(out)?;
    writeln!(out, "{}", counts_line(&plan.counts))?;
    if plan.counts.emailed > 0 {
        writeln!(
            out,
            "{} new {} will be emailed by the target when added",
            format::count(plan.counts.emailed),
            if plan.counts.emailed == 1 {
                "member"
            } else {
                "members"
            },
        )?;
    }
    if plan.write_calls == 0 {
        writeln!(out, "no write calls needed")?;
    } else {
        writeln!(
            out,
            "{} write {}, {} {} at the write rate limit",
            format::count(plan.write_calls),
            if plan.write_calls == 1 { "call" } else { "calls" },
            if plan.write_time_estimated {
                "about"
            } else {
                "at least"
            },
            format::duration(plan.min_write_time),
        )?;
    }
    Ok(())
}

fn mode_name(plan: &Plan) -> &'static str {
    match plan.mode {
        engine::model::Mode::Merge => "merge",
        engine::model::Mode::Exact => "exact",
    }
}

fn space_heading(label: &str, items: &[&PlanItem]) -> String {
    match items.iter().find_map(|i| i.space_info.as_ref()) {
        Some(info) if info.space_type.is_empty() => label.to_owned(),
        Some(info) => format!("{label} ({})", info.space_type),
        // A space a migration would create (`migrate --plan`) has rows to create and no type yet.
        None if items.iter().any(|i| matches!(i.action, Action::Create { .. })) => {
            format!("{label} (to be created)")
        }
        // Only a space that was looked up can be "not found"; invalid rows are never looked up.
        None if items.iter().any(|i| is_error(i, "unknown_space")) => format!("{label} (not found)"),
        None if label.is_empty() => "(no space given)".to_owned(),
        None => label.to_owned(),
    }
}

fn is_error(item: &PlanItem, code: &str) -> bool {
    matches!(&item.action, Action::Error(err) if err.code == code)
}

fn render_item(item: &PlanItem, width: usize, paint: Paint, out: &mut impl Write) -> io::Result<()> {
    let mark = marker(&item.action).to_string();
    let (mark, detail) = match &item.action {
        Action::Create { roles } => (paint.green(&mark), format::roles(roles)),
        Action::Update { old, new, .. } => (
            paint.yellow(&mark),
            format!("{} -> {}", format::roles(old), format::roles(new)),
        ),
        Action::Unchanged { roles } => (paint.dim(&mark), format::roles(roles)),
        Action::Delete { roles, .. } => (paint.red(&mark), format::roles(roles)),
        Action::Error(err) => (paint.red(&mark), paint.red(&err.message)),
    };
    let kind = kind_label(item);
    let assignee = assignee_label(item);
    let pad = width.saturating_sub(assignee.chars().count());
    let place = if item.line == 0 {
        "(not in the roster)".to_owned()
    } else {
        format!("(line {})", item.line)
    };
    writeln!(
        out,
        "  {mark} {kind:<5}  {assignee}{:pad$}  {detail}  {}",
        "",
        paint.dim(&place)
    )
}

/// `3 to create, 1 to update, 10 unchanged, 0 to delete, 2 errors`: deletes only when there are
/// some, since most plans never delete.
pub fn counts_line(c: &PlanCounts) -> String {
    let mut parts = vec![
        format!("{} to create", format::count(c.create)),
        format!("{} to update", format::count(c.update)),
        format!("{} unchanged", format::count(c.unchanged)),
    ];
    if c.delete > 0 {
        parts.push(format!("{} to delete", format::count(c.delete)));
    }
    parts.push(format!(
        "{} {}",
        format::count(c.error),
        if c.error == 1 { "error" } else { "errors" }
    ));
    parts.join(", ")
}

/// The plan's JSON document. Durations are whole milliseconds; rows keep the plan's order.
#[derive(Debug, Serialize)]
struct PlanJson<'a> {
    format_version: u32,
    target: &'a str,
    mode: engine::model::Mode,
    counts: &'a PlanCounts,
    write_calls: u64,
    min_write_time_ms: u64,
    items: Vec<ItemJson<'a>>,
}

/// One row of the plan's JSON. `op` is the diff's marker; fields that do not apply are absent.
#[derive(Debug, Serialize)]
struct ItemJson<'a> {
    line: u64,
    key: &'a str,
    op: char,
    action: &'static str,
    space: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    space_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assignee_kind: Option<core_api::target::AssigneeKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stated_type: Option<&'a str>,
    assignee: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    assignee_id: Option<&'a str>,
    roles: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    assignment_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_roles: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_roles: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a RowError>,
}

fn item_json(item: &PlanItem) -> ItemJson<'_> {
    let mut json = ItemJson {
        line: item.line,
        key: &item.key.0,
        op: marker(&item.action),
        action: "",
        space: space_label(item),
        space_id: item.space_info.as_ref().map(|s| s.id.as_str()),
        assignee_kind: json_kind(item),
        stated_type: item.stated_type.as_deref(),
        assignee: assignee_label(item),
        assignee_id: item.assignee_id.as_deref(),
        roles: &item.roles,
        assignment_id: None,
        old_roles: None,
        new_roles: None,
        error: None,
    };
    match &item.action {
        Action::Create { .. } => json.action = "create",
        Action::Update {
            assignment_id,
            old,
            new,
        } => {
            json.action = "update";
            json.assignment_id = Some(assignment_id);
            json.old_roles = Some(old);
            json.new_roles = Some(new);
        }
        Action::Unchanged { .. } => json.action = "unchanged",
        Action::Delete { assignment_id, roles } => {
            json.action = "delete";
            json.assignment_id = Some(assignment_id);
            json.old_roles = Some(roles);
        }
        Action::Error(err) => {
            json.action = "error";
            json.error = Some(err);
        }
    }
    json
}

/// Write the plan as one pretty-printed JSON document followed by a newline.
///
/// ```json
/// {
///   "format_version": 1,
///   "target": "prod",
///   "mode": "merge",
///   "counts": { "create": 1, "update": 1, "unchanged": 0, "delete": 0, "error": 1 },
///   "write_calls": 2,
///   "min_write_time_ms": 1200,
///   "items": [
///     { "line": 2, "key": "…", "op": "+", "action": "create", "space": "Finance",
///       "space_id": "…", "assignee_kind": "user", "assignee": "alice@example.com",
///       "assignee_id": "…", "roles": ["consumer"] },
///     { "line": 3, "op": "~", "action": "update", "assignment_id": "…",
///       "old_roles": ["consumer"], "new_roles": ["consumer", "producer"], … },
///     { "line": 4, "op": "!", "action": "error",
///       "error": { "code": "unknown_user", "http_status": null, "message": "…", "attempts": 0 }, … }
///   ]
/// }
/// ```
pub fn render_json(plan: &Plan, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &plan_json(plan))?;
    writeln!(out)
}

fn plan_json(plan: &Plan) -> PlanJson<'_> {
    PlanJson {
        format_version: PLAN_JSON_VERSION,
        target: &plan.target,
        mode: plan.mode,
        counts: &plan.counts,
        write_calls: plan.write_calls,
        min_write_time_ms: u64::try_from(plan.min_write_time.as_millis()).unwrap_or(u64::MAX),
        items: plan.items.iter().map(item_json).collect(),
    }
}

/// The plan as a record of a JSON event stream (`roster undo --json`, a fleet's `plan --json`): one line,
/// `{"event":"plan",` then `extra`'s fields, then every field of [`render_json`]'s document
/// (whose `format_version` is the plan document's).
pub fn render_json_record(plan: &Plan, extra: &impl Serialize, out: &mut impl Write) -> io::Result<()> {
    #[derive(Serialize)]
    struct Record<'a, E> {
        event: &'static str,
        #[serde(flatten)]
        extra: &'a E,
        #[serde(flatten)]
        doc: PlanJson<'a>,
    }
    let record = Record {
        event: "plan",
        extra,
        doc: plan_json(plan),
    };
    serde_json::to_writer(&mut *out, &record)?;
    writeln!(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use core_api::target::{AssigneeKind, SpaceInfo};

    use super::*;
    use engine::model::{Mode, RowKey};

    fn space(id: &str, name: &str, ty: &str) -> Arc<SpaceInfo> {
        Arc::new(SpaceInfo {
            id: id.to_owned(),
            name: name.to_owned(),
            space_type: ty.to_owned(),
            owner_id: Some("owner".to_owned()),
            assignable_roles: vec!["consumer".to_owned(), "producer".to_owned()],
            description: None,
        })
    }

    fn roles(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| (*s).to_owned()).collect()
    }

    fn item(
        line: u64,
        sp: Option<&Arc<SpaceInfo>>,
        space_name: &str,
        kind: AssigneeKind,
        who: &str,
        want: &[&str],
        action: Action,
    ) -> PlanItem {
        let assignee = match kind {
            AssigneeKind::User => AssigneeRef::Email(who.to_owned()),
            AssigneeKind::Group => AssigneeRef::Name(who.to_owned()),
        };
        PlanItem {
            line,
            key: RowKey(format!("{line:032x}")),
            space: SpaceRef::Name(space_name.to_owned()),
            space_info: sp.cloned(),
            assignee_kind: kind,
            assignee,
            assignee_id: sp.map(|_| format!("id-{who}")),
            stated_type: None,
            roles: roles(want),
            action,
        }
    }

    fn err(code: &str, message: &str) -> Action {
        Action::Error(RowError {
            code: code.to_owned(),
            http_status: None,
            message: message.to_owned(),
            attempts: 0,
        })
    }

    /// A plan with every kind of row, over two spaces plus one that does not exist.
    pub(crate) fn sample_plan() -> Plan {
        let fin = space("sp-fin", "Finance Prod", "shared");
        let sales = space("sp-sales", "Sales", "managed");
        let u = AssigneeKind::User;
        let g = AssigneeKind::Group;
        let items = vec![
            item(
                2,
                Some(&fin),
                "Finance Prod",
                g,
                "Finance Analysts",
                &["consumer"],
                Action::Unchanged {
                    roles: roles(&["consumer"]),
                },
            ),
            item(
                3,
                Some(&fin),
                "Finance Prod",
                u,
                "alice@example.com",
                &["consumer", "producer"],
                Action::Create {
                    roles: roles(&["consumer", "producer"]),
                },
            ),
            item(
                4,
                Some(&fin),
                "Finance Prod",
                u,
                "bob@example.com",
                &["producer"],
                Action::Update {
                    assignment_id: "as-bob".to_owned(),
                    old: roles(&["consumer"]),
                    new: roles(&["consumer", "producer"]),
                },
            ),
            item(
                5,
                Some(&sales),
                "Sales",
                u,
                "nobody@example.com",
                &["consumer"],
                err("unknown_user", "unknown user \"nobody@example.com\""),
            ),
            item(
                6,
                None,
                "Nowhere",
                u,
                "alice@example.com",
                &["consumer"],
                err("unknown_space", "unknown space \"Nowhere\""),
            ),
            item(
                7,
                Some(&sales),
                "Sales",
                g,
                "Sales Team",
                &["producer"],
                err(
                    "role_not_assignable",
                    "role \"producer\" cannot be assigned in a managed space",
                ),
            ),
            item(
                8,
                Some(&sales),
                "Sales",
                u,
                "carol.with.a.long.address@example.com",
                &["consumer"],
                Action::Create {
                    roles: roles(&["consumer"]),
                },
            ),
            item(
                0,
                Some(&fin),
                "Finance Prod",
                u,
                "old@example.com",
                &[],
                Action::Delete {
                    assignment_id: "as-old".to_owned(),
                    roles: roles(&["consumer"]),
                },
            ),
        ];
        Plan {
            target: "demo".to_owned(),
            mode: Mode::Merge,
            items,
            counts: PlanCounts {
                create: 2,
                update: 1,
                unchanged: 1,
                delete: 1,
                error: 3,
                emailed: 0,
            },
            write_calls: 4,
            min_write_time: Duration::from_millis(2400),
            write_time_estimated: false,
        }
    }

    fn text(plan: &Plan, color: bool) -> String {
        let mut out = Vec::new();
        render_text(plan, &mut out, color).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plan_text() {
        insta::assert_snapshot!(text(&sample_plan(), false));
    }

    #[test]
    fn plan_text_with_colour_means_the_same() {
        let plain = text(&sample_plan(), false);
        let coloured = text(&sample_plan(), true);
        assert_ne!(plain, coloured);
        assert_eq!(console::strip_ansi_codes(&coloured), plain);
    }

    #[test]
    fn plan_text_with_nothing_to_write() {
        let mut plan = sample_plan();
        plan.items
            .retain(|i| matches!(i.action, Action::Unchanged { .. }));
        plan.counts = PlanCounts {
            unchanged: 1,
            ..PlanCounts::default()
        };
        plan.write_calls = 0;
        plan.min_write_time = Duration::ZERO;
        insta::assert_snapshot!(text(&plan, false));
    }

    #[test]
    fn a_bursting_plan_gives_its_write_time_as_an_estimate() {
        let mut plan = sample_plan();
        assert!(text(&plan, false).contains("4 write calls, at least 2.4s at the write rate limit"));
        plan.write_time_estimated = true;
        plan.min_write_time = Duration::from_millis(3040);
        assert!(text(&plan, false).contains("4 write calls, about 3.1s at the write rate limit"));
    }

    #[test]
    fn plan_json() {
        let mut out = Vec::new();
        render_json(&sample_plan(), &mut out).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["items"].as_array().unwrap().len(), 8);
        assert_eq!(value["min_write_time_ms"], 2400);
        insta::assert_snapshot!(String::from_utf8(out).unwrap());
    }
}
