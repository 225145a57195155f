//! Reading a tenant's assignments back as a roster: `roster export`, and the first step of
//! `roster migrate`.
//!
//! A snapshot is read with list calls only (Tier 1): the spaces, the user and group directories
//! (to name assignees by email and group name), then each selected space's assignments. Spaces
//! are delivered one at a time, in order, so `roster export` writes a space as soon as it is read.
//!
//! # The exported file
//! ```text
//! space,type,assignee,roles,space_id,assignee_id
//! # owner of Finance: boss@example.com
//! Finance,group,Analysts,consumer,604f1a,60a0b1
//! Finance,user,ann@example.com,consumer;producer,604f1a,60a0c2
//! ```
//! It is a canonical roster: users by email (by subject when they have none), groups by name,
//! roles by their API names. `space_id` and `assignee_id` are references: beside `space` and
//! `assignee` the reader uses the names, except for a user without an email, reached by its id.
//! Space owners need no assignment and appear as comment lines.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::sync::Arc;

use core_api::target::{AssigneeKind, GroupInfo, SpaceInfo, Target, TargetError, TargetKind, UserInfo};
use futures::StreamExt;

use crate::roster::escape_cell;

/// The header of an exported roster.
pub const HEADER: [&str; 6] = ["space", "type", "assignee", "roles", "space_id", "assignee_id"];

/// Which spaces to export.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Space names or ids; empty for every space.
    pub spaces: Vec<String>,
    /// Space types (`shared`, `managed`, `data`); empty for every type.
    pub types: Vec<String>,
}

/// The tenant's users and groups by id, for naming assignees.
#[derive(Debug, Clone, Default)]
pub struct People {
    /// Users by id.
    pub users: HashMap<String, UserInfo>,
    /// Groups by id.
    pub groups: HashMap<String, GroupInfo>,
}

impl People {
    /// Read both directories (concurrently). Alumio has none: its members are their emails.
    pub async fn read(target: &dyn Target) -> Result<People, TargetError> {
        if target.kind() == TargetKind::Alumio {
            return Ok(People::default());
        }
        let (users, groups) = futures::join!(target.list_users(), async {
            if target.capabilities().groups {
                target.list_groups().await
            } else {
                Ok(Vec::new())
            }
        });
        Ok(People {
            users: users?.into_iter().map(|u| (u.id.clone(), u)).collect(),
            groups: groups?.into_iter().map(|g| (g.id.clone(), g)).collect(),
        })
    }
}

/// One exported assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// User or group.
    pub kind: AssigneeKind,
    /// The tenant's id of the user or group.
    pub assignee_id: String,
    /// The email (users), lowercased.
    pub email: Option<String>,
    /// The identity provider's subject (users).
    pub subject: Option<String>,
    /// The group's name (groups).
    pub group_name: Option<String>,
    /// Roles, sorted.
    pub roles: Vec<String>,
}

impl Exported {
    /// How a roster names the assignee: email, else subject for users; name for groups; the id
    /// when the directory does not know it.
    pub fn label(&self) -> &str {
        match self.kind {
            AssigneeKind::User => self
                .email
                .as_deref()
                .or(self.subject.as_deref())
                .unwrap_or(&self.assignee_id),
            AssigneeKind::Group => self.group_name.as_deref().unwrap_or(&self.assignee_id),
        }
    }
}

/// One space and its assignments.
#[derive(Debug, Clone)]
pub struct SpaceExport {
    /// The space.
    pub space: Arc<SpaceInfo>,
    /// Its owner's email (or subject, or id), when it has one.
    pub owner: Option<String>,
    /// Its assignments, groups first, then users, each by label.
    pub assignments: Vec<Exported>,
}

/// The spaces `selection` asks for, in the tenant's order. Names and ids that match no space are
/// returned apart, so the caller can refuse before reading anything else.
pub async fn select_spaces(
    target: &dyn Target,
    selection: &Selection,
) -> Result<(Vec<Arc<SpaceInfo>>, Vec<String>), TargetError> {
    let all = target.list_spaces().await?;
    let wanted: HashSet<&str> = selection.spaces.iter().map(String::as_str).collect();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut chosen = Vec::new();
    for space in &all {
        let by_name = wanted.contains(space.name.as_str());
        let by_id = wanted.contains(space.id.as_str());
        if by_name {
            seen.insert(space.name.as_str());
        }
        if by_id {
            seen.insert(space.id.as_str());
        }
        let named = wanted.is_empty() || by_name || by_id;
        let typed = selection.types.is_empty() || selection.types.contains(&space.space_type);
        if named && typed {
            chosen.push(Arc::new(space.clone()));
        }
    }
    let missing = selection
        .spaces
        .iter()
        .filter(|s| !seen.contains(s.as_str()))
        .cloned()
        .collect();
    Ok((chosen, missing))
}

/// Read the assignments of `spaces`, `concurrency` listings at a time, and hand each space to
/// `each` in order as soon as it and the spaces before it are read.
pub async fn read_spaces(
    target: &dyn Target,
    spaces: Vec<Arc<SpaceInfo>>,
    people: &People,
    concurrency: usize,
    mut each: impl FnMut(SpaceExport) -> io::Result<()>,
) -> Result<(), ExportError> {
    let mut listings = futures::stream::iter(spaces)
        .map(|space| async move {
            let list = target.list_assignments(&space).await;
            (space, list)
        })
        .buffered(concurrency.max(1));
    while let Some((space, list)) = listings.next().await {
        let list = list.map_err(|source| ExportError::Read {
            space: space.name.clone(),
            source,
        })?;
        let mut assignments: Vec<Exported> = list
            .into_iter()
            .map(|a| {
                let mut roles = a.roles;
                roles.sort_unstable();
                roles.dedup();
                let user = (a.assignee_kind == AssigneeKind::User)
                    .then(|| people.users.get(&a.assignee_id))
                    .flatten();
                let group = (a.assignee_kind == AssigneeKind::Group)
                    .then(|| people.groups.get(&a.assignee_id))
                    .flatten();
                // Alumio members are their emails.
                let email = user
                    .and_then(|u| u.email.clone())
                    .or_else(|| (target.kind() == TargetKind::Alumio).then(|| a.assignee_id.clone()))
                    .map(|e| e.to_lowercase());
                Exported {
                    kind: a.assignee_kind,
                    email,
                    subject: user.and_then(|u| u.subject.clone()),
                    group_name: group.map(|g| g.name.clone()),
                    assignee_id: a.assignee_id,
                    roles,
                }
            })
            .collect();
        assignments.sort_by(|a, b| {
            (a.kind == AssigneeKind::User, a.label()).cmp(&(b.kind == AssigneeKind::User, b.label()))
        });
        let owner = space.owner_id.as_ref().map(|id| {
            people
                .users
                .get(id)
                .and_then(|u| u.email.clone().or_else(|| u.subject.clone()))
                .unwrap_or_else(|| id.clone())
        });
        each(SpaceExport {
            space,
            owner,
            assignments,
        })
        .map_err(ExportError::Write)?;
    }
    Ok(())
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A space's assignments could not be read.
    #[error("read the assignments of space {space:?}: {source}")]
    Read {
        /// The space's name.
        space: String,
        /// The client's error.
        source: TargetError,
    },
    /// The file could not be written.
    #[error("write the export: {0}")]
    Write(#[source] io::Error),
}

/// Writes an exported roster: the header, then per space its owner comment and its rows.
pub struct CsvExport<W: Write> {
    out: W,
    rows: u64,
}

impl<W: Write> std::fmt::Debug for CsvExport<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvExport")
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

/// Records encoded by the csv writer, for interleaving with raw comment lines.
fn encode<'a>(records: impl IntoIterator<Item = [std::borrow::Cow<'a, str>; 6]>) -> io::Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    for record in records {
        writer
            .write_record(record.iter().map(|c| c.as_bytes()))
            .map_err(io::Error::other)?;
    }
    writer.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

impl<W: Write> CsvExport<W> {
    /// Start a file: writes the header.
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(&encode([HEADER.map(std::borrow::Cow::Borrowed)])?)?;
        Ok(CsvExport { out, rows: 0 })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// One space: `# owner of NAME: OWNER`, then one row per assignment.
    pub fn space(&mut self, space: &SpaceExport) -> io::Result<()> {
        if let Some(owner) = &space.owner {
            // A comment is written raw: a line break in a name would end it early.
            let line = format!("# owner of {}: {owner}", space.space.name).replace(['\r', '\n'], " ");
            self.out.write_all(line.as_bytes())?;
            self.out.write_all(b"\n")?;
        }
        let bytes = encode(space.assignments.iter().map(|a| {
            [
                escape_cell(&space.space.name),
                std::borrow::Cow::Owned(a.kind.to_string()),
                escape_cell(a.label()),
                std::borrow::Cow::Owned(a.roles.join(";")),
                escape_cell(&space.space.id),
                escape_cell(&a.assignee_id),
            ]
        }))?;
        self.out.write_all(&bytes)?;
        self.rows += space.assignments.len() as u64;
        Ok(())
    }

    /// Flush and hand back the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> Arc<SpaceInfo> {
        Arc::new(SpaceInfo {
            id: "s1".into(),
            name: "=Finance".into(),
            space_type: "shared".into(),
            owner_id: Some("o".into()),
            assignable_roles: Vec::new(),
            description: None,
        })
    }

    #[test]
    fn the_file_reads_back_as_the_same_roster() {
        let export = SpaceExport {
            space: space(),
            owner: Some("boss@x.io".into()),
            assignments: vec![
                Exported {
                    kind: AssigneeKind::Group,
                    assignee_id: "g1".into(),
                    email: None,
                    subject: None,
                    group_name: Some("Team, A".into()),
                    roles: vec!["consumer".into()],
                },
                Exported {
                    kind: AssigneeKind::User,
                    assignee_id: "u1".into(),
                    email: Some("ann@x.io".into()),
                    subject: Some("auth0|ann".into()),
                    group_name: None,
                    roles: vec!["consumer".into(), "producer".into()],
                },
                Exported {
                    kind: AssigneeKind::User,
                    assignee_id: "u2".into(),
                    email: None,
                    subject: Some("svc-robot".into()),
                    group_name: None,
                    roles: vec!["consumer".into()],
                },
            ],
        };
        let mut csv = CsvExport::new(Vec::new()).unwrap();
        csv.space(&export).unwrap();
        assert_eq!(csv.rows(), 3);
        let bytes = csv.finish().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("# owner of =Finance: boss@x.io\n"), "{text}");
        assert!(
            text.starts_with("space,type,assignee,roles,space_id,assignee_id\n"),
            "{text}"
        );
        let roster =
            crate::roster::read_roster_from(text.as_bytes(), "export.csv", TargetKind::Qlik).unwrap();
        let rows: Vec<_> = roster.valid_rows().cloned().collect();
        assert_eq!(rows.len(), 3, "{text}");
        assert_eq!(rows[0].space, crate::model::SpaceRef::Name("=Finance".into()));
        assert_eq!(
            rows[0].assignee,
            crate::model::AssigneeRef::Name("Team, A".into())
        );
        assert_eq!(
            rows[1].assignee,
            crate::model::AssigneeRef::Email("ann@x.io".into())
        );
        assert_eq!(rows[1].roles, vec!["consumer".to_owned(), "producer".to_owned()]);
        assert_eq!(rows[2].assignee, crate::model::AssigneeRef::Id("u2".into()));
    }
}
