//! Mapping a source tenant's assignments onto a target tenant: spaces by (renamed) name, users by
//! email then subject, groups by name, roles through the role map, and group assignments
//! expanded to their members for targets without groups.
//!
//! Nothing is dropped: whatever cannot be mapped becomes a row with a problem, which the plan
//! and the failed-rows CSV list.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;

use core_api::target::{AssigneeKind, GroupInfo, SpaceInfo, TargetKind, UserInfo};

use super::maps::{IdentityMap, RoleMap, RoleMapping, SpaceRename};
use crate::export::{Exported, People, SpaceExport};
use crate::roster::escape_cell;

/// The header of the generated roster. `assignee_id` beside `assignee` is a reference the reader
/// uses only for users without an email; the `source_*` and `note` columns are carried to the
/// failed-rows CSV.
pub const HEADER: [&str; 8] = [
    "space",
    "type",
    "assignee",
    "roles",
    "assignee_id",
    "source_space",
    "source_assignee",
    "note",
];

/// What was read from the source tenant.
#[derive(Debug, Clone)]
pub struct Source {
    /// The source's vendor.
    pub kind: TargetKind,
    /// The exported spaces with their assignments.
    pub spaces: Vec<SpaceExport>,
    /// Its users and groups by id.
    pub people: People,
    /// Members of the source groups that need expanding, by group id.
    pub members: HashMap<String, Vec<UserInfo>>,
}

/// What is known of the target tenant.
#[derive(Debug, Clone)]
pub struct TargetView {
    /// The target's vendor.
    pub kind: TargetKind,
    /// Every space.
    pub spaces: Vec<SpaceInfo>,
    /// Every user, when the target can list them (Alumio cannot: emails are used as they are).
    pub users: Option<Vec<UserInfo>>,
    /// Every group.
    pub groups: Vec<GroupInfo>,
    /// Whether groups can be assigned; if not, group assignments are expanded to their members.
    pub groups_supported: bool,
}

/// How to map.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Identity overrides.
    pub identities: IdentityMap,
    /// Role rules (Qlik to Alumio starts from the documented default).
    pub roles: RoleMap,
    /// Space renaming.
    pub rename: Option<SpaceRename>,
    /// Create spaces the target lacks.
    pub create_spaces: bool,
    /// Create groups the target lacks.
    pub create_groups: bool,
}

/// A space the run creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSpace {
    /// Its name in the target.
    pub name: String,
    /// The source's type.
    pub space_type: String,
    /// The source's description.
    pub description: Option<String>,
}

/// A group assignment expanded to its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    /// The target space's name.
    pub space: String,
    /// The source group's name.
    pub group: String,
    /// The members' target emails.
    pub members: Vec<String>,
}

/// One row of the generated roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedRow {
    /// The target space's name.
    pub space: String,
    /// User or group.
    pub kind: AssigneeKind,
    /// The target email (subject for a user without one) or group name; the source's when
    /// unmapped.
    pub assignee: String,
    /// The target user's id, for users without an email.
    pub assignee_id: String,
    /// Target roles (the source's when they could not be mapped).
    pub roles: Vec<String>,
    /// The source space's name.
    pub source_space: String,
    /// The source assignee as the source names it.
    pub source_assignee: String,
    /// How it was mapped (`email`, `subject`, `identity map`, `via group X`, ...).
    pub note: String,
    /// Why the row cannot be done: (code, message).
    pub problem: Option<(String, String)>,
}

/// How users were matched, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Matches {
    /// Users by email.
    pub by_email: u64,
    /// Users by subject.
    pub by_subject: u64,
    /// Users and groups through the identity map.
    pub by_identity_map: u64,
    /// Groups by name.
    pub groups_by_name: u64,
}

/// The result of mapping.
#[derive(Debug, Clone, Default)]
pub struct Mapped {
    /// The rows, in source order (space by space).
    pub rows: Vec<MappedRow>,
    /// Spaces to create (with `--create-missing-spaces`).
    pub new_spaces: Vec<NewSpace>,
    /// Groups to create (with `--create-missing-groups`).
    pub new_groups: Vec<String>,
    /// Group assignments expanded to users.
    pub expansions: Vec<Expansion>,
    /// How identities matched.
    pub matches: Matches,
    /// Source spaces with an owner, as (source space name, owner): an owner is not an
    /// assignment, so it is not carried over.
    pub owners: Vec<(String, String)>,
}

impl Mapped {
    /// Rows with a problem.
    pub fn problems(&self) -> impl Iterator<Item = &MappedRow> {
        self.rows.iter().filter(|r| r.problem.is_some())
    }
}

/// A target user as rosters name it: email, else subject with the id beside it.
fn target_label(user: &UserInfo) -> (String, String) {
    match &user.email {
        Some(email) => (email.to_lowercase(), String::new()),
        None => (
            user.subject.clone().unwrap_or_else(|| user.id.clone()),
            user.id.clone(),
        ),
    }
}

struct Directory<'a> {
    by_email: HashMap<String, &'a UserInfo>,
    by_subject: HashMap<&'a str, &'a UserInfo>,
    groups: HashMap<&'a str, &'a GroupInfo>,
    listed: bool,
}

impl<'a> Directory<'a> {
    fn new(target: &'a TargetView) -> Self {
        let users = target.users.as_deref().unwrap_or_default();
        Directory {
            by_email: users
                .iter()
                .filter_map(|u| u.email.as_ref().map(|e| (e.to_lowercase(), u)))
                .collect(),
            by_subject: users
                .iter()
                .filter_map(|u| u.subject.as_deref().map(|s| (s, u)))
                .collect(),
            groups: target.groups.iter().map(|g| (g.name.as_str(), g)).collect(),
            listed: target.users.is_some(),
        }
    }
}

/// A source user, mapped: (label, id, how) or (code, message).
type UserResult = Result<(String, String, &'static str), (String, String)>;

fn map_user(
    email: Option<&str>,
    subject: Option<&str>,
    dir: &Directory<'_>,
    opts: &Options,
    target_name: &str,
) -> UserResult {
    let unmapped = |message: String| Err(("unmapped_user".to_owned(), message));
    let mapped = email
        .and_then(|e| opts.identities.get(e))
        .or_else(|| subject.and_then(|s| opts.identities.get(s)));
    if let Some(to) = mapped {
        if !dir.listed {
            return Ok((to.to_lowercase(), String::new(), "identity map"));
        }
        let found = dir
            .by_email
            .get(&to.to_lowercase())
            .copied()
            .or_else(|| dir.by_subject.get(to).copied());
        return match found {
            Some(user) => {
                let (label, id) = target_label(user);
                Ok((label, id, "identity map"))
            }
            None => unmapped(format!(
                "the identity map sends {} to {to:?}, which is not a user of {target_name}",
                email.or(subject).unwrap_or_default()
            )),
        };
    }
    if !dir.listed {
        return match email {
            Some(email) => Ok((email.to_lowercase(), String::new(), "email")),
            None => unmapped(format!(
                "user {:?} has no email, and {target_name} knows users by email only",
                subject.unwrap_or_default()
            )),
        };
    }
    if let Some(user) = email.and_then(|e| dir.by_email.get(&e.to_lowercase())) {
        let (label, id) = target_label(user);
        return Ok((label, id, "email"));
    }
    if let Some(user) = subject.and_then(|s| dir.by_subject.get(s)) {
        let (label, id) = target_label(user);
        return Ok((label, id, "subject"));
    }
    let what = match (email, subject) {
        (Some(e), Some(s)) => format!("email {e:?} or subject {s:?}"),
        (Some(e), None) => format!("email {e:?}"),
        (None, Some(s)) => format!("subject {s:?}"),
        (None, None) => "email or subject".to_owned(),
    };
    unmapped(format!(
        "no user with {what} in {target_name}; add it to --identity-map to map it"
    ))
}

/// Map the roles of one assignment for a target space of `space_type`.
fn map_roles(
    roles: &[String],
    space_type: &str,
    opts: &Options,
    kind: TargetKind,
) -> Result<Vec<String>, (String, String)> {
    let mut out = Vec::new();
    let mut unmapped = Vec::new();
    for role in roles {
        match opts.roles.map(role, space_type, kind) {
            RoleMapping::To(targets) => out.extend(targets),
            RoleMapping::Unmapped => unmapped.push(role.as_str()),
        }
    }
    if !unmapped.is_empty() {
        return Err((
            "unmapped_role".to_owned(),
            format!(
                "no {kind} role for {}; add a rule to --role-map",
                unmapped.join(", ")
            ),
        ));
    }
    out.sort_unstable();
    out.dedup();
    if out.is_empty() {
        return Err((
            "unmapped_role".to_owned(),
            format!("the role map drops every role ({})", roles.join(", ")),
        ));
    }
    Ok(out)
}

/// Map the source onto the target.
pub fn map(source: &Source, target: &TargetView, opts: &Options, target_name: &str) -> Mapped {
    let dir = Directory::new(target);
    let mut mapped = Mapped::default();
    let mut new_group_names: Vec<String> = Vec::new();
    for export in &source.spaces {
        let source_space = &export.space;
        if let Some(owner) = &export.owner {
            mapped.owners.push((source_space.name.clone(), owner.clone()));
        }
        let name = opts
            .rename
            .as_ref()
            .map_or_else(|| source_space.name.clone(), |r| r.apply(&source_space.name));
        let existing = target.spaces.iter().find(|s| s.name == name).or_else(|| {
            (target.kind == TargetKind::Alumio)
                .then(|| target.spaces.iter().find(|s| s.id == name))
                .flatten()
        });
        let (space_name, space_type, space_problem) = match existing {
            Some(space) => (space.name.clone(), space.space_type.clone(), None),
            None if opts.create_spaces => {
                if !mapped.new_spaces.iter().any(|s| s.name == name) {
                    mapped.new_spaces.push(NewSpace {
                        name: name.clone(),
                        // Alumio spaces have no type.
                        space_type: if target.kind == TargetKind::Alumio {
                            String::new()
                        } else {
                            source_space.space_type.clone()
                        },
                        description: source_space.description.clone(),
                    });
                }
                (name.clone(), source_space.space_type.clone(), None)
            }
            None => (
                name.clone(),
                source_space.space_type.clone(),
                Some((
                    "unmapped_space".to_owned(),
                    format!("no space named {name:?} in {target_name}; --create-missing-spaces creates it"),
                )),
            ),
        };
        // Rows of this space, merged by assignee (a user assigned directly and through a group,
        // or through two groups, holds the union of the roles).
        let mut rows: Vec<MappedRow> = Vec::new();
        let mut index: HashMap<(AssigneeKind, String), usize> = HashMap::new();
        let mut push = |row: MappedRow, rows: &mut Vec<MappedRow>| {
            let key = (row.kind, row.assignee.clone());
            if row.problem.is_none()
                && let Some(&i) = index.get(&key)
                && rows[i].problem.is_none()
            {
                let existing = &mut rows[i];
                existing.roles.extend(row.roles);
                existing.roles.sort_unstable();
                existing.roles.dedup();
                if !existing.note.contains(&row.note) {
                    existing.note = format!("{}; {}", existing.note, row.note);
                }
                if !existing.source_assignee.contains(&row.source_assignee) {
                    existing.source_assignee =
                        format!("{}; {}", existing.source_assignee, row.source_assignee);
                }
                return;
            }
            if row.problem.is_none() {
                index.insert(key, rows.len());
            }
            rows.push(row);
        };
        for a in &export.assignments {
            let roles = map_roles(&a.roles, &space_type, opts, target.kind);
            let base = |assignee: String, kind: AssigneeKind| MappedRow {
                space: space_name.clone(),
                kind,
                assignee,
                assignee_id: String::new(),
                roles: roles.clone().unwrap_or_else(|_| a.roles.clone()),
                source_space: source_space.name.clone(),
                source_assignee: a.label().to_owned(),
                note: String::new(),
                problem: None,
            };
            match a.kind {
                AssigneeKind::User => {
                    let mut row = base(a.label().to_owned(), AssigneeKind::User);
                    match map_user(a.email.as_deref(), a.subject.as_deref(), &dir, opts, target_name) {
                        Ok((label, id, how)) => {
                            count(&mut mapped.matches, how);
                            row.assignee = label;
                            row.assignee_id = id;
                            row.note = how.to_owned();
                        }
                        Err(problem) => row.problem = Some(problem),
                    }
                    row.problem = space_problem.clone().or(row.problem).or(roles.clone().err());
                    push(row, &mut rows);
                }
                AssigneeKind::Group if !target.groups_supported => {
                    expand(
                        a,
                        source,
                        &dir,
                        opts,
                        target_name,
                        &space_name,
                        &mut mapped,
                        |mut row| {
                            row.roles = roles.clone().unwrap_or_else(|_| a.roles.clone());
                            row.source_space = source_space.name.clone();
                            row.problem = space_problem.clone().or(row.problem).or(roles.clone().err());
                            push(row, &mut rows);
                        },
                    );
                }
                AssigneeKind::Group => {
                    let mut row = base(a.label().to_owned(), AssigneeKind::Group);
                    let wanted = opts.identities.get(a.label()).unwrap_or(a.label()).to_owned();
                    let via_map = wanted != a.label();
                    if dir.groups.contains_key(wanted.as_str()) {
                        row.note = if via_map { "identity map" } else { "name" }.to_owned();
                        if via_map {
                            mapped.matches.by_identity_map += 1;
                        } else {
                            mapped.matches.groups_by_name += 1;
                        }
                    } else if opts.create_groups {
                        if !new_group_names.contains(&wanted) {
                            new_group_names.push(wanted.clone());
                        }
                        row.note = "created".to_owned();
                    } else {
                        row.problem = Some((
                            "unmapped_group".to_owned(),
                            format!(
                                "no group named {wanted:?} in {target_name}; --create-missing-groups creates it"
                            ),
                        ));
                    }
                    if row.problem.is_none() {
                        row.assignee = wanted;
                    }
                    row.problem = space_problem.clone().or(row.problem).or(roles.clone().err());
                    push(row, &mut rows);
                }
            }
        }
        mapped.rows.extend(rows);
    }
    mapped.new_groups = new_group_names;
    mapped
}

fn count(matches: &mut Matches, how: &str) {
    match how {
        "email" => matches.by_email += 1,
        "subject" => matches.by_subject += 1,
        _ => matches.by_identity_map += 1,
    }
}

/// A group assignment towards a target without groups: one user row per member.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site, all context of the mapping"
)]
fn expand(
    a: &Exported,
    source: &Source,
    dir: &Directory<'_>,
    opts: &Options,
    target_name: &str,
    space: &str,
    mapped: &mut Mapped,
    mut push: impl FnMut(MappedRow),
) {
    let group = a.label().to_owned();
    let members = source
        .members
        .get(&a.assignee_id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut emails = Vec::new();
    for member in members {
        let email = member.email.as_deref().map(str::to_lowercase);
        let shown = email
            .clone()
            .or_else(|| member.subject.clone())
            .unwrap_or_else(|| member.id.clone());
        let mut row = MappedRow {
            space: space.to_owned(),
            kind: AssigneeKind::User,
            assignee: shown.clone(),
            assignee_id: String::new(),
            roles: Vec::new(),
            source_space: String::new(),
            source_assignee: format!("{shown} (group {group})"),
            note: format!("via group {group}"),
            problem: None,
        };
        match map_user(
            email.as_deref(),
            member.subject.as_deref(),
            dir,
            opts,
            target_name,
        ) {
            Ok((label, id, how)) => {
                count(&mut mapped.matches, how);
                emails.push(label.clone());
                row.assignee = label;
                row.assignee_id = id;
            }
            Err(problem) => row.problem = Some(problem),
        }
        push(row);
    }
    mapped.expansions.push(Expansion {
        space: space.to_owned(),
        group,
        members: emails,
    });
}

/// Write the generated roster. Returns the number of rows written.
pub fn write_csv(mapped: &Mapped, out: impl io::Write) -> io::Result<u64> {
    let mut writer = csv::WriterBuilder::new().from_writer(out);
    writer.write_record(HEADER).map_err(io::Error::other)?;
    // Line breaks would split a record over lines the reader refuses.
    let clean = |s: &str| escape_cell(&s.replace(['\n', '\r'], " ")).into_owned();
    for row in &mapped.rows {
        let kind = row.kind.to_string();
        let roles = row.roles.join(";");
        writer
            .write_record([
                clean(&row.space),
                kind,
                clean(&row.assignee),
                roles,
                clean(&row.assignee_id),
                clean(&row.source_space),
                clean(&row.source_assignee),
                clean(&row.note),
            ])
            .map_err(io::Error::other)?;
    }
    writer.flush()?;
    Ok(mapped.rows.len() as u64)
}

/// ` (shared)` for a space type, nothing for a target whose spaces have none.
pub fn type_suffix(space_type: &str) -> String {
    if space_type.is_empty() {
        String::new()
    } else {
        format!(" ({space_type})")
    }
}

/// The mapping report: what matched how, what will be created, which groups expand to whom, and
/// every row that cannot be mapped.
pub fn report(mapped: &Mapped, from: &str, to: &str, spaces: usize) -> String {
    let mut out = String::new();
    let m = mapped.matches;
    let _ = writeln!(
        out,
        "migrate {from} -> {to}: {spaces} spaces, {} rows",
        mapped.rows.len()
    );
    let _ = writeln!(
        out,
        "  identities: {} users by email, {} by subject, {} through the identity map, {} groups by name",
        m.by_email, m.by_subject, m.by_identity_map, m.groups_by_name
    );
    for space in &mapped.new_spaces {
        let _ = writeln!(
            out,
            "  + space {:?}{} will be created",
            space.name,
            type_suffix(&space.space_type)
        );
    }
    for group in &mapped.new_groups {
        let _ = writeln!(out, "  + group {group:?} will be created (custom)");
    }
    for e in &mapped.expansions {
        if e.members.is_empty() {
            let _ = writeln!(
                out,
                "  ! space {:?}: group {:?} expands to no users (it has no members the target \
                 knows): nobody gets its roles",
                e.space, e.group
            );
            continue;
        }
        let noun = if e.members.len() == 1 { "user" } else { "users" };
        let _ = writeln!(
            out,
            "  space {:?}: group {:?} expands to {} {noun}: {}",
            e.space,
            e.group,
            e.members.len(),
            e.members.join(", ")
        );
    }
    if !mapped.owners.is_empty() {
        let _ = writeln!(
            out,
            "  space owners are not copied (an owner is not an assignment; {to} makes its API \
             key's user the owner of the spaces it creates):"
        );
        for (space, owner) in &mapped.owners {
            let _ = writeln!(out, "    {space:?}: owner {owner}");
        }
    }
    let problems: Vec<&MappedRow> = mapped.problems().collect();
    if problems.is_empty() {
        let _ = writeln!(out, "  everything maps");
    } else {
        let _ = writeln!(
            out,
            "  {} rows cannot be mapped (errors in the plan and the failed rows):",
            problems.len()
        );
        for row in problems {
            if let Some((code, message)) = &row.problem {
                let _ = writeln!(
                    out,
                    "    ! {} {} in {:?}: {code}: {message}",
                    row.kind, row.source_assignee, row.source_space
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn space(id: &str, name: &str, kind: &str) -> SpaceInfo {
        SpaceInfo {
            id: id.into(),
            name: name.into(),
            space_type: kind.into(),
            owner_id: None,
            assignable_roles: Vec::new(),
            description: Some("about".into()),
        }
    }

    fn user(id: &str, email: Option<&str>, subject: &str) -> UserInfo {
        UserInfo {
            id: id.into(),
            email: email.map(Into::into),
            subject: Some(subject.into()),
            name: None,
            status: None,
        }
    }

    fn exported_user(id: &str, email: Option<&str>, subject: &str, roles: &[&str]) -> Exported {
        Exported {
            kind: AssigneeKind::User,
            assignee_id: id.into(),
            email: email.map(Into::into),
            subject: Some(subject.into()),
            group_name: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    fn exported_group(id: &str, name: &str, roles: &[&str]) -> Exported {
        Exported {
            kind: AssigneeKind::Group,
            assignee_id: id.into(),
            email: None,
            subject: None,
            group_name: Some(name.into()),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    fn source(assignments: Vec<Exported>) -> Source {
        Source {
            kind: TargetKind::Qlik,
            spaces: vec![SpaceExport {
                space: Arc::new(space("s1", "Sales", "shared")),
                owner: None,
                assignments,
            }],
            people: People::default(),
            members: HashMap::new(),
        }
    }

    fn qlik_target() -> TargetView {
        TargetView {
            kind: TargetKind::Qlik,
            spaces: vec![space("t1", "Sales", "shared")],
            users: Some(vec![
                user("x1", Some("Ann@x.io"), "auth0|ann"),
                user("x2", Some("bob.new@x.io"), "auth0|bob"),
                user("x3", None, "svc"),
            ]),
            groups: vec![GroupInfo {
                id: "y1".into(),
                name: "Team".into(),
            }],
            groups_supported: true,
        }
    }

    #[test]
    fn users_by_email_then_subject_and_the_identity_map_wins() {
        let src = source(vec![
            exported_user("u1", Some("ann@x.io"), "other", &["consumer"]),
            exported_user("u2", Some("bob@old.io"), "auth0|bob", &["producer"]),
            exported_user("u3", None, "svc", &["consumer"]),
            exported_user("u4", Some("carl@x.io"), "auth0|carl", &["consumer"]),
            exported_user("u5", Some("dora@x.io"), "auth0|dora", &["consumer"]),
        ]);
        let opts = Options {
            identities: IdentityMap::parse("source,target\ndora@x.io,ann@x.io\n").unwrap(),
            ..Options::default()
        };
        let mapped = map(&src, &qlik_target(), &opts, "b");
        let rows: Vec<(&str, &str, Option<&str>)> = mapped
            .rows
            .iter()
            .map(|r| {
                (
                    r.assignee.as_str(),
                    r.note.as_str(),
                    r.problem.as_ref().map(|p| p.0.as_str()),
                )
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                ("ann@x.io", "email; identity map", None),
                ("bob.new@x.io", "subject", None),
                ("svc", "subject", None),
                ("carl@x.io", "", Some("unmapped_user")),
            ]
        );
        // ann directly and dora mapped onto ann: one row, roles merged.
        assert_eq!(mapped.rows[0].roles, vec!["consumer".to_owned()]);
        assert_eq!(mapped.rows[2].assignee_id, "x3");
        assert_eq!(mapped.matches.by_email, 1);
        assert_eq!(mapped.matches.by_subject, 2);
        assert_eq!(mapped.matches.by_identity_map, 1);
    }

    #[test]
    fn spaces_and_groups_are_created_only_when_asked() {
        let mut src = source(vec![
            exported_group("g1", "Team", &["consumer"]),
            exported_group("g2", "Missing", &["consumer"]),
        ]);
        let mut target = qlik_target();
        let mapped = map(&src, &target, &Options::default(), "b");
        assert_eq!(mapped.rows[0].problem, None);
        assert_eq!(
            mapped.rows[1].problem.as_ref().map(|p| p.0.as_str()),
            Some("unmapped_group")
        );
        assert!(mapped.new_groups.is_empty());

        let opts = Options {
            create_groups: true,
            create_spaces: true,
            rename: Some(SpaceRename::parse("EU *").unwrap()),
            ..Options::default()
        };
        target.spaces.clear();
        let mapped = map(&src, &target, &opts, "b");
        assert_eq!(mapped.new_groups, vec!["Missing".to_owned()]);
        assert_eq!(
            mapped.new_spaces,
            vec![NewSpace {
                name: "EU Sales".into(),
                space_type: "shared".into(),
                description: Some("about".into())
            }]
        );
        assert!(
            mapped
                .rows
                .iter()
                .all(|r| r.problem.is_none() && r.space == "EU Sales")
        );

        src.spaces[0].assignments.truncate(1);
        let mapped = map(&src, &target, &Options::default(), "b");
        assert_eq!(
            mapped.rows[0].problem.as_ref().map(|p| p.0.as_str()),
            Some("unmapped_space")
        );
    }

    #[test]
    fn groups_expand_for_alumio_with_mapped_roles() {
        let mut src = source(vec![
            exported_group("g1", "Team", &["producer"]),
            exported_user("u1", Some("ann@x.io"), "auth0|ann", &["consumer"]),
            exported_user("u2", Some("bob@x.io"), "auth0|bob", &["operator"]),
        ]);
        src.members.insert(
            "g1".into(),
            vec![
                user("u1", Some("ann@x.io"), "auth0|ann"),
                user("u9", Some("eve@x.io"), "e"),
            ],
        );
        let target = TargetView {
            kind: TargetKind::Alumio,
            spaces: vec![space("sales", "Sales", "")],
            users: None,
            groups: Vec::new(),
            groups_supported: false,
        };
        let opts = Options {
            roles: RoleMap::qlik_to_alumio(),
            ..Options::default()
        };
        let mapped = map(&src, &target, &opts, "alumio");
        let rows: Vec<(&str, Vec<String>, Option<&str>)> = mapped
            .rows
            .iter()
            .map(|r| {
                (
                    r.assignee.as_str(),
                    r.roles.clone(),
                    r.problem.as_ref().map(|p| p.0.as_str()),
                )
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                (
                    "ann@x.io",
                    vec!["ROLE_EDITOR".to_owned(), "ROLE_USER".to_owned()],
                    None
                ),
                ("eve@x.io", vec!["ROLE_EDITOR".to_owned()], None),
                ("bob@x.io", vec!["operator".to_owned()], Some("unmapped_role")),
            ]
        );
        assert_eq!(
            mapped.expansions,
            vec![Expansion {
                space: "Sales".into(),
                group: "Team".into(),
                members: vec!["ann@x.io".into(), "eve@x.io".into()]
            }]
        );
        let text = report(&mapped, "a", "alumio", 1);
        assert!(
            text.contains("group \"Team\" expands to 2 users: ann@x.io, eve@x.io"),
            "{text}"
        );
        assert!(text.contains("unmapped_role"), "{text}");
        let mut csv = Vec::new();
        assert_eq!(write_csv(&mapped, &mut csv).unwrap(), 3);
        let csv = String::from_utf8(csv).unwrap();
        assert!(
            csv.contains("Sales,user,eve@x.io,ROLE_EDITOR,,Sales,eve@x.io (group Team),via group Team"),
            "{csv}"
        );
    }
}
