//! Which column holds what: the header's names, with the aliases admins write, mapped to a layout.

/// What a header cell names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    SpaceName,
    SpaceId,
    Type,
    Assignee,
    AssigneeId,
    Email,
    Group,
    Roles,
    /// A column of the failed-rows CSV (`error_code`, ...): read past, never carried.
    Ignored,
    Extra,
}

/// The columns the failed-rows CSV appends to a roster; reading that file back skips them so
/// that rerunning it carries no stale results.
pub const FAILED_CSV_COLUMNS: &[&str] = &["error_code", "http_status", "message", "attempts", "line"];

fn classify(normalised: &str) -> Col {
    match normalised {
        "space" | "space_name" | "spacename" => Col::SpaceName,
        "space_id" | "spaceid" => Col::SpaceId,
        "type" | "assignee_type" => Col::Type,
        "assignee" | "assignee_name" => Col::Assignee,
        "assignee_id" | "assigneeid" => Col::AssigneeId,
        "email" | "user" | "user_email" | "email_address" => Col::Email,
        "group" | "group_name" | "groupname" => Col::Group,
        "roles" | "role" => Col::Roles,
        other if FAILED_CSV_COLUMNS.contains(&other) => Col::Ignored,
        _ => Col::Extra,
    }
}

/// Lowercase, trimmed, with spaces and hyphens as underscores: `Space Name` is `space_name`.
fn normalise(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| {
            if c == ' ' || c == '-' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// How the space is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceCol {
    /// By display name, in this column.
    Name(usize),
    /// By id, in this column.
    Id(usize),
}

/// How the assignee is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeCols {
    /// One column (`assignee` or `assignee_id`); the `type` column says user or group.
    Generic {
        /// The column.
        index: usize,
        /// Whether it holds tenant ids rather than emails and group names.
        by_id: bool,
    },
    /// An email column, a group column, or both (each row fills one).
    Split {
        /// The email column.
        user: Option<usize>,
        /// The group-name column.
        group: Option<usize>,
    },
}

/// Where each field of a row is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Number of header fields.
    pub width: usize,
    /// The space column.
    pub space: SpaceCol,
    /// The `type` column, when present.
    pub kind: Option<usize>,
    /// The assignee column(s).
    pub assignee: AssigneeCols,
    /// The roles column.
    pub roles: usize,
    /// Failed-rows CSV columns, skipped.
    pub ignored: Vec<usize>,
    /// Columns the tool does not know, carried to the failed-rows CSV.
    pub extras: Vec<usize>,
    /// An `assignee_id` column beside an `assignee` column (as `roster export` writes): a
    /// reference carried as an extra, used only for a user row whose assignee is not an email
    /// (a user known by subject alone).
    pub assignee_id_fallback: Option<usize>,
}

impl Layout {
    /// Whether the column is one the reader skips (its content may be anything).
    pub fn is_ignored(&self, index: usize) -> bool {
        self.ignored.contains(&index)
    }
}

/// A header problem: the 1-based column (if one is to blame) and the message.
pub type HeaderProblem = (Option<usize>, String);

/// Maps a header to a layout, or lists every problem with it.
pub fn detect(header: &[String]) -> Result<Layout, Vec<HeaderProblem>> {
    let mut problems = Vec::new();
    let mut found: Vec<(Col, usize)> = Vec::new();
    let mut ignored = Vec::new();
    let mut extras = Vec::new();
    let classified: Vec<Col> = header.iter().map(|name| classify(&normalise(name))).collect();
    // A name column beside an id column (`space` and `space_id`, `assignee` and `assignee_id`, as
    // `roster export` writes them) is not a conflict: the name is used, since ids differ between
    // tenants, and the id column is kept as a reference.
    let has = |col: Col| classified.contains(&col);
    let space_ids_are_reference = has(Col::SpaceName) && has(Col::SpaceId);
    let assignee_ids_are_reference = has(Col::Assignee) && has(Col::AssigneeId);
    let mut assignee_id_fallback = None;
    for (index, col) in classified.into_iter().enumerate() {
        match col {
            Col::Ignored => ignored.push(index),
            Col::Extra => extras.push(index),
            Col::SpaceId if space_ids_are_reference => extras.push(index),
            Col::AssigneeId if assignee_ids_are_reference => {
                assignee_id_fallback.get_or_insert(index);
                extras.push(index);
            }
            col => found.push((col, index)),
        }
    }
    let of = |wanted: &[Col]| -> Vec<usize> {
        found
            .iter()
            .filter(|(c, _)| wanted.contains(c))
            .map(|(_, i)| *i)
            .collect()
    };
    let one = |wanted: &[Col], what: &str, problems: &mut Vec<HeaderProblem>| -> Option<usize> {
        let hits = of(wanted);
        if let [first, rest @ ..] = hits.as_slice() {
            for dup in rest {
                problems.push((
                    Some(dup + 1),
                    format!(
                        "column \"{}\" and column {} (\"{}\") both give the {what}; keep one",
                        header[*dup].trim(),
                        first + 1,
                        header[*first].trim()
                    ),
                ));
            }
        }
        hits.first().copied()
    };

    let space_name = one(&[Col::SpaceName, Col::SpaceId], "space", &mut problems);
    let space = match space_name {
        Some(i) if of(&[Col::SpaceId]).contains(&i) => Some(SpaceCol::Id(i)),
        Some(i) => Some(SpaceCol::Name(i)),
        None => {
            problems.push((
                None,
                "missing column \"space\" (or \"space_name\", \"space_id\")".to_owned(),
            ));
            None
        }
    };
    let roles = one(&[Col::Roles], "roles", &mut problems);
    if roles.is_none() {
        problems.push((None, "missing column \"roles\" (or \"role\")".to_owned()));
    }
    let kind = one(&[Col::Type], "assignee type", &mut problems);

    let generic = of(&[Col::Assignee, Col::AssigneeId]);
    let emails = of(&[Col::Email]);
    let groups = of(&[Col::Group]);
    let assignee = if let Some(&index) = generic.first() {
        for &other in generic.iter().skip(1).chain(emails.iter()).chain(groups.iter()) {
            problems.push((
                Some(other + 1),
                format!(
                    "column \"{}\" and column {} (\"{}\") both name the assignee; keep one",
                    header[other].trim(),
                    index + 1,
                    header[index].trim()
                ),
            ));
        }
        let by_id = of(&[Col::AssigneeId]).contains(&index);
        if kind.is_none() {
            problems.push((
                None,
                format!(
                    "missing column \"type\" (user or group), needed with column \"{}\"; \
                     or name the column \"email\" or \"group\"",
                    header[index].trim()
                ),
            ));
        }
        Some(AssigneeCols::Generic { index, by_id })
    } else if emails.is_empty() && groups.is_empty() {
        problems.push((
            None,
            "missing column \"assignee\" (or \"email\", \"user\", \"group\", \"group_name\", \"assignee_id\")"
                .to_owned(),
        ));
        None
    } else {
        let user = one(&[Col::Email], "user email", &mut problems);
        let group = one(&[Col::Group], "group name", &mut problems);
        Some(AssigneeCols::Split { user, group })
    };

    match (space, assignee, roles) {
        (Some(space), Some(assignee), Some(roles)) if problems.is_empty() => Ok(Layout {
            width: header.len(),
            space,
            kind,
            assignee,
            roles,
            ignored,
            extras,
            assignee_id_fallback,
        }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(names: &str) -> Vec<String> {
        names.split(',').map(str::to_owned).collect()
    }

    #[test]
    fn canonical() {
        let layout = detect(&h("space,type,assignee,roles")).unwrap();
        assert_eq!(layout.space, SpaceCol::Name(0));
        assert_eq!(layout.kind, Some(1));
        assert_eq!(
            layout.assignee,
            AssigneeCols::Generic {
                index: 2,
                by_id: false
            }
        );
        assert_eq!(layout.roles, 3);
        assert!(layout.extras.is_empty());
    }

    #[test]
    fn aliases_and_spelling() {
        let layout = detect(&h(" Space Name ,EMAIL,Role,notes")).unwrap();
        assert_eq!(layout.space, SpaceCol::Name(0));
        assert_eq!(layout.kind, None);
        assert_eq!(
            layout.assignee,
            AssigneeCols::Split {
                user: Some(1),
                group: None
            }
        );
        assert_eq!(layout.roles, 2);
        assert_eq!(layout.extras, vec![3]);

        let layout = detect(&h("space_id,group_name,roles")).unwrap();
        assert_eq!(layout.space, SpaceCol::Id(0));
        assert_eq!(
            layout.assignee,
            AssigneeCols::Split {
                user: None,
                group: Some(1)
            }
        );

        let layout = detect(&h("space,user,group,roles")).unwrap();
        assert_eq!(
            layout.assignee,
            AssigneeCols::Split {
                user: Some(1),
                group: Some(2)
            }
        );

        let layout = detect(&h("space,type,assignee_id,roles")).unwrap();
        assert_eq!(
            layout.assignee,
            AssigneeCols::Generic {
                index: 2,
                by_id: true
            }
        );
    }

    #[test]
    fn id_columns_beside_name_columns_are_references() {
        let layout = detect(&h("space,type,assignee,roles,space_id,assignee_id")).unwrap();
        assert_eq!(layout.space, SpaceCol::Name(0));
        assert_eq!(
            layout.assignee,
            AssigneeCols::Generic {
                index: 2,
                by_id: false
            }
        );
        assert_eq!(layout.extras, vec![4, 5]);
        assert_eq!(layout.assignee_id_fallback, Some(5));
        // Alone, an id column still names the space or the assignee.
        let layout = detect(&h("space_id,type,assignee_id,roles")).unwrap();
        assert_eq!(layout.space, SpaceCol::Id(0));
        assert_eq!(layout.assignee_id_fallback, None);
    }

    #[test]
    fn failed_csv_columns_are_ignored() {
        let layout = detect(&h(
            "space,type,assignee,roles,team,error_code,http_status,message,attempts,line",
        ))
        .unwrap();
        assert_eq!(layout.extras, vec![4]);
        assert_eq!(layout.ignored, vec![5, 6, 7, 8, 9]);
    }

    #[test]
    fn every_header_problem_is_listed() {
        let problems = detect(&h("name,who")).unwrap_err();
        let text = format!("{problems:?}");
        assert!(text.contains("missing column \\\"space\\\""), "{text}");
        assert!(text.contains("missing column \\\"roles\\\""), "{text}");
        assert!(text.contains("missing column \\\"assignee\\\""), "{text}");

        let problems = detect(&h("space,assignee,roles")).unwrap_err();
        assert!(problems[0].1.contains("missing column \"type\""), "{problems:?}");

        let problems = detect(&h("space,space_name,type,assignee,email,roles")).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].0, Some(2));
        assert_eq!(problems[1].0, Some(5));
    }
}
