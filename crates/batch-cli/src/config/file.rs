//! `roster.toml`: named targets with their server, credentials and limits.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use core_api::Secret;
use core_api::target::TargetKind;
use serde::{Deserialize, Deserializer};

use super::{Warning, permission_warning};

/// The config file's name, in the working directory or `<config dir>/roster/`.
pub const CONFIG_FILE_NAME: &str = "roster.toml";

/// An example config, shown in hints and the README.
pub const EXAMPLE: &str = r#"# roster.toml
default_target = "prod"          # used when --to is not given

[targets.prod]
kind = "qlik"                    # qlik or alumio
server = "https://acme.eu.qlikcloud.com"
api_key_env = "QLIK_PROD_API_KEY"   # or api_key_file = "~/.config/roster/prod.key"
tier2_per_min = 100              # optional: limits, pace, concurrency, batch_size, timeout_secs
pace = "burst"                   # burst (qlik's default) or steady (alumio's)

[targets.test]
server = "https://acme-test.eu.qlikcloud.com"
client_id = "2f1c..."            # OAuth machine-to-machine
client_secret_env = "QLIK_TEST_CLIENT_SECRET"
"#;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The target used when `--to` is not given.
    #[serde(default)]
    pub default_target: Option<String>,
    /// Targets by name.
    #[serde(default)]
    pub targets: BTreeMap<String, TargetConfig>,
    /// Fleets by name: many tenants sharing one credential template, read and checked by
    /// [`crate::fleet`].
    #[serde(default)]
    pub fleets: BTreeMap<String, FleetTable>,
}

/// One `[fleets.NAME]` table as written; [`crate::fleet`] reads and checks it. `Debug` shows
/// only its keys, since a table may hold a secret.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct FleetTable(pub toml::Table);

impl fmt::Debug for FleetTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// One `[targets.NAME]` table. Every field is optional here; settings resolution says what is
/// missing, after flags have had their say.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// `qlik` (the default) or `alumio`.
    pub kind: Option<TargetKind>,
    /// The tenant's base URL.
    pub server: Option<String>,
    /// Name of the environment variable holding the API key.
    pub api_key_env: Option<String>,
    /// File holding the API key (relative paths are relative to the config file).
    pub api_key_file: Option<PathBuf>,
    /// The API key itself. Discouraged: the file must then be readable by its owner only.
    #[serde(default, deserialize_with = "secret")]
    pub api_key: Option<Secret>,
    /// OAuth client id (machine-to-machine).
    pub client_id: Option<String>,
    /// Name of the environment variable holding the OAuth client secret.
    pub client_secret_env: Option<String>,
    /// File holding the OAuth client secret.
    pub client_secret_file: Option<PathBuf>,
    /// The OAuth client secret itself. Discouraged, as `api_key`.
    #[serde(default, deserialize_with = "secret")]
    pub client_secret: Option<Secret>,
    /// OAuth scope (Qlik default: `admin_classic`).
    pub scope: Option<String>,
    /// Reads per minute (Qlik tier 1).
    pub tier1_per_min: Option<u32>,
    /// Writes per minute (Qlik tier 2).
    pub tier2_per_min: Option<u32>,
    /// `burst` (up to the window's budget at once) or `steady` (evenly at the limit).
    pub pace: Option<core_api::Pace>,
    /// The window tier 1's limit is evaluated over, in seconds (burst pace).
    pub tier1_window_secs: Option<u64>,
    /// The window tier 2's limit is evaluated over, in seconds (burst pace).
    pub tier2_window_secs: Option<u64>,
    /// Rows in flight at once.
    pub concurrency: Option<usize>,
    /// Rows per bulk write (Alumio).
    pub batch_size: Option<usize>,
    /// Timeout of one request, in seconds.
    pub timeout_secs: Option<u64>,
    /// Skip TLS certificate verification.
    pub insecure: Option<bool>,
    /// Allow plain http to hosts other than loopback.
    pub allow_http: Option<bool>,
}

impl TargetConfig {
    /// Whether the table holds a secret in clear text.
    pub fn holds_secret(&self) -> bool {
        self.api_key.is_some() || self.client_secret.is_some()
    }
}

// Hand-written so that a secret could never reach a log through a derived `Debug`, whatever
// `Secret` does.
impl fmt::Debug for TargetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |s: &Option<Secret>| s.as_ref().map(|_| "[redacted]");
        f.debug_struct("TargetConfig")
            .field("kind", &self.kind)
            .field("server", &self.server)
            .field("api_key_env", &self.api_key_env)
            .field("api_key_file", &self.api_key_file)
            .field("api_key", &hidden(&self.api_key))
            .field("client_id", &self.client_id)
            .field("client_secret_env", &self.client_secret_env)
            .field("client_secret_file", &self.client_secret_file)
            .field("client_secret", &hidden(&self.client_secret))
            .field("scope", &self.scope)
            .field("tier1_per_min", &self.tier1_per_min)
            .field("tier2_per_min", &self.tier2_per_min)
            .field("pace", &self.pace)
            .field("tier1_window_secs", &self.tier1_window_secs)
            .field("tier2_window_secs", &self.tier2_window_secs)
            .field("concurrency", &self.concurrency)
            .field("batch_size", &self.batch_size)
            .field("timeout_secs", &self.timeout_secs)
            .field("insecure", &self.insecure)
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

fn secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.map(Secret::new))
}

/// A config file read from disk.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its content.
    pub file: ConfigFile,
    /// Warnings about it (permissions).
    pub warnings: Vec<Warning>,
}

impl LoadedConfig {
    /// Reads and parses a config file. Errors are lowercase fragments naming the file; TOML
    /// errors carry their line and column. Secrets never appear in them: the parser's messages
    /// quote keys and positions, and the offending line only for syntax errors, which a
    /// well-formed secret value cannot cause.
    pub fn load(path: &Path) -> Result<LoadedConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        Self::parse(path, &text)
    }

    /// Parses config text as if read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<LoadedConfig, String> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| {
            format!(
                "invalid config file {}: {}",
                path.display(),
                redact_toml_error(&e, text)
            )
        })?;
        let mut warnings = Vec::new();
        let fleet_secret = file
            .fleets
            .values()
            .any(|t| t.0.contains_key("api_key") || t.0.contains_key("client_secret"));
        if (file.targets.values().any(TargetConfig::holds_secret) || fleet_secret)
            && let Some(warning) = permission_warning(path, "secrets")
        {
            warnings.push(warning);
        }
        Ok(LoadedConfig {
            path: path.to_path_buf(),
            file,
            warnings,
        })
    }

    /// The directory relative paths in the file are resolved against.
    pub fn base_dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

/// toml's messages quote the offending source line and sometimes the value. When the error
/// sits on an `api_key` or `client_secret` line, only the line number and key are kept, so a
/// typo next to a secret cannot print it.
fn redact_toml_error(error: &toml::de::Error, text: &str) -> String {
    if let Some(span) = error.span() {
        let before = text.get(..span.start).unwrap_or_default();
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let rest = text.get(line_start..).unwrap_or_default();
        let line = rest.split('\n').next().unwrap_or_default();
        if let Some(key) = secret_key(line) {
            let number = before.matches('\n').count() + 1;
            return format!("line {number}: invalid value for `{key}` (not shown; expected a quoted string)");
        }
    }
    error.to_string().trim_end().to_owned()
}

fn secret_key(line: &str) -> Option<&'static str> {
    let key = line
        .split('=')
        .next()
        .unwrap_or_default()
        .trim()
        .trim_matches('"');
    match key {
        "api_key" => Some("api_key"),
        "client_secret" => Some("client_secret"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses() {
        let loaded = LoadedConfig::parse(Path::new("roster.toml"), EXAMPLE).unwrap();
        assert_eq!(loaded.file.default_target.as_deref(), Some("prod"));
        let prod = &loaded.file.targets["prod"];
        assert_eq!(prod.kind, Some(TargetKind::Qlik));
        assert_eq!(prod.api_key_env.as_deref(), Some("QLIK_PROD_API_KEY"));
        assert_eq!(prod.tier2_per_min, Some(100));
        assert_eq!(loaded.file.targets["test"].client_id.as_deref(), Some("2f1c..."));
    }

    #[test]
    fn typos_are_refused_with_their_position() {
        let error = LoadedConfig::parse(
            Path::new("roster.toml"),
            "[targets.prod]\nserver = \"https://x\"\nconcurency = 4\n",
        )
        .unwrap_err();
        assert!(error.starts_with("invalid config file roster.toml:"), "{error}");
        assert!(error.contains("concurency"), "{error}");
        assert!(error.contains("line 3"), "{error}");

        let error = LoadedConfig::parse(Path::new("r.toml"), "[targets.prod]\nkind = \"qlk\"\n").unwrap_err();
        assert!(error.contains("qlik"), "{error}");
    }

    #[test]
    fn inline_secrets_never_show() {
        let text = "[targets.prod]\nserver = \"https://x\"\napi_key = \"sk-live-123456\"\n";
        let loaded = LoadedConfig::parse(Path::new("roster.toml"), text).unwrap();
        let shown = format!("{loaded:?}");
        assert!(!shown.contains("sk-live-123456"), "{shown}");
        assert!(shown.contains("[redacted]"));

        // A syntax error on a secret's line does not echo the line.
        let broken = "[targets.prod]\napi_key = \"sk-live-123456\" trailing\n";
        let error = LoadedConfig::parse(Path::new("roster.toml"), broken).unwrap_err();
        assert!(!error.contains("sk-live-123456"), "{error}");
        let broken = "[targets.prod]\nclient_secret = sk-live-123456\n";
        let error = LoadedConfig::parse(Path::new("roster.toml"), broken).unwrap_err();
        assert!(!error.contains("sk-live-123456"), "{error}");
        // A wrong type for a secret does not echo it either.
        let typed = "[targets.prod]\napi_key = 123456789\n";
        let error = LoadedConfig::parse(Path::new("roster.toml"), typed).unwrap_err();
        assert!(!error.contains("123456789"), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn secrets_in_a_file_others_can_read_warn() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roster.toml");
        std::fs::write(&path, "[targets.p]\nserver = \"https://x\"\napi_key = \"k\"\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let loaded = LoadedConfig::load(&path).unwrap();
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        assert!(loaded.warnings[0].contains("mode 644"), "{:?}", loaded.warnings);
        assert!(loaded.warnings[0].contains("chmod 600"));

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(LoadedConfig::load(&path).unwrap().warnings.is_empty());

        // No secrets in it: no warning, whatever the mode.
        std::fs::write(
            &path,
            "[targets.p]\nserver = \"https://x\"\napi_key_env = \"K\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(LoadedConfig::load(&path).unwrap().warnings.is_empty());
    }
}
