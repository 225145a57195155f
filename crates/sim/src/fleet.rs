//! Many simulated tenants at once, for fleet runs: copies of one tenant with keys of their own
//! (so a key of one tenant is refused by the others), or the tenants a tenant file lists, each
//! served by its own [`crate::Sim`] at its own base URL, with its own data and rate budget; and
//! the fleet files that reach them.

use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ErrorKind;
use crate::{Error, Tenant};

/// What a tenant file holds: one tenant, or a list of tenants with names.
#[derive(Debug)]
pub enum Loaded {
    /// A tenant (or a `generate` request).
    One(Box<Tenant>),
    /// `{"version": 1, "tenants": [...]}`: each entry's name and tenant, in the file's order.
    Listed(Vec<(String, Tenant)>),
}

/// A tenant file that lists tenants.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListFile {
    version: u32,
    tenants: Vec<ListEntry>,
}

/// One listed tenant: its name and exactly one of `file` (a tenant file, relative to the list),
/// `generate` (as a tenant file's) or `tenant` (the tenant itself).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListEntry {
    name: Option<String>,
    file: Option<PathBuf>,
    generate: Option<serde_json::Value>,
    tenant: Option<serde_json::Value>,
}

/// The most tenants a list may hold.
pub const MAX_LISTED: usize = 2000;

/// Read a tenant file that holds one tenant or lists several.
pub fn load(path: &Path) -> Result<Loaded, Error> {
    let (text, value) = read_json(path)?;
    if value.get("tenants").is_none() {
        return Tenant::from_json(&text).map(|tenant| Loaded::One(Box::new(tenant)));
    }
    let list: ListFile = serde_json::from_value(value).map_err(ErrorKind::Parse)?;
    if list.version != crate::tenant::TENANT_FORMAT_VERSION {
        return Err(Error::invalid_tenant(format!(
            "tenant list version {} is not supported (expected {})",
            list.version,
            crate::tenant::TENANT_FORMAT_VERSION
        )));
    }
    if list.tenants.is_empty() || list.tenants.len() > MAX_LISTED {
        return Err(Error::invalid_tenant(format!(
            "a tenant list holds 1 to {MAX_LISTED} tenants, this one {}",
            list.tenants.len()
        )));
    }
    let base = path.parent().unwrap_or_else(|| Path::new("."));
    let count = list.tenants.len();
    let mut listed: Vec<(String, Tenant)> = Vec::with_capacity(count);
    for (index, entry) in list.tenants.into_iter().enumerate() {
        let name = entry.name.clone().unwrap_or_else(|| tenant_name(index, count));
        let at = format!("tenants[{index}] ({name})");
        if !valid_name(&name) {
            return Err(Error::invalid_tenant(format!(
                "{at}: a name is letters, digits, `-`, `_` and `.`"
            )));
        }
        if listed.iter().any(|(other, _)| *other == name) {
            return Err(Error::invalid_tenant(format!("{at}: the name is listed twice")));
        }
        let tenant = match (entry.file, entry.generate, entry.tenant) {
            (Some(file), None, None) => {
                let file = base.join(file);
                match load_one(&file) {
                    Ok(Some(tenant)) => tenant,
                    Ok(None) => {
                        return Err(Error::invalid_tenant(format!(
                            "{at}: {} lists tenants itself; a list names tenant files",
                            file.display()
                        )));
                    }
                    Err(error) => {
                        return Err(Error::invalid_tenant(format!(
                            "{at}: {}: {}",
                            file.display(),
                            error_chain(&error)
                        )));
                    }
                }
            }
            (None, Some(generate), None) => {
                let doc = serde_json::json!({ "version": list.version, "generate": generate });
                Tenant::from_json(&doc.to_string())
                    .map_err(|error| Error::invalid_tenant(format!("{at}: {}", error_chain(&error))))?
            }
            (None, None, Some(tenant)) => Tenant::from_json(&tenant.to_string())
                .map_err(|error| Error::invalid_tenant(format!("{at}: {}", error_chain(&error))))?,
            _ => {
                return Err(Error::invalid_tenant(format!(
                    "{at}: give exactly one of `file`, `generate` or `tenant`"
                )));
            }
        };
        listed.push((name, tenant));
    }
    Ok(Loaded::Listed(listed))
}

/// A listed file: its tenant, or `None` when it lists tenants itself (a list does not nest).
fn load_one(path: &Path) -> Result<Option<Tenant>, Error> {
    let (text, value) = read_json(path)?;
    if value.get("tenants").is_some() {
        return Ok(None);
    }
    Tenant::from_json(&text).map(Some)
}

/// A tenant file's text and its JSON.
fn read_json(path: &Path) -> Result<(String, serde_json::Value), Error> {
    let text = std::fs::read_to_string(path).map_err(|source| ErrorKind::Read {
        path: path.to_owned(),
        source,
    })?;
    let value = serde_json::from_str(&text).map_err(ErrorKind::Parse)?;
    Ok((text, value))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// One served tenant, as a fleet file lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FleetMember {
    /// The tenant's name in the fleet (`tenant-07`).
    pub name: String,
    /// Its base URL.
    pub url: String,
    /// Its first Qlik API key (a test key, not a secret).
    pub api_key: String,
}

/// The name of tenant `index` of a fleet of `count`: `tenant-01` ... `tenant-20`.
pub fn tenant_name(index: usize, count: usize) -> String {
    let width = count.max(1).to_string().len().max(2);
    format!("tenant-{:0width$}", index + 1)
}

/// Tenant `index` of a fleet made from `base`: the same spaces, users and groups, and keys,
/// OAuth secrets and tenant id of its own.
pub fn tenant_copy(base: &Tenant, index: usize) -> Tenant {
    let mut tenant = base.clone();
    let suffix = format!("-t{}", index + 1);
    tenant.tenant_id.push_str(&suffix);
    for key in &mut tenant.api_keys {
        key.key.push_str(&suffix);
    }
    for client in &mut tenant.oauth_clients {
        client.client_secret.push_str(&suffix);
    }
    for key in &mut tenant.alumio.api_keys {
        key.key.push_str(&suffix);
    }
    tenant
}

/// Write a fleet named `fleet` for `members` into `dir`: `tenants.csv` (name,server), one key
/// file per tenant in `keys/` (readable by the owner only), and `roster.toml` with
/// `[fleets.FLEET]` reading them. `extra` is added to the fleet's table as is (limits, pace).
/// Returns the `roster.toml` path.
pub fn write_fleet(dir: &Path, fleet: &str, members: &[FleetMember], extra: &str) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir.join("keys"))?;
    let mut csv = String::from("name,server\n");
    for member in members {
        csv.push_str(&format!("{},{}\n", member.name, member.url));
        let key_path = dir.join("keys").join(format!("{}.key", member.name));
        std::fs::write(&key_path, format!("{}\n", member.api_key))?;
        restrict(&key_path)?;
    }
    std::fs::write(dir.join("tenants.csv"), csv)?;
    let config = format!(
        "# A fleet of {} simulated tenants, written by `roster sim --tenants`.\n\
         [fleets.{fleet}]\nkind = \"qlik\"\nservers_file = \"tenants.csv\"\n\
         api_key_file = \"keys/{{name}}.key\"\n{extra}",
        members.len()
    );
    let path = dir.join("roster.toml");
    std::fs::write(&path, config)?;
    Ok(path)
}

#[cfg(unix)]
fn restrict(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_have_keys_of_their_own_and_the_fleet_files_reach_them() {
        let base = crate::generate::small_tenant();
        let (a, b) = (tenant_copy(&base, 0), tenant_copy(&base, 1));
        assert_ne!(a.api_keys[0].key, b.api_keys[0].key);
        assert_ne!(a.api_keys[0].key, base.api_keys[0].key);
        assert_eq!(a.spaces, base.spaces);
        assert_eq!(tenant_name(0, 20), "tenant-01");
        assert_eq!(tenant_name(99, 100), "tenant-100");

        let dir = tempfile::tempdir().unwrap();
        let members = [FleetMember {
            name: "tenant-01".to_owned(),
            url: "http://127.0.0.1:1".to_owned(),
            api_key: "k1".to_owned(),
        }];
        let config = write_fleet(dir.path(), "sim", &members, "tier2_per_min = 60\n").unwrap();
        let text = std::fs::read_to_string(config).unwrap();
        assert!(
            text.contains("[fleets.sim]") && text.contains("tier2_per_min = 60"),
            "{text}"
        );
        let csv = std::fs::read_to_string(dir.path().join("tenants.csv")).unwrap();
        assert_eq!(csv, "name,server\ntenant-01,http://127.0.0.1:1\n");
        let key = std::fs::read_to_string(dir.path().join("keys/tenant-01.key")).unwrap();
        assert_eq!(key.trim(), "k1");
    }
}

#[cfg(test)]
mod list_tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn a_list_names_tenants_by_file_generate_or_inline_each_with_its_own_data() {
        let dir = tempfile::tempdir().expect("dir");
        let small = crate::generate::small_tenant();
        write(dir.path(), "acme.json", &small.to_json_pretty());
        let inline = crate::generate::grid_tenant(crate::generate::Grid {
            spaces: 1,
            users: 2,
            assigned: false,
        });
        let list = serde_json::json!({
            "version": 1,
            "tenants": [
                { "name": "acme", "file": "acme.json" },
                { "name": "globex", "generate": { "preset": "grid", "spaces": 3, "users": 5, "assigned": false } },
                { "tenant": serde_json::from_str::<serde_json::Value>(&inline.to_json_pretty()).expect("json") },
            ]
        });
        let path = write(dir.path(), "list.json", &list.to_string());
        let Ok(Loaded::Listed(listed)) = load(&path) else {
            panic!("not a list: {:?}", load(&path));
        };
        let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["acme", "globex", "tenant-03"]);
        let spaces: Vec<usize> = listed.iter().map(|(_, t)| t.spaces.len()).collect();
        assert_eq!(spaces, [small.spaces.len(), 3, 1]);
        // A file of one tenant is still one tenant.
        assert!(matches!(load(&dir.path().join("acme.json")), Ok(Loaded::One(_))));
    }

    #[test]
    fn a_bad_list_says_which_entry_and_why() {
        let dir = tempfile::tempdir().expect("dir");
        let cases = [
            (r#"{"version":1,"tenants":[]}"#, "1 to 2000 tenants"),
            (
                r#"{"version":2,"tenants":[{"generate":{"preset":"small"}}]}"#,
                "version 2",
            ),
            (
                r#"{"version":1,"tenants":[{"name":"a"}]}"#,
                "tenants[0] (a): give exactly one",
            ),
            (
                r#"{"version":1,"tenants":[{"name":"a","generate":{"preset":"small"}},{"name":"a","generate":{"preset":"small"}}]}"#,
                "tenants[1] (a): the name is listed twice",
            ),
            (
                r#"{"version":1,"tenants":[{"name":"a b","generate":{"preset":"small"}}]}"#,
                "tenants[0] (a b): a name is",
            ),
            (
                r#"{"version":1,"tenants":[{"name":"a","file":"missing.json"}]}"#,
                "missing.json",
            ),
            (
                r#"{"version":1,"tenants":[{"name":"a","file":"list.json"}]}"#,
                "lists tenants itself",
            ),
        ];
        for (text, expected) in cases {
            let path = write(dir.path(), "list.json", text);
            let error = match load(&path) {
                Err(error) => error_chain(&error),
                Ok(other) => panic!("{text}: loaded {other:?}"),
            };
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
