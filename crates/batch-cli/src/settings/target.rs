//! One target's settings: which tenant (a `[targets.NAME]` table, a qlik-cli context, or
//! `--server`), how to reach it, its limits and pace, and the checks on each; flags override the
//! table, the table overrides the defaults.

use std::path::PathBuf;
use std::time::Duration;

use core_api::target::TargetKind;
use core_api::{Credentials, Pace, RateLimits, RetryPolicy, Tier, Url};

use super::credentials::{
    CredentialSource, SecretSource, credentials_from_flags, credentials_from_table, read_credentials,
};
use super::{
    DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, Environment, MAX_BATCH_SIZE, MAX_CONCURRENCY,
    QLIK_CLI_PREFIX, SettingsError, env,
};
use crate::cli::{KindArg, PaceArg, TargetArgs};
use crate::config::{CONFIG_FILE_NAME, LoadedConfig, QlikCliContexts, TargetConfig, Warning};

/// Which side of a command a target is on, so that its hints name the flag it is given with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetRole {
    /// Where plan, apply and migrate send: `--to`.
    Target,
    /// Where export and migrate read from: `--from`.
    Source,
}

impl TargetRole {
    /// The flag that names a target in this role.
    pub fn flag(self) -> &'static str {
        match self {
            TargetRole::Target => "--to",
            TargetRole::Source => "--from",
        }
    }

    /// How a hint asks for one.
    fn ask(self) -> &'static str {
        match self {
            TargetRole::Target => "choose one",
            TargetRole::Source => "name the source",
        }
    }
}

/// Where a target's settings came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSource {
    /// A `[targets.NAME]` table of this config file.
    ConfigFile(PathBuf),
    /// A context of this qlik-cli contexts file.
    QlikCli(PathBuf),
    /// `--server` and friends on the command line.
    CommandLine,
}

/// Everything needed to talk to one tenant.
#[derive(Debug, Clone)]
pub struct TargetSettings {
    /// The name the user chose (`prod`, `qlik:acme`), or `host[:port]` for `--server`. It is
    /// part of every row's resume key.
    pub name: String,
    /// The vendor.
    pub kind: TargetKind,
    /// The tenant's base URL.
    pub server: Url,
    /// API key or OAuth client; `Debug` redacts the secret.
    pub credentials: Credentials,
    /// Client-side rate limits.
    pub limits: RateLimits,
    /// Timeout of one request.
    pub timeout: Duration,
    /// When to retry.
    pub retry: RetryPolicy,
    /// Skip TLS verification.
    pub insecure: bool,
    /// Allow plain http to non-loopback hosts.
    pub allow_http: bool,
    /// Rows in flight at once (the target's `concurrency`, or the flag).
    pub concurrency: usize,
    /// Rows per bulk write.
    pub batch_size: usize,
    /// Where the settings came from.
    pub source: TargetSource,
}

pub(super) fn checked_concurrency(n: usize) -> Result<usize, SettingsError> {
    if (1..=MAX_CONCURRENCY).contains(&n) {
        Ok(n)
    } else {
        Err(SettingsError::new(format!(
            "concurrency must be between 1 and {MAX_CONCURRENCY} (got {n})"
        )))
    }
}

pub(super) fn checked_batch_size(n: usize) -> Result<usize, SettingsError> {
    if (1..=MAX_BATCH_SIZE).contains(&n) {
        Ok(n)
    } else {
        Err(SettingsError::new(format!(
            "batch size must be between 1 and {MAX_BATCH_SIZE} (got {n})"
        )))
    }
}

/// The starting point before flags: a config table, a qlik-cli context, or nothing.
struct Base {
    name: String,
    kind: Option<TargetKind>,
    server: Option<String>,
    credentials: Option<CredentialSource>,
    table: TargetConfig,
    source: TargetSource,
    /// Relative key-file paths are relative to this.
    base_dir: Option<PathBuf>,
}

impl TargetSettings {
    /// Resolves the target: picks the base (`--to NAME` from the config, `--to qlik:CONTEXT`
    /// from qlik-cli, or `--server`), lets flags override it, reads the secret, and fills the
    /// defaults. Warnings (file permissions, `--insecure`) are added to `warnings`.
    pub fn resolve(
        args: &TargetArgs,
        config: Option<&LoadedConfig>,
        env: &dyn Environment,
        warnings: &mut Vec<Warning>,
    ) -> Result<TargetSettings, SettingsError> {
        Self::resolve_as(args, TargetRole::Target, config, env, warnings)
    }

    /// [`TargetSettings::resolve`] for a target in `role`: its hints name the flag the command
    /// names that target with.
    pub fn resolve_as(
        args: &TargetArgs,
        role: TargetRole,
        config: Option<&LoadedConfig>,
        env: &dyn Environment,
        warnings: &mut Vec<Warning>,
    ) -> Result<TargetSettings, SettingsError> {
        if let Some(config) = config {
            warnings.extend(config.warnings.iter().cloned());
        }
        let base = pick_base(args, role, config, env, warnings)?;
        let table = &base.table;

        let kind = args.kind.map(kind_of).or(base.kind).unwrap_or(TargetKind::Qlik);
        let server_text = args
            .server
            .clone()
            .or_else(|| base.server.clone())
            .ok_or_else(|| {
                SettingsError::new(format!("target \"{}\" has no server URL", base.name))
                    .hint("add `server = \"https://...\"` to the target, or pass --server URL")
            })?;
        let server = parse_server(&server_text)?;

        let flag_credentials = credentials_from_flags(args)?;
        let credentials_source = match (flag_credentials, base.credentials) {
            (Some(from_flags), _) => from_flags,
            (None, Some(from_base)) => from_base,
            (None, None) if matches!(base.source, TargetSource::QlikCli(_)) => {
                return Err(SettingsError::new(format!(
                    "qlik-cli context \"{}\" has no api key or oauth client",
                    base.name.trim_start_matches(QLIK_CLI_PREFIX)
                ))
                .hint("pass one with --api-key-env, --api-key-file or --api-key-stdin"));
            }
            (None, None) => CredentialSource::ApiKey(SecretSource::Env(default_key_env(kind).to_owned())),
        };
        let credentials = read_credentials(
            credentials_source,
            &base.name,
            base.base_dir.as_deref(),
            env,
            warnings,
        )?;

        // Qlik documents its limits; Alumio publishes none, and its client carries a cautious guess.
        let defaults = match kind {
            TargetKind::Qlik => RateLimits::default(),
            TargetKind::Alumio => alumio::default_rate_limits(),
        };
        let mut limits = RateLimits::per_minute(
            args.tier1_per_min
                .or(table.tier1_per_min)
                .unwrap_or(defaults.tier1_per_min),
            args.tier2_per_min
                .or(table.tier2_per_min)
                .unwrap_or(defaults.tier2_per_min),
        );
        // Qlik documents a 5-minute window per tier, so its writes may burst within it; Alumio
        // publishes nothing to burst within.
        limits.pace = args
            .pace
            .map(|p| match p {
                PaceArg::Burst => Pace::Burst,
                PaceArg::Steady => Pace::Steady,
            })
            .or(table.pace)
            .unwrap_or(match kind {
                TargetKind::Qlik => Pace::Burst,
                TargetKind::Alumio => Pace::Steady,
            });
        for (tier, flag, value) in [
            (
                Tier::Tier1,
                "tier1_window_secs",
                args.tier1_window_secs.or(table.tier1_window_secs),
            ),
            (
                Tier::Tier2,
                "tier2_window_secs",
                args.tier2_window_secs.or(table.tier2_window_secs),
            ),
        ] {
            let window = match value {
                Some(0) => {
                    return Err(SettingsError::new(format!("{flag} must be at least 1 second"))
                        .hint("for no window at all, use --pace steady"));
                }
                Some(secs) => Duration::from_secs(secs),
                None => core_api::QLIK_WINDOW,
            };
            match tier {
                Tier::Tier1 => limits.tier1_window = window,
                Tier::Tier2 => limits.tier2_window = window,
            }
        }
        let timeout = match args.timeout_secs.or(table.timeout_secs) {
            Some(0) => return Err(SettingsError::new("timeout must be at least 1 second")),
            Some(secs) => Duration::from_secs(secs),
            None => DEFAULT_TIMEOUT,
        };
        let insecure = args.insecure || table.insecure.unwrap_or(false);
        if insecure {
            warnings.push(format!(
                "tls certificates of {} are not verified (--insecure); anyone on the network path can read the credentials",
                server.host_str().unwrap_or_default()
            ));
        }
        let allow_http = args.allow_http || table.allow_http.unwrap_or(false);
        let concurrency = checked_concurrency(table.concurrency.unwrap_or(DEFAULT_CONCURRENCY))?;
        let batch_size = checked_batch_size(table.batch_size.unwrap_or(DEFAULT_BATCH_SIZE))?;
        Ok(TargetSettings {
            name: base.name,
            kind,
            server,
            credentials,
            limits,
            timeout,
            retry: retry_policy(env),
            insecure,
            allow_http,
            concurrency,
            batch_size,
            source: base.source,
        })
    }
}

fn kind_of(arg: KindArg) -> TargetKind {
    match arg {
        KindArg::Qlik => TargetKind::Qlik,
        KindArg::Alumio => TargetKind::Alumio,
    }
}

fn default_key_env(kind: TargetKind) -> &'static str {
    match kind {
        TargetKind::Qlik => env::QLIK_API_KEY,
        TargetKind::Alumio => env::ALUMIO_API_KEY,
    }
}

fn retry_policy(env: &dyn Environment) -> RetryPolicy {
    match env
        .var(env::ROSTER_RETRY_SCALE)
        .and_then(|v| v.trim().parse::<f64>().ok())
    {
        Some(factor) if (0.0..=1.0).contains(&factor) => RetryPolicy::default().scaled(factor),
        _ => RetryPolicy::default(),
    }
}

/// Accepts `acme.eu.qlikcloud.com` as `https://acme.eu.qlikcloud.com`; refuses URLs with user
/// or password (credentials go separately, never in a URL that gets printed).
fn parse_server(text: &str) -> Result<Url, SettingsError> {
    let trimmed = text.trim();
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| {
        SettingsError::new(format!(
            "invalid server URL \"{}\": {e}",
            redact_url_text(trimmed)
        ))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            SettingsError::new("the server URL contains a user name or password")
                .hint("pass credentials with --api-key-env, --api-key-file or --api-key-stdin"),
        );
    }
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(SettingsError::new(format!(
            "invalid server URL \"{trimmed}\": use https://host"
        )));
    }
    Ok(url)
}

/// Hides anything before `@` in a URL the user typed, in case it held a password.
fn redact_url_text(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://[redacted]{}", &text[..scheme_end], &text[at..])
        }
        (None, Some(at)) => format!("[redacted]{}", &text[at..]),
        _ => text.to_owned(),
    }
}

fn pick_base(
    args: &TargetArgs,
    role: TargetRole,
    config: Option<&LoadedConfig>,
    env: &dyn Environment,
    warnings: &mut Vec<Warning>,
) -> Result<Base, SettingsError> {
    let to = args.to.clone().or_else(|| {
        if args.server.is_some() {
            None
        } else {
            config.and_then(|c| c.file.default_target.clone())
        }
    });
    match to {
        Some(to) if to.starts_with(QLIK_CLI_PREFIX) => qlik_cli_base(&to, env, warnings),
        Some(name) => config_base(&name, role, config),
        None if args.server.is_some() => {
            let name = args
                .server
                .as_deref()
                .and_then(|s| parse_server(s).ok())
                .map(|u| match (u.host_str(), u.port()) {
                    (Some(h), Some(p)) => format!("{h}:{p}"),
                    (Some(h), None) => h.to_owned(),
                    _ => u.to_string(),
                })
                .unwrap_or_default();
            Ok(Base {
                name,
                kind: None,
                server: None,
                credentials: None,
                table: TargetConfig::default(),
                source: TargetSource::CommandLine,
                base_dir: None,
            })
        }
        None => Err(SettingsError::new("no target given").hint(format!(
            "{} with {flag} NAME (a target in roster.toml), {flag} qlik:CONTEXT (a qlik-cli context) \
                 or --server URL",
            role.ask(),
            flag = role.flag()
        ))),
    }
}

fn config_base(name: &str, role: TargetRole, config: Option<&LoadedConfig>) -> Result<Base, SettingsError> {
    let flag = role.flag();
    let Some(config) = config else {
        return Err(SettingsError::new(format!("no target \"{name}\": no config file found")).hint(format!(
            "create ./{CONFIG_FILE_NAME} (or <config dir>/roster/{CONFIG_FILE_NAME}, or pass --config PATH) with\n\n\
             [targets.{name}]\nserver = \"https://acme.eu.qlikcloud.com\"\napi_key_env = \"QLIK_API_KEY\"\n\n\
             or use --server URL, or {flag} qlik:CONTEXT for a qlik-cli context"
        )));
    };
    let member = (!config.file.targets.contains_key(name))
        .then(|| fleet_member(config, name))
        .flatten();
    let Some(table) = config.file.targets.get(name).or(member.as_ref()) else {
        let known: Vec<&str> = config.file.targets.keys().map(String::as_str).collect();
        let hint = if known.is_empty() {
            format!(
                "{} defines no targets; add a [targets.{name}] table",
                config.path.display()
            )
        } else {
            format!(
                "known targets: {}; for a qlik-cli context use {flag} qlik:{name}",
                known.join(", ")
            )
        };
        return Err(
            SettingsError::new(format!("no target \"{name}\" in {}", config.path.display())).hint(hint),
        );
    };
    let credentials = credentials_from_table(name, table, &config.path)?;
    Ok(Base {
        name: name.to_owned(),
        kind: table.kind,
        server: table.server.clone(),
        credentials,
        table: table.clone(),
        source: TargetSource::ConfigFile(config.path.clone()),
        base_dir: Some(config.base_dir().to_path_buf()),
    })
}

/// The target table of the fleet tenant named `name`, so that a command of one target (`runs`,
/// `undo`, or any other) reaches one tenant of a fleet by the name its journal carries. A fleet
/// whose tenants cannot be read is passed over here: the fleet's own commands report it.
fn fleet_member(config: &LoadedConfig, name: &str) -> Option<TargetConfig> {
    config.file.fleets.keys().find_map(|fleet| {
        crate::config::fleet::read_fleet(config, fleet)
            .ok()?
            .into_iter()
            .find(|tenant| tenant.name == name)
            .map(|tenant| tenant.table)
    })
}

fn qlik_cli_base(
    to: &str,
    env: &dyn Environment,
    warnings: &mut Vec<Warning>,
) -> Result<Base, SettingsError> {
    let context_name = to.strip_prefix(QLIK_CLI_PREFIX).unwrap_or_default();
    let home_override = env
        .var(env::QLIK_CLI_USER_HOME_DIR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let candidates = QlikCliContexts::candidates(home_override.as_deref(), env.home_dir().as_deref());
    let Some(path) = candidates.iter().find(|p| p.is_file()) else {
        let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        return Err(SettingsError::new(format!(
            "no qlik-cli contexts file found (looked for {})",
            if looked.is_empty() { "~/.qlik/contexts.yml".to_owned() } else { looked.join(", ") }
        ))
        .hint(format!(
            "create one with `qlik context create NAME --server URL --api-key KEY`, or set {} to qlik-cli's home",
            env::QLIK_CLI_USER_HOME_DIR
        )));
    };
    let contexts = QlikCliContexts::load(path).map_err(SettingsError::new)?;
    warnings.extend(contexts.warnings.iter().cloned());
    let context = contexts
        .get(context_name)
        .map_err(|e| SettingsError::new(e).hint("list them with `qlik context ls`"))?;
    if let Some(kind) = context.server_type.as_deref().filter(|t| *t != "cloud") {
        return Err(SettingsError::new(format!(
            "qlik-cli context \"{}\" is for a {kind} server; roster works with qlik cloud tenants",
            context.name
        )));
    }
    let credentials = match (
        &context.api_key,
        &context.oauth_client_id,
        &context.oauth_client_secret,
    ) {
        (Some(key), _, _) => Some(CredentialSource::ApiKey(SecretSource::Inline(key.clone()))),
        (None, Some(id), Some(secret)) => Some(CredentialSource::OAuth {
            client_id: id.clone(),
            secret: SecretSource::Inline(secret.clone()),
            scope: None,
        }),
        _ => None,
    };
    let table = TargetConfig {
        insecure: Some(context.insecure),
        ..TargetConfig::default()
    };
    Ok(Base {
        name: format!("{QLIK_CLI_PREFIX}{}", context.name),
        kind: Some(TargetKind::Qlik),
        server: context.server.clone(),
        credentials,
        table,
        source: TargetSource::QlikCli(path.clone()),
        base_dir: None,
    })
}
