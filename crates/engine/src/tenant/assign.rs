//! The file's assignments as one roster: the spaces' inline `assignments` first, then each
//! roster CSV of `[assignments] rosters`, in the canonical columns `space,type,assignee,roles`.
//!
//! `roster tenant apply` writes this roster into its state directory and applies it exactly as
//! `roster apply` applies a roster (journal, resume, failed-rows CSV beside it).

use std::collections::BTreeSet;
use std::path::Path;

use core_api::target::{AssigneeKind, TargetKind};

use super::file::{FileError, Loc, Problem, TenantFile};
use crate::model::{AssigneeRef, ParsedRow, SpaceRef};
use crate::roster::{self, Roster};

/// Where one row of the combined roster comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Source {
    file: String,
    loc: Loc,
}

/// The combined roster's text, and where each of its data lines comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Combined {
    /// CSV text with a header line.
    pub csv: String,
    /// Rows (not counting the header).
    pub rows: usize,
    sources: Vec<Source>,
}

impl Combined {
    /// The spaces and groups the rows name (by name).
    pub fn names(&self, parsed: &[ParsedRow]) -> (BTreeSet<String>, BTreeSet<String>) {
        let mut spaces = BTreeSet::new();
        let mut groups = BTreeSet::new();
        for row in parsed.iter().filter_map(|p| p.row.as_ref().ok()) {
            if let SpaceRef::Name(name) = &row.space {
                spaces.insert(name.clone());
            }
            if let (AssigneeKind::Group, AssigneeRef::Name(name)) = (row.assignee_kind, &row.assignee) {
                groups.insert(name.clone());
            }
        }
        (spaces, groups)
    }
}

fn push_row(writer: &mut csv::Writer<Vec<u8>>, cells: [&str; 4]) -> Result<(), String> {
    writer.write_record(cells).map_err(|e| e.to_string())
}

/// Gather the file's assignments into one roster. A roster that cannot be read, a row with a
/// problem, or a row naming its space or assignee by id is refused, located in its own file.
pub fn combine(file: &TenantFile) -> Result<Combined, FileError> {
    let mut problems = Vec::new();
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    let mut sources = Vec::new();
    let mut fail = |file: String, loc: Loc, message: String, hint: Option<String>| {
        problems.push(Problem {
            file,
            loc,
            message,
            hint,
        });
    };
    let name = file.display_name();
    if let Err(error) = push_row(&mut writer, ["space", "type", "assignee", "roles"]) {
        fail(name.clone(), Loc { line: 1, column: 1 }, error, None);
    }
    for a in &file.assignments {
        let roles = a.roles.join(";");
        if let Err(error) = push_row(&mut writer, [&a.space, &a.kind.to_string(), &a.assignee, &roles]) {
            fail(name.clone(), a.loc, error, None);
        }
        sources.push(Source {
            file: name.clone(),
            loc: a.loc,
        });
    }
    for roster_ref in &file.rosters {
        let shown = roster_ref.path.display().to_string();
        let roster = match roster::read_roster(&roster_ref.path, TargetKind::Qlik) {
            Ok(roster) => roster,
            Err(error) => {
                fail(
                    name.clone(),
                    roster_ref.loc,
                    format!("cannot use roster {shown:?}: {error}"),
                    Some("fix the roster, or the path (relative to the tenant file)".to_owned()),
                );
                continue;
            }
        };
        for parsed in &roster.rows {
            let loc = Loc {
                line: usize::try_from(parsed.line).unwrap_or(usize::MAX),
                column: 1,
            };
            match &parsed.row {
                Err(problem) => fail(
                    shown.clone(),
                    loc,
                    problem.message.clone(),
                    Some(
                        "fix the row; a tenant file's rosters are applied only when every row is valid"
                            .to_owned(),
                    ),
                ),
                Ok(row) => {
                    let space = match &row.space {
                        SpaceRef::Name(n) => n,
                        SpaceRef::Id(_) => {
                            fail(
                                shown.clone(),
                                loc,
                                "the row names its space by id".to_owned(),
                                Some(
                                    "name spaces by name (a `space` column) in rosters a tenant file applies"
                                        .to_owned(),
                                ),
                            );
                            continue;
                        }
                    };
                    let assignee = match &row.assignee {
                        AssigneeRef::Email(e) => e,
                        AssigneeRef::Name(n) => n,
                        AssigneeRef::Id(_) => {
                            fail(
                                shown.clone(),
                                loc,
                                "the row names its assignee by id".to_owned(),
                                Some(
                                    "name users by email and groups by name in rosters a tenant file applies"
                                        .to_owned(),
                                ),
                            );
                            continue;
                        }
                    };
                    let roles = row.roles.join(";");
                    if let Err(error) = push_row(
                        &mut writer,
                        [space, &row.assignee_kind.to_string(), assignee, &roles],
                    ) {
                        fail(shown.clone(), loc, error, None);
                    }
                    sources.push(Source {
                        file: shown.clone(),
                        loc,
                    });
                }
            }
        }
    }
    let csv = match writer.into_inner() {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(error) => {
            fail(name, Loc { line: 1, column: 1 }, error.to_string(), None);
            String::new()
        }
    };
    if !problems.is_empty() {
        return Err(FileError { problems });
    }
    Ok(Combined {
        rows: sources.len(),
        csv,
        sources,
    })
}

/// Read the combined roster back as `roster apply` reads a roster (`name` names it in
/// messages). A row the reader refuses (two sources giving one assignee different roles in one
/// space) is located in its own source.
pub fn parse(combined: &Combined, name: &str) -> Result<Roster, FileError> {
    let roster =
        roster::read_roster_from(combined.csv.as_bytes(), name, TargetKind::Qlik).map_err(|error| {
            FileError {
                problems: vec![Problem {
                    file: name.to_owned(),
                    loc: Loc { line: 1, column: 1 },
                    message: error.to_string(),
                    hint: None,
                }],
            }
        })?;
    let problems: Vec<Problem> = roster
        .rows
        .iter()
        .filter_map(|parsed| {
            let problem = parsed.row.as_ref().err()?;
            // Line 1 is the header: data line n is source n - 2.
            let index = usize::try_from(parsed.line).ok()?.checked_sub(2)?;
            let source = combined.sources.get(index)?;
            Some(Problem {
                file: source.file.clone(),
                loc: source.loc,
                message: problem.message.clone(),
                hint: Some(
                    "give each assignee of a space one entry, in the file or in one roster".to_owned(),
                ),
            })
        })
        .collect();
    if problems.is_empty() {
        Ok(roster)
    } else {
        Err(FileError { problems })
    }
}

/// Write the combined roster to `path` atomically, unless it already holds exactly this text
/// (a rerun keeps the file its journal and failed rows refer to).
pub fn write(combined: &Combined, path: &Path) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == combined.csv) {
        return Ok(());
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut temp, combined.csv.as_bytes())?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn inline_and_roster_rows_make_one_roster() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("finance.csv"),
            "space,type,assignee,roles\nFinance,user,a@example.com,consumer\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let text = "[[spaces]]\nname = \"S\"\ntype = \"shared\"\nassignments = [{ group = \"G\", roles = [\"Can view\"] }]\n[assignments]\nrosters = [\"finance.csv\"]\n";
        let path: PathBuf = dir.path().join("t.toml");
        let file = super::super::file::parse(&path, text).unwrap_or_else(|e| panic!("{e}"));
        let combined = combine(&file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(combined.rows, 2);
        assert_eq!(
            combined.csv,
            "space,type,assignee,roles\nS,group,G,consumer\nFinance,user,a@example.com,consumer\n"
        );
        let roster = parse(&combined, "x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(roster.rows.len(), 2);
    }

    #[test]
    fn a_conflict_across_sources_is_located_in_its_source() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("r.csv"),
            "space,type,assignee,roles\nS,group,G,producer\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let text = "[[spaces]]\nname = \"S\"\nassignments = [{ group = \"G\", roles = [\"consumer\"] }]\n[assignments]\nrosters = [\"r.csv\"]\n";
        let file =
            super::super::file::parse(&dir.path().join("t.toml"), text).unwrap_or_else(|e| panic!("{e}"));
        let combined = combine(&file).unwrap_or_else(|e| panic!("{e}"));
        let error = parse(&combined, "x").err().unwrap_or_else(|| panic!("accepted"));
        assert!(
            error
                .problems
                .iter()
                .any(|p| p.file.ends_with("r.csv") || p.file.ends_with("t.toml")),
            "{error}"
        );
    }
}
