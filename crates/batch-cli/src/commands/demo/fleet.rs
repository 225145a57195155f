//! `roster demo --fleet N`: one roster applied to N simulated tenants at once.
//!
//! 1. start N simulated tenants in-process, each a copy of the small tenant with keys of its
//!    own, Tier 2 at 120 writes a minute each, and write the fleet for them (`roster.toml` with
//!    `[fleets.demo]`, `tenants.csv`, `keys/`), with two tenants broken on purpose: one points
//!    at a port nothing listens on, one has a wrong key;
//! 2. apply the roster to the fleet: every tenant at once, one bar each; the two broken ones
//!    fail and the table says why (exit 1);
//! 3. fix both, and apply again: the tenants that finished send nothing, the two fixed ones
//!    get their rows (exit 0).

use std::path::Path;

use std::time::Duration;

use sim::fleet::{FleetMember, tenant_copy, tenant_name, write_fleet};
use sim::{Faults, Sim, SimConfig, SpaceType, Tenant};

use super::{DemoError, apply, say, write};
use crate::cli::DemoArgs;
use crate::exit;
use crate::report::format;

/// The small tenant, built into the binary for a demo outside the repository.
const BUILTIN_SMALL: &str = include_str!("../../../../../data/tenant-small.json");
/// The fleet's name in the demo's `roster.toml`.
pub const FLEET: &str = "demo";
/// Writes a minute each tenant accepts (and the client sends): the run takes about 20 s.
const WRITES_PER_MIN: u32 = 120;

/// Every user with an email as a consumer of every shared space it does not own.
pub fn roster_for(tenant: &Tenant) -> String {
    let mut text = String::from("space,type,assignee,roles\n");
    for space in tenant
        .spaces()
        .iter()
        .filter(|s| s.space_type == SpaceType::Shared)
    {
        for user in tenant.users() {
            if user.id == space.owner_id {
                continue;
            }
            if let Some(email) = &user.email {
                text.push_str(&format!("{},user,{email},consumer\n", space.name));
            }
        }
    }
    text
}

/// A loopback URL nothing listens on (a port just freed).
fn closed_url() -> Result<String, DemoError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| DemoError(format!("failed to find a free port: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| DemoError(format!("failed to find a free port: {e}")))?
        .port();
    Ok(format!("http://127.0.0.1:{port}"))
}

/// The fewest tenants the demo runs: two broken on purpose, and at least one that lands.
const MIN_TENANTS: usize = 3;
/// The most: each is a simulator in this process.
const MAX_TENANTS: usize = 200;

/// The two tenants broken on purpose, (unreachable, wrong key): the second and the last, two
/// distinct tenants for every count the demo runs ([`MIN_TENANTS`] and up); `None` for fewer,
/// which the demo refuses.
fn broken_tenants(count: usize) -> Option<(usize, usize)> {
    (count >= MIN_TENANTS).then(|| (1, count - 1))
}

/// Run the fleet demo in `dir`; 0 when both runs went as the demo expects.
pub(super) fn run(args: &DemoArgs, count: usize, dir: &Path) -> Result<u8, DemoError> {
    let Some((unreachable, bad_key)) = broken_tenants(count).filter(|_| count <= MAX_TENANTS) else {
        return Err(DemoError(format!(
            "--fleet must be between {MIN_TENANTS} and {MAX_TENANTS} (got {count}): two tenants are \
             broken on purpose, and at least one lands"
        )));
    };
    let text = match &args.tenant {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| DemoError(format!("failed to read {}: {e}", path.display())))?,
        None => {
            std::fs::read_to_string("data/tenant-small.json").unwrap_or_else(|_| BUILTIN_SMALL.to_owned())
        }
    };
    let base = Tenant::from_json(&text).map_err(|e| DemoError(format!("failed to load the tenant: {e}")))?;
    let roster_text = roster_for(&base);
    let rows = roster_text.lines().count().saturating_sub(1);
    let roster = dir.join("fleet-roster.csv");
    write(&roster, &roster_text)?;

    let mut sims = Vec::with_capacity(count);
    let mut members = Vec::with_capacity(count);
    for index in 0..count {
        let mut config = SimConfig::new(tenant_copy(&base, index));
        config.tier1_per_min = Some(args.read_rate);
        config.tier2_per_min = Some(WRITES_PER_MIN);
        config.latency = Duration::from_millis(args.latency_ms);
        config.faults = Faults {
            p500: args.fault_rate,
            p503: args.fault_rate,
            ..Faults::none()
        };
        config.seed = args.seed.wrapping_add(index as u64);
        let sim = Sim::start_blocking(config)
            .map_err(|e| DemoError(format!("failed to start a simulated tenant: {e}")))?;
        let api_key = sim
            .api_keys()
            .into_iter()
            .next()
            .ok_or_else(|| DemoError("the tenant has no API key".to_owned()))?;
        members.push(FleetMember {
            name: tenant_name(index, count),
            url: sim.base_url(),
            api_key,
        });
        sims.push(sim);
    }
    let extra = format!(
        "tier1_per_min = {}\ntier2_per_min = {WRITES_PER_MIN}\npace = \"steady\"\ntimeout_secs = 5\n",
        args.read_rate
    );
    let written = |members: &[FleetMember]| {
        write_fleet(dir, FLEET, members, &extra)
            .map_err(|e| DemoError(format!("failed to write the fleet into {}: {e}", dir.display())))
    };
    // Two tenants broken on purpose: one unreachable, one with a wrong key.
    let mut broken = members.clone();
    broken[unreachable].url = closed_url()?;
    broken[bad_key].api_key = "not-the-key".to_owned();
    let config = written(&broken)?;

    say(&format!(
        "roster demo --fleet: {count} simulated Qlik Cloud tenants on loopback; nothing leaves this machine"
    ));
    say(&format!(
        "  tenants:  {count} copies of the small tenant, each with its own keys, data and {} writes",
        format::per_min(f64::from(WRITES_PER_MIN))
    ));
    say(&format!(
        "  roster:   {rows} rows for every tenant ({} in all)",
        format::count((rows * count) as u64)
    ));
    say(&format!(
        "  broken:   {} points at a port nothing listens on, {} has a wrong key",
        members[unreachable].name, members[bad_key].name
    ));
    say(&format!(
        "  work dir: {} (roster.toml with [fleets.{FLEET}], tenants.csv, keys/, journals in .roster/)",
        dir.display()
    ));
    say("");
    let words = super::apply_words(&roster, &config, FLEET, args.quiet);
    say(&format!("step 1 of 2: {}", format::command_line(&words)));
    let first = apply(&words)?;
    if first == exit::INTERRUPTED || first == exit::USAGE {
        return Ok(first);
    }
    say("");
    say(&format!(
        "step 2 of 2: fix {} (its URL in tenants.csv) and {} (its key file), and run the same command:",
        members[unreachable].name, members[bad_key].name
    ));
    say("            the tenants that finished send nothing, the two fixed ones get their rows");
    written(&members)?;
    let writes_before: Vec<usize> = sims.iter().map(|s| s.write_log().len()).collect();
    let second = apply(&words)?;
    let resent: usize = sims
        .iter()
        .zip(&writes_before)
        .enumerate()
        .filter(|(i, _)| *i != unreachable && *i != bad_key)
        .map(|(_, (s, before))| s.write_log().len() - before)
        .sum();
    say("");
    say(&format!(
        "what happened: step 1 landed {} tenants and reported the 2 broken ones (exit {first}); step 2 \
         wrote only to those 2 ({resent} writes to the others; exit {second}).",
        count - 2
    ));
    say(&format!("  files: {}", dir.display()));
    drop(sims);
    Ok(
        if first == exit::ROWS_FAILED && second == exit::OK && resent == 0 {
            exit::OK
        } else {
            first.max(second).max(1)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_broken_tenants_are_two_distinct_members_for_every_count_the_demo_runs() {
        for count in MIN_TENANTS..=MAX_TENANTS {
            let (unreachable, bad_key) = broken_tenants(count).unwrap();
            assert_ne!(unreachable, bad_key, "{count} tenants");
            assert!(unreachable < count && bad_key < count, "{count} tenants");
        }
        for count in 0..MIN_TENANTS {
            assert_eq!(broken_tenants(count), None, "{count} tenants");
        }
    }
}
