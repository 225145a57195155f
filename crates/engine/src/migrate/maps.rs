//! The user-supplied maps of a migration: identities (`--identity-map`), roles (`--role-map`) and
//! space names (`--space-rename`).

use std::collections::HashMap;
use std::path::Path;

use core_api::target::TargetKind;

/// Source identity -> target identity, from a CSV with `source,target` columns. Emails match
/// case-insensitively (both sides are lowercased); group names and subjects exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityMap {
    map: HashMap<String, String>,
}

fn key(value: &str) -> String {
    if value.contains('@') {
        value.to_lowercase()
    } else {
        value.to_owned()
    }
}

impl IdentityMap {
    /// Read a `source,target` CSV (`#` lines are comments).
    pub fn load(path: &Path) -> Result<IdentityMap, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the identity map {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("identity map {}: {e}", path.display()))
    }

    /// Parse the CSV text.
    pub fn parse(text: &str) -> Result<IdentityMap, String> {
        Ok(IdentityMap {
            map: read_pairs(text)?
                .into_iter()
                .map(|(s, t)| (key(&s), if t.contains('@') { t.to_lowercase() } else { t }))
                .collect(),
        })
    }

    /// The target identity for a source email, subject or group name.
    pub fn get(&self, source: &str) -> Option<&str> {
        self.map.get(&key(source)).map(String::as_str)
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// `source,target` pairs of a two-column CSV with that header.
fn read_pairs(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| e.to_string())?.clone();
    let column = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(s), Some(t)) = (column("source"), column("target")) else {
        return Err("the header must name the columns \"source\" and \"target\"".to_owned());
    };
    let mut pairs = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| e.to_string())?;
        let line = record.position().map_or(n as u64 + 2, csv::Position::line);
        let source = record.get(s).unwrap_or_default();
        let target = record.get(t).unwrap_or_default();
        if source.is_empty() && target.is_empty() {
            continue;
        }
        if source.is_empty() || target.is_empty() {
            return Err(format!("line {line}: fill both source and target"));
        }
        pairs.push((source.to_owned(), target.to_owned()));
    }
    Ok(pairs)
}

/// How a space's name changes on the way to the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpaceRename {
    /// Names stay as they are.
    Keep,
    /// `PREFIX*SUFFIX`: the source name in place of the `*`.
    Pattern {
        /// Text before the name.
        prefix: String,
        /// Text after the name.
        suffix: String,
    },
    /// `@FILE.csv` with `source,target` columns; names not listed stay as they are.
    Map(HashMap<String, String>),
}

impl SpaceRename {
    /// Parse `--space-rename`: `PREFIX*` adds a prefix, `*SUFFIX` a suffix, `PREFIX*SUFFIX`
    /// both; `@PATH` reads a `source,target` CSV. Exactly one `*` in a pattern.
    pub fn parse(pattern: &str) -> Result<SpaceRename, String> {
        if let Some(path) = pattern.strip_prefix('@') {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the space rename map {path}: {e}"))?;
            let pairs = read_pairs(&text).map_err(|e| format!("space rename map {path}: {e}"))?;
            return Ok(SpaceRename::Map(pairs.into_iter().collect()));
        }
        let stars = pattern.matches('*').count();
        if stars != 1 {
            return Err(format!(
                "invalid --space-rename {pattern:?}: use PREFIX* (a prefix), *SUFFIX (a suffix), \
                 PREFIX*SUFFIX, or @FILE.csv (a source,target map); the * stands for the source name"
            ));
        }
        let (prefix, suffix) = pattern.split_once('*').unwrap_or((pattern, ""));
        if prefix.is_empty() && suffix.is_empty() {
            return Ok(SpaceRename::Keep);
        }
        Ok(SpaceRename::Pattern {
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
        })
    }

    /// The target name of a source space.
    pub fn apply(&self, name: &str) -> String {
        match self {
            SpaceRename::Keep => name.to_owned(),
            SpaceRename::Pattern { prefix, suffix } => format!("{prefix}{name}{suffix}"),
            SpaceRename::Map(map) => map.get(name).cloned().unwrap_or_else(|| name.to_owned()),
        }
    }
}

/// Source role -> target roles: for every target space, and per target space type.
///
/// ```toml
/// [roles]                 # every target space
/// codeveloper = "producer"
/// datapreview = []        # dropped
///
/// [managed]               # only target spaces of type managed
/// producer = ["contributor", "publisher"]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleMap {
    all: HashMap<String, Vec<String>>,
    by_type: HashMap<String, HashMap<String, Vec<String>>>,
}

/// What happened to a source role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleMapping {
    /// These target roles (possibly none: the role is dropped).
    To(Vec<String>),
    /// No rule, and the target's vendor has no role of that name.
    Unmapped,
}

impl RoleMap {
    /// Qlik to Alumio: viewing roles to `ROLE_USER`, editing roles to `ROLE_EDITOR`, managing to
    /// `ROLE_ADMINISTRATOR`.
    pub fn qlik_to_alumio() -> RoleMap {
        let pairs: [(&str, &str); 8] = [
            ("consumer", "ROLE_USER"),
            ("dataconsumer", "ROLE_USER"),
            ("basicconsumer", "ROLE_USER"),
            ("producer", "ROLE_EDITOR"),
            ("contributor", "ROLE_EDITOR"),
            ("publisher", "ROLE_EDITOR"),
            ("codeveloper", "ROLE_EDITOR"),
            ("facilitator", "ROLE_ADMINISTRATOR"),
        ];
        RoleMap {
            all: pairs
                .into_iter()
                .map(|(s, t)| (s.to_owned(), vec![t.to_owned()]))
                .collect(),
            by_type: HashMap::new(),
        }
    }

    /// Read a TOML role map.
    pub fn load(path: &Path) -> Result<RoleMap, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the role map {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("role map {}: {e}", path.display()))
    }

    /// Parse the TOML text: tables `roles` (every space) and `shared`, `managed`, `data` (by the
    /// target space's type); values a role or a list of roles.
    pub fn parse(text: &str) -> Result<RoleMap, String> {
        let value: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
        let mut map = RoleMap::default();
        for (table_name, table) in value {
            let toml::Value::Table(table) = table else {
                return Err(format!(
                    "{table_name:?} must be a table such as [roles] or [managed]"
                ));
            };
            let mut rules = HashMap::new();
            for (source, target) in table {
                let targets = match target {
                    toml::Value::String(role) => vec![role],
                    toml::Value::Array(items) => items
                        .into_iter()
                        .map(|item| match item {
                            toml::Value::String(role) => Ok(role),
                            other => Err(format!("[{table_name}] {source}: {other} is not a role name")),
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    other => {
                        return Err(format!(
                            "[{table_name}] {source}: expected a role name or a list, found {other}"
                        ));
                    }
                };
                rules.insert(source, targets);
            }
            match table_name.as_str() {
                "roles" => map.all = rules,
                "shared" | "managed" | "data" => {
                    map.by_type.insert(table_name, rules);
                }
                other => {
                    return Err(format!(
                        "unknown table [{other}]: use [roles], [shared], [managed] or [data]"
                    ));
                }
            }
        }
        Ok(map)
    }

    /// This map, with `overrides`' rules in place of its own where both have one.
    pub fn overridden_by(mut self, overrides: RoleMap) -> RoleMap {
        self.all.extend(overrides.all);
        for (space_type, rules) in overrides.by_type {
            self.by_type.entry(space_type).or_default().extend(rules);
        }
        self
    }

    /// Map one source role for a target space of `space_type` on a `kind` target. A role with no
    /// rule passes through when the target's vendor knows it.
    pub fn map(&self, role: &str, space_type: &str, kind: TargetKind) -> RoleMapping {
        if let Some(targets) = self.by_type.get(space_type).and_then(|rules| rules.get(role)) {
            return RoleMapping::To(targets.clone());
        }
        if let Some(targets) = self.all.get(role) {
            return RoleMapping::To(targets.clone());
        }
        match crate::roster::normalise_role(role, kind) {
            Some(api) => RoleMapping::To(vec![api.to_owned()]),
            None => RoleMapping::Unmapped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_patterns() {
        assert_eq!(
            SpaceRename::parse("Prod - *").unwrap().apply("Sales"),
            "Prod - Sales"
        );
        assert_eq!(
            SpaceRename::parse("* (copy)").unwrap().apply("Sales"),
            "Sales (copy)"
        );
        assert_eq!(SpaceRename::parse("new-*-x").unwrap().apply("a"), "new-a-x");
        assert_eq!(SpaceRename::parse("*").unwrap(), SpaceRename::Keep);
        for bad in ["Prod", "a*b*", ""] {
            let e = SpaceRename::parse(bad).unwrap_err();
            assert!(e.contains("PREFIX*"), "{e}");
        }
        let e = SpaceRename::parse("@/nonexistent/map.csv").unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
    }

    #[test]
    fn rename_map_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spaces.csv");
        std::fs::write(&path, "source,target\nSales,Sales EU\n# comment\nHR, People \n").unwrap();
        let rename = SpaceRename::parse(&format!("@{}", path.display())).unwrap();
        assert_eq!(rename.apply("Sales"), "Sales EU");
        assert_eq!(rename.apply("HR"), "People");
        assert_eq!(rename.apply("Other"), "Other");
    }

    #[test]
    fn identity_map() {
        let map = IdentityMap::parse("source,target\nAnn@Old.io,ann@new.io\nOld Team,New Team\n").unwrap();
        assert_eq!(map.get("ann@old.io"), Some("ann@new.io"));
        assert_eq!(map.get("ANN@OLD.IO"), Some("ann@new.io"));
        assert_eq!(map.get("Old Team"), Some("New Team"));
        assert_eq!(map.get("old team"), None);
        assert!(
            IdentityMap::parse("from,to\na,b\n")
                .unwrap_err()
                .contains("source")
        );
        assert!(
            IdentityMap::parse("source,target\na,\n")
                .unwrap_err()
                .contains("line 2")
        );
    }

    #[test]
    fn role_maps() {
        let alumio = RoleMap::qlik_to_alumio();
        assert_eq!(
            alumio.map("consumer", "", TargetKind::Alumio),
            RoleMapping::To(vec!["ROLE_USER".into()])
        );
        assert_eq!(
            alumio.map("facilitator", "", TargetKind::Alumio),
            RoleMapping::To(vec!["ROLE_ADMINISTRATOR".into()])
        );
        assert_eq!(
            alumio.map("operator", "", TargetKind::Alumio),
            RoleMapping::Unmapped
        );

        let file = RoleMap::parse(
            "[roles]\ncodeveloper = \"producer\"\ndatapreview = []\n[managed]\nproducer = [\"contributor\", \"publisher\"]\n",
        )
        .unwrap();
        assert_eq!(
            file.map("codeveloper", "shared", TargetKind::Qlik),
            RoleMapping::To(vec!["producer".into()])
        );
        assert_eq!(
            file.map("datapreview", "data", TargetKind::Qlik),
            RoleMapping::To(vec![])
        );
        assert_eq!(
            file.map("producer", "managed", TargetKind::Qlik),
            RoleMapping::To(vec!["contributor".into(), "publisher".into()])
        );
        // No rule: Qlik roles pass through to Qlik.
        assert_eq!(
            file.map("producer", "shared", TargetKind::Qlik),
            RoleMapping::To(vec!["producer".into()])
        );
        let merged = RoleMap::qlik_to_alumio().overridden_by(
            RoleMap::parse("[roles]\noperator = \"ROLE_EDITOR\"\nconsumer = \"ROLE_EDITOR\"\n").unwrap(),
        );
        assert_eq!(
            merged.map("operator", "", TargetKind::Alumio),
            RoleMapping::To(vec!["ROLE_EDITOR".into()])
        );
        assert_eq!(
            merged.map("consumer", "", TargetKind::Alumio),
            RoleMapping::To(vec!["ROLE_EDITOR".into()])
        );
        assert!(
            RoleMap::parse("[other]\na = \"b\"\n")
                .unwrap_err()
                .contains("unknown table")
        );
        assert!(
            RoleMap::parse("[roles]\na = 3\n")
                .unwrap_err()
                .contains("expected a role")
        );
    }
}
