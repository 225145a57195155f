//! Settings resolution: precedence, targets from the config file and from qlik-cli, errors with
//! hints, permission warnings, and secrets kept out of every printed form.

use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};
use core_api::Credentials;

use super::*;
use crate::cli::{Cli, Command};

const SECRET: &str = "sk-test-4f1e9b2c7d";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn plan_args(argv: &[&str]) -> PlanArgs {
    let mut full = vec!["roster", "plan", "data/roster.csv"];
    full.extend_from_slice(argv);
    match Cli::try_parse_from(full)
        .unwrap_or_else(|e| panic!("{e}"))
        .command
    {
        Command::Plan(args) => args,
        other => panic!("{other:?}"),
    }
}

fn apply_args(argv: &[&str]) -> ApplyArgs {
    let mut full = vec!["roster", "apply"];
    full.extend_from_slice(argv);
    match Cli::try_parse_from(full)
        .unwrap_or_else(|e| panic!("{e}"))
        .command
    {
        Command::Apply(args) => args,
        other => panic!("{other:?}"),
    }
}

fn config(text: &str) -> LoadedConfig {
    LoadedConfig::parse(Path::new("/etc/roster/roster.toml"), text).unwrap()
}

fn env_with_key() -> FixedEnvironment {
    FixedEnvironment::default()
        .with_var("PROD_KEY", SECRET)
        .with_var(env::QLIK_API_KEY, SECRET)
}

const PROD: &str = r#"
default_target = "prod"
[targets.prod]
server = "https://acme.eu.qlikcloud.com"
api_key_env = "PROD_KEY"
tier1_per_min = 500
tier2_per_min = 50
concurrency = 4
timeout_secs = 20

[targets.alumio]
kind = "alumio"
server = "https://acme.alumio.com/api/v1"
api_key_env = "PROD_KEY"
batch_size = 25
"#;

fn resolve(
    argv: &[&str],
    config_text: Option<&str>,
    env: &FixedEnvironment,
) -> Result<PlanSettings, SettingsError> {
    let loaded = config_text.map(config);
    PlanSettings::resolve(&plan_args(argv), loaded.as_ref(), env)
}

fn api_key(credentials: &Credentials) -> &str {
    match credentials {
        Credentials::ApiKey(key) => key.expose(),
        other => panic!("expected an api key, got {other:?}"),
    }
}

#[test]
fn config_over_defaults() {
    let settings = resolve(&["--to", "prod"], Some(PROD), &env_with_key()).unwrap();
    let target = &settings.target;
    assert_eq!(target.name, "prod");
    assert_eq!(target.kind, TargetKind::Qlik);
    assert_eq!(target.server.as_str(), "https://acme.eu.qlikcloud.com/");
    assert_eq!(api_key(&target.credentials), SECRET);
    assert_eq!(
        (target.limits.tier1_per_min, target.limits.tier2_per_min),
        (500, 50)
    );
    assert_eq!(target.concurrency, 4);
    assert_eq!(target.batch_size, DEFAULT_BATCH_SIZE);
    assert_eq!(target.timeout, Duration::from_secs(20));
    assert_eq!(
        target.source,
        TargetSource::ConfigFile(PathBuf::from("/etc/roster/roster.toml"))
    );
    assert_eq!(settings.mode, Mode::Merge);
    assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
}

#[test]
fn flags_over_config() {
    let settings = resolve(
        &[
            "--to",
            "prod",
            "--tier2-per-min",
            "30",
            "--concurrency",
            "2",
            "--batch-size",
            "10",
            "--timeout-secs",
            "5",
            "--server",
            "https://other.eu.qlikcloud.com",
            "--mode",
            "exact",
            "--api-key-env",
            "OTHER_KEY",
            "--json",
            "-vv",
        ],
        Some(PROD),
        &env_with_key().with_var("OTHER_KEY", "other-key"),
    )
    .unwrap();
    let target = &settings.target;
    assert_eq!(
        (target.limits.tier1_per_min, target.limits.tier2_per_min),
        (500, 30)
    );
    assert_eq!(target.concurrency, 2);
    assert_eq!(target.batch_size, 10);
    assert_eq!(target.timeout, Duration::from_secs(5));
    assert_eq!(target.server.host_str(), Some("other.eu.qlikcloud.com"));
    assert_eq!(api_key(&target.credentials), "other-key");
    assert_eq!(settings.mode, Mode::Exact);
    assert_eq!(
        settings.output,
        OutputSettings {
            json: true,
            quiet: false,
            verbose: 2
        }
    );
}

#[test]
fn defaults_without_config() {
    let settings = resolve(&["--server", "http://127.0.0.1:8080"], None, &env_with_key()).unwrap();
    let target = &settings.target;
    assert_eq!(target.name, "127.0.0.1:8080");
    assert_eq!(target.source, TargetSource::CommandLine);
    assert_eq!(api_key(&target.credentials), SECRET);
    assert_eq!(
        (target.limits.tier1_per_min, target.limits.tier2_per_min),
        (1000, 100)
    );
    assert_eq!(target.concurrency, DEFAULT_CONCURRENCY);
    assert_eq!(target.batch_size, DEFAULT_BATCH_SIZE);
    assert_eq!(target.timeout, DEFAULT_TIMEOUT);
    assert!(!target.insecure && !target.allow_http);
}

#[test]
fn default_target_and_kind() {
    let settings = resolve(&[], Some(PROD), &env_with_key()).unwrap();
    assert_eq!(settings.target.name, "prod");
    let settings = resolve(&["--to", "alumio"], Some(PROD), &env_with_key()).unwrap();
    assert_eq!(settings.target.kind, TargetKind::Alumio);
    assert_eq!(settings.target.batch_size, 25);
    // Alumio's own cautious limits, not Qlik's.
    assert_eq!(settings.target.limits, alumio::default_rate_limits());
    // --server alone does not fall back to the default target.
    let settings = resolve(
        &["--server", "acme.alumio.com", "--kind", "alumio"],
        Some(PROD),
        &env_with_key().with_var(env::ALUMIO_API_KEY, "alumio-key"),
    )
    .unwrap();
    assert_eq!(settings.target.source, TargetSource::CommandLine);
    assert_eq!(settings.target.server.as_str(), "https://acme.alumio.com/");
    assert_eq!(api_key(&settings.target.credentials), "alumio-key");
}

#[test]
fn missing_targets_say_what_to_do() {
    let error = resolve(&[], None, &env_with_key()).unwrap_err();
    assert_eq!(error.message(), "no target given");
    assert!(
        error.hint_text().unwrap().contains("--to qlik:CONTEXT"),
        "{error}"
    );

    let error = resolve(&["--to", "prod"], None, &env_with_key()).unwrap_err();
    assert_eq!(error.message(), "no target \"prod\": no config file found");
    assert!(error.hint_text().unwrap().contains("[targets.prod]"), "{error}");

    let error = resolve(&["--to", "staging"], Some(PROD), &env_with_key()).unwrap_err();
    assert_eq!(
        error.message(),
        "no target \"staging\" in /etc/roster/roster.toml"
    );
    assert!(
        error.hint_text().unwrap().contains("known targets: alumio, prod"),
        "{error}"
    );
    assert!(error.to_string().contains("\nhint: known targets"), "{error}");

    let error = resolve(
        &["--to", "x"],
        Some("[targets.x]\napi_key_env = \"K\"\n"),
        &env_with_key(),
    )
    .unwrap_err();
    assert!(error.message().contains("has no server URL"), "{error}");
}

#[test]
fn missing_key_names_the_variable_never_a_value() {
    let error = resolve(&["--to", "prod"], Some(PROD), &FixedEnvironment::default()).unwrap_err();
    assert_eq!(
        error.message(),
        "environment variable PROD_KEY is not set (it should hold the API key for target \"prod\")"
    );
    let error = resolve(
        &["--to", "prod"],
        Some(PROD),
        &FixedEnvironment::default().with_var("PROD_KEY", " "),
    )
    .unwrap_err();
    assert!(error.message().contains("PROD_KEY is empty"), "{error}");
    let error = resolve(
        &["--server", "https://x.example"],
        None,
        &FixedEnvironment::default(),
    )
    .unwrap_err();
    assert!(error.message().contains("QLIK_API_KEY is not set"), "{error}");
}

#[test]
fn credentials_from_file_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("prod.key");
    std::fs::write(&key, format!("{SECRET}\n")).unwrap();
    restrict(&key);
    let text = "[targets.p]\nserver = \"https://x.example\"\napi_key_file = \"prod.key\"\n";
    let loaded = LoadedConfig::parse(&dir.path().join("roster.toml"), text).unwrap();
    let settings = PlanSettings::resolve(
        &plan_args(&["--to", "p"]),
        Some(&loaded),
        &FixedEnvironment::default(),
    )
    .unwrap();
    assert_eq!(api_key(&settings.target.credentials), SECRET);
    assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);

    let home = FixedEnvironment {
        home_dir: Some(dir.path().to_path_buf()),
        ..FixedEnvironment::default()
    };
    let settings = resolve(
        &["--server", "https://x.example", "--api-key-file", "~/prod.key"],
        None,
        &home,
    )
    .unwrap();
    assert_eq!(api_key(&settings.target.credentials), SECRET);

    let stdin = FixedEnvironment {
        stdin: Some(format!("  {SECRET}\r\n")),
        ..FixedEnvironment::default()
    };
    let settings = resolve(
        &["--server", "https://x.example", "--api-key-stdin"],
        None,
        &stdin,
    )
    .unwrap();
    assert_eq!(api_key(&settings.target.credentials), SECRET);

    let empty = FixedEnvironment {
        stdin: Some("\n".into()),
        ..FixedEnvironment::default()
    };
    let error = resolve(
        &["--server", "https://x.example", "--api-key-stdin"],
        None,
        &empty,
    )
    .unwrap_err();
    assert!(error.message().contains("is empty"), "{error}");

    let error = resolve(
        &[
            "--server",
            "https://x.example",
            "--api-key-file",
            "/nonexistent/key",
        ],
        None,
        &stdin,
    )
    .unwrap_err();
    assert!(
        error
            .message()
            .starts_with("cannot read the API key file /nonexistent/key"),
        "{error}"
    );
}

#[test]
fn oauth_from_config_and_flags() {
    let text = "[targets.o]\nserver = \"https://x.example\"\nclient_id = \"cid\"\nclient_secret_env = \"CS\"\nscope = \"user_default\"\n";
    let env = FixedEnvironment::default().with_var("CS", SECRET);
    let settings = resolve(&["--to", "o"], Some(text), &env).unwrap();
    match &settings.target.credentials {
        Credentials::OAuth {
            client_id,
            client_secret,
            scope,
        } => {
            assert_eq!(client_id, "cid");
            assert_eq!(client_secret.expose(), SECRET);
            assert_eq!(scope.as_deref(), Some("user_default"));
        }
        other => panic!("{other:?}"),
    }
    let settings = resolve(
        &[
            "--server",
            "https://x.example",
            "--client-id",
            "c2",
            "--client-secret-env",
            "CS",
        ],
        None,
        &env,
    )
    .unwrap();
    assert!(
        matches!(&settings.target.credentials, Credentials::OAuth { client_id, .. } if client_id == "c2")
    );
    let error = resolve(
        &["--server", "https://x.example", "--client-id", "c2"],
        None,
        &env,
    )
    .unwrap_err();
    assert!(error.message().contains("--client-secret-env"), "{error}");
}

#[test]
fn conflicting_credentials_in_a_target() {
    let text = "[targets.x]\nserver = \"https://x.example\"\napi_key_env = \"A\"\napi_key_file = \"k\"\n";
    let error = resolve(&["--to", "x"], Some(text), &env_with_key()).unwrap_err();
    assert!(
        error
            .message()
            .contains("sets api_key_env and api_key_file: keep one credential"),
        "{error}"
    );
    let text = "[targets.x]\nserver = \"https://x.example\"\nclient_id = \"c\"\n";
    let error = resolve(&["--to", "x"], Some(text), &env_with_key()).unwrap_err();
    assert!(
        error.message().contains("has client_id but no client secret"),
        "{error}"
    );
}

#[test]
fn bad_values_are_refused() {
    let error = resolve(
        &["--to", "prod", "--concurrency", "0"],
        Some(PROD),
        &env_with_key(),
    )
    .unwrap_err();
    assert!(
        error.message().contains("concurrency must be between 1 and 256"),
        "{error}"
    );
    let error = resolve(&["--server", "https://user:pw@x.example"], None, &env_with_key()).unwrap_err();
    assert!(!error.to_string().contains("pw"), "{error}");
    let error = resolve(&["--server", "ftp://x.example"], None, &env_with_key()).unwrap_err();
    assert!(error.message().contains("invalid server URL"), "{error}");
}

#[test]
fn insecure_warns() {
    let settings = resolve(&["--to", "prod", "--insecure"], Some(PROD), &env_with_key()).unwrap();
    assert!(settings.target.insecure);
    assert_eq!(settings.warnings.len(), 1);
    assert!(
        settings.warnings[0].contains("acme.eu.qlikcloud.com are not verified"),
        "{:?}",
        settings.warnings
    );
}

#[cfg(unix)]
fn restrict(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[cfg(not(unix))]
fn restrict(_path: &Path) {}

#[cfg(unix)]
#[test]
fn secret_files_others_can_read_warn() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("roster.toml");
    std::fs::write(
        &config_path,
        format!("[targets.p]\nserver = \"https://x.example\"\napi_key = \"{SECRET}\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&config_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let env = FixedEnvironment {
        current_dir: Some(dir.path().to_path_buf()),
        ..FixedEnvironment::default()
    };
    let settings = PlanSettings::from_args(&plan_args(&["--to", "p"]), &env).unwrap();
    assert_eq!(api_key(&settings.target.credentials), SECRET);
    assert_eq!(settings.warnings.len(), 1, "{:?}", settings.warnings);
    assert!(settings.warnings[0].contains("roster.toml holds secrets and can be read by other users"));
    assert!(!settings.warnings[0].contains(SECRET));

    let key = dir.path().join("key");
    std::fs::write(&key, SECRET).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let settings = resolve(
        &[
            "--server",
            "https://x.example",
            "--api-key-file",
            key.to_str().unwrap(),
        ],
        None,
        &env,
    )
    .unwrap();
    assert_eq!(settings.warnings.len(), 1, "{:?}", settings.warnings);
    assert!(
        settings.warnings[0].contains("mode 640"),
        "{:?}",
        settings.warnings
    );
}

#[test]
fn config_file_discovery() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().join("work");
    let config_dir = dir.path().join("config");
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::create_dir_all(config_dir.join("roster")).unwrap();
    let write = |path: &Path, name: &str| {
        std::fs::write(
            path,
            format!("[targets.{name}]\nserver = \"https://{name}.example\"\n"),
        )
        .unwrap();
    };
    let env = FixedEnvironment {
        current_dir: Some(cwd.clone()),
        config_dir: Some(config_dir.clone()),
        ..FixedEnvironment::default()
    };
    assert!(find_config(None, &env).unwrap().is_none());
    write(&config_dir.join("roster/roster.toml"), "user");
    assert!(
        find_config(None, &env)
            .unwrap()
            .unwrap()
            .file
            .targets
            .contains_key("user")
    );
    write(&cwd.join("roster.toml"), "here");
    assert!(
        find_config(None, &env)
            .unwrap()
            .unwrap()
            .file
            .targets
            .contains_key("here")
    );
    let named = dir.path().join("named.toml");
    write(&named, "named");
    let by_env = env.clone().with_var(env::ROSTER_CONFIG, named.to_str().unwrap());
    assert!(
        find_config(None, &by_env)
            .unwrap()
            .unwrap()
            .file
            .targets
            .contains_key("named")
    );
    let explicit = dir.path().join("explicit.toml");
    write(&explicit, "explicit");
    assert!(
        find_config(Some(&explicit), &by_env)
            .unwrap()
            .unwrap()
            .file
            .targets
            .contains_key("explicit")
    );
    let error = find_config(Some(Path::new("/nonexistent.toml")), &env).unwrap_err();
    assert_eq!(
        error.message(),
        "config file /nonexistent.toml (from --config) does not exist"
    );
}

fn qlik_cli_env() -> FixedEnvironment {
    FixedEnvironment::default().with_var(
        env::QLIK_CLI_USER_HOME_DIR,
        fixtures().join("qlik-cli").to_str().unwrap(),
    )
}

#[test]
fn qlik_cli_contexts() {
    let settings = resolve(&["--to", "qlik:acme-prod"], None, &qlik_cli_env()).unwrap();
    assert_eq!(settings.target.name, "qlik:acme-prod");
    assert_eq!(settings.target.kind, TargetKind::Qlik);
    assert_eq!(settings.target.server.as_str(), "https://acme.eu.qlikcloud.com/");
    assert_eq!(api_key(&settings.target.credentials), "fixture-api-key-prod");
    assert!(matches!(settings.target.source, TargetSource::QlikCli(_)));

    // `qlik:` alone is qlik-cli's current context.
    let settings = resolve(&["--to", "qlik:"], None, &qlik_cli_env()).unwrap();
    assert_eq!(settings.target.name, "qlik:acme-prod");

    let settings = resolve(
        &["--to", "qlik:acme-oauth", "--tier2-per-min", "60"],
        None,
        &qlik_cli_env(),
    )
    .unwrap();
    assert!(
        matches!(&settings.target.credentials, Credentials::OAuth { client_id, .. } if client_id == "fixture-client-id")
    );
    assert_eq!(settings.target.limits.tier2_per_min, 60);

    // Flags still override the context's credentials.
    let env = qlik_cli_env().with_var("MINE", "my-key");
    let settings = resolve(&["--to", "qlik:acme-prod", "--api-key-env", "MINE"], None, &env).unwrap();
    assert_eq!(api_key(&settings.target.credentials), "my-key");
}

#[test]
fn qlik_cli_errors() {
    let error = resolve(&["--to", "qlik:nope"], None, &qlik_cli_env()).unwrap_err();
    assert!(
        error.message().starts_with("no qlik-cli context \"nope\" in "),
        "{error}"
    );
    assert!(
        error.message().contains("(it has: acme-prod, acme-oauth, qseow)"),
        "{error}"
    );
    assert_eq!(error.hint_text(), Some("list them with `qlik context ls`"));

    let error = resolve(&["--to", "qlik:qseow"], None, &qlik_cli_env()).unwrap_err();
    assert!(error.message().contains("is for a windows server"), "{error}");

    let empty = tempfile::tempdir().unwrap();
    let env = FixedEnvironment {
        home_dir: Some(empty.path().to_path_buf()),
        ..FixedEnvironment::default()
    };
    let error = resolve(&["--to", "qlik:acme"], None, &env).unwrap_err();
    assert!(
        error
            .message()
            .starts_with("no qlik-cli contexts file found (looked for "),
        "{error}"
    );
    assert!(
        error.hint_text().unwrap().contains("qlik context create"),
        "{error}"
    );
}

#[test]
fn secrets_never_in_debug_or_errors() {
    let env = env_with_key();
    let settings = resolve(&["--to", "prod"], Some(PROD), &env).unwrap();
    let shown = format!("{settings:?} {env:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    let inline = format!("[targets.i]\nserver = \"https://x.example\"\napi_key = \"{SECRET}\"\n");
    let loaded = config(&inline);
    let shown = format!("{loaded:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    let settings = PlanSettings::resolve(&plan_args(&["--to", "i"]), Some(&loaded), &env).unwrap();
    assert!(!format!("{settings:?}").contains(SECRET));
    let settings = resolve(&["--to", "qlik:acme-prod"], None, &qlik_cli_env()).unwrap();
    assert!(!format!("{settings:?}").contains("fixture-api-key-prod"));
    // Errors that concern a secret's source name the source only.
    for argv in [
        &["--to", "nope"][..],
        &["--to", "prod", "--concurrency", "0"],
        &["--to", "prod", "--api-key-env", "UNSET"],
    ] {
        let error = resolve(argv, Some(PROD), &env).unwrap_err();
        assert!(!error.to_string().contains(SECRET), "{error}");
    }
}

#[test]
fn apply_settings() {
    let settings = ApplySettings::resolve(
        &apply_args(&["data/in/roster.csv", "--to", "prod", "--fresh", "--yes"]),
        Some(&config(PROD)),
        &env_with_key(),
    )
    .unwrap();
    assert_eq!(settings.state_dir, PathBuf::from("data/in/.roster"));
    assert!(settings.fresh && settings.yes && !settings.only_failed);
    assert_eq!(settings.plan.roster, PathBuf::from("data/in/roster.csv"));
    let settings = ApplySettings::resolve(
        &apply_args(&[
            "roster.csv",
            "--to",
            "prod",
            "--state-dir",
            "/tmp/state",
            "--only-failed",
        ]),
        Some(&config(PROD)),
        &env_with_key(),
    )
    .unwrap();
    assert_eq!(settings.state_dir, PathBuf::from("/tmp/state"));
    assert!(settings.only_failed);
    assert_eq!(
        default_state_dir(Path::new("roster.csv")),
        PathBuf::from(".roster")
    );
}

#[test]
fn command_line_conflicts() {
    Cli::command().debug_assert();
    let parse = |argv: &[&str]| Cli::try_parse_from(argv).map(|_| ()).map_err(|e| e.kind());
    assert!(
        parse(&[
            "roster",
            "plan",
            "r.csv",
            "--api-key-env",
            "A",
            "--api-key-file",
            "f"
        ])
        .is_err()
    );
    assert!(parse(&["roster", "plan", "r.csv", "--api-key-stdin", "--client-id", "c"]).is_err());
    assert!(parse(&["roster", "plan", "r.csv", "--client-secret-env", "S"]).is_err());
    assert!(parse(&["roster", "apply", "r.csv", "--fresh", "--only-failed"]).is_err());
    assert!(parse(&["roster", "apply", "r.csv", "-q", "-v"]).is_err());
    assert!(parse(&["roster", "plan", "r.csv", "--mode", "sync"]).is_err());
    assert!(parse(&["roster", "completions", "fish"]).is_ok());
    assert!(parse(&["roster", "completions", "tcsh"]).is_err());
}

#[test]
fn every_flag_is_documented() {
    for name in [
        "plan",
        "apply",
        "completions",
        "export",
        "migrate",
        "sim",
        "runs",
        "undo",
    ] {
        let mut command = Cli::command();
        let sub = command.find_subcommand_mut(name).unwrap();
        for arg in sub.get_arguments() {
            if ["help", "version"].contains(&arg.get_id().as_str()) {
                continue;
            }
            assert!(arg.get_help().is_some(), "{name} --{} has no help", arg.get_id());
        }
    }
}

#[test]
fn every_variable_is_listed_once() {
    let mut names: Vec<&str> = env::ALL.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), env::ALL.len());
    let help = Cli::command()
        .find_subcommand_mut("plan")
        .unwrap()
        .render_long_help()
        .to_string();
    for name in [env::ROSTER_CONFIG, env::QLIK_API_KEY, env::QLIK_CLI_USER_HOME_DIR] {
        assert!(help.contains(name), "plan --help does not mention {name}");
    }
}

#[test]
fn help_texts() {
    let mut command = Cli::command().term_width(100);
    command.build();
    for name in [
        "plan",
        "apply",
        "completions",
        "export",
        "migrate",
        "sim",
        "runs",
        "undo",
    ] {
        let help = command
            .find_subcommand_mut(name)
            .unwrap()
            .render_long_help()
            .to_string();
        insta::assert_snapshot!(format!("{name}_help"), help);
    }
    // The overview, with the exit-code table every command's own table is a part of.
    let help = command.render_long_help().to_string();
    insta::assert_snapshot!("roster_help", help);
}

#[test]
fn pace_bursts_for_qlik_and_paces_steadily_for_alumio_unless_told() {
    use core_api::{Pace, QLIK_WINDOW, Tier};

    let qlik = resolve(&[], Some(PROD), &env_with_key()).unwrap().target.limits;
    assert_eq!(qlik.pace, Pace::Burst);
    assert_eq!(qlik.tier2_window, QLIK_WINDOW);
    // 50/min over 5 minutes.
    assert_eq!(qlik.budget(Tier::Tier2), Some(250));
    let alumio = resolve(&["--to", "alumio"], Some(PROD), &env_with_key()).unwrap();
    assert_eq!(alumio.target.limits.pace, Pace::Steady);

    let text = format!(
        "{PROD}\n[targets.steady]\nserver = \"https://b.eu.qlikcloud.com\"\napi_key_env = \"PROD_KEY\"\npace = \"steady\"\ntier2_window_secs = 60\n"
    );
    let steady = resolve(&["--to", "steady"], Some(&text), &env_with_key()).unwrap();
    assert_eq!(steady.target.limits.pace, Pace::Steady);
    assert_eq!(steady.target.limits.tier2_window, Duration::from_secs(60));
    // Flags over the config file.
    let flagged = resolve(
        &["--to", "steady", "--pace", "burst", "--tier2-window-secs", "30"],
        Some(&text),
        &env_with_key(),
    )
    .unwrap();
    assert_eq!(flagged.target.limits.pace, Pace::Burst);
    assert_eq!(flagged.target.limits.budget(Tier::Tier2), Some(50));

    let error = resolve(&["--tier2-window-secs", "0"], Some(PROD), &env_with_key()).unwrap_err();
    assert_eq!(error.message(), "tier2_window_secs must be at least 1 second");
    assert!(error.hint_text().is_some_and(|h| h.contains("--pace steady")));
    let bad = config_error(&format!("{PROD}\n[targets.x]\npace = \"fast\"\n"));
    assert!(bad.contains("fast"), "{bad}");
}

fn config_error(text: &str) -> String {
    match LoadedConfig::parse(Path::new("/etc/roster/roster.toml"), text) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e,
    }
}

fn parsed(argv: &[&str]) -> Command {
    let mut full = vec!["roster"];
    full.extend_from_slice(argv);
    Cli::try_parse_from(full)
        .unwrap_or_else(|e| panic!("{e}"))
        .command
}

#[test]
fn export_and_migrate_resolve_through_the_one_entry_and_name_their_own_flags() {
    let loaded = config(PROD);
    let Command::Export(export) = parsed(&["export", "-o", "x.csv", "--concurrency", "3"]) else {
        panic!("not export")
    };
    let settings = super::resolve(&export, Some(&loaded), &env_with_key()).unwrap();
    assert_eq!(settings.source.name, "prod", "the config's default target");
    assert_eq!(settings.source.concurrency, 3);

    // The source's hints name --from, the flag export has; never --to.
    let Command::Export(unnamed) = parsed(&["export", "-o", "x.csv"]) else {
        panic!("not export")
    };
    let error = super::resolve(&unnamed, None, &env_with_key()).unwrap_err();
    let hint = error.hint_text().unwrap();
    assert!(hint.starts_with("name the source with --from NAME"), "{hint}");
    assert!(!hint.contains("--to"), "{hint}");

    let Command::Migrate(migrate) = parsed(&["migrate", "--from", "staging", "--to", "prod", "--plan"])
    else {
        panic!("not migrate")
    };
    let error = super::resolve(&migrate, Some(&loaded), &env_with_key()).unwrap_err();
    let hint = error.hint_text().unwrap();
    assert!(hint.contains("use --from qlik:staging"), "{hint}");

    // --concurrency: out of range is refused in every command, never clamped.
    for argv in [
        &["export", "-o", "x.csv", "--concurrency", "0"][..],
        &[
            "migrate",
            "--from",
            "alumio",
            "--to",
            "prod",
            "--concurrency",
            "257",
        ][..],
        &["plan", "r.csv", "--to", "prod", "--concurrency", "0"][..],
    ] {
        let error = match parsed(argv) {
            Command::Export(args) => super::resolve(&args, Some(&loaded), &env_with_key()).map(|_| ()),
            Command::Migrate(args) => super::resolve(&args, Some(&loaded), &env_with_key()).map(|_| ()),
            Command::Plan(args) => super::resolve(&args, Some(&loaded), &env_with_key()).map(|_| ()),
            other => panic!("{other:?}"),
        }
        .unwrap_err();
        assert!(
            error
                .message()
                .starts_with("concurrency must be between 1 and 256"),
            "{argv:?}: {error}"
        );
    }
}

#[test]
fn rerun_words_name_the_target_then_the_run_then_the_switches() {
    let args = plan_args(&[
        "--to",
        "prod",
        "--api-key-stdin",
        "--insecure",
        "--tier2-per-min",
        "50",
    ]);
    let source = TargetSource::ConfigFile(PathBuf::from("/etc/roster/roster.toml"));
    let words = rerun_words(
        &args.target,
        &source,
        vec!["--mode".to_owned(), "exact".to_owned()],
    );
    assert_eq!(
        words,
        [
            "--to",
            "prod",
            "--tier2-per-min",
            "50",
            "--mode",
            "exact",
            "--api-key-stdin",
            "--insecure"
        ]
    );
    let server = plan_args(&["--server", "https://acme.eu.qlikcloud.com"]);
    let words = rerun_words(&server.target, &TargetSource::CommandLine, Vec::new());
    assert_eq!(words, ["--server", "https://acme.eu.qlikcloud.com"]);
}
