//! Planning the reverse of a run's tenant configuration changes (`roster undo` of a `roster
//! tenant apply`): from the before-states the tenant journal recorded and the tenant as it is now,
//! the writes that put settings, group roles, space descriptions, groups and spaces back.
//!
//! The rules are those of assignments ([`crate::undo`]): a value now as before the run needs
//! nothing; now as the run left it, it is written back; anything else changed since, by someone
//! else, and is a `conflict`, left alone unless `force`. What the run created is deleted (a group,
//! a space once the undo has removed the assignments the run made in it); a space that holds
//! anything else, or a group assigned in a space since (deleting a group deletes its space
//! assignments), is never deleted, whatever `force` says. What an undo deleted, an undo of it
//! creates again.
//!
//! Dependencies run backwards: the command sends these writes after the assignments' undo, spaces
//! first, then group roles, groups and settings last.

use std::collections::{BTreeMap, HashMap, HashSet};

use core_api::target::{AssigneeKind, AssignmentInfo, SpaceInfo, Target, TargetError};
use core_api::tenant::{GroupSettings, GroupSettingsPatch, GroupWithRoles, LicenseSettings, TenantConfig};
use futures::StreamExt as _;
use serde::Serialize;

use super::apply::{ConfigChange, WriteEnd};
use super::diff::{Mark, Section, Write};
use crate::before::{Before, Change, GroupBefore, SettingsBefore, SpaceBefore};
use crate::model::{Action, Plan};
use crate::plan::role_set;
use crate::undo::{CANNOT_UNDO, CONFLICT};

/// Code of a space or group the undo will not delete: it holds what the run did not put there.
pub const NOT_EMPTY: &str = "not_empty";
/// Code of a group or space the run changed that no longer exists.
pub const GONE: &str = "gone";

/// The tenant's configuration as it is now, as far as the changes to reverse need it.
#[derive(Debug, Default)]
pub struct Current {
    /// The group settings, when a change touched them.
    pub group_settings: Option<GroupSettings>,
    /// The license settings, when a change touched them.
    pub license_settings: Option<LicenseSettings>,
    /// Every group with its roles, when a change touched a group.
    pub groups: Vec<GroupWithRoles>,
    /// Every space, when a change touched a space.
    pub spaces: Vec<SpaceInfo>,
    /// The assignments of each space the undo may delete, by space id; of every space when the
    /// undo may delete a group the run created.
    pub space_assignments: HashMap<String, Vec<AssignmentInfo>>,
}

/// Which read failed.
#[derive(Debug, thiserror::Error)]
#[error("failed to read the tenant's {what}: {error}")]
pub struct ReadError {
    /// `group settings`, `groups`, ...
    pub what: &'static str,
    /// The client's error.
    #[source]
    pub error: TargetError,
}

/// The changes worth reversing: those whose write was not refused (a write with no record may
/// have been sent before the run stopped: the tenant tells).
pub fn to_reverse(changes: &[ConfigChange]) -> Vec<&ConfigChange> {
    changes
        .iter()
        .filter(|c| !matches!(c.end, Some(WriteEnd::Failed { .. })))
        .collect()
}

/// Read what `changes` need, `concurrency` space listings at a time.
pub async fn read_current(
    changes: &[&ConfigChange],
    target: &dyn Target,
    tenant: &dyn TenantConfig,
    concurrency: usize,
) -> Result<Current, ReadError> {
    let mut current = Current::default();
    let kinds = |f: fn(&Before) -> bool| changes.iter().any(|c| f(&c.before));
    if kinds(|b| matches!(b, Before::GroupSettings(_))) {
        current.group_settings = Some(tenant.group_settings().await.map_err(|error| ReadError {
            what: "group settings",
            error,
        })?);
    }
    if kinds(|b| matches!(b, Before::LicenseSettings(_))) {
        current.license_settings = Some(tenant.license_settings().await.map_err(|error| ReadError {
            what: "license settings",
            error,
        })?);
    }
    if kinds(|b| matches!(b, Before::Group(_) | Before::GroupRoles(_))) {
        current.groups = tenant.list_groups_with_roles().await.map_err(|error| ReadError {
            what: "groups",
            error,
        })?;
    }
    // A group the run created is deleted only when nothing the undo leaves holds it: deleting a
    // group deletes its space assignments too, and someone may have assigned it since.
    let created_groups = changes.iter().any(|c| match &c.before {
        Before::Group(g) if g.change == Change::Create => find_group(&current.groups, c, g).is_some(),
        _ => false,
    });
    if created_groups || kinds(|b| matches!(b, Before::Space(_) | Before::SpaceDescription(_))) {
        current.spaces = target.list_spaces().await.map_err(|error| ReadError {
            what: "spaces",
            error,
        })?;
        // The spaces the run created that are still there: the undo deletes them only empty.
        let to_list: Vec<&SpaceInfo> = if created_groups {
            current.spaces.iter().collect()
        } else {
            changes
                .iter()
                .filter_map(|c| match &c.before {
                    Before::Space(s) if s.change == Change::Create => find_space(&current.spaces, c, s),
                    _ => None,
                })
                .collect()
        };
        let listed: Vec<Result<(String, Vec<AssignmentInfo>), TargetError>> = futures::stream::iter(to_list)
            .map(|space| async move {
                target
                    .list_assignments(space)
                    .await
                    .map(|a| (space.id.clone(), a))
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        for listing in listed {
            let (id, assignments) = listing.map_err(|error| ReadError {
                what: "space assignments",
                error,
            })?;
            current.space_assignments.insert(id, assignments);
        }
    }
    Ok(current)
}

fn find_space<'a>(
    spaces: &'a [SpaceInfo],
    change: &ConfigChange,
    before: &SpaceBefore,
) -> Option<&'a SpaceInfo> {
    let id = change.created_id.as_ref().or(before.space_id.as_ref());
    match id {
        Some(id) => spaces.iter().find(|s| &s.id == id),
        // No record of the create (the run stopped before its answer): the space of that name.
        None => spaces.iter().find(|s| s.name == before.space),
    }
}

fn find_group<'a>(
    groups: &'a [GroupWithRoles],
    change: &ConfigChange,
    before: &GroupBefore,
) -> Option<&'a GroupWithRoles> {
    match change.created_id.as_ref().or(before.group_id.as_ref()) {
        Some(id) => groups.iter().find(|g| &g.group.id == id),
        None => groups.iter().find(|g| g.group.name == before.group),
    }
}

/// The first three of `n` names, joined, with `...` when there are more.
fn first_few(names: impl Iterator<Item = String>, n: usize) -> String {
    let mut text = names.take(3).collect::<Vec<_>>().join(", ");
    if n > 3 {
        text.push_str(", ...");
    }
    text
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn them(n: usize) -> &'static str {
    if n == 1 { "it" } else { "them" }
}

/// The assignments of group `group_id` that the undo leaves in place (the assignments' undo plan
/// does not delete them), with their space's name.
fn kept_assignments_of_group<'a>(
    current: &'a Current,
    removed: &Removed<'_>,
    group_id: &str,
) -> Vec<(&'a str, &'a AssignmentInfo)> {
    let mut held: Vec<(&str, &AssignmentInfo)> = current
        .spaces
        .iter()
        .flat_map(|space| {
            current
                .space_assignments
                .get(&space.id)
                .into_iter()
                .flatten()
                .filter(|a| !removed.contains(&(space.id.as_str(), a.id.as_str())))
                .map(move |a| (space.name.as_str(), a))
        })
        .filter(|(_, a)| a.assignee_kind == AssigneeKind::Group && a.assignee_id == group_id)
        .collect();
    held.sort_by_key(|(space, _)| *space);
    held
}

/// The assignments the assignments' undo plan deletes, by space id and assignment id.
type Removed<'a> = HashSet<(&'a str, &'a str)>;

fn removed_by(assignments: &Plan) -> Removed<'_> {
    assignments
        .items
        .iter()
        .filter_map(|i| match (&i.action, &i.space_info) {
            (Action::Delete { assignment_id, .. }, Some(space)) => {
                Some((space.id.as_str(), assignment_id.as_str()))
            }
            _ => None,
        })
        .collect()
}

/// One line of the configuration undo's plan, in the tenant plan's diff format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Section.
    pub section: Section,
    /// `+` create again, `~` restore, `-` delete (shown as an update of existence), `=` already as
    /// before, `!` conflict or cannot be done.
    pub mark: Mark,
    /// Whether the write deletes (a group or space the run created).
    pub delete: bool,
    /// The setting, group or space.
    pub name: String,
    /// The value now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<serde_json::Value>,
    /// The value the undo leaves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<serde_json::Value>,
    /// For `!`: `conflict`, `not_empty`, `gone` or `cannot_undo`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// For `!`: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The write that reverses it (settings: on the first of their keys).
    #[serde(skip)]
    pub write: Option<Write>,
    /// The undo's own before-state of that write, journaled before it is sent.
    #[serde(skip)]
    pub before: Option<Before>,
    /// For a group or space created again: the id it had (the assignments' before-states name
    /// it), and for a space, its type.
    #[serde(skip)]
    pub replaces: Option<(String, String)>,
}

impl Item {
    fn new(section: Section, name: &str) -> Item {
        Item {
            section,
            mark: Mark::Unchanged,
            delete: false,
            name: name.to_owned(),
            old: None,
            new: None,
            code: None,
            error: None,
            write: None,
            before: None,
            replaces: None,
        }
    }

    fn refuse(mut self, code: &'static str, error: String) -> Item {
        self.mark = Mark::Error;
        self.code = Some(code);
        self.error = Some(error);
        self
    }
}

fn list(items: &[String]) -> serde_json::Value {
    let mut sorted = items.to_vec();
    sorted.sort();
    sorted.dedup();
    serde_json::json!(sorted)
}

fn conflict(run_id: &str, now: &serde_json::Value, left: &serde_json::Value) -> String {
    format!(
        "conflict: changed since run {run_id}: {now} now, the run left {left}; left alone (--force undoes it anyway)"
    )
}

/// The plan that reverses `changes` of run `run_id`, given the tenant now and the assignments'
/// undo plan (a space the run created is deleted only when that plan removes all it holds).
/// Items come in the order their writes go: spaces, group roles, groups, settings, each section
/// newest change first.
pub fn plan(
    run_id: &str,
    changes: &[&ConfigChange],
    current: &Current,
    assignments: &Plan,
    force: bool,
    at: u64,
) -> Vec<Item> {
    let mut ordered: Vec<&&ConfigChange> = changes.iter().collect();
    ordered.sort_by_key(|c| {
        (
            std::cmp::Reverse(section_of(&c.before)),
            std::cmp::Reverse(c.before.at()),
        )
    });
    let removed = removed_by(assignments);
    let mut items = Vec::new();
    for change in ordered {
        match &change.before {
            Before::GroupSettings(s) => {
                let now = current.group_settings.unwrap_or_default();
                let value = |key: &str| match key {
                    "auto_create_groups" => Some(now.auto_create_groups),
                    "sync_idp_groups" => Some(now.sync_idp_groups),
                    _ => None,
                };
                let (mut keyed, restore) = settings_items(run_id, s, value, force);
                if !restore.is_empty() {
                    let patch = GroupSettingsPatch {
                        auto_create_groups: restore.get("auto_create_groups").copied(),
                        sync_idp_groups: restore.get("sync_idp_groups").copied(),
                    };
                    attach(
                        &mut keyed,
                        Write::GroupSettings { patch },
                        settings_before(&restore, value, at, true),
                    );
                }
                items.extend(keyed);
            }
            Before::LicenseSettings(s) => {
                let now = current.license_settings.unwrap_or_default();
                let value = |key: &str| match key {
                    "auto_assign_professional" => Some(now.auto_assign_professional),
                    "auto_assign_analyzer" => Some(now.auto_assign_analyzer),
                    _ => None,
                };
                let (mut keyed, restore) = settings_items(run_id, s, value, force);
                if !restore.is_empty() {
                    // Read, change, write: the values the run did not change keep the tenant's.
                    let mut settings = now;
                    if let Some(v) = restore.get("auto_assign_professional") {
                        settings.auto_assign_professional = *v;
                    }
                    if let Some(v) = restore.get("auto_assign_analyzer") {
                        settings.auto_assign_analyzer = *v;
                    }
                    attach(
                        &mut keyed,
                        Write::LicenseSettings { settings },
                        settings_before(&restore, value, at, false),
                    );
                }
                items.extend(keyed);
            }
            Before::GroupRoles(g) => {
                let mut item = Item::new(Section::GroupRoles, &g.group);
                let Some(found) = current.groups.iter().find(|x| x.group.id == g.group_id) else {
                    items.push(item.refuse(GONE, format!("group {:?} no longer exists", g.group)));
                    continue;
                };
                let (now, before, after) = (role_set(&found.roles), role_set(&g.roles), role_set(&g.after));
                item.old = Some(list(&now));
                item.new = Some(list(&before));
                if now == before {
                    item.new = None;
                } else if now == after || force {
                    item.mark = Mark::Update;
                    item.write = Some(Write::GroupRoles {
                        id: g.group_id.clone(),
                        name: g.group.clone(),
                        roles: before.clone(),
                    });
                    item.before = Some(Before::GroupRoles(crate::before::GroupRolesBefore {
                        at,
                        group_id: g.group_id.clone(),
                        group: g.group.clone(),
                        roles: found.roles.clone(),
                        after: before,
                    }));
                } else {
                    item = item.refuse(CONFLICT, conflict(run_id, &list(&now), &list(&after)));
                }
                items.push(item);
            }
            Before::Group(g) if g.change == Change::Create => {
                let mut item = Item::new(Section::Groups, &g.group);
                match find_group(&current.groups, change, g) {
                    None => items.push(item),
                    Some(found) => {
                        let (now, after) = (role_set(&found.roles), role_set(&g.roles));
                        item.old = Some(serde_json::json!({ "exists": true, "roles": list(&now) }));
                        item.new = Some(serde_json::json!({ "exists": false }));
                        let held = kept_assignments_of_group(current, &removed, &found.group.id);
                        if !held.is_empty() {
                            let (n, them) = (held.len(), them(held.len()));
                            let spaces = first_few(held.iter().map(|(space, _)| (*space).to_owned()), n);
                            item = item.refuse(
                                NOT_EMPTY,
                                format!(
                                    "not deleted: group {:?} is in use: it holds {n} space assignment{} the undo does not remove (in {spaces}); deleting the group would delete {them}; remove {them} first, or keep the group",
                                    g.group,
                                    plural(n),
                                ),
                            );
                        } else if now == after || force {
                            item.mark = Mark::Update;
                            item.delete = true;
                            item.write = Some(Write::DeleteGroup {
                                id: found.group.id.clone(),
                                name: found.group.name.clone(),
                            });
                            item.before = Some(Before::Group(GroupBefore {
                                at,
                                change: Change::Delete,
                                group: found.group.name.clone(),
                                group_id: Some(found.group.id.clone()),
                                roles: found.roles.clone(),
                            }));
                        } else {
                            item = item.refuse(
                                CONFLICT,
                                format!(
                                    "conflict: group {:?}, created by run {run_id}, has changed since (its roles are {} now, the run gave it {}); left alone (--force deletes it anyway)",
                                    g.group,
                                    list(&now),
                                    list(&after)
                                ),
                            );
                        }
                        items.push(item);
                    }
                }
            }
            Before::Group(g) => {
                // An undo deleted it: create it again, unless a group of that name is back.
                let mut item = Item::new(Section::Groups, &g.group);
                if !current.groups.iter().any(|x| x.group.name == g.group) {
                    item.replaces = g.group_id.clone().map(|id| (id, String::new()));
                    item.mark = Mark::Create;
                    item.new = Some(list(&g.roles));
                    item.write = Some(Write::CreateGroup {
                        name: g.group.clone(),
                        roles: g.roles.clone(),
                    });
                    item.before = Some(Before::Group(GroupBefore {
                        at,
                        change: Change::Create,
                        group: g.group.clone(),
                        group_id: None,
                        roles: g.roles.clone(),
                    }));
                }
                items.push(item);
            }
            Before::SpaceDescription(d) => {
                let mut item = Item::new(Section::Spaces, &d.space);
                let Some(found) = current.spaces.iter().find(|s| s.id == d.space_id) else {
                    items.push(item.refuse(GONE, format!("space {:?} no longer exists", d.space)));
                    continue;
                };
                let now = found.description.clone().unwrap_or_default();
                let before = d.description.clone().unwrap_or_default();
                item.old = Some(serde_json::json!({ "description": now }));
                item.new = Some(serde_json::json!({ "description": before }));
                if now == before {
                    item.old = None;
                    item.new = None;
                } else if now == d.after || force {
                    item.mark = Mark::Update;
                    item.write = Some(Write::SpaceDescription {
                        id: d.space_id.clone(),
                        name: d.space.clone(),
                        description: before.clone(),
                    });
                    item.before = Some(Before::SpaceDescription(crate::before::SpaceDescriptionBefore {
                        at,
                        space_id: d.space_id.clone(),
                        space: d.space.clone(),
                        description: found.description.clone(),
                        after: before,
                    }));
                } else {
                    item = item.refuse(
                        CONFLICT,
                        conflict(run_id, &serde_json::json!(now), &serde_json::json!(d.after)),
                    );
                }
                items.push(item);
            }
            Before::Space(s) if s.change == Change::Create => {
                let mut item = Item::new(Section::Spaces, &s.space);
                let Some(found) = find_space(&current.spaces, change, s) else {
                    items.push(item);
                    continue;
                };
                item.old = Some(serde_json::json!({ "exists": true, "type": found.space_type }));
                item.new = Some(serde_json::json!({ "exists": false }));
                let kept: Vec<&AssignmentInfo> = current
                    .space_assignments
                    .get(&found.id)
                    .map(|all| {
                        all.iter()
                            .filter(|a| !removed.contains(&(found.id.as_str(), a.id.as_str())))
                            .collect()
                    })
                    .unwrap_or_default();
                let described = found.description.clone().unwrap_or_default();
                if !kept.is_empty() {
                    let n = kept.len();
                    let who = first_few(
                        kept.iter()
                            .map(|a| format!("{} {}", a.assignee_kind, a.assignee_id)),
                        n,
                    );
                    item = item.refuse(
                        NOT_EMPTY,
                        format!(
                            "not deleted: space {:?} is not empty: it holds {n} assignment{} the undo does not remove ({who}); remove {} first, or keep the space",
                            s.space,
                            plural(n),
                            them(n),
                        ),
                    );
                } else if described != s.description.clone().unwrap_or_default() && !force {
                    item = item.refuse(
                        CONFLICT,
                        format!(
                            "conflict: space {:?}, created by run {run_id}, has changed since (its description is {described:?} now); left alone (--force deletes it anyway)",
                            s.space
                        ),
                    );
                } else {
                    item.mark = Mark::Update;
                    item.delete = true;
                    item.write = Some(Write::DeleteSpace {
                        id: found.id.clone(),
                        name: found.name.clone(),
                    });
                    item.before = Some(Before::Space(SpaceBefore {
                        at,
                        change: Change::Delete,
                        space: found.name.clone(),
                        space_id: Some(found.id.clone()),
                        space_type: found.space_type.clone(),
                        description: found.description.clone(),
                    }));
                }
                items.push(item);
            }
            Before::Space(s) => {
                let mut item = Item::new(Section::Spaces, &s.space);
                if !current.spaces.iter().any(|x| x.name == s.space) {
                    item.replaces = s.space_id.clone().map(|id| (id, s.space_type.clone()));
                    item.mark = Mark::Create;
                    item.new =
                        Some(serde_json::json!({ "type": s.space_type, "description": s.description }));
                    item.write = Some(Write::CreateSpace {
                        name: s.space.clone(),
                        space_type: s.space_type.clone(),
                        description: s.description.clone(),
                    });
                    item.before = Some(Before::Space(SpaceBefore {
                        at,
                        change: Change::Create,
                        space: s.space.clone(),
                        space_id: None,
                        space_type: s.space_type.clone(),
                        description: s.description.clone(),
                    }));
                }
                items.push(item);
            }
            Before::Assignment(_) | Before::Unknown => {}
        }
    }
    items
}

fn section_of(before: &Before) -> Section {
    match before {
        Before::GroupSettings(_) | Before::LicenseSettings(_) | Before::Assignment(_) | Before::Unknown => {
            Section::Settings
        }
        Before::Group(_) => Section::Groups,
        Before::GroupRoles(_) => Section::GroupRoles,
        Before::Space(_) | Before::SpaceDescription(_) => Section::Spaces,
    }
}

/// One item per setting the run changed, and the values to restore.
fn settings_items(
    run_id: &str,
    s: &SettingsBefore,
    value: impl Fn(&str) -> Option<bool>,
    force: bool,
) -> (Vec<Item>, BTreeMap<String, bool>) {
    let mut items = Vec::new();
    let mut restore = BTreeMap::new();
    for (key, before) in &s.before {
        let mut item = Item::new(Section::Settings, key);
        let (Some(now), Some(after)) = (value(key), s.after.get(key)) else {
            items.push(item.refuse(
                CANNOT_UNDO,
                format!("cannot be undone: {key} is not a setting this release knows"),
            ));
            continue;
        };
        item.old = Some(serde_json::json!(now));
        item.new = Some(serde_json::json!(before));
        if now == *before {
            item.new = None;
            item.old = None;
        } else if now == *after || force {
            item.mark = Mark::Update;
            restore.insert(key.clone(), *before);
        } else {
            item = item.refuse(
                CONFLICT,
                conflict(run_id, &serde_json::json!(now), &serde_json::json!(after)),
            );
        }
        items.push(item);
    }
    (items, restore)
}

/// The undo's own before-state of a settings write.
fn settings_before(
    restore: &BTreeMap<String, bool>,
    value: impl Fn(&str) -> Option<bool>,
    at: u64,
    group: bool,
) -> Before {
    let before = restore
        .keys()
        .filter_map(|k| value(k).map(|v| (k.clone(), v)))
        .collect();
    let line = SettingsBefore {
        at,
        before,
        after: restore.clone(),
    };
    if group {
        Before::GroupSettings(line)
    } else {
        Before::LicenseSettings(line)
    }
}

/// Put a settings write on the first item that restores a value.
fn attach(items: &mut [Item], write: Write, before: Before) {
    if let Some(first) = items.iter_mut().find(|i| i.mark == Mark::Update) {
        first.write = Some(write);
        first.before = Some(before);
    }
}

/// The writes to send, in order, each with its before-state.
pub fn writes(items: &[Item]) -> Vec<(Write, Option<Before>)> {
    items
        .iter()
        .filter_map(|i| i.write.clone().map(|w| (w, i.before.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::before::{GroupRolesBefore, SpaceDescriptionBefore};
    use core_api::target::{AssigneeKind, GroupInfo};

    fn change(before: Before, created_id: Option<&str>) -> ConfigChange {
        ConfigChange {
            run: "r".to_owned(),
            target: "prod".to_owned(),
            file: "t.toml".to_owned(),
            at: "2026-12-04T08:00:00.000Z".to_owned(),
            before,
            end: Some(WriteEnd::Done),
            created_id: created_id.map(str::to_owned),
        }
    }

    fn space(id: &str, name: &str, description: &str) -> SpaceInfo {
        SpaceInfo {
            id: id.to_owned(),
            name: name.to_owned(),
            space_type: "shared".to_owned(),
            owner_id: None,
            assignable_roles: Vec::new(),
            description: Some(description.to_owned()),
        }
    }

    fn empty_plan() -> Plan {
        Plan {
            target: "prod".to_owned(),
            mode: crate::model::Mode::Exact,
            items: Vec::new(),
            counts: crate::model::PlanCounts::default(),
            write_calls: 0,
            min_write_time: std::time::Duration::ZERO,
            write_time_estimated: false,
        }
    }

    #[test]
    fn roles_and_descriptions_are_restored_conflicts_left_unless_forced_and_full_spaces_kept() {
        let roles = change(
            Before::GroupRoles(GroupRolesBefore {
                at: 1,
                group_id: "g1".to_owned(),
                group: "A".to_owned(),
                roles: vec![],
                after: vec!["AuditAdmin".to_owned()],
            }),
            None,
        );
        let described = change(
            Before::SpaceDescription(SpaceDescriptionBefore {
                at: 2,
                space_id: "s1".to_owned(),
                space: "S".to_owned(),
                description: Some("old".to_owned()),
                after: "new".to_owned(),
            }),
            None,
        );
        let created = change(
            Before::Space(SpaceBefore {
                at: 3,
                change: Change::Create,
                space: "T".to_owned(),
                space_id: None,
                space_type: "shared".to_owned(),
                description: None,
            }),
            Some("s2"),
        );
        let mut current = Current {
            groups: vec![GroupWithRoles {
                group: GroupInfo {
                    id: "g1".to_owned(),
                    name: "A".to_owned(),
                },
                roles: vec!["DataAdmin".to_owned()],
                provider_type: None,
            }],
            spaces: vec![space("s1", "S", "new"), space("s2", "T", "")],
            ..Current::default()
        };
        current.space_assignments.insert(
            "s2".to_owned(),
            vec![AssignmentInfo {
                id: "a9".to_owned(),
                assignee_kind: AssigneeKind::User,
                assignee_id: "u9".to_owned(),
                roles: vec!["consumer".to_owned()],
            }],
        );
        let changes = [&roles, &described, &created];
        let items = plan("r", &changes, &current, &empty_plan(), false, 0);
        // Spaces first (newest first), then group roles.
        let names: Vec<(&str, Mark)> = items.iter().map(|i| (i.name.as_str(), i.mark)).collect();
        assert_eq!(
            names,
            vec![("T", Mark::Error), ("S", Mark::Update), ("A", Mark::Error)]
        );
        assert_eq!(items[0].code, Some(NOT_EMPTY));
        assert!(items[0].error.as_deref().unwrap_or_default().contains("user u9"));
        assert_eq!(
            items[1].write,
            Some(Write::SpaceDescription {
                id: "s1".to_owned(),
                name: "S".to_owned(),
                description: "old".to_owned(),
            })
        );
        assert_eq!(items[2].code, Some(CONFLICT));
        // --force restores the roles over the later change, but never deletes a full space.
        let forced = plan("r", &changes, &current, &empty_plan(), true, 0);
        assert_eq!(forced[0].code, Some(NOT_EMPTY));
        assert!(matches!(&forced[2].write, Some(Write::GroupRoles { roles, .. }) if roles.is_empty()));
        // Once the space is empty it is deleted, and the undo records what it deletes.
        current.space_assignments.insert("s2".to_owned(), Vec::new());
        let items = plan("r", &changes, &current, &empty_plan(), false, 0);
        assert!(items[0].delete);
        assert_eq!(
            items[0].write,
            Some(Write::DeleteSpace {
                id: "s2".to_owned(),
                name: "T".to_owned(),
            })
        );
        assert!(matches!(&items[0].before, Some(Before::Space(s)) if s.change == Change::Delete));
    }

    fn group_assignment(id: &str, group: &str) -> AssignmentInfo {
        AssignmentInfo {
            id: id.to_owned(),
            assignee_kind: AssigneeKind::Group,
            assignee_id: group.to_owned(),
            roles: vec!["consumer".to_owned()],
        }
    }

    fn deleting(space: &SpaceInfo, assignment_id: &str) -> crate::model::PlanItem {
        crate::model::PlanItem {
            line: 0,
            key: crate::model::RowKey(assignment_id.to_owned()),
            space: crate::model::SpaceRef::Id(space.id.clone()),
            space_info: Some(std::sync::Arc::new(space.clone())),
            assignee_kind: AssigneeKind::Group,
            assignee: crate::model::AssigneeRef::Id("g2".to_owned()),
            stated_type: None,
            assignee_id: Some("g2".to_owned()),
            roles: Vec::new(),
            action: Action::Delete {
                assignment_id: assignment_id.to_owned(),
                roles: vec!["consumer".to_owned()],
            },
        }
    }

    #[test]
    fn a_created_group_someone_has_assigned_since_is_kept_even_with_force() {
        let created = change(
            Before::Group(GroupBefore {
                at: 1,
                change: Change::Create,
                group: "Team".to_owned(),
                group_id: None,
                roles: vec!["DataAdmin".to_owned()],
            }),
            Some("g2"),
        );
        let (s1, s2) = (space("s1", "Sales", ""), space("s2", "Finance", ""));
        let mut current = Current {
            groups: vec![GroupWithRoles {
                group: GroupInfo {
                    id: "g2".to_owned(),
                    name: "Team".to_owned(),
                },
                roles: vec!["DataAdmin".to_owned()],
                provider_type: None,
            }],
            spaces: vec![s1.clone(), s2.clone()],
            ..Current::default()
        };
        // The run assigned the group in Sales (the assignments' undo removes that); someone has
        // since assigned it in Finance too.
        current
            .space_assignments
            .insert("s1".to_owned(), vec![group_assignment("a1", "g2")]);
        current.space_assignments.insert(
            "s2".to_owned(),
            vec![group_assignment("a2", "g2"), group_assignment("a3", "g7")],
        );
        let mut assignments = empty_plan();
        assignments.items.push(deleting(&s1, "a1"));
        let changes = [&created];
        for force in [false, true] {
            let items = plan("r", &changes, &current, &assignments, force, 0);
            assert_eq!(items.len(), 1);
            assert_eq!(items[0].code, Some(NOT_EMPTY), "force {force}");
            assert!(items[0].write.is_none());
            let why = items[0].error.as_deref().unwrap_or_default();
            assert!(
                why.contains("1 space assignment ") && why.contains("in Finance"),
                "{why}"
            );
        }
        // Once the undo also removes the later assignment, the group goes.
        assignments.items.push(deleting(&s2, "a2"));
        let items = plan("r", &changes, &current, &assignments, false, 0);
        assert_eq!(
            items[0].write,
            Some(Write::DeleteGroup {
                id: "g2".to_owned(),
                name: "Team".to_owned(),
            })
        );
    }
}
