//! The command line as the user types it (clap derive structs only, no behaviour).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0    every row ok
  1    some rows failed (the failed-rows CSV was written)
  2    usage, configuration or input error (nothing was sent)
  130  interrupted (rerun the same command to resume)";

/// Bulk space assignments for Qlik Cloud and Alumio, from CSV rosters.
#[derive(Debug, Parser)]
#[command(name = "roster", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a simulated Qlik Cloud (and Alumio) tenant on loopback until Ctrl-C.
    Sim(SimArgs),
}

/// `roster sim`: a simulated tenant for trying the tool and for tests.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Tenant file (JSON) with spaces, users, groups and assignments.
    #[arg(long, default_value = "data/tenant-small.json")]
    pub tenant: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// Fixed latency added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Random extra latency, uniformly 0..=N milliseconds.
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,
    /// Probability (0..1) of each injected fault: 500, 503, connection reset, too-slow response.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// How late a "too slow" response is, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub slow_delay_ms: u64,
    /// When a write draws a fault, apply it first and then fail (the response is lost).
    #[arg(long)]
    pub apply_before_fault: bool,
    /// Tier 1 (reads) limit per credential, requests per minute; 0 for no limit.
    #[arg(long, default_value_t = 1000)]
    pub tier1_per_min: u32,
    /// Tier 2 (writes) limit per credential, requests per minute; 0 for no limit.
    #[arg(long, default_value_t = 100)]
    pub tier2_per_min: u32,
    /// Lifetime of OAuth access tokens, in seconds.
    #[arg(long, default_value_t = 21_600)]
    pub token_ttl_secs: u64,
    /// Seed for latency jitter and faults, so a run is reproducible.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Serve only the Qlik Cloud API.
    #[arg(long, conflicts_with = "alumio_only")]
    pub qlik_only: bool,
    /// Serve only the Alumio API.
    #[arg(long)]
    pub alumio_only: bool,
    /// Alumio: the largest batch assign_users accepts; 0 for no limit.
    #[arg(long, default_value_t = 100)]
    pub alumio_batch_limit: usize,
    /// Alumio: a batch with an invalid entry changes nothing (default: the valid entries are applied).
    #[arg(long)]
    pub alumio_all_or_nothing: bool,
    /// Alumio: what assigning an existing member does.
    #[arg(long, default_value = "replace", value_parser = ["replace", "keep", "reject"])]
    pub alumio_existing_member: String,
    /// Alumio: what assigning an email without an Alumio user does.
    #[arg(long, default_value = "reject", value_parser = ["reject", "invite"])]
    pub alumio_unknown_email: String,
    /// Alumio: validation errors name the field only (`email`), not the entry (`users[3].email`).
    #[arg(long)]
    pub alumio_unindexed_violations: bool,
    /// Alumio: answer 404 to the member list, so clients read members one by one.
    #[arg(long)]
    pub alumio_no_list: bool,
    /// Alumio: reads per minute per API key; 0 for no limit.
    #[arg(long, default_value_t = 600)]
    pub alumio_reads_per_min: u32,
    /// Alumio: writes per minute per API key; 0 for no limit.
    #[arg(long, default_value_t = 60)]
    pub alumio_writes_per_min: u32,
}
