//! Read what a tenant file manages from the tenant, and decide the writes that make the tenant
//! match it: only differences, in dependency order (settings, groups, group roles, spaces).
//!
//! Assignments are planned by the roster planner once their groups and spaces exist; this module
//! only says which of them wait for a group or space it creates.

use std::collections::{BTreeSet, HashMap};

use core_api::target::{AssigneeKind, SpaceInfo, Target, TargetError};
use core_api::tenant::{
    ADMIN_ROLE, GroupSettings, GroupSettingsPatch, GroupWithRoles, LicenseSettings, RoleInfo, TenantConfig,
};
use serde::Serialize;

use crate::before::{
    Before, Change as BeforeChange, GroupBefore, GroupRolesBefore, SettingsBefore, SpaceBefore,
    SpaceDescriptionBefore,
};

use super::file::{FileError, Problem, TenantFile, closest, quoted};

/// What the file manages, as the tenant has it now. Parts the file does not touch are not read.
#[derive(Debug, Clone, Default)]
pub struct TenantState {
    /// The groups settings, when the file sets one.
    pub group_settings: Option<GroupSettings>,
    /// The license settings, when the file sets one.
    pub license_settings: Option<LicenseSettings>,
    /// The tenant's roles, when a group of the file names roles.
    pub roles: Option<Vec<RoleInfo>>,
    /// Every group with its roles.
    pub groups: Vec<GroupWithRoles>,
    /// Every space.
    pub spaces: Vec<SpaceInfo>,
}

/// Which read failed, so the message can say what it needed.
#[derive(Debug)]
pub struct ReadError {
    /// What was being read: `group settings`, `roles`, ...
    pub what: &'static str,
    /// The client's error.
    pub error: TargetError,
}

impl ReadError {
    /// The hint for a refused read: which role the key's user lacks.
    pub fn needs_admin(&self) -> bool {
        self.error.status() == Some(403)
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "failed to read the tenant's {}: {}", self.what, self.error)
    }
}

/// Read the parts of the tenant `file` manages. Roles are read first: a key that may not read
/// them is told so before anything else is read.
pub async fn read_state(
    file: &TenantFile,
    target: &dyn Target,
    tenant: &dyn TenantConfig,
    with_spaces: bool,
) -> Result<TenantState, ReadError> {
    let mut state = TenantState::default();
    if file.role_names().next().is_some() {
        state.roles = Some(
            tenant
                .list_roles()
                .await
                .map_err(|error| ReadError { what: "roles", error })?,
        );
    }
    if file.settings.any_group_setting() {
        state.group_settings = Some(tenant.group_settings().await.map_err(|error| ReadError {
            what: "group settings",
            error,
        })?);
    }
    if file.settings.any_license_setting() {
        state.license_settings = Some(tenant.license_settings().await.map_err(|error| ReadError {
            what: "license settings",
            error,
        })?);
    }
    let needs_groups =
        !file.groups.is_empty() || file.assignments.iter().any(|a| a.kind == AssigneeKind::Group);
    if needs_groups {
        state.groups = tenant.list_groups_with_roles().await.map_err(|error| ReadError {
            what: "groups",
            error,
        })?;
    }
    if with_spaces {
        state.spaces = target.list_spaces().await.map_err(|error| ReadError {
            what: "spaces",
            error,
        })?;
    }
    Ok(state)
}

/// `+` create, `~` change, `=` already so, `!` cannot be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mark {
    /// `+`
    Create,
    /// `~`
    Update,
    /// `=`
    Unchanged,
    /// `!`
    Error,
}

impl Mark {
    /// The plan's symbol.
    pub fn symbol(self) -> char {
        match self {
            Mark::Create => '+',
            Mark::Update => '~',
            Mark::Unchanged => '=',
            Mark::Error => '!',
        }
    }
}

/// The plan's sections, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// `[settings]`.
    Settings,
    /// `[[groups]]`: existence.
    Groups,
    /// `[[groups]] roles`.
    GroupRoles,
    /// `[[spaces]]`.
    Spaces,
}

impl Section {
    /// The heading in the text plan.
    pub fn title(self) -> &'static str {
        match self {
            Section::Settings => "settings",
            Section::Groups => "groups",
            Section::GroupRoles => "group roles",
            Section::Spaces => "spaces",
        }
    }
}

/// One line of the configuration plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Section.
    pub section: Section,
    /// What changes.
    pub mark: Mark,
    /// The setting key, group name or space name.
    pub name: String,
    /// The value now, as text (absent for a create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<serde_json::Value>,
    /// The value after apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<serde_json::Value>,
    /// For `!`: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// 1-based line of the file.
    pub line: usize,
}

/// One write to the tenant's configuration, in the order they are sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "write", rename_all = "snake_case")]
pub enum Write {
    /// One `PATCH /groups/settings` with a `replace` per changed value.
    GroupSettings {
        /// The changed values.
        patch: GroupSettingsPatch,
    },
    /// `PUT /licenses/settings` with the tenant's object and the file's values merged in.
    LicenseSettings {
        /// The whole object to write.
        settings: LicenseSettings,
    },
    /// `POST /groups`.
    CreateGroup {
        /// Name.
        name: String,
        /// Tenant roles to give it (empty when the file leaves them alone).
        roles: Vec<String>,
    },
    /// `PATCH /groups/{id}` replacing `/assignedRoles`.
    GroupRoles {
        /// The group's id.
        id: String,
        /// Name, for messages.
        name: String,
        /// The whole new list.
        roles: Vec<String>,
    },
    /// `POST /spaces`.
    CreateSpace {
        /// Name.
        name: String,
        /// `shared`, `managed` or `data`.
        space_type: String,
        /// Description.
        description: Option<String>,
    },
    /// `PATCH /spaces/{id}` replacing `/description`.
    SpaceDescription {
        /// The space's id.
        id: String,
        /// Name, for messages.
        name: String,
        /// The new description.
        description: String,
    },
    /// `DELETE /groups/{id}` (an undo removing a group its run created).
    DeleteGroup {
        /// The group's id.
        id: String,
        /// Name, for messages.
        name: String,
    },
    /// `DELETE /spaces/{id}` (an undo removing a space its run created).
    DeleteSpace {
        /// The space's id.
        id: String,
        /// Name, for messages.
        name: String,
    },
}

impl Write {
    /// The section the write belongs to.
    pub fn section(&self) -> Section {
        match self {
            Write::GroupSettings { .. } | Write::LicenseSettings { .. } => Section::Settings,
            Write::CreateGroup { .. } | Write::DeleteGroup { .. } => Section::Groups,
            Write::GroupRoles { .. } => Section::GroupRoles,
            Write::CreateSpace { .. } | Write::SpaceDescription { .. } | Write::DeleteSpace { .. } => {
                Section::Spaces
            }
        }
    }

    /// A short description: `create group "A"`.
    pub fn describe(&self) -> String {
        match self {
            Write::GroupSettings { .. } => "update the group settings".to_owned(),
            Write::LicenseSettings { .. } => "update the license settings".to_owned(),
            Write::CreateGroup { name, .. } => format!("create group {name:?}"),
            Write::GroupRoles { name, .. } => format!("set the roles of group {name:?}"),
            Write::CreateSpace { name, .. } => format!("create space {name:?}"),
            Write::SpaceDescription { name, .. } => format!("update the description of space {name:?}"),
            Write::DeleteGroup { name, .. } => format!("delete group {name:?}"),
            Write::DeleteSpace { name, .. } => format!("delete space {name:?}"),
        }
    }

    /// A stable identity for the journal: the same write of the same file has the same key.
    pub fn key(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| self.describe())
    }
}

/// The before-state of `write`, from the state the plan read (`state`): what the tenant holds
/// that the write changes, for the journal line written before the request leaves. `None` for
/// the deletes (an undo records theirs itself, from what it read).
pub fn before_of(write: &Write, state: &TenantState, at: u64) -> Option<Before> {
    use std::collections::BTreeMap;
    match write {
        Write::GroupSettings { patch } => {
            let now = state.group_settings?;
            let mut before = BTreeMap::new();
            let mut after = BTreeMap::new();
            for (key, new, old) in [
                (
                    "auto_create_groups",
                    patch.auto_create_groups,
                    now.auto_create_groups,
                ),
                ("sync_idp_groups", patch.sync_idp_groups, now.sync_idp_groups),
            ] {
                if let Some(new) = new {
                    before.insert(key.to_owned(), old);
                    after.insert(key.to_owned(), new);
                }
            }
            Some(Before::GroupSettings(SettingsBefore { at, before, after }))
        }
        Write::LicenseSettings { settings } => {
            let now = state.license_settings?;
            let mut before = BTreeMap::new();
            let mut after = BTreeMap::new();
            for (key, new, old) in [
                (
                    "auto_assign_professional",
                    settings.auto_assign_professional,
                    now.auto_assign_professional,
                ),
                (
                    "auto_assign_analyzer",
                    settings.auto_assign_analyzer,
                    now.auto_assign_analyzer,
                ),
            ] {
                if new != old {
                    before.insert(key.to_owned(), old);
                    after.insert(key.to_owned(), new);
                }
            }
            Some(Before::LicenseSettings(SettingsBefore { at, before, after }))
        }
        Write::CreateGroup { name, roles } => Some(Before::Group(GroupBefore {
            at,
            change: BeforeChange::Create,
            group: name.clone(),
            group_id: None,
            roles: roles.clone(),
        })),
        Write::GroupRoles { id, name, roles } => {
            let found = state.groups.iter().find(|g| g.group.id == *id)?;
            Some(Before::GroupRoles(GroupRolesBefore {
                at,
                group_id: id.clone(),
                group: name.clone(),
                roles: found.roles.clone(),
                after: roles.clone(),
            }))
        }
        Write::CreateSpace {
            name,
            space_type,
            description,
        } => Some(Before::Space(SpaceBefore {
            at,
            change: BeforeChange::Create,
            space: name.clone(),
            space_id: None,
            space_type: space_type.clone(),
            description: description.clone(),
        })),
        Write::SpaceDescription {
            id,
            name,
            description,
        } => {
            let found = state.spaces.iter().find(|s| s.id == *id)?;
            Some(Before::SpaceDescription(SpaceDescriptionBefore {
                at,
                space_id: id.clone(),
                space: name.clone(),
                description: found.description.clone(),
                after: description.clone(),
            }))
        }
        Write::DeleteGroup { .. } | Write::DeleteSpace { .. } => None,
    }
}

/// The configuration part of a tenant plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConfigPlan {
    /// Every managed item, by section, in file order.
    pub changes: Vec<Change>,
    /// The writes, in the order they are sent.
    pub writes: Vec<Write>,
    /// Groups the plan creates (their assignments wait for them).
    pub new_groups: BTreeSet<String>,
    /// Spaces the plan creates.
    pub new_spaces: BTreeSet<String>,
}

impl ConfigPlan {
    /// Lines marked `!`.
    pub fn errors(&self) -> usize {
        self.changes.iter().filter(|c| c.mark == Mark::Error).count()
    }
}

/// Check every tenant role the file names against the tenant's: unknown names are located
/// errors with the closest names.
pub fn check_roles(file: &TenantFile, roles: &[RoleInfo]) -> Result<(), FileError> {
    let known: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
    let mut problems = Vec::new();
    for (group, role) in file.role_names() {
        if known.contains(&role.name.as_str()) {
            continue;
        }
        let near = closest(&role.name, known.iter().copied());
        let hint = if near.is_empty() {
            format!("the tenant's roles are: {}", known.join(", "))
        } else {
            format!("did you mean {}? (role names are case-sensitive)", quoted(&near))
        };
        problems.push(Problem {
            file: file.display_name(),
            loc: role.loc,
            message: format!(
                "unknown role {:?} for group {:?}: the tenant has no such role",
                role.name, group.name
            ),
            hint: Some(hint),
        });
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(FileError { problems })
    }
}

/// Check that no existing space has another type than the file says: a type cannot change.
pub fn check_types(file: &TenantFile, spaces: &[SpaceInfo]) -> Result<(), FileError> {
    let mut problems = Vec::new();
    for space in &file.spaces {
        let Some(wanted) = &space.space_type else { continue };
        if let Some(found) = spaces.iter().find(|s| s.name == space.name)
            && &found.space_type != wanted
        {
            problems.push(Problem {
                file: file.display_name(),
                loc: space.type_loc,
                message: type_mismatch(&space.name, wanted, &found.space_type),
                hint: Some(format!(
                    "a space's type cannot change: write type = {:?}, or give the {wanted} space another name",
                    found.space_type
                )),
            });
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(FileError { problems })
    }
}

fn type_mismatch(name: &str, wanted: &str, found: &str) -> String {
    format!("space {name:?} is {found} in the tenant, {wanted} in the file")
}

fn bool_value(b: bool) -> serde_json::Value {
    serde_json::Value::Bool(b)
}

fn list_value(items: &[String]) -> serde_json::Value {
    serde_json::Value::Array(items.iter().cloned().map(serde_json::Value::String).collect())
}

/// Decide the configuration writes. Type mismatches are `!` lines (and no write).
pub fn diff(file: &TenantFile, state: &TenantState) -> ConfigPlan {
    let mut plan = ConfigPlan::default();

    // Settings: one PATCH for the changed group settings, one PUT for the license settings.
    let mut patch = GroupSettingsPatch::default();
    if let Some(current) = state.group_settings {
        for (key, wanted, now, slot) in [
            (
                "auto_create_groups",
                file.settings.auto_create_groups,
                current.auto_create_groups,
                &mut patch.auto_create_groups,
            ),
            (
                "sync_idp_groups",
                file.settings.sync_idp_groups,
                current.sync_idp_groups,
                &mut patch.sync_idp_groups,
            ),
        ] {
            let Some(wanted) = wanted else { continue };
            let mark = if wanted.value == now {
                Mark::Unchanged
            } else {
                Mark::Update
            };
            if mark == Mark::Update {
                *slot = Some(wanted.value);
            }
            plan.changes.push(Change {
                section: Section::Settings,
                mark,
                name: key.to_owned(),
                old: Some(bool_value(now)),
                new: Some(bool_value(wanted.value)),
                error: None,
                line: wanted.loc.line,
            });
        }
    }
    if !patch.is_empty() {
        plan.writes.push(Write::GroupSettings { patch });
    }
    if let Some(current) = state.license_settings {
        let mut merged = current;
        for (key, wanted, now, slot) in [
            (
                "auto_assign_professional",
                file.settings.auto_assign_professional,
                current.auto_assign_professional,
                &mut merged.auto_assign_professional,
            ),
            (
                "auto_assign_analyzer",
                file.settings.auto_assign_analyzer,
                current.auto_assign_analyzer,
                &mut merged.auto_assign_analyzer,
            ),
        ] {
            let Some(wanted) = wanted else { continue };
            *slot = wanted.value;
            plan.changes.push(Change {
                section: Section::Settings,
                mark: if wanted.value == now {
                    Mark::Unchanged
                } else {
                    Mark::Update
                },
                name: key.to_owned(),
                old: Some(bool_value(now)),
                new: Some(bool_value(wanted.value)),
                error: None,
                line: wanted.loc.line,
            });
        }
        if merged != current {
            plan.writes.push(Write::LicenseSettings { settings: merged });
        }
    }

    // Groups, then their roles.
    let existing: HashMap<&str, &GroupWithRoles> =
        state.groups.iter().map(|g| (g.group.name.as_str(), g)).collect();
    let mut role_writes = Vec::new();
    for group in &file.groups {
        let wanted = group.role_set();
        match existing.get(group.name.as_str()) {
            None => {
                plan.new_groups.insert(group.name.clone());
                plan.changes.push(Change {
                    section: Section::Groups,
                    mark: Mark::Create,
                    name: group.name.clone(),
                    old: None,
                    new: wanted.as_deref().map(list_value),
                    error: None,
                    line: group.loc.line,
                });
                plan.writes.push(Write::CreateGroup {
                    name: group.name.clone(),
                    roles: wanted.unwrap_or_default(),
                });
            }
            Some(found) => {
                plan.changes.push(Change {
                    section: Section::Groups,
                    mark: Mark::Unchanged,
                    name: group.name.clone(),
                    old: None,
                    new: None,
                    error: None,
                    line: group.loc.line,
                });
                if let Some(wanted) = wanted {
                    let mut now = found.roles.clone();
                    now.sort();
                    now.dedup();
                    let mark = if now == wanted {
                        Mark::Unchanged
                    } else {
                        Mark::Update
                    };
                    plan.changes.push(Change {
                        section: Section::GroupRoles,
                        mark,
                        name: group.name.clone(),
                        old: Some(list_value(&now)),
                        new: Some(list_value(&wanted)),
                        error: None,
                        line: group.loc.line,
                    });
                    if mark == Mark::Update {
                        role_writes.push(Write::GroupRoles {
                            id: found.group.id.clone(),
                            name: group.name.clone(),
                            roles: wanted,
                        });
                    }
                }
            }
        }
    }
    plan.writes.extend(role_writes);

    // Spaces.
    for space in &file.spaces {
        match state.spaces.iter().find(|s| s.name == space.name) {
            None => {
                let Some(space_type) = space.space_type.clone() else {
                    plan.changes.push(Change {
                        section: Section::Spaces,
                        mark: Mark::Error,
                        name: space.name.clone(),
                        old: None,
                        new: None,
                        error: Some(
                            "the space does not exist and the file gives no type to create it with"
                                .to_owned(),
                        ),
                        line: space.loc.line,
                    });
                    continue;
                };
                plan.new_spaces.insert(space.name.clone());
                plan.changes.push(Change {
                    section: Section::Spaces,
                    mark: Mark::Create,
                    name: space.name.clone(),
                    old: None,
                    new: Some(serde_json::json!({ "type": space_type, "description": space.description })),
                    error: None,
                    line: space.loc.line,
                });
                plan.writes.push(Write::CreateSpace {
                    name: space.name.clone(),
                    space_type,
                    description: space.description.clone(),
                });
            }
            Some(found) => {
                if let Some(wanted) = &space.space_type
                    && wanted != &found.space_type
                {
                    plan.changes.push(Change {
                        section: Section::Spaces,
                        mark: Mark::Error,
                        name: space.name.clone(),
                        old: Some(serde_json::json!({ "type": found.space_type })),
                        new: Some(serde_json::json!({ "type": wanted })),
                        error: Some(format!(
                            "{} (a space's type cannot change)",
                            type_mismatch(&space.name, wanted, &found.space_type)
                        )),
                        line: space.type_loc.line,
                    });
                    continue;
                }
                let now = found.description.clone().unwrap_or_default();
                match &space.description {
                    Some(wanted) if *wanted != now => {
                        plan.changes.push(Change {
                            section: Section::Spaces,
                            mark: Mark::Update,
                            name: space.name.clone(),
                            old: Some(serde_json::json!({ "description": now })),
                            new: Some(serde_json::json!({ "description": wanted })),
                            error: None,
                            line: space.loc.line,
                        });
                        plan.writes.push(Write::SpaceDescription {
                            id: found.id.clone(),
                            name: space.name.clone(),
                            description: wanted.clone(),
                        });
                    }
                    _ => plan.changes.push(Change {
                        section: Section::Spaces,
                        mark: Mark::Unchanged,
                        name: space.name.clone(),
                        old: None,
                        new: None,
                        error: None,
                        line: space.loc.line,
                    }),
                }
            }
        }
    }
    plan.changes.sort_by_key(|c| c.section);
    plan
}

/// What a key's user needs to read or write a tenant's configuration.
pub fn admin_hint(who: Option<&str>) -> String {
    match who {
        Some(who) => format!(
            "the key acts as {who}, who may not do this: give that user the {ADMIN_ROLE} role, or use a key of a user who has it"
        ),
        None => format!("give the key's user the {ADMIN_ROLE} role, or use a key of a user who has it"),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use core_api::target::GroupInfo;

    use super::*;

    fn file(text: &str) -> TenantFile {
        super::super::file::parse(Path::new("t.toml"), text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn space(name: &str, ty: &str, description: Option<&str>) -> SpaceInfo {
        SpaceInfo {
            id: format!("id-{name}"),
            name: name.to_owned(),
            space_type: ty.to_owned(),
            owner_id: None,
            assignable_roles: Vec::new(),
            description: description.map(str::to_owned),
        }
    }

    fn group(name: &str, roles: &[&str]) -> GroupWithRoles {
        GroupWithRoles {
            group: GroupInfo {
                id: format!("id-{name}"),
                name: name.to_owned(),
            },
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            provider_type: None,
        }
    }

    const FILE: &str = "[settings]\nauto_create_groups = true\nsync_idp_groups = true\nauto_assign_analyzer = true\n\
        [[groups]]\nname = \"A\"\nroles = [\"AuditAdmin\"]\n[[groups]]\nname = \"B\"\nroles = [\"DataAdmin\"]\n\
        [[groups]]\nname = \"C\"\n[[spaces]]\nname = \"S\"\ntype = \"shared\"\ndescription = \"new\"\n\
        [[spaces]]\nname = \"T\"\ntype = \"managed\"\n";

    #[test]
    fn only_differences_are_written_in_dependency_order() {
        let state = TenantState {
            group_settings: Some(GroupSettings {
                auto_create_groups: false,
                sync_idp_groups: true,
            }),
            license_settings: Some(LicenseSettings {
                auto_assign_professional: true,
                auto_assign_analyzer: false,
            }),
            roles: None,
            groups: vec![group("B", &["AuditAdmin"]), group("C", &["TenantAdmin"])],
            spaces: vec![space("S", "shared", Some("old"))],
        };
        let plan = diff(&file(FILE), &state);
        let kinds: Vec<String> = plan.writes.iter().map(Write::describe).collect();
        assert_eq!(
            kinds,
            vec![
                "update the group settings",
                "update the license settings",
                "create group \"A\"",
                "set the roles of group \"B\"",
                "update the description of space \"S\"",
                "create space \"T\"",
            ]
        );
        assert_eq!(
            plan.writes[0],
            Write::GroupSettings {
                patch: GroupSettingsPatch {
                    auto_create_groups: Some(true),
                    sync_idp_groups: None,
                }
            }
        );
        // Read, change, write: the value the file leaves out keeps the tenant's.
        assert_eq!(
            plan.writes[1],
            Write::LicenseSettings {
                settings: LicenseSettings {
                    auto_assign_professional: true,
                    auto_assign_analyzer: true,
                }
            }
        );
        assert_eq!(plan.new_groups.iter().collect::<Vec<_>>(), vec!["A"]);
        assert_eq!(plan.new_spaces.iter().collect::<Vec<_>>(), vec!["T"]);
        assert_eq!(plan.errors(), 0);
    }

    #[test]
    fn a_tenant_that_matches_needs_no_write() {
        let state = TenantState {
            group_settings: Some(GroupSettings {
                auto_create_groups: true,
                sync_idp_groups: true,
            }),
            license_settings: Some(LicenseSettings {
                auto_assign_professional: false,
                auto_assign_analyzer: true,
            }),
            roles: None,
            groups: vec![
                group("A", &["AuditAdmin"]),
                group("B", &["DataAdmin"]),
                group("C", &[]),
            ],
            spaces: vec![space("S", "shared", Some("new")), space("T", "managed", None)],
        };
        let plan = diff(&file(FILE), &state);
        assert!(plan.writes.is_empty(), "{:?}", plan.writes);
        assert!(plan.changes.iter().all(|c| c.mark == Mark::Unchanged));
    }

    #[test]
    fn a_type_mismatch_is_an_error_line_and_no_write() {
        let state = TenantState {
            spaces: vec![space("T", "shared", None)],
            ..TenantState::default()
        };
        let f = file("[[spaces]]\nname = \"T\"\ntype = \"managed\"\n");
        let plan = diff(&f, &state);
        assert!(plan.writes.is_empty());
        assert_eq!(plan.errors(), 1);
        let error = check_types(&f, &state.spaces)
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert_eq!((error.problems[0].loc.line, error.problems[0].loc.column), (3, 8));
    }

    #[test]
    fn unknown_roles_are_located_with_the_closest_names() {
        let roles: Vec<RoleInfo> = ["TenantAdmin", "AuditAdmin", "AnalyticsAdmin"]
            .iter()
            .map(|n| RoleInfo {
                id: (*n).to_owned(),
                name: (*n).to_owned(),
                role_type: "default".to_owned(),
                level: "admin".to_owned(),
            })
            .collect();
        let f = file("[[groups]]\nname = \"A\"\nroles = [\"AuditAdmin\", \"auditadmn\"]\n");
        let error = check_roles(&f, &roles)
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert_eq!(error.problems.len(), 1);
        assert_eq!(
            (error.problems[0].loc.line, error.problems[0].loc.column),
            (3, 24)
        );
        assert!(
            error.to_string().contains("did you mean \"AuditAdmin\""),
            "{error}"
        );
    }
}
