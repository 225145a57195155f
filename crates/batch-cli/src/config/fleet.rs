//! `[fleets.NAME]` in `roster.toml`: many tenants reached with one credential template.
//!
//! ```toml
//! [fleets.eu]
//! servers_file = "eu-tenants.csv"          # name,server per line; or servers = [...]
//! client_id = "5f0c..."                    # one OAuth client for the whole region,
//! client_secret_env = "QLIK_EU_SECRET"     # or api_key_env / api_key_file
//! tier2_per_min = 100                      # and any target setting but `server`
//! ```
//!
//! In the credential fields `{name}` stands for the tenant's name and `{NAME}` for it in
//! upper case with every character other than a letter or digit as `_`, so that tenants with
//! keys of their own fit one template: `api_key_file = "keys/{name}.key"`,
//! `api_key_env = "QLIK_KEY_{NAME}"`. Every problem names the file and its line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::config::{FleetTable, LoadedConfig, TargetConfig};

/// The keys a fleet table has beyond a target's.
const SERVERS: &str = "servers";
const SERVERS_FILE: &str = "servers_file";

/// One tenant of a fleet, before its target settings are resolved.
#[derive(Debug, Clone)]
pub struct FleetTenant {
    /// Its name: the journal, the failed-rows CSV and the export file are named by it.
    pub name: String,
    /// Its target table: the fleet's template with this tenant's server and credential.
    pub table: TargetConfig,
}

/// A fleet's table, read and checked. The error says where (file and line) and what to fix.
pub fn read_fleet(config: &LoadedConfig, name: &str) -> Result<Vec<FleetTenant>, String> {
    let Some(FleetTable(table)) = config.file.fleets.get(name) else {
        return Err(format!("no fleet \"{name}\" in {}", config.path.display()));
    };
    let at = locate(config, name);
    let mut template = table.clone();
    let servers = template.remove(SERVERS);
    let servers_file = template.remove(SERVERS_FILE);
    if template.contains_key("server") {
        return Err(format!(
            "{at}: a fleet has no `server` of its own\nhint: list its tenants with `servers = [\"https://...\"]` or `servers_file = \"tenants.csv\"`"
        ));
    }
    for secret in ["api_key", "client_secret"] {
        if template.contains_key(secret) {
            return Err(format!(
                "{at}: a fleet's secret cannot be written in the file (`{secret}`)\nhint: use {secret}_env or {secret}_file, which may name each tenant's with {{name}}"
            ));
        }
    }
    let base: TargetConfig = toml::Value::Table(template)
        .try_into()
        .map_err(|e: toml::de::Error| format!("{at}: {}", e.message().trim_end()))?;
    if base.api_key_env.is_none() && base.api_key_file.is_none() && base.client_id.is_none() {
        return Err(format!(
            "{at}: fleet \"{name}\" has no credential\nhint: add api_key_env, api_key_file, or client_id with client_secret_env or client_secret_file ({{name}} in them stands for each tenant's name)"
        ));
    }
    let servers = match (servers, servers_file) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "{at}: fleet \"{name}\" sets both servers and servers_file\nhint: keep one"
            ));
        }
        (None, None) => {
            return Err(format!(
                "{at}: fleet \"{name}\" lists no tenants\nhint: add `servers = [\"https://a.eu.qlikcloud.com\", ...]` or `servers_file = \"tenants.csv\"` (columns name,server)"
            ));
        }
        (Some(list), None) => servers_list(&list, &at)?,
        (None, Some(file)) => {
            let Some(file) = file.as_str() else {
                return Err(format!("{at}: servers_file must be a path in quotes"));
            };
            let path = config.base_dir().join(file);
            servers_from_file(&path)?
        }
    };
    let mut seen = BTreeSet::new();
    let mut tenants = Vec::with_capacity(servers.len());
    for (name, server, where_) in servers {
        check_name(&name).map_err(|e| format!("{where_}: {e}"))?;
        if !seen.insert(name.clone()) {
            return Err(format!(
                "{where_}: tenant \"{name}\" is listed twice\nhint: give each tenant its own name"
            ));
        }
        let mut table = base.clone();
        table.server = Some(server);
        apply_template(&mut table, &name);
        tenants.push(FleetTenant { name, table });
    }
    Ok(tenants)
}

/// `path:line` of the `[fleets.NAME]` header, for messages.
fn locate(config: &LoadedConfig, name: &str) -> String {
    let text = std::fs::read_to_string(&config.path).unwrap_or_default();
    let headers = [format!("[fleets.{name}]"), format!("[fleets.\"{name}\"]")];
    let line = text
        .lines()
        .position(|l| headers.iter().any(|h| l.trim_start().starts_with(h.as_str())))
        .map(|i| i + 1);
    match line {
        Some(line) => format!("{}:{line}: [fleets.{name}]", config.path.display()),
        None => format!("{}: [fleets.{name}]", config.path.display()),
    }
}

/// `servers = ["https://...", { name = "x", server = "https://..." }]`.
fn servers_list(value: &toml::Value, at: &str) -> Result<Vec<(String, String, String)>, String> {
    let Some(items) = value.as_array() else {
        return Err(format!(
            "{at}: servers must be a list, e.g. servers = [\"https://a.eu.qlikcloud.com\"]"
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let where_ = format!("{at}, servers[{i}]");
            match item {
                toml::Value::String(server) => Ok((derived_name(server), server.clone(), where_)),
                toml::Value::Table(t) => {
                    let server = t.get("server").and_then(toml::Value::as_str).ok_or_else(|| {
                        format!("{where_}: a tenant table needs `server = \"https://...\"`")
                    })?;
                    let name = t
                        .get("name")
                        .and_then(toml::Value::as_str)
                        .map_or_else(|| derived_name(server), str::to_owned);
                    if let Some(other) = t.keys().find(|k| *k != "name" && *k != "server") {
                        return Err(format!(
                            "{where_}: unknown key `{other}` (a tenant has name and server)"
                        ));
                    }
                    Ok((name, server.to_owned(), where_))
                }
                _ => Err(format!(
                    "{where_}: expected a URL in quotes or {{ name = \"...\", server = \"...\" }}"
                )),
            }
        })
        .collect()
}

/// `name,server` lines (the `name` column may be left out; `url` is taken for `server`).
/// Lines starting with `#` are comments.
pub fn servers_from_file(path: &Path) -> Result<Vec<(String, String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read the fleet's servers_file {}: {e}\nhint: servers_file is relative to roster.toml's directory",
            path.display()
        )
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .clone();
    let column = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    };
    let Some(server_col) = column(&["server", "url"]) else {
        return Err(format!(
            "{}:1: no `server` column (found: {})\nhint: the first line names the columns: name,server",
            path.display(),
            headers.iter().collect::<Vec<_>>().join(", ")
        ));
    };
    let name_col = column(&["name", "tenant"]);
    let mut servers = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            format!("{}:{line}: {e}", path.display())
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        let where_ = format!("{}:{line}", path.display());
        let server = record.get(server_col).unwrap_or_default().to_owned();
        if server.is_empty() {
            return Err(format!("{where_}: the server is empty"));
        }
        let name = name_col
            .and_then(|c| record.get(c))
            .filter(|n| !n.is_empty())
            .map_or_else(|| derived_name(&server), str::to_owned);
        servers.push((name, server, where_));
    }
    if servers.is_empty() {
        return Err(format!("{}: lists no tenants", path.display()));
    }
    Ok(servers)
}

/// A tenant's name from its URL: the first label of a domain (`acme` for
/// `https://acme.eu.qlikcloud.com`), else `host:port`.
fn derived_name(server: &str) -> String {
    let rest = server.split("://").nth(1).unwrap_or(server);
    let host_port = rest.split('/').next().unwrap_or(rest);
    let host = host_port.split(':').next().unwrap_or(host_port);
    let is_ip = host.parse::<std::net::IpAddr>().is_ok();
    match host.split('.').next() {
        Some(label) if !is_ip && !label.is_empty() && host.contains('.') => label.to_owned(),
        _ => host_port.to_owned(),
    }
}

/// Names become file names: no path separators, no control characters, not empty.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a tenant's name is empty".to_owned());
    }
    if name.contains(['/', '\\', ',']) || name.chars().any(char::is_control) || name.starts_with('.') {
        return Err(format!(
            "tenant name {name:?} cannot be used: it names the tenant's files\nhint: use letters, digits, - and _"
        ));
    }
    Ok(())
}

/// `{name}` and `{NAME}` in the credential fields.
fn apply_template(table: &mut TargetConfig, name: &str) {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    let fill = |text: &str| text.replace("{name}", name).replace("{NAME}", &upper);
    for field in [
        &mut table.api_key_env,
        &mut table.client_id,
        &mut table.client_secret_env,
    ] {
        if let Some(text) = field.as_mut() {
            *text = fill(text);
        }
    }
    for field in [&mut table.api_key_file, &mut table.client_secret_file] {
        if let Some(path) = field.as_mut() {
            *path = PathBuf::from(fill(&path.to_string_lossy()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(dir: &Path, text: &str) -> LoadedConfig {
        let path = dir.join("roster.toml");
        std::fs::write(&path, text).unwrap();
        LoadedConfig::load(&path).unwrap()
    }

    #[test]
    fn servers_list_and_templates() {
        let dir = tempfile::tempdir().unwrap();
        let config = load(
            dir.path(),
            "[fleets.eu]\nservers = [\"https://acme.eu.qlikcloud.com\", { name = \"b\", server = \"https://b.x\" }]\n\
             api_key_file = \"keys/{name}.key\"\ntier2_per_min = 60\n",
        );
        let tenants = read_fleet(&config, "eu").unwrap();
        let names: Vec<&str> = tenants.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["acme", "b"]);
        assert_eq!(
            tenants[1].table.api_key_file.as_deref(),
            Some(Path::new("keys/b.key"))
        );
        assert_eq!(tenants[0].table.tier2_per_min, Some(60));
        assert_eq!(
            tenants[0].table.server.as_deref(),
            Some("https://acme.eu.qlikcloud.com")
        );
    }

    #[test]
    fn servers_file_with_env_template() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("t.csv"),
            "name,server\n# a comment\ncust-1,https://c1.eu.qlikcloud.com\ncust-2,https://c2.eu.qlikcloud.com\n",
        )
        .unwrap();
        let config = load(
            dir.path(),
            "[fleets.f]\nservers_file = \"t.csv\"\napi_key_env = \"KEY_{NAME}\"\n",
        );
        let tenants = read_fleet(&config, "f").unwrap();
        assert_eq!(tenants.len(), 2);
        assert_eq!(tenants[1].table.api_key_env.as_deref(), Some("KEY_CUST_2"));
    }

    #[test]
    fn bad_fleets_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let config = load(
            dir.path(),
            "[targets.x]\nserver = \"https://x\"\n\n[fleets.f]\nservers = [\"https://a.b\"]\n",
        );
        let error = read_fleet(&config, "f").unwrap_err();
        assert!(error.contains("roster.toml:4: [fleets.f]"), "{error}");
        assert!(error.contains("no credential"), "{error}");

        let config = load(
            dir.path(),
            "[fleets.f]\nservers = [\"https://a.b\"]\napi_key_env = \"K\"\nconcurency = 3\n",
        );
        let error = read_fleet(&config, "f").unwrap_err();
        assert!(error.contains("roster.toml:1"), "{error}");
        assert!(error.contains("concurency"), "{error}");

        std::fs::write(
            dir.path().join("t.csv"),
            "name,server\na,https://a.x\na,https://b.x\n",
        )
        .unwrap();
        let config = load(
            dir.path(),
            "[fleets.f]\nservers_file = \"t.csv\"\napi_key_env = \"K\"\n",
        );
        let error = read_fleet(&config, "f").unwrap_err();
        assert!(error.contains("t.csv:3"), "{error}");
        assert!(error.contains("listed twice"), "{error}");

        let config = load(
            dir.path(),
            "[fleets.f]\nservers = [\"https://a.b\"]\nserver = \"https://c\"\napi_key_env = \"K\"\n",
        );
        assert!(read_fleet(&config, "f").unwrap_err().contains("no `server`"));
    }
}
