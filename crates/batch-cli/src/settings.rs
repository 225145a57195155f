//! Settings resolution: the one step that merges what the user typed (clap structs in
//! [`crate::cli`]), the config file ([`crate::config`]) and the environment into the plain
//! structs the engine uses. Flags override the config file, the config file overrides the
//! defaults; nothing downstream reads a flag, a file or an environment variable again.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use core_api::target::TargetKind;
use core_api::{Credentials, Pace, RateLimits, RetryPolicy, Secret, Tier, Url};

use crate::cli::{ApplyArgs, KindArg, OutputArgs, PaceArg, PlanArgs, TargetArgs};
use crate::config::{
    CONFIG_FILE_NAME, LoadedConfig, QlikCliContexts, TargetConfig, Warning, permission_warning,
};
use crate::model::Mode;

/// Every environment variable roster reads, in one place.
pub mod env {
    /// Config file to use when `--config` is not given, instead of `./roster.toml` or
    /// `<config dir>/roster/roster.toml`.
    pub const ROSTER_CONFIG: &str = "ROSTER_CONFIG";
    /// The API key of an ad hoc Qlik target (`--server`) when no other credential is named.
    pub const QLIK_API_KEY: &str = "QLIK_API_KEY";
    /// The API key of an ad hoc Alumio target (`--server --kind alumio`) when no other
    /// credential is named.
    pub const ALUMIO_API_KEY: &str = "ALUMIO_API_KEY";
    /// qlik-cli's home: `contexts.yml` is read from `$QLIK_CLI_USER_HOME_DIR/.qlik/` (or from the
    /// directory itself) instead of `~/.qlik/`.
    pub const QLIK_CLI_USER_HOME_DIR: &str = "QLIK_CLI_USER_HOME_DIR";
    /// For tests only: multiplies every retry delay (e.g. `0.01`), so retried runs stay fast
    /// without weakening what they check. Ignored unless it parses as a number in 0..=1.
    pub const ROSTER_RETRY_SCALE: &str = "ROSTER_RETRY_SCALE";
    /// Any non-empty value turns colour off (<https://no-color.org>); read by the reporters.
    pub const NO_COLOR: &str = "NO_COLOR";
    /// Diagnostic logs on stderr, as a `tracing` filter (`debug`, `core_api=trace`, ...). Unset:
    /// no logs, only the reporters' output. Logs never hold credentials.
    pub const ROSTER_LOG: &str = "ROSTER_LOG";

    /// Every variable and what it does, for help texts and docs.
    pub const ALL: &[(&str, &str)] = &[
        (
            ROSTER_CONFIG,
            "config file to use instead of ./roster.toml or <config dir>/roster/roster.toml",
        ),
        (
            QLIK_API_KEY,
            "API key of an ad hoc Qlik target (--server), unless --api-key-env names another",
        ),
        (
            ALUMIO_API_KEY,
            "API key of an ad hoc Alumio target (--server --kind alumio)",
        ),
        (
            QLIK_CLI_USER_HOME_DIR,
            "where qlik-cli keeps .qlik/contexts.yml (default: the home directory)",
        ),
        (
            ROSTER_RETRY_SCALE,
            "tests only: multiply retry delays by this factor (0..=1)",
        ),
        (NO_COLOR, "any non-empty value turns colour off"),
        (
            ROSTER_LOG,
            "diagnostic logs on stderr, as a filter such as debug or core_api=trace",
        ),
    ];
}

/// Rows in flight at once when neither flag nor config says.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// Rows per bulk write when neither flag nor config says.
pub const DEFAULT_BATCH_SIZE: usize = 50;
/// Request timeout when neither flag nor config says.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest `--concurrency` accepted.
pub const MAX_CONCURRENCY: usize = 256;
/// The largest `--batch-size` accepted.
pub const MAX_BATCH_SIZE: usize = 1000;
/// `--to qlik:NAME` picks a qlik-cli context.
pub const QLIK_CLI_PREFIX: &str = "qlik:";
/// The state directory's name beside the roster.
pub const STATE_DIR_NAME: &str = ".roster";

/// What settings resolution may read from the process: environment variables, directories,
/// standard input. Tests substitute [`FixedEnvironment`].
pub trait Environment {
    /// An environment variable (`None` when unset or not unicode).
    fn var(&self, name: &str) -> Option<String>;
    /// The working directory.
    fn current_dir(&self) -> Option<PathBuf>;
    /// The user's home directory.
    fn home_dir(&self) -> Option<PathBuf>;
    /// The user's config directory (`~/.config` on Linux).
    fn config_dir(&self) -> Option<PathBuf>;
    /// All of standard input (for `--api-key-stdin`).
    fn read_stdin(&self) -> std::io::Result<String>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
    fn current_dir(&self) -> Option<PathBuf> {
        std::env::current_dir().ok()
    }
    fn home_dir(&self) -> Option<PathBuf> {
        dirs::home_dir()
    }
    fn config_dir(&self) -> Option<PathBuf> {
        dirs::config_dir()
    }
    fn read_stdin(&self) -> std::io::Result<String> {
        let mut text = String::new();
        std::io::stdin().lock().read_to_string(&mut text)?;
        Ok(text)
    }
}

/// A made-up environment for tests: only what is set here exists.
#[derive(Clone, Default)]
pub struct FixedEnvironment {
    /// Variables.
    pub vars: HashMap<String, String>,
    /// Working directory.
    pub current_dir: Option<PathBuf>,
    /// Home directory.
    pub home_dir: Option<PathBuf>,
    /// Config directory.
    pub config_dir: Option<PathBuf>,
    /// What standard input holds.
    pub stdin: Option<String>,
}

impl FixedEnvironment {
    /// Sets a variable.
    pub fn with_var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }
}

impl fmt::Debug for FixedEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Variables may hold keys: only their names are shown.
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("FixedEnvironment")
            .field("vars", &names)
            .field("current_dir", &self.current_dir)
            .field("home_dir", &self.home_dir)
            .field("config_dir", &self.config_dir)
            .field("stdin", &self.stdin.as_ref().map(|_| "[set]"))
            .finish()
    }
}

impl Environment for FixedEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }
    fn current_dir(&self) -> Option<PathBuf> {
        self.current_dir.clone()
    }
    fn home_dir(&self) -> Option<PathBuf> {
        self.home_dir.clone()
    }
    fn config_dir(&self) -> Option<PathBuf> {
        self.config_dir.clone()
    }
    fn read_stdin(&self) -> std::io::Result<String> {
        self.stdin
            .clone()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no input"))
    }
}

/// A usage or configuration problem: exit code 2, nothing sent. Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", hint.as_ref().map(|h| format!("\nhint: {h}")).unwrap_or_default())]
pub struct SettingsError {
    message: String,
    hint: Option<String>,
}

impl SettingsError {
    fn new(message: impl Into<String>) -> Self {
        SettingsError {
            message: message.into(),
            hint: None,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A problem found outside settings resolution proper (fleets), with no hint yet.
    pub fn plain(message: impl Into<String>) -> Self {
        Self::new(message)
    }

    /// The same error with a hint that names the fix.
    #[must_use]
    pub fn with_hint(self, hint: impl Into<String>) -> Self {
        self.hint(hint)
    }

    /// The problem, a lowercase fragment.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What to do about it, when there is something to say.
    pub fn hint_text(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The same error for a command that names its target with `flag` (`--from`) rather than
    /// `--to`, so the hint names a flag the command has.
    #[must_use]
    pub fn for_flag(mut self, flag: &str) -> Self {
        if let Some(hint) = &mut self.hint {
            *hint = hint.replace("--to ", &format!("{flag} "));
        }
        self
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

/// How output looks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputSettings {
    /// JSON on stdout.
    pub json: bool,
    /// Only the summary.
    pub quiet: bool,
    /// 0 normal, 1 `-v`, 2 `-vv`.
    pub verbose: u8,
}

impl From<OutputArgs> for OutputSettings {
    fn from(args: OutputArgs) -> Self {
        OutputSettings {
            json: args.json,
            quiet: args.quiet,
            verbose: args.verbose,
        }
    }
}

/// `roster plan`, resolved.
#[derive(Debug, Clone)]
pub struct PlanSettings {
    /// The roster file.
    pub roster: PathBuf,
    /// The tenant.
    pub target: TargetSettings,
    /// Merge or exact.
    pub mode: Mode,
    /// Output.
    pub output: OutputSettings,
    /// Warnings for the user (config permissions, `--insecure`); the caller prints them.
    pub warnings: Vec<Warning>,
}

/// `roster apply`, resolved.
#[derive(Debug, Clone)]
pub struct ApplySettings {
    /// Everything a plan needs (apply plans first).
    pub plan: PlanSettings,
    /// The journal's directory.
    pub state_dir: PathBuf,
    /// Ignore the journal.
    pub fresh: bool,
    /// Only the rows the journal marks failed.
    pub only_failed: bool,
    /// No confirmation prompt.
    pub yes: bool,
}

/// Finds the config file: `--config`, else `$ROSTER_CONFIG`, else `./roster.toml`, else
/// `<config dir>/roster/roster.toml`. `Ok(None)` when there is none (an explicitly named file
/// that does not exist is an error).
pub fn find_config(
    explicit: Option<&Path>,
    env: &dyn Environment,
) -> Result<Option<LoadedConfig>, SettingsError> {
    let named = explicit.map(|p| (p.to_path_buf(), "--config")).or_else(|| {
        env.var(env::ROSTER_CONFIG)
            .filter(|v| !v.is_empty())
            .map(|v| (PathBuf::from(v), env::ROSTER_CONFIG))
    });
    if let Some((path, from)) = named {
        if !path.is_file() {
            return Err(SettingsError::new(format!(
                "config file {} (from {from}) does not exist",
                path.display()
            )));
        }
        return LoadedConfig::load(&path).map(Some).map_err(SettingsError::new);
    }
    for path in config_candidates(env) {
        if path.is_file() {
            return LoadedConfig::load(&path).map(Some).map_err(SettingsError::new);
        }
    }
    Ok(None)
}

/// Where a config file is looked for when none is named.
pub fn config_candidates(env: &dyn Environment) -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = env.current_dir() {
        candidates.push(dir.join(CONFIG_FILE_NAME));
    }
    if let Some(dir) = env.config_dir() {
        candidates.push(dir.join("roster").join(CONFIG_FILE_NAME));
    }
    candidates
}

impl PlanSettings {
    /// Finds the config file and resolves.
    pub fn from_args(args: &PlanArgs, env: &dyn Environment) -> Result<PlanSettings, SettingsError> {
        let config = find_config(args.target.config.as_deref(), env)?;
        Self::resolve(args, config.as_ref(), env)
    }

    /// Flags over config over defaults.
    pub fn resolve(
        args: &PlanArgs,
        config: Option<&LoadedConfig>,
        env: &dyn Environment,
    ) -> Result<PlanSettings, SettingsError> {
        resolve_run(
            &args.roster,
            &args.target,
            args.mode,
            args.concurrency,
            args.batch_size,
            args.output,
            config,
            env,
        )
    }
}

impl ApplySettings {
    /// Finds the config file and resolves.
    pub fn from_args(args: &ApplyArgs, env: &dyn Environment) -> Result<ApplySettings, SettingsError> {
        let config = find_config(args.target.config.as_deref(), env)?;
        Self::resolve(args, config.as_ref(), env)
    }

    /// Flags over config over defaults.
    pub fn resolve(
        args: &ApplyArgs,
        config: Option<&LoadedConfig>,
        env: &dyn Environment,
    ) -> Result<ApplySettings, SettingsError> {
        let plan = resolve_run(
            &args.roster,
            &args.target,
            args.mode,
            args.concurrency,
            args.batch_size,
            args.output,
            config,
            env,
        )?;
        let state_dir = args
            .state_dir
            .clone()
            .unwrap_or_else(|| default_state_dir(&args.roster));
        Ok(ApplySettings {
            plan,
            state_dir,
            fresh: args.fresh,
            only_failed: args.only_failed,
            yes: args.yes,
        })
    }
}

/// The target of a command that names it with [`TargetArgs`] beside its own `--concurrency`
/// (export, migrate): found and checked as plan's and apply's is, so that a flag means the
/// same everywhere. Warnings (file permissions, `--insecure`) are added to `warnings`.
pub fn resolve_target(
    args: &TargetArgs,
    concurrency: Option<usize>,
    env: &dyn Environment,
    warnings: &mut Vec<Warning>,
) -> Result<TargetSettings, SettingsError> {
    let config = find_config(args.config.as_deref(), env)?;
    let mut target = TargetSettings::resolve(args, config.as_ref(), env, warnings)?;
    if let Some(n) = concurrency {
        target.concurrency = checked_concurrency(n)?;
    }
    Ok(target)
}

/// The flags that name `args`' target again, for the rerun line of a summary: `--to NAME`
/// (unless the target came from `--server` alone), `--config`, `--server`, the key sources and
/// the rates. Secrets are never among them (`--api-key-stdin` must be given again).
pub fn target_words(args: &TargetArgs, source: &TargetSource) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut push = |flag: &str, value: Option<String>| {
        if let Some(value) = value {
            words.push(flag.to_owned());
            words.push(value);
        }
    };
    push("--config", args.config.as_ref().map(|p| p.display().to_string()));
    if !matches!(source, TargetSource::CommandLine) {
        push("--to", args.to.clone());
    }
    push("--server", args.server.clone());
    push("--kind", args.kind.map(|k| format!("{k:?}").to_lowercase()));
    push("--api-key-env", args.api_key_env.clone());
    push(
        "--api-key-file",
        args.api_key_file.as_ref().map(|p| p.display().to_string()),
    );
    push("--client-id", args.client_id.clone());
    push("--client-secret-env", args.client_secret_env.clone());
    push(
        "--client-secret-file",
        args.client_secret_file.as_ref().map(|p| p.display().to_string()),
    );
    push("--tier1-per-min", args.tier1_per_min.map(|n| n.to_string()));
    push("--tier2-per-min", args.tier2_per_min.map(|n| n.to_string()));
    if args.insecure {
        words.push("--insecure".to_owned());
    }
    if args.allow_http {
        words.push("--allow-http".to_owned());
    }
    words
}

/// `.roster/` in the roster's directory.
pub fn default_state_dir(roster: &Path) -> PathBuf {
    match roster.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(STATE_DIR_NAME),
        _ => PathBuf::from(STATE_DIR_NAME),
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "the shared part of plan and apply, called from two places"
)]
fn resolve_run(
    roster: &Path,
    target: &TargetArgs,
    mode: Option<Mode>,
    concurrency: Option<usize>,
    batch_size: Option<usize>,
    output: OutputArgs,
    config: Option<&LoadedConfig>,
    env: &dyn Environment,
) -> Result<PlanSettings, SettingsError> {
    let mut warnings = Vec::new();
    let mut target = TargetSettings::resolve(target, config, env, &mut warnings)?;
    if let Some(n) = concurrency {
        target.concurrency = checked_concurrency(n)?;
    }
    if let Some(n) = batch_size {
        target.batch_size = checked_batch_size(n)?;
    }
    let output = OutputSettings::from(output);
    Ok(PlanSettings {
        roster: roster.to_path_buf(),
        target,
        mode: mode.unwrap_or_default(),
        output,
        warnings,
    })
}

fn checked_concurrency(n: usize) -> Result<usize, SettingsError> {
    if (1..=MAX_CONCURRENCY).contains(&n) {
        Ok(n)
    } else {
        Err(SettingsError::new(format!(
            "concurrency must be between 1 and {MAX_CONCURRENCY} (got {n})"
        )))
    }
}

fn checked_batch_size(n: usize) -> Result<usize, SettingsError> {
    if (1..=MAX_BATCH_SIZE).contains(&n) {
        Ok(n)
    } else {
        Err(SettingsError::new(format!(
            "batch size must be between 1 and {MAX_BATCH_SIZE} (got {n})"
        )))
    }
}

/// Where a secret is to be read from.
enum SecretSource {
    Env(String),
    File(PathBuf),
    Stdin,
    Inline(Secret),
}

/// Credentials before their secret is read.
enum CredentialSource {
    ApiKey(SecretSource),
    OAuth {
        client_id: String,
        secret: SecretSource,
        scope: Option<String>,
    },
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
        if let Some(config) = config {
            warnings.extend(config.warnings.iter().cloned());
        }
        let base = pick_base(args, config, env, warnings)?;
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
        Some(name) => config_base(&name, config),
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
        None => Err(SettingsError::new("no target given").hint(
            "choose one with --to NAME (a target in roster.toml), --to qlik:CONTEXT (a qlik-cli context) \
             or --server URL",
        )),
    }
}

fn config_base(name: &str, config: Option<&LoadedConfig>) -> Result<Base, SettingsError> {
    let Some(config) = config else {
        return Err(SettingsError::new(format!("no target \"{name}\": no config file found")).hint(format!(
            "create ./{CONFIG_FILE_NAME} (or <config dir>/roster/{CONFIG_FILE_NAME}, or pass --config PATH) with\n\n\
             [targets.{name}]\nserver = \"https://acme.eu.qlikcloud.com\"\napi_key_env = \"QLIK_API_KEY\"\n\n\
             or use --server URL, or --to qlik:CONTEXT for a qlik-cli context"
        )));
    };
    let Some(table) = config.file.targets.get(name) else {
        let known: Vec<&str> = config.file.targets.keys().map(String::as_str).collect();
        let hint = if known.is_empty() {
            format!(
                "{} defines no targets; add a [targets.{name}] table",
                config.path.display()
            )
        } else {
            format!(
                "known targets: {}; for a qlik-cli context use --to qlik:{name}",
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

fn credentials_from_table(
    name: &str,
    t: &TargetConfig,
    path: &Path,
) -> Result<Option<CredentialSource>, SettingsError> {
    let mut named = Vec::new();
    if t.api_key_env.is_some() {
        named.push("api_key_env");
    }
    if t.api_key_file.is_some() {
        named.push("api_key_file");
    }
    if t.api_key.is_some() {
        named.push("api_key");
    }
    if t.client_id.is_some() {
        named.push("client_id");
    }
    if named.len() > 1 {
        return Err(SettingsError::new(format!(
            "target \"{name}\" in {} sets {}: keep one credential",
            path.display(),
            named.join(" and ")
        )));
    }
    let secret_sources = [
        t.client_secret_env.is_some(),
        t.client_secret_file.is_some(),
        t.client_secret.is_some(),
    ]
    .into_iter()
    .filter(|s| *s)
    .count();
    if let Some(client_id) = &t.client_id {
        let secret = if let Some(var) = &t.client_secret_env {
            SecretSource::Env(var.clone())
        } else if let Some(file) = &t.client_secret_file {
            SecretSource::File(file.clone())
        } else if let Some(secret) = &t.client_secret {
            SecretSource::Inline(secret.clone())
        } else {
            return Err(SettingsError::new(format!(
                "target \"{name}\" in {} has client_id but no client secret",
                path.display()
            ))
            .hint("add client_secret_env = \"VAR\" or client_secret_file = \"PATH\""));
        };
        if secret_sources > 1 {
            return Err(SettingsError::new(format!(
                "target \"{name}\" in {} sets more than one of client_secret_env, client_secret_file, client_secret",
                path.display()
            )));
        }
        return Ok(Some(CredentialSource::OAuth {
            client_id: client_id.clone(),
            secret,
            scope: t.scope.clone(),
        }));
    }
    if secret_sources > 0 {
        return Err(SettingsError::new(format!(
            "target \"{name}\" in {} has a client secret but no client_id",
            path.display()
        )));
    }
    Ok(if let Some(var) = &t.api_key_env {
        Some(CredentialSource::ApiKey(SecretSource::Env(var.clone())))
    } else if let Some(file) = &t.api_key_file {
        Some(CredentialSource::ApiKey(SecretSource::File(file.clone())))
    } else {
        t.api_key
            .clone()
            .map(|k| CredentialSource::ApiKey(SecretSource::Inline(k)))
    })
}

fn credentials_from_flags(args: &TargetArgs) -> Result<Option<CredentialSource>, SettingsError> {
    if let Some(client_id) = &args.client_id {
        let secret = if let Some(var) = &args.client_secret_env {
            SecretSource::Env(var.clone())
        } else if let Some(file) = &args.client_secret_file {
            SecretSource::File(file.clone())
        } else {
            return Err(SettingsError::new(
                "--client-id needs --client-secret-env VAR or --client-secret-file PATH",
            ));
        };
        return Ok(Some(CredentialSource::OAuth {
            client_id: client_id.clone(),
            secret,
            scope: None,
        }));
    }
    Ok(if args.api_key_stdin {
        Some(CredentialSource::ApiKey(SecretSource::Stdin))
    } else if let Some(file) = &args.api_key_file {
        Some(CredentialSource::ApiKey(SecretSource::File(file.clone())))
    } else {
        args.api_key_env
            .as_ref()
            .map(|var| CredentialSource::ApiKey(SecretSource::Env(var.clone())))
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

fn read_credentials(
    source: CredentialSource,
    target: &str,
    base_dir: Option<&Path>,
    env: &dyn Environment,
    warnings: &mut Vec<Warning>,
) -> Result<Credentials, SettingsError> {
    Ok(match source {
        CredentialSource::ApiKey(secret) => {
            Credentials::ApiKey(read_secret(secret, "API key", target, base_dir, env, warnings)?)
        }
        CredentialSource::OAuth {
            client_id,
            secret,
            scope,
        } => {
            let client_secret = read_secret(secret, "OAuth client secret", target, base_dir, env, warnings)?;
            Credentials::OAuth {
                client_id,
                client_secret,
                scope,
            }
        }
    })
}

fn read_secret(
    source: SecretSource,
    what: &str,
    target: &str,
    base_dir: Option<&Path>,
    env: &dyn Environment,
    warnings: &mut Vec<Warning>,
) -> Result<Secret, SettingsError> {
    let value = match source {
        SecretSource::Inline(secret) => {
            if secret.is_empty() {
                return Err(SettingsError::new(format!(
                    "the {what} of target \"{target}\" is empty"
                )));
            }
            return Ok(secret);
        }
        SecretSource::Env(var) => match env.var(&var) {
            Some(value) if !value.trim().is_empty() => value,
            Some(_) => {
                return Err(SettingsError::new(format!(
                    "environment variable {var} is empty (it should hold the {what} for target \"{target}\")"
                )));
            }
            None => {
                return Err(SettingsError::new(format!(
                    "environment variable {var} is not set (it should hold the {what} for target \"{target}\")"
                ))
                .hint(format!(
                    "export {var}=..., or name another variable with --api-key-env, or use --api-key-file / --api-key-stdin"
                )));
            }
        },
        SecretSource::File(path) => {
            let path = expand_path(&path, base_dir, env);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                SettingsError::new(format!("cannot read the {what} file {}: {e}", path.display()))
            })?;
            if let Some(warning) = permission_warning(&path, &format!("the {what} of target \"{target}\"")) {
                warnings.push(warning);
            }
            text
        }
        SecretSource::Stdin => env
            .read_stdin()
            .map_err(|e| SettingsError::new(format!("cannot read the {what} from standard input: {e}")))?,
    };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(SettingsError::new(format!(
            "the {what} for target \"{target}\" is empty"
        )));
    }
    Ok(Secret::new(trimmed))
}

/// `~/x` from the home directory; relative paths from the config file's directory.
fn expand_path(path: &Path, base_dir: Option<&Path>, env: &dyn Environment) -> PathBuf {
    if let Ok(rest) = path.strip_prefix("~")
        && let Some(home) = env.home_dir()
    {
        return home.join(rest);
    }
    match base_dir {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests;
