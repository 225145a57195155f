//! Every environment variable roster reads, in one place.

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
