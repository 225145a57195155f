//! The demo's roster, generated from the large simulated tenant (`data/tenant-large.json`).
//!
//! `data/demo-roster.csv` is this generator's output, committed so people can read it; a test
//! checks the two agree (`UPDATE_DEMO_ROSTER=1 cargo test -p batch-cli demo_roster` rewrites
//! the file). The roster touches 80 spaces of all three types with 28 rows each: in every space
//! one row that is already true, two that add a role to an existing assignment (updates in merge
//! mode), and new assignments for users and groups. Seven rows are wrong on purpose, each in its
//! own way, so the demo shows how a bad row fails alone with its reason:
//!
//! | problem | what the row says |
//! |---|---|
//! | unknown user | an email the tenant does not know |
//! | unknown group | a group name the tenant does not know |
//! | unknown space | a space the tenant does not have |
//! | role not assignable | `publisher` in a shared space |
//! | space owner | the space's owner, who needs no assignment |
//! | duplicate conflict (2 rows) | the same user in the same space twice, with different roles |

use std::collections::HashSet;

use sim::generate::Mix;
use sim::{AssigneeType, Space, SpaceType, Tenant};

/// Spaces the roster touches.
pub const SPACES: usize = 80;
/// Rows per space, before the deliberately bad rows are added.
pub const ROWS_PER_SPACE: usize = 28;
/// Rows that fail on purpose.
pub const BAD_ROWS: usize = 7;

/// The header of the demo roster.
pub const HEADER: [&str; 4] = ["space", "type", "assignee", "roles"];

/// An email the large tenant does not know.
pub const UNKNOWN_USER: &str = "former.employee@corp.example";
/// A group name the large tenant does not know.
pub const UNKNOWN_GROUP: &str = "Contractors EMEA";
/// A space name the large tenant does not have.
pub const UNKNOWN_SPACE: &str = "Finance archive 2019";

/// One roster row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoRow {
    /// Space name.
    pub space: String,
    /// `user` or `group`.
    pub kind: AssigneeType,
    /// Email or group name.
    pub assignee: String,
    /// Roles, API names.
    pub roles: Vec<String>,
}

impl DemoRow {
    fn new(space: &Space, kind: AssigneeType, assignee: &str, roles: &[&str]) -> Self {
        Self {
            space: space.name.clone(),
            kind,
            assignee: assignee.to_owned(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        }
    }
}

fn assignee_name(tenant: &Tenant, kind: AssigneeType, id: &str) -> Option<String> {
    match kind {
        AssigneeType::User => tenant
            .user_by_id(id)
            .filter(|u| u.status == "active")
            .and_then(|u| u.email.clone()),
        AssigneeType::Group => tenant.group_by_id(id).map(|g| g.name.clone()),
    }
}

/// Roles for a new assignment: mostly one, sometimes two, `consumer` most often where the space
/// type has it, as in real rosters.
fn pick_roles<'a>(mix: &mut Mix, assignable: &'a [&'a str]) -> Vec<&'a str> {
    let first = if assignable.contains(&"consumer") && mix.below(2) == 0 {
        "consumer"
    } else {
        assignable[mix.below(assignable.len())]
    };
    let mut roles = vec![first];
    if mix.below(4) == 0 {
        let second = assignable[mix.below(assignable.len())];
        if second != first {
            roles.push(second);
        }
    }
    roles.sort_unstable();
    roles
}

/// The good rows, space by space.
fn good_rows(tenant: &Tenant, mix: &mut Mix) -> Vec<DemoRow> {
    // Owners come from the first 50 users and the credentials' users are the first 6: new
    // assignments use the others, active and with an email.
    let users: Vec<&str> = tenant
        .users()
        .iter()
        .skip(50)
        .filter(|u| u.status == "active")
        .filter_map(|u| u.email.as_deref())
        .collect();
    let groups: Vec<&str> = tenant.groups().iter().map(|g| g.name.as_str()).collect();

    let mut rows = Vec::with_capacity(SPACES * ROWS_PER_SPACE);
    for space in tenant.spaces().iter().step_by(2).take(SPACES) {
        let assignable = space.space_type.assignable_roles();
        let mut taken: HashSet<String> = HashSet::new();
        if let Some(owner) = tenant.user_by_id(&space.owner_id).and_then(|u| u.email.clone()) {
            taken.insert(owner);
        }
        let existing: Vec<_> = tenant.assignments_of(&space.id).collect();
        for a in &existing {
            if let Some(name) = assignee_name(tenant, a.assignee_type, &a.assignee_id) {
                taken.insert(name);
            }
        }

        let mut in_space = Vec::with_capacity(ROWS_PER_SPACE);
        // Existing assignments: the first one restated (unchanged), the next two given a role
        // they lack (updates).
        for a in &existing {
            if in_space.len() >= 3 {
                break;
            }
            let Some(name) = assignee_name(tenant, a.assignee_type, &a.assignee_id) else {
                continue;
            };
            if in_space.is_empty() {
                let held: Vec<&str> = a.roles.iter().map(String::as_str).collect();
                in_space.push(DemoRow::new(space, a.assignee_type, &name, &held));
            } else if let Some(extra) = assignable.iter().find(|r| !a.roles.iter().any(|h| h == *r)) {
                in_space.push(DemoRow::new(space, a.assignee_type, &name, &[extra]));
            }
        }
        // New assignments: about one in seven a group.
        while in_space.len() < ROWS_PER_SPACE {
            let (kind, name) = if mix.below(7) == 0 {
                (AssigneeType::Group, groups[mix.below(groups.len())])
            } else {
                (AssigneeType::User, users[mix.below(users.len())])
            };
            if !taken.insert(name.to_owned()) {
                continue;
            }
            let roles = pick_roles(mix, assignable);
            in_space.push(DemoRow::new(space, kind, name, &roles));
        }
        rows.extend(in_space);
    }
    rows
}

/// A user the good rows assign somewhere, but not in `space`, so a bad row for them in `space`
/// fails for its own reason and not as a duplicate.
fn user_not_in<'a>(rows: &'a [DemoRow], space: &Space, from_end: bool) -> Option<&'a str> {
    let fits = |r: &&DemoRow| {
        r.kind == AssigneeType::User
            && !rows
                .iter()
                .any(|o| o.space == space.name && o.assignee == r.assignee)
    };
    if from_end {
        rows.iter().rev().find(fits)
    } else {
        rows.iter().find(fits)
    }
    .map(|r| r.assignee.as_str())
}

/// The rows that fail on purpose, each with the 0-based position it is inserted at.
fn bad_rows(tenant: &Tenant, rows: &[DemoRow]) -> Vec<(usize, DemoRow)> {
    let chosen: Vec<&Space> = tenant.spaces().iter().step_by(2).take(SPACES).collect();
    let mut bad = Vec::new();
    let at = |fraction: usize| rows.len() * fraction / 100;

    if let Some(space) = chosen.get(5) {
        bad.push((
            at(12),
            DemoRow::new(space, AssigneeType::User, UNKNOWN_USER, &["consumer"]),
        ));
    }
    if let Some(space) = chosen.get(17) {
        bad.push((
            at(30),
            DemoRow::new(space, AssigneeType::Group, UNKNOWN_GROUP, &["consumer"]),
        ));
    }
    let nowhere = Space {
        id: String::new(),
        name: UNKNOWN_SPACE.to_owned(),
        space_type: SpaceType::Shared,
        owner_id: String::new(),
        description: String::new(),
        assignable_roles: None,
    };
    if let Some(user) = rows.iter().find(|r| r.kind == AssigneeType::User) {
        bad.push((
            at(45),
            DemoRow::new(&nowhere, AssigneeType::User, &user.assignee, &["consumer"]),
        ));
    }

    // `publisher` exists, but not in shared spaces.
    if let Some(space) = chosen.iter().skip(30).find(|s| s.space_type == SpaceType::Shared)
        && let Some(user) = user_not_in(rows, space, false)
    {
        bad.push((
            at(60),
            DemoRow::new(space, AssigneeType::User, user, &["publisher"]),
        ));
    }
    // The owner holds every role already and is never listed as an assignee.
    if let Some((space, email)) = chosen.iter().skip(40).find_map(|s| {
        tenant
            .user_by_id(&s.owner_id)
            .and_then(|u| u.email.clone())
            .map(|e| (*s, e))
    }) {
        bad.push((
            at(75),
            DemoRow::new(space, AssigneeType::User, &email, &["consumer"]),
        ));
    }
    // The same user twice in one space with different roles: neither row can be right.
    let roles = |s: &Space| {
        let all = s.space_type.assignable_roles();
        all.first()
            .zip(all.last())
            .filter(|(a, b)| a != b)
            .map(|(a, b)| (*a, *b))
    };
    if let Some(space) = chosen.get(60)
        && let Some(user) = user_not_in(rows, space, true)
        && let Some((a, b)) = roles(space)
    {
        bad.push((at(85), DemoRow::new(space, AssigneeType::User, user, &[a])));
        bad.push((at(85) + 10, DemoRow::new(space, AssigneeType::User, user, &[b])));
    }
    bad
}

/// Every row of the demo roster, in file order.
pub fn rows(tenant: &Tenant) -> Vec<DemoRow> {
    // A deterministic sequence, so the roster never changes unless the tenant or this code does.
    let mut mix = Mix::new(2026);
    let mut rows = good_rows(tenant, &mut mix);
    let mut bad = bad_rows(tenant, &rows);
    // Insert from the back so earlier positions stay valid.
    bad.sort_by_key(|(pos, _)| std::cmp::Reverse(*pos));
    for (pos, row) in bad {
        rows.insert(pos.min(rows.len()), row);
    }
    rows
}

/// The demo roster as CSV text.
pub fn generate(tenant: &Tenant) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail; a failure would only drop rows, which the test catches.
    let _ = out.write_record(HEADER);
    for row in rows(tenant) {
        let _ = out.write_record([
            row.space.as_str(),
            row.kind.as_str(),
            row.assignee.as_str(),
            &row.roles.join(";"),
        ]);
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::PathBuf;

    use super::*;

    fn data(file: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../data")
            .join(file)
    }

    fn tenant() -> Tenant {
        Tenant::load(&data("tenant-large.json")).unwrap()
    }

    #[test]
    fn demo_roster_is_the_generators_output() {
        let generated = generate(&tenant());
        let path = data("demo-roster.csv");
        if std::env::var_os("UPDATE_DEMO_ROSTER").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "data/demo-roster.csv is out of date: run `UPDATE_DEMO_ROSTER=1 cargo test -p batch-cli demo_roster`"
        );
    }

    /// Every row resolves against the tenant except the seven that are wrong on purpose, and
    /// those fail for exactly their intended reason.
    #[test]
    fn demo_roster_rows_resolve_except_the_bad_ones() {
        let tenant = tenant();
        let rows = rows(&tenant);
        assert_eq!(rows.len(), SPACES * ROWS_PER_SPACE + BAD_ROWS);
        assert!(rows.len() >= 2000);

        let mut pairs: HashMap<(String, String), Vec<Vec<String>>> = HashMap::new();
        let mut problems: Vec<&str> = Vec::new();
        let mut updates = 0;
        let mut unchanged = 0;
        for row in &rows {
            pairs
                .entry((row.space.clone(), row.assignee.clone()))
                .or_default()
                .push(row.roles.clone());
            let Some(space) = tenant.space_by_name(&row.space) else {
                problems.push("unknown_space");
                continue;
            };
            let id = match row.kind {
                AssigneeType::User => tenant.user_by_email(&row.assignee).map(|u| u.id.clone()),
                AssigneeType::Group => tenant.group_by_name(&row.assignee).map(|g| g.id.clone()),
            };
            let Some(id) = id else {
                problems.push(if row.kind == AssigneeType::User {
                    "unknown_user"
                } else {
                    "unknown_group"
                });
                continue;
            };
            if id == space.owner_id {
                problems.push("space_owner");
                continue;
            }
            let assignable = space.assignable_roles();
            if row.roles.iter().any(|r| !assignable.contains(r)) {
                problems.push("role_not_assignable");
                continue;
            }
            if let Some(a) = tenant.assignments_of(&space.id).find(|a| a.assignee_id == id) {
                if row.roles.iter().all(|r| a.roles.contains(r)) {
                    unchanged += 1;
                } else {
                    updates += 1;
                }
            }
        }
        let conflicts = pairs.values().filter(|v| v.len() > 1).collect::<Vec<_>>();
        assert_eq!(conflicts.len(), 1, "exactly one duplicate conflict");
        assert_eq!(conflicts[0].len(), 2);
        assert_ne!(conflicts[0][0], conflicts[0][1], "the duplicate rows disagree");

        problems.sort_unstable();
        assert_eq!(
            problems,
            [
                "role_not_assignable",
                "space_owner",
                "unknown_group",
                "unknown_space",
                "unknown_user"
            ]
        );
        assert!(unchanged >= SPACES / 2, "{unchanged} unchanged rows");
        assert!(updates >= SPACES, "{updates} updates");
        let spaces: HashSet<_> = rows.iter().map(|r| r.space.as_str()).collect();
        assert_eq!(spaces.len(), SPACES + 1, "80 real spaces and the unknown one");
    }
}
