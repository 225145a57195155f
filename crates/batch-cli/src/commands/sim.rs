//! `roster sim`: serve the simulated tenant standalone.
//!
//! Stdout carries exactly what scripts need: the base URL on the first line, then one API key
//! per line (Qlik keys first, then Alumio keys). Everything meant for people goes to stderr.

use std::io::Write;
use std::time::Duration;

use sim::fleet::Loaded;
use sim::{
    AlumioBatchMode, AlumioConfig, AlumioExistingMember, AlumioUnknownEmail, Faults, Sim, SimConfig, Tenant,
};

use crate::cli::SimArgs;
use crate::error::{CommandError, Outcome};
use crate::exit;

/// Serve until Ctrl-C.
pub fn run(args: SimArgs) -> Outcome {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| CommandError::new("failed to start the async runtime").caused_by(error))?;
    runtime.block_on(serve(args))
}

fn report(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Build the simulator's configuration from the flags (pure, so it can be tested).
pub fn config(args: &SimArgs, tenant: Tenant) -> Result<SimConfig, String> {
    if !(0.0..=0.25).contains(&args.fault_rate) {
        return Err(format!(
            "--fault-rate must be between 0 and 0.25 (each of four faults), got {}",
            args.fault_rate
        ));
    }
    let faults = Faults {
        slow_delay: Duration::from_millis(args.slow_delay_ms),
        apply_before_fault: args.apply_before_fault,
        p500: args.fault_500.unwrap_or(args.fault_rate),
        p503: args.fault_503.unwrap_or(args.fault_rate),
        reset: args.fault_reset.unwrap_or(args.fault_rate),
        slow: args.fault_slow.unwrap_or(args.fault_rate),
    };
    for (flag, p) in [
        ("--fault-500", faults.p500),
        ("--fault-503", faults.p503),
        ("--fault-reset", faults.reset),
        ("--fault-slow", faults.slow),
    ] {
        if !(0.0..=0.25).contains(&p) {
            return Err(format!("{flag} must be between 0 and 0.25, got {p}"));
        }
    }
    let mut config = SimConfig::new(tenant);
    config.addr = args.addr;
    config.latency = Duration::from_millis(args.latency_ms);
    config.jitter = Duration::from_millis(args.jitter_ms);
    config.faults = faults;
    config.tier1_per_min = (args.tier1_per_min > 0).then_some(args.tier1_per_min);
    config.tier2_per_min = (args.tier2_per_min > 0).then_some(args.tier2_per_min);
    config.window = (args.window_secs > 1).then(|| Duration::from_secs(args.window_secs));
    config.token_ttl = Duration::from_secs(args.token_ttl_secs);
    config.seed = args.seed;
    config.qlik_enabled = !args.alumio_only;
    config.alumio = AlumioConfig {
        enabled: !args.qlik_only,
        batch_limit: (args.alumio_batch_limit > 0).then_some(args.alumio_batch_limit),
        batch_mode: if args.alumio_all_or_nothing {
            AlumioBatchMode::AllOrNothing
        } else {
            AlumioBatchMode::Partial
        },
        existing_member: match args.alumio_existing_member.as_str() {
            "keep" => AlumioExistingMember::Keep,
            "reject" => AlumioExistingMember::Reject,
            _ => AlumioExistingMember::Replace,
        },
        unknown_email: match args.alumio_unknown_email.as_str() {
            "invite" => AlumioUnknownEmail::Invite,
            _ => AlumioUnknownEmail::Reject,
        },
        indexed_violations: !args.alumio_unindexed_violations,
        list_enabled: !args.alumio_no_list,
        reads_per_min: (args.alumio_reads_per_min > 0).then_some(args.alumio_reads_per_min),
        writes_per_min: (args.alumio_writes_per_min > 0).then_some(args.alumio_writes_per_min),
        ..AlumioConfig::default()
    };
    Ok(config)
}

async fn serve(args: SimArgs) -> Outcome {
    let loaded = sim::fleet::load(&args.tenant).map_err(|error| CommandError::from_chain(&error))?;
    let tenant = match (loaded, args.tenants) {
        (Loaded::One(base), Some(count)) => return serve_fleet(&args, copies(&base, count)?).await,
        (Loaded::Listed(listed), None) => return serve_fleet(&args, listed).await,
        (Loaded::Listed(listed), Some(_)) => {
            return Err(CommandError::new(format!(
                "--tenants makes copies of one tenant, and {} lists {} tenants of its own",
                args.tenant.display(),
                listed.len()
            ))
            .hint("drop --tenants to serve the listed tenants, or name a file of one tenant"));
        }
        (Loaded::One(tenant), None) => *tenant,
    };
    if args.fleet_dir.is_some() || args.json {
        return Err(
            CommandError::new("--fleet-dir and --json describe several tenants")
                .hint("add --tenants N for N copies of the tenant, or name a tenant file that lists tenants"),
        );
    }
    let config = config(&args, tenant).map_err(CommandError::new)?;
    let (qlik, alumio) = (config.qlik_enabled, config.alumio.enabled);
    let handle = Sim::start(config)
        .await
        .map_err(|error| CommandError::from_chain(&error))?;

    let mut keys = Vec::new();
    if qlik {
        keys.extend(handle.api_keys());
    }
    if alumio {
        keys.extend(handle.alumio_api_keys());
    }
    let mut out = std::io::stdout().lock();
    let printed = writeln!(out, "{}", handle.base_url())
        .and_then(|()| keys.iter().try_for_each(|k| writeln!(out, "{k}")))
        .and_then(|()| out.flush());
    drop(out);
    listed(printed)?;

    let tenant = handle.tenant();
    // Which stdout line holds which key: line 1 is the URL, then the keys in the order printed.
    let mut line = 1;
    let mut numbered = |ids: Vec<&str>| -> String {
        if ids.is_empty() {
            return "none".to_owned();
        }
        ids.iter()
            .map(|id| {
                line += 1;
                format!("{id:?} on stdout line {line}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if qlik {
        let names: Vec<&str> = tenant.api_keys.iter().map(|k| k.id.as_str()).collect();
        report(&format!(
            "Qlik Cloud API at {}/api/v1 (API keys: {}; OAuth clients: {}; stats at {}/_sim/stats)",
            handle.base_url(),
            numbered(names),
            tenant
                .oauth_clients
                .iter()
                .map(|c| c.client_id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            handle.base_url(),
        ));
    }
    if alumio {
        let names: Vec<&str> = tenant.alumio.api_keys.iter().map(|k| k.id.as_str()).collect();
        report(&format!(
            "Alumio API at {} (API keys: {})",
            handle.alumio_base_url(),
            numbered(names)
        ));
    }
    report("Serving until Ctrl-C.");

    let waited = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    waited.map_err(|error| CommandError::new("failed to wait for Ctrl-C").caused_by(error))?;
    Ok(exit::OK)
}

/// The most tenants one `roster sim` serves.
pub const MAX_TENANTS: usize = 2000;

/// `--tenants N`: N copies of the tenant, named `tenant-01` ..., each with keys of its own.
fn copies(base: &Tenant, count: usize) -> Result<Vec<(String, Tenant)>, CommandError> {
    if !(1..=MAX_TENANTS).contains(&count) {
        return Err(CommandError::new(format!(
            "--tenants must be between 1 and {MAX_TENANTS} (got {count})"
        )));
    }
    Ok((0..count)
        .map(|index| {
            (
                sim::fleet::tenant_name(index, count),
                sim::fleet::tenant_copy(base, index),
            )
        })
        .collect())
}

/// Several tenants (`--tenants N` copies, or those a tenant file lists), each at its own port
/// with its own data and rate budget. Stdout: one line per tenant, `NAME URL API_KEY` (or one
/// JSON document with `--json`); with `--fleet-dir`, the fleet files for them.
async fn serve_fleet(args: &SimArgs, tenants: Vec<(String, Tenant)>) -> Outcome {
    let count = tenants.len();
    let mut handles = Vec::with_capacity(count);
    let mut members = Vec::with_capacity(count);
    for (index, (name, tenant)) in tenants.into_iter().enumerate() {
        let mut config = config(args, tenant).map_err(CommandError::new)?;
        // A fixed port is the first tenant's; the others take the ports after it.
        if config.addr.port() != 0 {
            let port = u16::try_from(usize::from(config.addr.port()) + index).map_err(|_| {
                CommandError::new("the tenants' ports run past 65535")
                    .hint("pick a lower --addr port, or port 0 for free ones")
            })?;
            config.addr.set_port(port);
        }
        config.seed = args.seed.wrapping_add(index as u64);
        let handle = Sim::start(config)
            .await
            .map_err(|error| CommandError::from_chain(&error))?;
        let api_key = handle.api_keys().into_iter().next().ok_or_else(|| {
            CommandError::new(format!("tenant {name} has no Qlik API key for the fleet to use"))
        })?;
        members.push(sim::fleet::FleetMember {
            name,
            url: handle.base_url(),
            api_key,
        });
        handles.push(handle);
    }
    let mut out = std::io::stdout().lock();
    let printed = if args.json {
        let doc = serde_json::json!({ "tenants": members });
        serde_json::to_writer(&mut out, &doc)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        members
            .iter()
            .try_for_each(|m| writeln!(out, "{} {} {}", m.name, m.url, m.api_key))
    };
    let printed = printed.and_then(|()| out.flush());
    drop(out);
    listed(printed)?;
    if let Some(dir) = &args.fleet_dir {
        let extra = format!(
            "tier1_per_min = {}\ntier2_per_min = {}\n",
            args.tier1_per_min, args.tier2_per_min
        );
        let path = sim::fleet::write_fleet(dir, "sim", &members, &extra).map_err(|error| {
            CommandError::new(format!("failed to write the fleet into {}", dir.display())).caused_by(error)
        })?;
        report(&format!(
            "fleet \"sim\" written to {} (try: roster plan ROSTER --config {} --to sim)",
            path.display(),
            path.display()
        ));
    }
    report(&format!(
        "{count} simulated Qlik Cloud tenants, one per line on stdout (name, base URL, API key). Serving until Ctrl-C."
    ));
    let waited = tokio::signal::ctrl_c().await;
    for handle in handles {
        handle.shutdown().await;
    }
    waited.map_err(|error| CommandError::new("failed to wait for Ctrl-C").caused_by(error))?;
    Ok(exit::OK)
}

/// The listing on stdout is for whoever reads it; a reader that has gone (`roster sim | head -3`)
/// took what it wanted, and the tenants go on serving.
fn listed(printed: std::io::Result<()>) -> Result<(), CommandError> {
    match printed {
        Err(error) if !crate::pipe::is_closed_pipe(&error) => {
            Err(CommandError::new("failed to write to stdout").caused_by(error))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        args: SimArgs,
    }

    fn parse(args: &[&str]) -> SimArgs {
        let mut argv = vec!["sim"];
        argv.extend_from_slice(args);
        Wrap::parse_from(argv).args
    }

    #[test]
    fn flags_become_the_simulator_config() {
        let args = parse(&[
            "--latency-ms",
            "20",
            "--jitter-ms",
            "5",
            "--fault-rate",
            "0.1",
            "--tier1-per-min",
            "0",
            "--tier2-per-min",
            "6000",
            "--seed",
            "9",
            "--token-ttl-secs",
            "60",
            "--qlik-only",
        ]);
        let config = config(&args, sim::generate::small_tenant()).unwrap();
        assert_eq!(config.latency, Duration::from_millis(20));
        assert_eq!(config.jitter, Duration::from_millis(5));
        assert_eq!(config.faults.p500, 0.1);
        assert_eq!(config.faults.reset, 0.1);
        assert_eq!(config.tier1_per_min, None);
        assert_eq!(config.tier2_per_min, Some(6000));
        assert_eq!(config.seed, 9);
        assert_eq!(config.token_ttl, Duration::from_secs(60));
        assert!(config.qlik_enabled && !config.alumio.enabled);
        let strict = config_of(&["--window-secs", "1"]);
        assert_eq!(strict.window, None, "today's strict pacing");
        assert_eq!(
            config_of(&["--window-secs", "5"]).window,
            Some(Duration::from_secs(5))
        );
    }

    fn config_of(args: &[&str]) -> SimConfig {
        config(&parse(args), sim::generate::small_tenant()).unwrap()
    }

    #[test]
    fn alumio_flags_set_the_unknowns() {
        let args = parse(&[
            "--alumio-batch-limit",
            "0",
            "--alumio-all-or-nothing",
            "--alumio-existing-member",
            "reject",
            "--alumio-unknown-email",
            "invite",
            "--alumio-unindexed-violations",
            "--alumio-no-list",
            "--alumio-writes-per-min",
            "0",
            "--alumio-only",
        ]);
        let config = config(&args, sim::generate::small_tenant()).unwrap();
        let a = &config.alumio;
        assert!(a.enabled && !config.qlik_enabled);
        assert_eq!(a.batch_limit, None);
        assert_eq!(a.batch_mode, AlumioBatchMode::AllOrNothing);
        assert_eq!(a.existing_member, AlumioExistingMember::Reject);
        assert_eq!(a.unknown_email, AlumioUnknownEmail::Invite);
        assert!(!a.indexed_violations && !a.list_enabled);
        assert_eq!((a.reads_per_min, a.writes_per_min), (Some(600), None));
        assert!(Wrap::try_parse_from(["sim", "--alumio-existing-member", "merge"]).is_err());
    }

    #[test]
    fn defaults_are_the_real_limits() {
        let config = config(&parse(&[]), sim::generate::small_tenant()).unwrap();
        assert_eq!(
            (config.tier1_per_min, config.tier2_per_min),
            (Some(1000), Some(100))
        );
        assert_eq!(
            config.window,
            Some(Duration::from_secs(300)),
            "qlik's documented window"
        );
        assert!(!config.faults.any());
        assert!(config.qlik_enabled && config.alumio.enabled);
        assert_eq!(config.alumio, AlumioConfig::default());
    }

    #[test]
    fn each_fault_can_have_its_own_rate() {
        let args = parse(&[
            "--fault-rate",
            "0.01",
            "--fault-500",
            "0.025",
            "--fault-503",
            "0.025",
        ]);
        let faults = config(&args, sim::generate::small_tenant()).unwrap().faults;
        assert_eq!((faults.p500, faults.p503), (0.025, 0.025));
        assert_eq!((faults.reset, faults.slow), (0.01, 0.01));
        assert!(config(&parse(&["--fault-slow", "0.3"]), sim::generate::small_tenant()).is_err());
    }

    #[test]
    fn fault_rate_out_of_range_is_refused() {
        assert!(config(&parse(&["--fault-rate", "0.5"]), sim::generate::small_tenant()).is_err());
        assert!(Cli::try_parse_from(["roster", "sim", "--qlik-only", "--alumio-only"]).is_err());
    }
}
