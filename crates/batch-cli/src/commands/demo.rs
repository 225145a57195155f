//! `roster demo`: a whole run against a simulated tenant on loopback; nothing leaves the machine.
//!
//! The demo is `roster tenant apply` of `data/demo-tenant.toml` (settings, groups and their
//! roles, a shared and a managed space, their assignments), then `roster apply` twice, through the
//! same functions the commands run:
//!
//! 1. start the simulator in-process with the large tenant (5,000 users, 500 groups, 200
//!    spaces), rate limits scaled so the run takes about 45 seconds, and transient faults;
//! 2. apply `data/demo-roster.csv` (2,247 rows over 80 spaces, 7 of them wrong on purpose):
//!    bars, throttling and retries, then the summary and the failed-rows CSV;
//! 3. apply the failed-rows CSV: the transient failures were already retried in step 2, so only
//!    the 7 bad rows are in it, and they fail again with the same reasons.
//!
//! Everything is written to a fresh working directory (the roster copy, the journal in
//! `.roster/`, the failed-rows CSV), which the demo names and leaves for the user to look at.

pub mod fleet;
pub mod roster;

use roster::BAD_ROWS;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser as _;

use sim::{Faults, Sim, SimConfig, Tenant};

use crate::cli::{Cli, Command};

use crate::cli::DemoArgs;
use crate::error::{CommandError, Outcome};
use crate::exit;
use crate::report::format;

/// The tenant and roster built into the binary, for a demo run outside the repository.
const BUILTIN_TENANT: &str = include_str!("../../../../data/tenant-large.json");
const BUILTIN_ROSTER: &str = include_str!("../../../../data/demo-roster.csv");
const BUILTIN_TENANT_FILE: &str = include_str!("../../../../data/demo-tenant.toml");

/// The target name the demo's commands use.
pub const TARGET: &str = "demo";

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct DemoError(String);

fn say(line: &str) {
    // Narration is best effort: a closed stderr must not stop the demo.
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Run the demo and return the exit code: 0 when both runs went as the demo expects (the bad
/// rows fail, nothing else), otherwise the first unexpected run's code.
pub fn run(args: DemoArgs) -> Outcome {
    demo(&args).map_err(|error| CommandError::new(error.to_string()))
}

/// Where the demo works: `--dir`, or a new directory under the system's temp dir.
fn working_dir(args: &DemoArgs) -> Result<PathBuf, DemoError> {
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => {
            let stamp = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or_default();
            std::env::temp_dir().join(format!("roster-demo-{}-{stamp}", std::process::id()))
        }
    };
    std::fs::create_dir_all(&dir).map_err(|e| {
        DemoError(format!(
            "failed to create the working directory {}: {e}",
            dir.display()
        ))
    })?;
    Ok(dir)
}

/// A file from `data/` when it is there (running in the repository), else the built-in copy.
fn data_file(path: &Option<PathBuf>, default: &str, builtin: &'static str) -> Result<String, DemoError> {
    match path {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| DemoError(format!("failed to read {}: {e}", path.display()))),
        None => Ok(std::fs::read_to_string(default).unwrap_or_else(|_| builtin.to_owned())),
    }
}

/// The simulator's settings for the demo: the write limit decides the run's length.
pub fn sim_config(args: &DemoArgs, tenant: Tenant) -> SimConfig {
    let mut config = SimConfig::new(tenant);
    config.tier1_per_min = Some(args.read_rate);
    config.tier2_per_min = Some(args.write_rate);
    // Latency so concurrency matters, as it does against a real tenant.
    config.latency = Duration::from_millis(args.latency_ms);
    config.jitter = Duration::from_millis(args.latency_ms.saturating_mul(2));
    // Transient faults: 500s, 503s and dropped connections, all retried by the client. No
    // "too slow" responses: waiting out a client timeout makes a dull demo.
    config.faults = Faults {
        p500: args.fault_rate,
        p503: args.fault_rate,
        reset: args.fault_rate / 2.0,
        ..Faults::none()
    };
    config.seed = args.seed;
    config
}

/// Where the demo's target reads its API key, inside the working directory. The key is the
/// simulator's own made-up credential, derived from the tenant file's seed and valid only on
/// this loopback port while the demo runs; the file is readable by the user only and removed
/// when the demo ends.
const KEY_FILE: &str = "demo-api-key";

/// The client's write limit: a fifth above the simulator's.
fn client_write_rate(args: &DemoArgs) -> u32 {
    args.write_rate.saturating_add(args.write_rate / 5)
}

/// The demo's `roster.toml`: the simulator as target `demo`. The client is allowed a fifth more
/// writes than the simulator accepts, so the simulator answers 429 now and then and the display
/// shows a throttled pause; the client then waits as long as the tenant says. The simulator paces
/// strictly (no window) and so does the client (`pace = "steady"`): the demo shows 429 pauses
/// over a long run, not a burst that the tenant refuses once.
pub fn config_toml(base_url: &str, key_file: &Path, args: &DemoArgs) -> String {
    let client_writes = client_write_rate(args);
    format!(
        "# Written by `roster demo`: the simulated tenant on loopback.\n\
         [targets.{TARGET}]\n\
         kind = \"qlik\"\n\
         server = \"{base_url}\"\n\
         api_key_file = '{}'\n\
         tier1_per_min = {}\n\
         tier2_per_min = {client_writes}\n\
         pace = \"steady\"\n\
         concurrency = 8\n",
        key_file.display(),
        args.read_rate
    )
}

fn demo(args: &DemoArgs) -> Result<u8, DemoError> {
    if !(0.0..=0.2).contains(&args.fault_rate) {
        return Err(DemoError(format!(
            "--fault-rate must be between 0 and 0.2, got {}",
            args.fault_rate
        )));
    }
    if args.write_rate == 0 || args.read_rate == 0 {
        return Err(DemoError(
            "--write-rate and --read-rate must be above 0".to_owned(),
        ));
    }
    let dir = working_dir(args)?;
    if let Some(count) = args.fleet {
        return fleet::run(args, count, &dir);
    }
    let tenant_text = data_file(&args.tenant, "data/tenant-large.json", BUILTIN_TENANT)?;
    let tenant =
        Tenant::from_json(&tenant_text).map_err(|e| DemoError(format!("failed to load the tenant: {e}")))?;
    let roster_text = data_file(&args.roster, "data/demo-roster.csv", BUILTIN_ROSTER)?;
    let roster = dir.join("demo-roster.csv");
    write(&roster, &roster_text)?;
    let rows = roster_text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count() as u64;

    let (users, groups, spaces) = (tenant.users().len(), tenant.groups().len(), tenant.spaces().len());
    let sim = Sim::start_blocking(sim_config(args, tenant))
        .map_err(|e| DemoError(format!("failed to start the simulator: {e}")))?;
    let key = sim
        .api_keys()
        .into_iter()
        .next()
        .ok_or_else(|| DemoError("the tenant has no API key".to_owned()))?;
    let key_file = KeyFile::write(&dir.join(KEY_FILE), &key)?;
    let config = dir.join("roster.toml");
    write(&config, &config_toml(&sim.base_url(), &key_file.0, args))?;

    say("roster demo: a simulated Qlik Cloud tenant on loopback; nothing leaves this machine");
    say(&format!(
        "  tenant:   {} users, {} groups, {} spaces at {}",
        format::count(users as u64),
        format::count(groups as u64),
        format::count(spaces as u64),
        sim.base_url()
    ));
    say(&format!(
        "  limits:   {} writes, {} reads (scaled up from the real 100/min and 1,000/min); the client",
        format::per_min(f64::from(args.write_rate)),
        format::per_min(f64::from(args.read_rate)),
    ));
    say(&format!(
        "            may send {} writes, a fifth more, so the tenant answers 429 now and then",
        format::per_min(f64::from(client_write_rate(args))),
    ));
    say(&format!(
        "  faults:   about {:.1}% of requests fail with a 500, a 503 or a dropped connection, and are retried",
        args.fault_rate * 250.0
    ));
    if args.roster.is_none() {
        say(&format!(
            "  roster:   {} rows over {} spaces, {BAD_ROWS} of them wrong on purpose",
            format::count(rows),
            roster::SPACES
        ));
    } else {
        say(&format!("  roster:   {} rows", format::count(rows)));
    }
    say(&format!(
        "  work dir: {} (roster, roster.toml, journal in .roster/, failed rows)",
        dir.display()
    ));
    say("");

    let tenant_file = dir.join("demo-tenant.toml");
    write(
        &tenant_file,
        &data_file(&None, "data/demo-tenant.toml", BUILTIN_TENANT_FILE)?,
    )?;
    let mut setup_words = apply_words(&tenant_file, &config, TARGET, args.quiet);
    setup_words.insert(1, "tenant".to_owned());
    // Its own state directory: the roster steps' journal starts clean.
    setup_words.push("--state-dir".to_owned());
    setup_words.push(dir.join(".roster").join("tenant").display().to_string());
    say(&format!(
        "first, the tenant's configuration (settings, groups and their roles, spaces): {}",
        format::command_line(&setup_words)
    ));
    let setup = tenant_apply(&setup_words)?;
    if setup != exit::OK {
        stopped(&dir, setup);
        return Ok(setup);
    }
    say("");

    let first_words = apply_words(&roster, &config, TARGET, args.quiet);
    say(&format!("step 1 of 2: {}", format::command_line(&first_words)));
    let first = apply(&first_words)?;
    if first == exit::INTERRUPTED || first == exit::USAGE {
        stopped(&dir, first);
        return Ok(first);
    }
    let stats = sim.stats();
    let faults: u64 = stats.faults.values().sum();
    let failed = engine::failed::path_for(&roster);
    say("");
    let failed_rows = show_failed_csv(&failed);

    say("");
    let second_words = apply_words(&failed, &config, TARGET, args.quiet);
    say(&format!(
        "step 2 of 2: rerun the failed rows: {}",
        format::command_line(&second_words)
    ));
    let second = apply(&second_words)?;
    if second == exit::INTERRUPTED || second == exit::USAGE {
        stopped(&dir, second);
        return Ok(second);
    }

    say("");
    say("what happened:");
    say(&format!(
        "  - in step 1 the simulator failed {} requests on purpose and answered {} with 429; the client",
        format::count(faults),
        format::count(stats.rate_limited)
    ));
    if args.roster.is_some() {
        say(&format!(
            "    retried them; {} rows failed for good and are in the failed-rows CSV;",
            format::count(failed_rows as u64)
        ));
    } else if failed_rows == BAD_ROWS {
        say(&format!(
            "    retried them all, so the failed-rows CSV holds only the {BAD_ROWS} rows that are wrong in the roster;"
        ));
    } else {
        say(&format!(
            "    retried them, but {} rows still failed: more than the {BAD_ROWS} that are wrong in the roster;",
            format::count(failed_rows as u64)
        ));
    }
    say("  - step 2 sent those rows again and they failed again, with the same reasons: fix them in the");
    say("    CSV and rerun it, and only those rows are sent.");
    say(&format!("  files: {}", dir.display()));
    drop(key_file);
    drop(sim);
    // Both runs end with failed rows on purpose (exit 1); anything else is a surprise.
    Ok(if first == exit::ROWS_FAILED && second == exit::ROWS_FAILED {
        exit::OK
    } else {
        first.max(second)
    })
}

fn write(path: &Path, text: &str) -> Result<(), DemoError> {
    std::fs::write(path, text).map_err(|e| DemoError(format!("failed to write {}: {e}", path.display())))
}

/// The demo ends early: the simulated tenant ends with it, so unlike a real run there is nothing
/// to resume.
fn stopped(dir: &Path, code: u8) {
    say("");
    if code == exit::INTERRUPTED {
        say(
            "demo interrupted: the simulated tenant stops with the demo, so run `roster demo` again to start over",
        );
    } else {
        say("the demo stopped: apply could not run (see the error above)");
    }
    say(&format!("  files: {}", dir.display()));
}

/// Rows of the failed-rows CSV shown before the rest is left to the file.
const SHOWN_FAILED_ROWS: usize = 20;

/// Print the failed-rows CSV, so the reasons are on screen without opening the file, and return
/// how many rows it holds.
fn show_failed_csv(path: &Path) -> usize {
    let Ok(mut reader) = csv::Reader::from_path(path) else {
        say(&format!("no failed-rows CSV at {}", path.display()));
        return 0;
    };
    say(&format!("the failed-rows CSV, {}:", path.display()));
    if let Ok(header) = reader.headers() {
        say(&format!("  {}", header.iter().collect::<Vec<_>>().join(",")));
    }
    let mut rows = 0;
    for record in reader.records().flatten() {
        rows += 1;
        if rows <= SHOWN_FAILED_ROWS {
            let mut line = csv::Writer::from_writer(Vec::new());
            let _ = line.write_record(&record);
            let text = line
                .into_inner()
                .map(|b| String::from_utf8_lossy(&b).trim_end().to_owned())
                .unwrap_or_default();
            say(&format!("  {text}"));
        }
    }
    if rows > SHOWN_FAILED_ROWS {
        say(&format!(
            "  ... and {} more",
            format::count((rows - SHOWN_FAILED_ROWS) as u64)
        ));
    }
    rows
}

/// The key file, removed when the demo ends however it ends.
struct KeyFile(PathBuf);

impl KeyFile {
    fn write(path: &Path, key: &str) -> Result<Self, DemoError> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .map_err(|e| DemoError(format!("failed to write {}: {e}", path.display())))?;
        file.write_all(key.as_bytes())
            .map_err(|e| DemoError(format!("failed to write {}: {e}", path.display())))?;
        Ok(Self(path.to_owned()))
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `roster apply ROSTER --config roster.toml --to TARGET --yes`: the command the demo runs and
/// shows (TARGET is the demo's tenant, or its fleet).
fn apply_words(roster: &Path, config: &Path, target: &str, quiet: bool) -> Vec<String> {
    let mut words = vec![
        "roster".to_owned(),
        "apply".to_owned(),
        roster.display().to_string(),
        "--config".to_owned(),
        config.display().to_string(),
        "--to".to_owned(),
        target.to_owned(),
        "--yes".to_owned(),
    ];
    if quiet {
        words.push("--quiet".to_owned());
    }
    words
}

/// Run a `roster tenant apply` command line, parsed by the real command line and run by the
/// dispatcher, exactly as if typed.
fn tenant_apply(words: &[String]) -> Result<u8, DemoError> {
    let cli = Cli::try_parse_from(words)
        .map_err(|e| DemoError(format!("failed to build the tenant apply command: {e}")))?;
    if !matches!(cli.command, Command::Tenant(_)) {
        return Err(DemoError("failed to build the tenant apply command".to_owned()));
    }
    Ok(crate::run(cli))
}

/// Run a `roster apply` command line: parsed by the real command line and run by the dispatcher,
/// exactly as if typed (an error is printed as it would be, and gives its exit code).
fn apply(words: &[String]) -> Result<u8, DemoError> {
    let cli = Cli::try_parse_from(words)
        .map_err(|e| DemoError(format!("failed to build the apply command: {e}")))?;
    if !matches!(cli.command, Command::Apply(_)) {
        return Err(DemoError("failed to build the apply command".to_owned()));
    }
    Ok(crate::run(cli))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: &Path) -> DemoArgs {
        let cli = Cli::try_parse_from([
            "roster",
            "demo",
            "--dir",
            &dir.display().to_string(),
            "--write-rate",
            "60000",
            "--read-rate",
            "60000",
            "--fault-rate",
            "0.005",
            "--latency-ms",
            "0",
            "--quiet",
        ])
        .unwrap();
        let Command::Demo(args) = cli.command else {
            panic!("not the demo")
        };
        args
    }

    fn failed_codes(path: &Path) -> Vec<String> {
        let mut reader = csv::Reader::from_path(path).unwrap();
        let headers = reader.headers().unwrap().clone();
        let code = headers.iter().position(|h| h == "error_code").unwrap();
        let mut codes: Vec<String> = reader.records().map(|r| r.unwrap()[code].to_owned()).collect();
        codes.sort();
        codes
    }

    /// The whole demo, sped up: both applies run through the real command, the first leaves
    /// exactly the bad rows in the failed-rows CSV, and the rerun fails them again, alone.
    #[test]
    fn demo_runs_apply_twice_and_only_the_bad_rows_fail() {
        let dir = tempfile::tempdir().unwrap();
        let code = run(args(dir.path())).unwrap();
        assert_eq!(
            code,
            exit::OK,
            "both applies ended with exactly the failed rows the demo expects"
        );

        let expected = [
            "invalid_row",
            "invalid_row",
            "role_not_assignable",
            "space_owner",
            "unknown_group",
            "unknown_space",
            "unknown_user",
        ];
        let first = dir.path().join("demo-roster.failed.csv");
        assert_eq!(failed_codes(&first), expected);
        let second = dir.path().join("demo-roster.failed.failed.csv");
        assert_eq!(
            failed_codes(&second),
            expected,
            "the rerun fails the same rows for the same reasons"
        );
        assert!(
            dir.path().join(".roster").is_dir(),
            "the journal is in the working directory"
        );
        assert!(
            !dir.path().join(KEY_FILE).exists(),
            "the key file is gone after the demo"
        );
        let config = std::fs::read_to_string(dir.path().join("roster.toml")).unwrap();
        assert!(config.contains("tier2_per_min = 72000"), "{config}");
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut bad = args(dir.path());
        bad.fault_rate = 0.5;
        assert_eq!(run(bad).unwrap_err().exit_code(), exit::USAGE);
        let mut bad = args(dir.path());
        bad.write_rate = 0;
        assert_eq!(run(bad).unwrap_err().exit_code(), exit::USAGE);
    }
}
