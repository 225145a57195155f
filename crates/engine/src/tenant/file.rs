//! The tenant file: a TOML description of a tenant's settings, groups and their roles, spaces
//! and assignments, read whole and checked before anything is sent.
//!
//! Every problem is located (`file:line:column`) from `toml`'s spanned values and carries a
//! hint; a file with any problem is refused whole. The format is versioned (`version = 1`, the
//! default): a file from a newer release is refused rather than half understood.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use core_api::target::{AssigneeKind, TargetKind};
use serde::Deserialize;
use toml::Spanned;

/// The format version this release reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// The space types a tenant file may name (Qlik's `shared`, `managed` and `data`).
pub const SPACE_TYPES: [&str; 3] = ["shared", "managed", "data"];

/// A place in the file: 1-based line and column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loc {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// One problem with the file, located, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file as the user named it (or a roster the file names).
    pub file: String,
    /// Where.
    pub loc: Loc,
    /// What is wrong, a lowercase fragment.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.loc.line, self.loc.column, self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

/// Why a tenant file was refused: every problem found, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// The problems (at least one).
    pub problems: Vec<Problem>,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\nerror: ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FileError {}

/// A setting the file manages, with where it is said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The wanted value.
    pub value: bool,
    /// Where the file says it.
    pub loc: Loc,
}

/// `[settings]`: each key left out is left alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settings {
    /// `auto_create_groups`: the groups settings' `autoCreateGroups`.
    pub auto_create_groups: Option<Setting>,
    /// `sync_idp_groups`: the groups settings' `syncIdpGroups`.
    pub sync_idp_groups: Option<Setting>,
    /// `auto_assign_professional`: the license settings' `autoAssignProfessional`.
    pub auto_assign_professional: Option<Setting>,
    /// `auto_assign_analyzer`: the license settings' `autoAssignAnalyzer`.
    pub auto_assign_analyzer: Option<Setting>,
}

impl Settings {
    /// Whether a groups setting is managed.
    pub fn any_group_setting(&self) -> bool {
        self.auto_create_groups.is_some() || self.sync_idp_groups.is_some()
    }

    /// Whether a license setting is managed.
    pub fn any_license_setting(&self) -> bool {
        self.auto_assign_professional.is_some() || self.auto_assign_analyzer.is_some()
    }
}

/// A tenant role named in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleName {
    /// The name as written (tenant role names are case-sensitive).
    pub name: String,
    /// Where.
    pub loc: Loc,
}

/// `[[groups]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Exact, case-sensitive name.
    pub name: String,
    /// Where the name is written.
    pub loc: Loc,
    /// With `roles`: exactly these tenant roles afterwards; without: the group's roles are left
    /// alone.
    pub roles: Option<Vec<RoleName>>,
}

impl Group {
    /// The role names, sorted and without duplicates (`None` when not managed).
    pub fn role_set(&self) -> Option<Vec<String>> {
        self.roles.as_ref().map(|roles| {
            let mut names: Vec<String> = roles.iter().map(|r| r.name.clone()).collect();
            names.sort();
            names.dedup();
            names
        })
    }
}

/// `[[spaces]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    /// Exact name.
    pub name: String,
    /// Where the name is written.
    pub loc: Loc,
    /// `shared`, `managed` or `data`: needed to create the space; checked against an existing one.
    pub space_type: Option<String>,
    /// Where the type is written.
    pub type_loc: Loc,
    /// Managed when given; left alone when not.
    pub description: Option<String>,
}

/// One assignment written in a space's `assignments`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The space's name.
    pub space: String,
    /// User or group.
    pub kind: AssigneeKind,
    /// Email (lowercased) or exact group name.
    pub assignee: String,
    /// API role names, sorted, without duplicates, never empty.
    pub roles: Vec<String>,
    /// Where.
    pub loc: Loc,
}

/// A tenant file, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantFile {
    /// The file as named on the command line.
    pub path: PathBuf,
    /// `[settings]`.
    pub settings: Settings,
    /// `[[groups]]`, in file order.
    pub groups: Vec<Group>,
    /// `[[spaces]]`, in file order.
    pub spaces: Vec<Space>,
    /// The spaces' inline assignments, in file order.
    pub assignments: Vec<Assignment>,
    /// `[assignments] rosters`, resolved against the file's directory.
    pub rosters: Vec<RosterRef>,
}

/// A roster CSV the file names in `[assignments] rosters`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRef {
    /// The path, resolved against the tenant file's directory.
    pub path: PathBuf,
    /// Where the file names it.
    pub loc: Loc,
}

impl TenantFile {
    /// The file's name as messages show it.
    pub fn display_name(&self) -> String {
        self.path.display().to_string()
    }

    /// Every tenant role name the file uses, with where.
    pub fn role_names(&self) -> impl Iterator<Item = (&Group, &RoleName)> {
        self.groups
            .iter()
            .flat_map(|g| g.roles.iter().flatten().map(move |r| (g, r)))
    }

    /// The location of a space by name, for messages about it.
    pub fn space(&self, name: &str) -> Option<&Space> {
        self.spaces.iter().find(|s| s.name == name)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    version: Option<Spanned<u32>>,
    #[serde(default)]
    settings: Option<RawSettings>,
    #[serde(default)]
    groups: Vec<Spanned<RawGroup>>,
    #[serde(default)]
    spaces: Vec<Spanned<RawSpace>>,
    #[serde(default)]
    assignments: Option<RawAssignments>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    #[serde(default)]
    auto_create_groups: Option<Spanned<bool>>,
    #[serde(default)]
    sync_idp_groups: Option<Spanned<bool>>,
    #[serde(default)]
    auto_assign_professional: Option<Spanned<bool>>,
    #[serde(default)]
    auto_assign_analyzer: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    name: Spanned<String>,
    #[serde(default)]
    roles: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpace {
    name: Spanned<String>,
    #[serde(rename = "type", default)]
    space_type: Option<Spanned<String>>,
    #[serde(default)]
    description: Option<Spanned<String>>,
    #[serde(default)]
    assignments: Vec<Spanned<RawAssignment>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssignment {
    #[serde(default)]
    group: Option<Spanned<String>>,
    #[serde(default)]
    user: Option<Spanned<String>>,
    roles: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssignments {
    #[serde(default)]
    rosters: Vec<Spanned<String>>,
}

/// Line and column of a byte offset.
fn locate(source: &str, offset: usize) -> Loc {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    Loc { line, column }
}

struct Checker<'a> {
    file: String,
    source: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn loc(&self, span: Range<usize>) -> Loc {
        locate(self.source, span.start)
    }

    fn problem(&mut self, span: Range<usize>, message: String, hint: Option<String>) {
        let loc = self.loc(span);
        self.problems.push(Problem {
            file: self.file.clone(),
            loc,
            message,
            hint,
        });
    }
}

/// Hint for a TOML or shape error, by what serde said.
fn syntax_hint(message: &str) -> Option<String> {
    if message.contains("unknown field") {
        // serde says: unknown field `role`, expected `name` or `roles`
        let mut quoted = message.split('`').skip(1).step_by(2);
        let word = quoted.next().unwrap_or_default();
        let expected: Vec<&str> = quoted.collect();
        let near = closest(word, expected.iter().copied());
        Some(match near.first() {
            Some(near) => format!("did you mean `{near}`? (every key is in the README's \"Tenant file\")"),
            None => format!(
                "the keys here are {}; every key is in the README's \"Tenant file\"",
                expected
                    .iter()
                    .map(|e| format!("`{e}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    } else if message.contains("missing field") {
        Some("add the key: every group and space needs a name, every assignment roles".to_owned())
    } else if message.contains("invalid type") {
        Some(
            "settings are true or false; names, types and descriptions \"strings\"; roles [\"lists\"]"
                .to_owned(),
        )
    } else {
        Some("fix the TOML syntax at this place".to_owned())
    }
}

/// Read and check a tenant file. Rosters named by `[assignments]` are resolved against the
/// file's directory but not read here.
pub fn read(path: &Path) -> Result<TenantFile, FileError> {
    let name = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|error| FileError {
        problems: vec![Problem {
            file: name.clone(),
            loc: Loc { line: 1, column: 1 },
            message: format!("cannot read the tenant file: {error}"),
            hint: Some("check the path and that the file is UTF-8 text".to_owned()),
        }],
    })?;
    parse(path, &source)
}

/// Check a tenant file's text; `path` names it in messages and anchors its rosters.
pub fn parse(path: &Path, source: &str) -> Result<TenantFile, FileError> {
    let mut checker = Checker {
        file: path.display().to_string(),
        source,
        problems: Vec::new(),
    };
    let raw: RawFile = match toml::from_str(source) {
        Ok(raw) => raw,
        Err(error) => {
            let message = error.message().trim().to_owned();
            let span = error.span().unwrap_or(0..0);
            let hint = syntax_hint(&message);
            checker.problem(span, first_line(&message), hint);
            return Err(FileError {
                problems: checker.problems,
            });
        }
    };
    if let Some(version) = &raw.version
        && *version.get_ref() != FORMAT_VERSION
    {
        checker.problem(
            version.span(),
            format!("tenant file version {} is not one this release reads", version.get_ref()),
            Some(format!(
                "this release reads version {FORMAT_VERSION}; use a newer roster or write the file for version {FORMAT_VERSION}"
            )),
        );
    }

    let settings = raw.settings.map_or_else(Settings::default, |s| {
        let pick = |v: Option<Spanned<bool>>, c: &Checker<'_>| {
            v.map(|v| Setting {
                value: *v.get_ref(),
                loc: c.loc(v.span()),
            })
        };
        Settings {
            auto_create_groups: pick(s.auto_create_groups, &checker),
            sync_idp_groups: pick(s.sync_idp_groups, &checker),
            auto_assign_professional: pick(s.auto_assign_professional, &checker),
            auto_assign_analyzer: pick(s.auto_assign_analyzer, &checker),
        }
    });

    let mut groups = Vec::new();
    let mut group_lines: HashMap<String, usize> = HashMap::new();
    for group in raw.groups {
        let group = group.into_inner();
        let name = group.name.get_ref().clone();
        let loc = checker.loc(group.name.span());
        if name.trim().is_empty() || name.trim() != name {
            checker.problem(
                group.name.span(),
                format!("group name {name:?} is empty or has spaces around it"),
                Some("write the group's exact name".to_owned()),
            );
        } else if let Some(first) = group_lines.get(&name) {
            checker.problem(
                group.name.span(),
                format!("duplicate group {name:?} (first on line {first})"),
                Some("name each group once; merge the two entries".to_owned()),
            );
        } else {
            group_lines.insert(name.clone(), loc.line);
        }
        let roles = group.roles.map(|roles| {
            let mut seen: HashMap<String, usize> = HashMap::new();
            let mut out = Vec::new();
            for role in roles {
                let role_loc = checker.loc(role.span());
                let role_name = role.into_inner();
                if role_name.trim().is_empty() {
                    checker.problems.push(Problem {
                        file: checker.file.clone(),
                        loc: role_loc,
                        message: "empty role name".to_owned(),
                        hint: Some("write the tenant role's exact name, e.g. \"AnalyticsAdmin\"".to_owned()),
                    });
                    continue;
                }
                if seen.insert(role_name.clone(), role_loc.line).is_none() {
                    out.push(RoleName {
                        name: role_name,
                        loc: role_loc,
                    });
                }
            }
            out
        });
        groups.push(Group { name, loc, roles });
    }

    let mut spaces = Vec::new();
    let mut assignments = Vec::new();
    let mut space_lines: HashMap<String, usize> = HashMap::new();
    for space in raw.spaces {
        let space = space.into_inner();
        let name = space.name.get_ref().clone();
        let loc = checker.loc(space.name.span());
        if name.trim().is_empty() || name.trim() != name {
            checker.problem(
                space.name.span(),
                format!("space name {name:?} is empty or has spaces around it"),
                Some("write the space's exact name".to_owned()),
            );
        } else if let Err(why) = check_space_name(&name) {
            checker.problem(
                space.name.span(),
                why,
                Some("rename the space in the file".to_owned()),
            );
        } else if let Some(first) = space_lines.get(&name) {
            checker.problem(
                space.name.span(),
                format!("duplicate space {name:?} (first on line {first})"),
                Some("name each space once; merge the two entries".to_owned()),
            );
        } else {
            space_lines.insert(name.clone(), loc.line);
        }
        let (space_type, type_loc) = match space.space_type {
            Some(ty) => {
                let type_loc = checker.loc(ty.span());
                if !SPACE_TYPES.contains(&ty.get_ref().as_str()) {
                    let closest = closest(ty.get_ref(), SPACE_TYPES.iter().copied());
                    checker.problem(
                        ty.span(),
                        format!("unknown space type {:?}", ty.get_ref()),
                        Some(format!(
                            "use shared, managed or data{}",
                            closest
                                .first()
                                .map(|c| format!(" (did you mean {c:?}?)"))
                                .unwrap_or_default()
                        )),
                    );
                }
                (Some(ty.into_inner()), type_loc)
            }
            None => (None, loc),
        };
        for assignment in space.assignments {
            if let Some(assignment) = check_assignment(&mut checker, &name, assignment) {
                assignments.push(assignment);
            }
        }
        spaces.push(Space {
            name,
            loc,
            space_type,
            type_loc,
            description: space.description.map(Spanned::into_inner),
        });
    }

    // Two entries for one assignee in one space would fight over its roles.
    let mut seen: HashMap<(String, AssigneeKind, String), usize> = HashMap::new();
    for a in &assignments {
        if let Some(first) = seen.insert((a.space.clone(), a.kind, a.assignee.clone()), a.loc.line) {
            checker.problems.push(Problem {
                file: checker.file.clone(),
                loc: a.loc,
                message: format!(
                    "{} {:?} is assigned twice in space {:?} (first on line {first})",
                    a.kind, a.assignee, a.space
                ),
                hint: Some("give the assignee one entry with all its roles".to_owned()),
            });
        }
    }

    let base = path.parent().unwrap_or(Path::new(""));
    let mut rosters = Vec::new();
    for roster in raw.assignments.map(|a| a.rosters).unwrap_or_default() {
        if roster.get_ref().trim().is_empty() {
            checker.problem(
                roster.span(),
                "empty roster path".to_owned(),
                Some("name a roster CSV, relative to this file".to_owned()),
            );
            continue;
        }
        rosters.push(RosterRef {
            path: base.join(roster.get_ref()),
            loc: checker.loc(roster.span()),
        });
    }

    checker.problems.sort_by_key(|p| p.loc);
    if checker.problems.is_empty() {
        Ok(TenantFile {
            path: path.to_path_buf(),
            settings,
            groups,
            spaces,
            assignments,
            rosters,
        })
    } else {
        Err(FileError {
            problems: checker.problems,
        })
    }
}

fn check_space_name(name: &str) -> Result<(), String> {
    if name.chars().count() > crate::roster::MAX_SPACE_NAME_CHARS {
        return Err(format!(
            "space name {name:?} is longer than {} characters",
            crate::roster::MAX_SPACE_NAME_CHARS
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| crate::roster::QLIK_FORBIDDEN_SPACE_CHARS.contains(*c))
    {
        return Err(format!(
            "space name {name:?} has {c:?}, which Qlik refuses in names"
        ));
    }
    Ok(())
}

fn check_assignment(
    checker: &mut Checker<'_>,
    space: &str,
    raw: Spanned<RawAssignment>,
) -> Option<Assignment> {
    let span = raw.span();
    let raw = raw.into_inner();
    let loc = checker.loc(span.clone());
    let (kind, assignee) = match (raw.group, raw.user) {
        (Some(group), None) => {
            let name = group.get_ref().clone();
            if name.trim().is_empty() {
                checker.problem(group.span(), "empty group name".to_owned(), None);
                return None;
            }
            (AssigneeKind::Group, name)
        }
        (None, Some(user)) => {
            let email = user.get_ref().trim().to_lowercase();
            let valid = email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@')
            }) && !email.contains(char::is_whitespace);
            if !valid {
                checker.problem(
                    user.span(),
                    format!("{:?} is not an email address", user.get_ref()),
                    Some("users are named by email, e.g. user = \"ops@example.com\"".to_owned()),
                );
                return None;
            }
            (AssigneeKind::User, email)
        }
        _ => {
            checker.problem(
                span,
                "an assignment names either a group or a user".to_owned(),
                Some(
                    "write { group = \"NAME\", roles = [...] } or { user = \"EMAIL\", roles = [...] }"
                        .to_owned(),
                ),
            );
            return None;
        }
    };
    let roles_span = raw.roles.span();
    let mut roles = Vec::new();
    let mut ok = true;
    for role in raw.roles.into_inner() {
        match crate::roster::normalise_role(role.get_ref(), TargetKind::Qlik) {
            Some(api) => roles.push(api.to_owned()),
            None => {
                ok = false;
                let known = crate::roster::role_api_names(TargetKind::Qlik);
                let near = closest(role.get_ref(), known.iter().copied());
                checker.problem(
                    role.span(),
                    format!("unknown space role {:?}", role.get_ref()),
                    Some(if near.is_empty() {
                        format!("use one of: {}", known.join(", "))
                    } else {
                        format!(
                            "did you mean {}? (space roles: {})",
                            quoted(&near),
                            known.join(", ")
                        )
                    }),
                );
            }
        }
    }
    if ok && roles.is_empty() {
        checker.problem(
            roles_span,
            "an assignment needs at least one role".to_owned(),
            Some("e.g. roles = [\"consumer\"]".to_owned()),
        );
        return None;
    }
    if !ok {
        return None;
    }
    roles.sort();
    roles.dedup();
    Some(Assignment {
        space: space.to_owned(),
        kind,
        assignee,
        roles,
        loc,
    })
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).to_owned()
}

/// `"a", "b" or "c"`.
pub fn quoted(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// The known names nearest to `word` (case-insensitive edit distance), best first, at most three;
/// empty when none is near.
pub fn closest<'a>(word: &str, known: impl Iterator<Item = &'a str>) -> Vec<String> {
    let folded = word.to_lowercase();
    let mut scored: Vec<(usize, String)> = known
        .map(|name| {
            let lower = name.to_lowercase();
            let mut d = distance(&folded, &lower);
            if !folded.is_empty() && (lower.contains(&folded) || folded.contains(&lower)) {
                d = d.min(1);
            }
            (d, name.to_owned())
        })
        .filter(|(d, name)| *d <= (name.chars().count().max(word.chars().count()) / 3).max(2))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"[settings]
auto_create_groups = true
sync_idp_groups = true
auto_assign_professional = false
auto_assign_analyzer = true

[[groups]]
name = "Embedded Admins"
roles = ["AnalyticsAdmin", "AuditAdmin"]

[[groups]]
name = "Customer Viewers"

[[spaces]]
name = "Customer Staging"
type = "shared"
description = "Staging for deployed content"

[[spaces]]
name = "Customer Analytics"
type = "managed"
assignments = [
  { group = "Customer Viewers", roles = ["consumer"] },
  { user = "ops@example.com", roles = ["facilitator"] },
]

[assignments]
rosters = ["finance.csv"]   # roster CSVs, relative to this file, applied as `roster apply` applies them
"#;

    fn parse_str(text: &str) -> Result<TenantFile, FileError> {
        parse(Path::new("dir/tenant.toml"), text)
    }

    #[test]
    fn the_issue_example_reads_as_written() {
        let file = parse_str(EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(file.settings.auto_create_groups.map(|s| s.value), Some(true));
        assert_eq!(
            file.settings.auto_assign_professional.map(|s| s.value),
            Some(false)
        );
        assert_eq!(file.groups.len(), 2);
        assert_eq!(
            file.groups[0].role_set(),
            Some(vec!["AnalyticsAdmin".to_owned(), "AuditAdmin".to_owned()])
        );
        assert_eq!(file.groups[1].roles, None);
        assert_eq!(file.spaces[1].space_type.as_deref(), Some("managed"));
        assert_eq!(file.assignments.len(), 2);
        assert_eq!(file.assignments[1].assignee, "ops@example.com");
        assert_eq!(file.assignments[1].loc.line, 24);
        assert_eq!(file.rosters[0].path, PathBuf::from("dir/finance.csv"));
    }

    fn only_problem(text: &str) -> Problem {
        let error = parse_str(text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {text}"));
        assert_eq!(error.problems.len(), 1, "{error}");
        error.problems[0].clone()
    }

    #[test]
    fn an_unknown_key_is_located() {
        let p = only_problem("[settings]\nauto_create_group = true\n");
        assert_eq!((p.loc.line, p.loc.column), (2, 1), "{p}");
        assert!(p.message.contains("auto_create_group"), "{p}");
        assert!(p.hint.is_some());
    }

    #[test]
    fn a_wrong_type_is_located() {
        let p = only_problem("[settings]\nauto_create_groups = \"yes\"\n");
        assert_eq!(p.loc.line, 2, "{p}");
        assert!(p.message.contains("invalid type"), "{p}");
    }

    #[test]
    fn a_syntax_error_is_located() {
        let p = only_problem("[[groups]]\nname = \"A\nroles = []\n");
        assert_eq!(p.loc.line, 2, "{p}");
    }

    #[test]
    fn duplicates_and_unknown_space_types_are_located() {
        let text = "[[groups]]\nname = \"A\"\n[[groups]]\nname = \"A\"\n[[spaces]]\nname = \"S\"\ntype = \"manged\"\n[[spaces]]\nname = \"S\"\ntype = \"shared\"\n";
        let error = parse_str(text).err().unwrap_or_else(|| panic!("accepted"));
        let lines: Vec<usize> = error.problems.iter().map(|p| p.loc.line).collect();
        assert_eq!(lines, vec![4, 7, 9], "{error}");
        assert!(
            error.problems[1]
                .hint
                .as_deref()
                .unwrap_or("")
                .contains("\"managed\"")
        );
        assert!(
            error
                .to_string()
                .starts_with("dir/tenant.toml:4:8: duplicate group \"A\""),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_space_role_names_the_closest() {
        let p = only_problem(
            "[[spaces]]\nname = \"S\"\nassignments = [{ user = \"a@b.c\", roles = [\"consmer\"] }]\n",
        );
        assert_eq!(p.loc.line, 3);
        assert!(p.hint.as_deref().unwrap_or("").contains("\"consumer\""), "{p}");
    }

    #[test]
    fn a_newer_version_is_refused() {
        let p = only_problem("version = 2\n");
        assert!(p.message.contains("version 2"), "{p}");
    }

    #[test]
    fn closest_names() {
        let known = ["AnalyticsAdmin", "AuditAdmin", "TenantAdmin", "DataAdmin"];
        assert_eq!(closest("AuditAdmn", known.iter().copied())[0], "AuditAdmin");
        assert!(closest("Zebra", known.iter().copied()).is_empty());
    }
}
