//! qlik-cli's `contexts.yml`, so that people who already use qlik-cli can write
//! `--to qlik:CONTEXT` instead of configuring the tenant again.
//!
//! qlik-cli has written this file in a few shapes over the years; the reader takes all of them:
//!
//! ```yaml
//! current-context: acme
//! contexts:
//!   acme:
//!     server: https://acme.eu.qlikcloud.com
//!     server-type: cloud
//!     headers:
//!       Authorization: Bearer eyJhbGciOi...
//!     oauth-client-id: ""
//!     oauth-client-secret: ""
//! ```
//!
//! Keys match case-insensitively with `-` and `_` alike; the key may also sit in `api-key`, and
//! `contexts` may be a list of `{name, ...}` or `{name, context: {...}}` entries.

use std::fmt;
use std::path::{Path, PathBuf};

use core_api::Secret;
use serde_norway::{Mapping, Value};

use super::{Warning, permission_warning};

/// One qlik-cli context, as much of it as roster needs.
#[derive(Clone, Default)]
pub struct QlikCliContext {
    /// The context's name.
    pub name: String,
    /// The tenant URL.
    pub server: Option<String>,
    /// `cloud`, `windows` or `engine` when the file says.
    pub server_type: Option<String>,
    /// The API key (from `Authorization: Bearer ...` or `api-key`).
    pub api_key: Option<Secret>,
    /// OAuth client id.
    pub oauth_client_id: Option<String>,
    /// OAuth client secret.
    pub oauth_client_secret: Option<Secret>,
    /// Whether qlik-cli skips certificate checks for this context.
    pub insecure: bool,
}

impl fmt::Debug for QlikCliContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QlikCliContext")
            .field("name", &self.name)
            .field("server", &self.server)
            .field("server_type", &self.server_type)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("oauth_client_id", &self.oauth_client_id)
            .field(
                "oauth_client_secret",
                &self.oauth_client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// The contexts of one `contexts.yml`.
#[derive(Debug, Clone)]
pub struct QlikCliContexts {
    /// Where the file is.
    pub path: PathBuf,
    /// qlik-cli's current context.
    pub current: Option<String>,
    /// Every context, in file order.
    pub contexts: Vec<QlikCliContext>,
    /// Warnings about the file (permissions).
    pub warnings: Vec<Warning>,
}

/// Keys compare lowercase with `_` for `-`.
fn norm(key: &str) -> String {
    key.trim().to_ascii_lowercase().replace('-', "_")
}

fn get<'v>(map: &'v Mapping, names: &[&str]) -> Option<&'v Value> {
    map.iter()
        .find(|(k, _)| k.as_str().is_some_and(|k| names.contains(&norm(k).as_str())))
        .map(|(_, v)| v)
}

fn text(map: &Mapping, names: &[&str]) -> Option<String> {
    match get(map, names)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn context_from(name: String, map: &Mapping) -> QlikCliContext {
    // `{name, context: {...}}` entries keep their fields one level down.
    let map = match get(map, &["context"]) {
        Some(Value::Mapping(inner)) => inner,
        _ => map,
    };
    let bearer = match get(map, &["headers"]) {
        Some(Value::Mapping(headers)) => text(headers, &["authorization"]).map(|value| {
            let trimmed = value.trim();
            match trimmed.split_once(char::is_whitespace) {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim().to_owned(),
                _ => trimmed.to_owned(),
            }
        }),
        _ => None,
    };
    let api_key = bearer
        .or_else(|| text(map, &["api_key", "apikey"]))
        .filter(|k| !k.is_empty());
    QlikCliContext {
        name,
        server: text(map, &["server", "url", "host", "engine", "tenant_url", "tenant"]),
        server_type: text(map, &["server_type", "servertype", "product"]).map(|t| t.to_ascii_lowercase()),
        api_key: api_key.map(Secret::new),
        oauth_client_id: text(map, &["oauth_client_id", "client_id", "oauthclientid"]),
        oauth_client_secret: text(
            map,
            &["oauth_client_secret", "client_secret", "oauthclientsecret"],
        )
        .map(Secret::new),
        insecure: matches!(get(map, &["insecure"]), Some(Value::Bool(true))),
    }
}

impl QlikCliContexts {
    /// Where qlik-cli keeps the file: `$QLIK_CLI_USER_HOME_DIR/.qlik/contexts.yml` (or
    /// `contexts.yml` directly in it, or the variable naming the file itself), else
    /// `~/.qlik/contexts.yml`. Candidates in order; the first that exists wins.
    pub fn candidates(home_override: Option<&Path>, home: Option<&Path>) -> Vec<PathBuf> {
        match home_override {
            Some(dir) => vec![
                dir.join(".qlik").join("contexts.yml"),
                dir.join("contexts.yml"),
                dir.to_path_buf(),
            ],
            None => home
                .map(|h| vec![h.join(".qlik").join("contexts.yml")])
                .unwrap_or_default(),
        }
    }

    /// Reads and parses the file.
    pub fn load(path: &Path) -> Result<QlikCliContexts, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read qlik-cli contexts {}: {e}", path.display()))?;
        let mut contexts = Self::parse(path, &text)?;
        let secrets = contexts
            .contexts
            .iter()
            .any(|c| c.api_key.is_some() || c.oauth_client_secret.is_some());
        if secrets && let Some(warning) = permission_warning(path, "api keys") {
            contexts.warnings.push(warning);
        }
        Ok(contexts)
    }

    /// Parses the text of a contexts file.
    pub fn parse(path: &Path, source: &str) -> Result<QlikCliContexts, String> {
        let value: Value = serde_norway::from_str(source)
            .map_err(|e| format!("invalid qlik-cli contexts {}: {e}", path.display()))?;
        let root = match value {
            Value::Mapping(map) => map,
            Value::Null => Mapping::new(),
            _ => {
                return Err(format!(
                    "invalid qlik-cli contexts {}: expected a mapping at the top",
                    path.display()
                ));
            }
        };
        let current = text_of(&root, &["current_context", "currentcontext"]);
        let mut contexts = Vec::new();
        match get(&root, &["contexts"]) {
            Some(Value::Mapping(map)) => {
                for (name, value) in map {
                    let (Some(name), Value::Mapping(fields)) = (key_text(name), value) else {
                        continue;
                    };
                    contexts.push(context_from(name, fields));
                }
            }
            Some(Value::Sequence(items)) => {
                for item in items {
                    let Value::Mapping(fields) = item else { continue };
                    let Some(name) = text(fields, &["name"]) else {
                        continue;
                    };
                    contexts.push(context_from(name, fields));
                }
            }
            _ => {}
        }
        Ok(QlikCliContexts {
            path: path.to_path_buf(),
            current,
            contexts,
            warnings: Vec::new(),
        })
    }

    /// The context called `name`, or the current context when `name` is empty.
    pub fn get(&self, name: &str) -> Result<&QlikCliContext, String> {
        let wanted = if name.is_empty() {
            self.current.as_deref().ok_or_else(|| {
                format!(
                    "qlik-cli has no current context in {}; name one: --to qlik:CONTEXT",
                    self.path.display()
                )
            })?
        } else {
            name
        };
        self.contexts.iter().find(|c| c.name == wanted).ok_or_else(|| {
            let known: Vec<&str> = self.contexts.iter().map(|c| c.name.as_str()).collect();
            if known.is_empty() {
                format!(
                    "no qlik-cli context \"{wanted}\": {} defines none",
                    self.path.display()
                )
            } else {
                format!(
                    "no qlik-cli context \"{wanted}\" in {} (it has: {})",
                    self.path.display(),
                    known.join(", ")
                )
            }
        })
    }
}

fn key_text(key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn text_of(map: &Mapping, names: &[&str]) -> Option<String> {
    text(map, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/qlik-cli/.qlik/contexts.yml");

    fn parse(text: &str) -> QlikCliContexts {
        QlikCliContexts::parse(Path::new("contexts.yml"), text).unwrap()
    }

    #[test]
    fn the_usual_shape() {
        let contexts = parse(FIXTURE);
        assert_eq!(contexts.current.as_deref(), Some("acme-prod"));
        let prod = contexts.get("").unwrap();
        assert_eq!(prod.name, "acme-prod");
        assert_eq!(prod.server.as_deref(), Some("https://acme.eu.qlikcloud.com"));
        assert_eq!(
            prod.api_key.as_ref().map(Secret::expose),
            Some("fixture-api-key-prod")
        );
        let oauth = contexts.get("acme-oauth").unwrap();
        assert_eq!(oauth.oauth_client_id.as_deref(), Some("fixture-client-id"));
        assert_eq!(
            oauth.oauth_client_secret.as_ref().map(Secret::expose),
            Some("fixture-client-secret")
        );
        assert!(oauth.api_key.is_none());
        let windows = contexts.get("qseow").unwrap();
        assert_eq!(windows.server_type.as_deref(), Some("windows"));
        assert!(windows.insecure);
    }

    #[test]
    fn other_shapes() {
        let contexts = parse(
            "currentContext: b\ncontexts:\n  - name: a\n    url: https://a.example\n    api_key: key-a\n  - name: b\n    context:\n      Server: https://b.example\n      Headers:\n        authorization: key-b\n",
        );
        assert_eq!(
            contexts.get("a").unwrap().api_key.as_ref().map(Secret::expose),
            Some("key-a")
        );
        let b = contexts.get("").unwrap();
        assert_eq!(b.server.as_deref(), Some("https://b.example"));
        assert_eq!(b.api_key.as_ref().map(Secret::expose), Some("key-b"));
        assert!(parse("").contexts.is_empty());
        assert!(parse("contexts:\n").contexts.is_empty());
    }

    #[test]
    fn unknown_context_lists_the_known_ones() {
        let contexts = parse(FIXTURE);
        let error = contexts.get("nope").unwrap_err();
        assert!(error.contains("no qlik-cli context \"nope\""), "{error}");
        assert!(error.contains("acme-prod, acme-oauth"), "{error}");
        let error = parse("contexts: {}\n").get("").unwrap_err();
        assert!(error.contains("no current context"), "{error}");
    }

    #[test]
    fn debug_hides_keys() {
        let shown = format!("{:?}", parse(FIXTURE));
        assert!(!shown.contains("fixture-api-key-prod"), "{shown}");
        assert!(!shown.contains("fixture-client-secret"), "{shown}");
    }

    #[test]
    fn where_the_file_is() {
        let home = Path::new("/home/u");
        assert_eq!(
            QlikCliContexts::candidates(None, Some(home)),
            vec![PathBuf::from("/home/u/.qlik/contexts.yml")]
        );
        let over = Path::new("/x");
        assert_eq!(
            QlikCliContexts::candidates(Some(over), Some(home))[0],
            PathBuf::from("/x/.qlik/contexts.yml")
        );
    }
}
