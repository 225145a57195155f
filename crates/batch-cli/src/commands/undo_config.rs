//! The tenant configuration part of `roster undo`: a tenant apply's settings, group roles,
//! space descriptions, groups and spaces, read as they are now, shown in the tenant plan's diff
//! format, and written back after the assignments' undo, each write's before-state journaled
//! (in the tenant journal, under the undo's run id) before it is sent.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use core_api::target::{SpaceInfo, Target};
use engine::model::Plan;
use engine::tenant::apply::{self as send, ConfigChange};
use engine::tenant::diff::{Mark, Section};
use engine::tenant::undo::{self as config_undo, Item};
use engine::undo;

use crate::error::CommandError;
use crate::exit;
use crate::report::format::Paint;

/// Read the tenant as the changes need it and plan their reverse.
pub(crate) async fn plan(
    target: &dyn Target,
    target_name: &str,
    run_id: &str,
    changes: &[&ConfigChange],
    assignments: &Plan,
    force: bool,
    concurrency: usize,
) -> Result<Vec<Item>, CommandError> {
    let Some(tenant) = target.tenant_config() else {
        return Err(CommandError::new(format!(
            "run {run_id} changed a tenant's configuration, which target {target_name:?} cannot; nothing was sent"
        )));
    };
    let current = config_undo::read_current(changes, target, tenant, concurrency)
        .await
        .map_err(|error| CommandError::from_chain(&error).code(exit::USAGE))?;
    Ok(config_undo::plan(
        run_id,
        changes,
        &current,
        assignments,
        force,
        engine::before::now_ms(),
    ))
}

/// How many writes the items send.
pub(crate) fn write_count(items: &[Item]) -> usize {
    items.iter().filter(|i| i.write.is_some()).count()
}

/// How many items are conflicts.
pub(crate) fn conflicts(items: &[Item]) -> usize {
    items.iter().filter(|i| i.code == Some(undo::CONFLICT)).count()
}

/// How many items cannot be done (conflicts included).
pub(crate) fn refused(items: &[Item]) -> usize {
    items.iter().filter(|i| i.mark == Mark::Error).count()
}

/// A configuration value as the plan shows it: a list as its items, `(none)` when empty; an
/// object as `key value` pairs, each value in JSON so that a string with a comma stays one.
pub(crate) fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Array(items) if items.is_empty() => "(none)".to_owned(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        serde_json::Value::Object(map) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// The items as the tenant plan shows its sections: `~` restore, `-` delete, `+` create again,
/// `=` already as before, `!` conflict or refused, with why.
pub(crate) fn render_text(items: &[Item], color: bool, out: &mut impl Write) -> io::Result<()> {
    let paint = Paint::new(color);
    writeln!(out, "{}", paint.bold("configuration"))?;
    for section in [
        Section::Spaces,
        Section::GroupRoles,
        Section::Groups,
        Section::Settings,
    ] {
        let lines: Vec<&Item> = items.iter().filter(|i| i.section == section).collect();
        if lines.is_empty() {
            continue;
        }
        writeln!(out, "  {}", paint.bold(section.title()))?;
        for item in lines {
            let symbol = if item.delete { '-' } else { item.mark.symbol() };
            let detail = match item.mark {
                Mark::Error => format!("  {}", item.error.as_deref().unwrap_or_default()),
                _ if item.delete => format!(
                    "  delete ({})",
                    item.old.as_ref().map(value_text).unwrap_or_default()
                ),
                Mark::Update => format!(
                    "  {} -> {}",
                    item.old.as_ref().map(value_text).unwrap_or_default(),
                    item.new.as_ref().map(value_text).unwrap_or_default()
                ),
                Mark::Create => item
                    .new
                    .as_ref()
                    .map(|n| format!("  {}", value_text(n)))
                    .unwrap_or_default(),
                Mark::Unchanged => "  already as before the run".to_owned(),
            };
            let line = format!("    {symbol} {}{detail}", item.name);
            let line = match (item.mark, item.delete) {
                (Mark::Error, _) => paint.red(&line),
                (_, true) => paint.red(&line),
                (Mark::Create, _) => paint.green(&line),
                (Mark::Update, _) => paint.yellow(&line),
                (Mark::Unchanged, _) => paint.dim(&line),
            };
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// What the configuration part of an undo is to send, and where it records it.
pub(crate) struct Sending<'a> {
    /// The state directory (the tenant journal's).
    pub state_dir: &'a Path,
    /// The target's name.
    pub target_name: &'a str,
    /// The undo's run id.
    pub run_id: &'a str,
    /// The reversed run.
    pub undoes: &'a str,
    /// Writes at once within a section.
    pub concurrency: usize,
    /// `--json`: one `tenant_write` event per write on stdout.
    pub json: bool,
    /// `--quiet`.
    pub quiet: bool,
}

/// Whether a write creates a group or space again.
fn recreates(write: &engine::tenant::diff::Write) -> bool {
    matches!(
        write,
        engine::tenant::diff::Write::CreateGroup { .. } | engine::tenant::diff::Write::CreateSpace { .. }
    )
}

/// Plan the assignments of spaces the undo creates again as if they were there, empty. Returns
/// whether there are any.
pub(crate) fn assume_recreated(items: &[Item], current: &mut HashMap<String, undo::Current>) -> bool {
    let mut any = false;
    for item in items {
        if let (
            Some(engine::tenant::diff::Write::CreateSpace {
                name, description, ..
            }),
            Some((old, space_type)),
        ) = (&item.write, &item.replaces)
        {
            undo::assume_empty(
                current,
                SpaceInfo {
                    id: old.clone(),
                    name: name.clone(),
                    space_type: space_type.clone(),
                    owner_id: None,
                    assignable_roles: Vec::new(),
                    description: description.clone(),
                },
            );
            any = true;
        }
    }
    any
}

/// New ids of what was created again: spaces (old id to the new space) and groups (old id to
/// new id).
#[derive(Debug, Default)]
pub(crate) struct Renamed {
    spaces: Vec<(String, String)>,
    groups: HashMap<String, String>,
}

/// Point the assignments' plan at the groups and spaces created again.
pub(crate) async fn retarget(plan: &mut Plan, target: &dyn Target, renamed: &Renamed) {
    let mut spaces = HashMap::new();
    for (old, new) in &renamed.spaces {
        if let Ok(Some(info)) = target.get_space(new).await {
            spaces.insert(old.clone(), info);
        }
    }
    if !spaces.is_empty() || !renamed.groups.is_empty() {
        undo::retarget(plan, &spaces, &renamed.groups);
    }
}

/// Send the items' writes in order (spaces, group roles, groups, settings), each one's
/// before-state journaled first: with `recreate`, only those that create a group or space
/// again, otherwise the rest. Returns how many failed, and the new ids of what was created.
pub(crate) async fn send_writes(
    items: &[Item],
    target: &dyn Target,
    how: &Sending<'_>,
    recreate: bool,
) -> Result<(usize, Renamed), CommandError> {
    let mut renamed = Renamed::default();
    let Some(tenant) = target.tenant_config() else {
        return Ok((0, renamed));
    };
    let planned: Vec<_> = config_undo::writes(items)
        .into_iter()
        .filter(|(w, _)| recreates(w) == recreate)
        .collect();
    if planned.is_empty() {
        return Ok((0, renamed));
    }
    let writes: Vec<_> = planned.iter().map(|(w, _)| w.clone()).collect();
    let journal = send::Journal::new(
        send::journal_path(how.state_dir, how.target_name),
        how.target_name,
        &format!("undo-{}", how.undoes),
    )
    .for_run(how.run_id, "undo", Some(how.undoes));
    let before_of = |write: &engine::tenant::diff::Write| {
        planned
            .iter()
            .find(|(w, _)| w == write)
            .and_then(|(_, b)| b.clone())
    };
    let (json, quiet) = (how.json, how.quiet);
    let mut report = |outcome: &send::Outcome<'_>| {
        let replaced = items
            .iter()
            .find(|i| i.write.as_ref() == Some(outcome.write))
            .and_then(|i| i.replaces.as_ref());
        if let (Some((old, _)), Some(new)) = (replaced, &outcome.created_id) {
            match outcome.write {
                engine::tenant::diff::Write::CreateSpace { .. } => {
                    renamed.spaces.push((old.clone(), new.clone()))
                }
                _ => {
                    renamed.groups.insert(old.clone(), new.clone());
                }
            }
        }
        if json {
            let event = serde_json::json!({
                "event": "tenant_write",
                "v": send::JOURNAL_VERSION,
                "section": outcome.write.section(),
                "write": outcome.write,
                "outcome": if outcome.result.is_ok() { "done" } else { "failed" },
                "error": outcome.result.as_ref().err().map(ToString::to_string),
            });
            let _ = writeln!(io::stdout(), "{event}");
        }
        match &outcome.result {
            Ok(()) if !quiet && !json => {
                let _ = writeln!(io::stderr(), "  ok      {}", outcome.write.describe());
            }
            Err(error) => crate::error::print(
                &CommandError::new(format!("failed to {}", outcome.write.describe())).caused_by(error),
            ),
            Ok(()) => {}
        }
    };
    let failed = send::send(
        &writes,
        tenant,
        &journal,
        how.concurrency,
        &before_of,
        &mut report,
    )
    .await
    .map_err(|error| {
        CommandError::with_source("cannot write the tenant journal", &error).code(exit::ROWS_FAILED)
    })?;
    Ok((failed, renamed))
}

#[cfg(test)]
mod tests {
    use super::value_text;
    use serde_json::json;

    #[test]
    fn values_read_as_the_plan_shows_them() {
        assert_eq!(value_text(&json!([])), "(none)");
        assert_eq!(value_text(&json!(["A", "B"])), "A, B");
        assert_eq!(
            value_text(&json!({ "type": "shared", "description": "a, b", "gone": null })),
            "description \"a, b\", type \"shared\""
        );
        assert_eq!(
            value_text(&json!({ "exists": true, "roles": ["A"] })),
            "exists true, roles [\"A\"]"
        );
        assert_eq!(value_text(&json!(true)), "true");
    }
}
