//! What to do after `assign_users` rejects a batch: pure decisions, no I/O.
//!
//! A rejection says one of three things. Violations that name entries (`users[3].email`) say
//! exactly which rows are bad: fail those and resend the rest. A violation about the size of the
//! list, or a 413, says the batch is too large: make batches smaller from now on. Anything else
//! says only that something in the batch is wrong: split it in halves until the bad rows stand
//! alone, which costs about two calls per level, `log2(batch)` levels per bad row.

use std::collections::BTreeMap;

use crate::models::{ErrorBody, Violation};

/// What a rejected batch asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The batch is larger than the server takes: no batch may be larger than `limit` from now.
    Shrink {
        /// The new largest batch (at least 1, smaller than the rejected batch).
        limit: usize,
    },
    /// The server named the bad entries (by position in the batch); the others are good and
    /// are sent again.
    Entries(BTreeMap<usize, EntryProblem>),
    /// Bad entries exist but are not named: split the batch in halves and send each.
    Split,
    /// Nothing in the answer points at entries or at the size: every entry fails with the error.
    FailAll,
}

/// What is wrong with one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EntryProblem {
    /// The user is a member already and the server will not assign them again.
    AlreadyMember {
        /// The server's words.
        title: Option<String>,
    },
    /// Invalid: the titles of its violations, and the fields they name (`email`, `roles[0]`).
    Invalid {
        /// The violation titles, in order.
        titles: Vec<String>,
        /// The fields, in order, without the entry's index.
        fields: Vec<String>,
    },
}

impl EntryProblem {
    fn add(&mut self, violation: &Violation, field: String) {
        let already = violation.title.as_deref().is_some_and(is_already_member);
        match self {
            EntryProblem::AlreadyMember { .. } if already => {}
            // Another problem besides membership: the entry is invalid anyway.
            EntryProblem::AlreadyMember { title } => {
                let mut titles: Vec<String> = title.iter().cloned().collect();
                titles.extend(violation.title.clone());
                *self = EntryProblem::Invalid {
                    titles,
                    fields: vec![field],
                };
            }
            EntryProblem::Invalid { titles, fields } => {
                if let Some(title) = &violation.title
                    && !titles.contains(title)
                {
                    titles.push(title.clone());
                }
                if !field.is_empty() && !fields.contains(&field) {
                    fields.push(field);
                }
            }
        }
    }

    fn new(violation: &Violation, field: String) -> Self {
        if violation.title.as_deref().is_some_and(is_already_member) {
            EntryProblem::AlreadyMember {
                title: violation.title.clone(),
            }
        } else {
            EntryProblem::Invalid {
                titles: violation.title.iter().cloned().collect(),
                fields: if field.is_empty() { Vec::new() } else { vec![field] },
            }
        }
    }
}

/// Decides what a rejected batch of `len` entries asks for, from the status and the decoded body.
pub(crate) fn judge(status: u16, body: Option<&ErrorBody>, len: usize) -> Verdict {
    let violations: &[Violation] = body.map_or(&[], |b| b.violations.as_slice());
    if status == 413 {
        return shrink(len, None);
    }
    if !matches!(status, 400 | 409 | 422) {
        return Verdict::FailAll;
    }
    let mut entries: BTreeMap<usize, EntryProblem> = BTreeMap::new();
    for violation in violations {
        let Some((index, field)) = violation.property_path.as_deref().and_then(entry_index) else {
            continue;
        };
        if index >= len {
            continue;
        }
        match entries.get_mut(&index) {
            Some(problem) => problem.add(violation, field),
            None => {
                entries.insert(index, EntryProblem::new(violation, field));
            }
        }
    }
    if !entries.is_empty() {
        return Verdict::Entries(entries);
    }
    if let Some(count) = violations.iter().find(|v| is_count_violation(v)) {
        return shrink(len, count.title.as_deref().and_then(first_number));
    }
    if len > 1 {
        return Verdict::Split;
    }
    if len == 0 {
        return Verdict::FailAll;
    }
    // One entry: whatever the server says is about it.
    let mut problem: Option<EntryProblem> = None;
    for violation in violations {
        let field = violation
            .property_path
            .as_deref()
            .map(field_name)
            .unwrap_or_default();
        match &mut problem {
            Some(p) => p.add(violation, field),
            None => problem = Some(EntryProblem::new(violation, field)),
        }
    }
    let problem = match problem {
        Some(problem) => problem,
        None if status == 409 => EntryProblem::AlreadyMember {
            title: body.and_then(|b| b.title.clone()),
        },
        None if body
            .and_then(|b| b.title.as_deref().or(b.detail.as_deref()))
            .is_some_and(is_already_member) =>
        {
            EntryProblem::AlreadyMember {
                title: body.and_then(|b| b.title.clone().or_else(|| b.detail.clone())),
            }
        }
        None => return Verdict::FailAll,
    };
    Verdict::Entries(BTreeMap::from([(0, problem)]))
}

/// A smaller limit: the one the server stated when it is below the batch, else half the batch.
fn shrink(len: usize, stated: Option<usize>) -> Verdict {
    if len <= 1 {
        return Verdict::FailAll;
    }
    let limit = match stated {
        Some(n) if n >= 1 && n < len => n,
        _ => len / 2,
    };
    Verdict::Shrink { limit }
}

/// The entry a property path names, and the field within it: `users[3].email` gives
/// `(3, "email")`. Symfony writes array paths as `[users][3][email]`; both forms are read, with
/// or without the `users` prefix.
pub(crate) fn entry_index(path: &str) -> Option<(usize, String)> {
    let path = path.trim();
    let rest = ["[users]", "users"]
        .iter()
        .find_map(|prefix| path.strip_prefix(prefix))
        .unwrap_or(path);
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    let (digits, after) = if let Some(inner) = rest.strip_prefix('[') {
        let end = inner.find(']')?;
        (&inner[..end], &inner[end + 1..])
    } else {
        let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        (&rest[..end], &rest[end..])
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let index = digits.parse().ok()?;
    Some((index, field_name(after)))
}

/// `.email` or `[email]` or `[roles][0]` as a plain field path: `email`, `roles[0]`.
fn field_name(path: &str) -> String {
    let path = path.trim().trim_start_matches('.');
    if let Some(inner) = path.strip_prefix('[')
        && let Some(end) = inner.find(']')
    {
        let (name, rest) = (&inner[..end], &inner[end + 1..]);
        return format!("{name}{rest}");
    }
    path.to_owned()
}

/// Whether a violation is about the number of users in the batch rather than any one of them.
fn is_count_violation(violation: &Violation) -> bool {
    let path = violation.property_path.as_deref().map_or("", str::trim);
    if !matches!(path, "" | "users" | "[users]") {
        return false;
    }
    let Some(title) = violation.title.as_deref() else {
        return false;
    };
    let title = title.to_lowercase();
    [
        "or less", "or fewer", "too many", "at most", "maximum", "limit", "exceed",
    ]
    .iter()
    .any(|words| title.contains(words))
}

/// Whether a message says the user is already in the space.
pub(crate) fn is_already_member(title: &str) -> bool {
    let title = title.to_lowercase();
    title.contains("already")
}

/// The first whole number in a text ("should contain 100 elements or less" gives 100).
fn first_number(text: &str) -> Option<usize> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let digits: String = text[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Splits positions `0..len` into the two halves to send after a rejection without names.
pub(crate) fn halves(len: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let mid = len.div_ceil(2);
    (0..mid, mid..len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(title: &str, path: &str) -> Violation {
        Violation {
            title: Some(title.to_owned()),
            property_path: Some(path.to_owned()),
            kind: None,
        }
    }

    fn body(violations: Vec<Violation>) -> ErrorBody {
        ErrorBody {
            status: Some(422),
            violations,
            ..ErrorBody::default()
        }
    }

    #[test]
    fn reads_entry_paths_in_every_form() {
        assert_eq!(entry_index("users[3].email"), Some((3, "email".to_owned())));
        assert_eq!(entry_index("[users][12][email]"), Some((12, "email".to_owned())));
        assert_eq!(entry_index("users[0].roles[1]"), Some((0, "roles[1]".to_owned())));
        assert_eq!(
            entry_index("[users][0][roles][1]"),
            Some((0, "roles[1]".to_owned()))
        );
        assert_eq!(entry_index("users.4.email"), Some((4, "email".to_owned())));
        assert_eq!(entry_index("[7].email"), Some((7, "email".to_owned())));
        assert_eq!(entry_index("users[2]"), Some((2, String::new())));
        assert_eq!(entry_index("users"), None);
        assert_eq!(entry_index("email"), None);
        assert_eq!(entry_index("users[x].email"), None);
        assert_eq!(entry_index("users[].email"), None);
        assert_eq!(entry_index(""), None);
        assert_eq!(entry_index("users[99999999999999999999999].email"), None);
    }

    #[test]
    fn indexed_violations_name_the_bad_entries() {
        let b = body(vec![
            violation("This value is not a valid email address.", "users[3].email"),
            violation("User not found.", "users[7].email"),
            violation("The role is unknown.", "users[3].roles[0]"),
            violation("Out of range.", "users[50].email"),
        ]);
        let Verdict::Entries(entries) = judge(422, Some(&b), 10) else {
            panic!("expected entries")
        };
        assert_eq!(entries.keys().copied().collect::<Vec<_>>(), [3, 7]);
        assert_eq!(
            entries[&3],
            EntryProblem::Invalid {
                titles: vec![
                    "This value is not a valid email address.".to_owned(),
                    "The role is unknown.".to_owned()
                ],
                fields: vec!["email".to_owned(), "roles[0]".to_owned()],
            }
        );
    }

    #[test]
    fn already_member_is_its_own_problem() {
        let b = body(vec![
            violation("This user is already a member of the space.", "users[1].email"),
            violation("Already assigned.", "users[2].email"),
            violation("Not a valid email.", "users[2].email"),
        ]);
        let Verdict::Entries(entries) = judge(400, Some(&b), 3) else {
            panic!("expected entries")
        };
        assert!(matches!(entries[&1], EntryProblem::AlreadyMember { .. }));
        // Invalid as well as a member: invalid wins.
        assert!(matches!(entries[&2], EntryProblem::Invalid { .. }));
    }

    #[test]
    fn unnamed_problems_split_the_batch() {
        let b = body(vec![violation(
            "This value is not a valid email address.",
            "email",
        )]);
        assert_eq!(judge(422, Some(&b), 10), Verdict::Split);
        assert_eq!(judge(400, None, 2), Verdict::Split);
        // One entry left: the problem is that entry's.
        let Verdict::Entries(entries) = judge(422, Some(&b), 1) else {
            panic!("expected entries")
        };
        assert_eq!(
            entries[&0],
            EntryProblem::Invalid {
                titles: vec!["This value is not a valid email address.".to_owned()],
                fields: vec!["email".to_owned()],
            }
        );
        assert_eq!(judge(400, None, 1), Verdict::FailAll);
        assert!(matches!(
            judge(409, None, 1),
            Verdict::Entries(e) if matches!(e[&0], EntryProblem::AlreadyMember { .. })
        ));
        assert_eq!(judge(409, None, 4), Verdict::Split);
    }

    #[test]
    fn too_large_batches_shrink() {
        assert_eq!(judge(413, None, 50), Verdict::Shrink { limit: 25 });
        assert_eq!(judge(413, None, 1), Verdict::FailAll);
        let stated = body(vec![violation(
            "This collection should contain 20 elements or less.",
            "users",
        )]);
        assert_eq!(judge(422, Some(&stated), 50), Verdict::Shrink { limit: 20 });
        let vague = body(vec![violation("Too many users in one request.", "")]);
        assert_eq!(judge(400, Some(&vague), 9), Verdict::Shrink { limit: 4 });
        // A stated limit that is no smaller than the batch is not believed: halve.
        let odd = body(vec![violation("At most 100 users.", "[users]")]);
        assert_eq!(judge(422, Some(&odd), 50), Verdict::Shrink { limit: 25 });
    }

    #[test]
    fn other_statuses_fail_the_whole_batch() {
        for status in [401, 403, 404, 500, 503] {
            assert_eq!(judge(status, None, 5), Verdict::FailAll, "{status}");
        }
    }

    #[test]
    fn halves_cover_the_batch() {
        assert_eq!(halves(5), (0..3, 3..5));
        assert_eq!(halves(2), (0..1, 1..2));
        assert_eq!(halves(1), (0..1, 1..1));
    }

    #[test]
    fn first_number_in_text() {
        assert_eq!(first_number("should contain 100 elements or less"), Some(100));
        assert_eq!(first_number("none"), None);
    }
}
