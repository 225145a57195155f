//! The command line as the user types it (clap derive structs only, no behaviour).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use engine::model::Mode;

const EXIT_CODES: &str = "\
Exit codes (each command's --help has its own table):
  0    done: every row ok (apply, migrate), no row with an error (plan), the file written (export)
  1    apply, migrate, undo: some rows failed (the failed-rows CSV was written);
       plan, migrate --plan: some rows have errors (shown with !)
  2    usage, configuration or input error, a tenant that cannot be read, or a journal in use by
       another run (nothing was sent)
  3    plan --check: applying the roster would change the tenant
  130  interrupted (apply, migrate: rerun the same command to resume)";

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
    /// Compare a roster with a tenant and show what apply would change; sends no writes.
    #[command(after_help = PLAN_EXAMPLES)]
    Plan(PlanArgs),
    /// Make a tenant match a roster: plan, then send the writes, resumably.
    #[command(
        after_help = APPLY_EXAMPLES,
        mut_arg("concurrency", |arg| arg
            .help("Rows in flight at once [default: the target's, else 8]")),
    )]
    Apply(ApplyArgs),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Serve a simulated Qlik Cloud (and Alumio) tenant on loopback until Ctrl-C.
    #[command(after_help = SIM_EXAMPLES)]
    Sim(SimArgs),
    /// Watch a whole run: `roster apply` against a simulated tenant, with throttling, retries,
    /// bad rows and a rerun of the failed rows. Nothing leaves the machine.
    Demo(DemoArgs),
    /// Write every assignment of a tenant's spaces as a roster; sends only reads.
    ///
    /// The source is named like the target of plan and apply, with the same flags: here the
    /// target name is given with --from instead of --to.
    #[command(
        after_help = EXPORT_EXAMPLES,
        mut_arg("to", |arg| arg
            .long("from")
            .short(None)
            .help("Source: a name from roster.toml, or `qlik:CONTEXT` for a qlik-cli context \
                   (`qlik:` alone for qlik-cli's current context) [default: the config's \
                   default target]")),
    )]
    Export(ExportArgs),
    /// Copy assignments from one tenant to another: export, map, plan and apply in one run,
    /// resumably.
    #[command(
        after_help = MIGRATE_EXAMPLES,
        mut_arg("mode", |arg| arg
            .help("merge: add roles to what each assignee has in the target; exact: make them equal \
                   [default: merge]")),
        mut_arg("concurrency", |arg| arg
            .help("Writes in flight at once [default: the target's, else 8]")),
        mut_arg("spaces", |arg| arg
            .help("Only these source spaces, by name or id (repeat the flag for several)")),
        mut_arg("types", |arg| arg
            .help("Only source spaces of these types (shared, managed, data), comma-separated")),
        mut_arg("to", |arg| arg
            .help("Destination: a name from roster.toml, or `qlik:CONTEXT` for a qlik-cli context \
                   (`qlik:` alone for qlik-cli's current context) [default: the config's \
                   default target]")),
    )]
    Migrate(MigrateArgs),
    /// List the runs against each target, from the state directory; `runs show RUN` lists one
    /// run's rows, or writes its report (--html).
    #[command(after_help = RUNS_EXAMPLES, args_conflicts_with_subcommands = true)]
    Runs(RunsArgs),
    /// Reverse a run's changes: delete what it created, restore the roles it changed, re-create
    /// what it deleted. Shows the plan and asks first; the undo is itself a run.
    #[command(after_help = UNDO_EXAMPLES)]
    Undo(UndoArgs),
    /// Configure a whole tenant from one TOML file: settings, groups and their roles, spaces,
    /// assignments (plan, apply, export).
    #[command(after_help = TENANT_HELP)]
    Tenant(TenantArgs),
}

/// `roster tenant`: a tenant's configuration as a file.
#[derive(Debug, Args)]
pub struct TenantArgs {
    /// What to do with the tenant file.
    #[command(subcommand)]
    pub command: TenantCommand,
}

/// The `roster tenant` subcommands: the same flags, outputs and exit codes as `roster plan`,
/// `roster apply` and `roster export`.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Compare a tenant file with a tenant and show every section's difference; sends no writes.
    #[command(
        after_help = TENANT_PLAN_HELP,
        mut_arg("roster", |arg| arg.value_name("FILE").help("The tenant file (TOML)")),
        mut_arg("mode", |arg| arg.help("For the file's assignments: merge adds roles to what each \
            assignee has; exact makes them equal [default: merge]")),
    )]
    Plan(PlanArgs),
    /// Make a tenant match a tenant file: settings, groups, group roles, spaces, then the
    /// assignments, resumably; sends only the differences.
    #[command(
        after_help = TENANT_APPLY_HELP,
        mut_arg("roster", |arg| arg.value_name("FILE").help("The tenant file (TOML)")),
        mut_arg("mode", |arg| arg.help("For the file's assignments: merge adds roles to what each \
            assignee has; exact makes them equal [default: merge]")),
        mut_arg("state_dir", |arg| arg.help("Directory for the journals, the file's assignments as a \
            roster and its failed rows [default: .roster/ beside the file]")),
    )]
    Apply(ApplyArgs),
    /// Write a tenant's settings, groups with their roles, spaces with their descriptions and
    /// assignments as a tenant file; sends only reads.
    #[command(
        after_help = TENANT_EXPORT_HELP,
        mut_arg("output", |arg| arg.value_name("FILE.toml").help("The tenant file to write, or `-` \
            for standard output. A file is replaced only once the export is complete")),
        mut_arg("to", |arg| arg
            .long("from")
            .short(None)
            .help("Source: a name from roster.toml, or `qlik:CONTEXT` for a qlik-cli context \
                   (`qlik:` alone for qlik-cli's current context) [default: the config's \
                   default target]")),
    )]
    Export(ExportArgs),
}

const TENANT_HELP: &str = "\
Examples:
  roster tenant plan tenant.toml --to prod
  roster tenant apply tenant.toml --to prod
  roster tenant export --from prod -o tenant.toml
  roster tenant apply tenant.toml --to eu              # a fleet: every tenant of [fleets.eu]

The tenant file (TOML; every key in the README's \"Tenant file\"):
  [settings]            auto_create_groups, sync_idp_groups, auto_assign_professional,
                        auto_assign_analyzer (true/false; a key left out is left alone)
  [[groups]]            name, roles (tenant roles; without roles the group's are left alone)
  [[spaces]]            name, type (shared, managed, data), description, assignments =
                        [{ group = \"NAME\" | user = \"EMAIL\", roles = [\"consumer\"] }]
  [assignments]         rosters = [\"finance.csv\"] (roster CSVs, relative to the file)

Qlik Cloud only: Alumio has no groups, roles or tenant settings.

Fleets: --to takes several tenants (a comma list, a glob, a fleet) as for `roster apply`; each
tenant is planned, configured or exported on its own, and a table sums them up.";

const TENANT_PLAN_HELP: &str = "\
Examples:
  roster tenant plan tenant.toml --to prod
  roster tenant plan tenant.toml --to prod --json > plan.json
  roster tenant plan tenant.toml --to prod --check -q   # exit 3 when apply would change something
  roster tenant plan tenant.toml --to 'cust-*' --check -q   # a glob: exit 3 if any would change

Reads the settings, roles, groups and spaces the file names, and the assignments of its spaces
and rosters; shows each section (settings, groups, group roles, spaces, assignments) as a diff:
+ create, ~ change, = already so, ! cannot be done; then the writes and the least time they take
at the write limit. A malformed file, or a role the tenant does not have, is an error located as
FILE:LINE:COLUMN, with nothing sent.

Exit codes:
  0    nothing is an error (with --check: and the tenant already matches the file)
  1    some lines are errors (shown with !)
  2    usage, configuration or file error, an unknown role, or a tenant that cannot be read
  3    --check only: applying the file would change the tenant (comes before 1)
Over a fleet: 1 also when a tenant could not be read, 3 when any tenant would change.

Environment: see `roster plan --help`.";

const TENANT_APPLY_HELP: &str = "\
Examples:
  roster tenant apply tenant.toml --to prod
  roster tenant apply tenant.toml --to prod --json > events.jsonl
  roster tenant apply tenant.toml --to eu --tenants-in-flight 16   # every tenant of a fleet

Reads everything first and writes only the differences, in order: the group settings (one PATCH),
the license settings (read, merged, one PUT), missing groups, group roles, missing spaces and
descriptions; then the assignments, planned once their groups and spaces exist and applied as
`roster apply` applies a roster. A second apply of the same file sends no write. Nothing is sent
when the file is malformed, names a role the tenant lacks, or gives an existing space another
type (a space's type cannot change).

Resuming: rerun the same command. Configuration writes already made read back as unchanged; the
assignments resume from their journal. State in .roster/ beside the file (see --state-dir):
tenant-TARGET.jsonl records every configuration write; FILE.assignments.csv is the file's
assignments as a roster, with its journal and failed-rows CSV.

Exit codes:
  0    every write ok
  1    some writes or rows failed
  2    usage, configuration or file error, an unknown role, a type mismatch, or a tenant that
       cannot be read (nothing was sent)
  130  interrupted (rerun the same command to resume)
Over a fleet: 1 also when a tenant failed (unreachable, refused, a role it lacks); each tenant
has its own tenant-NAME.jsonl, journal and failed-rows CSV (FILE.assignments.failed/NAME.csv).

Environment: see `roster plan --help`.";

const TENANT_EXPORT_HELP: &str = "\
Examples:
  roster tenant export --from prod -o tenant.toml
  roster tenant export --from prod --space Finance -o -
  roster tenant export --from eu -o tenants/            # a fleet: tenants/NAME.toml per tenant

Writes the settings, every group with its roles, and the spaces (all, or those --space and --type
select) with their type, description and assignments inline (users by email, groups by name).
Planned back against the same tenant, the file shows no change. The file appears only once
complete.

Exit codes:
  0    the file was written
  2    usage, configuration or output error, or a tenant that cannot be read (no file written)
Over a fleet: 1 when some tenant's file could not be written (the others are).

Environment: see `roster plan --help`.";

/// `roster sim`: a simulated tenant for trying the tool and for tests.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Tenant file (JSON) with spaces, users, groups and assignments, or one that lists several
    /// tenants to serve at once (`{"version": 1, "tenants": [{"name": ..., "file": ...}]}`).
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
    /// Probability (0..1) of a 500 response, instead of --fault-rate's.
    #[arg(long, value_name = "P")]
    pub fault_500: Option<f64>,
    /// Probability (0..1) of a 503 response, instead of --fault-rate's.
    #[arg(long, value_name = "P")]
    pub fault_503: Option<f64>,
    /// Probability (0..1) of a connection reset, instead of --fault-rate's.
    #[arg(long, value_name = "P")]
    pub fault_reset: Option<f64>,
    /// Probability (0..1) of a too-slow response, instead of --fault-rate's.
    #[arg(long, value_name = "P")]
    pub fault_slow: Option<f64>,
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
    /// Qlik: the window each tier's limit is evaluated over, in seconds, as Qlik documents (5
    /// minutes): at most limit × N / 60 requests in any N seconds, as fast as they come. 1
    /// paces strictly instead: one request every 60 s / limit, with one second's burst.
    #[arg(long, value_name = "N", default_value_t = 300)]
    pub window_secs: u64,
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
    /// Serve N tenants at once, each a copy of --tenant with its own keys, data and rate budget,
    /// at its own base URL (one port each). A --tenant file that lists tenants
    /// (`{"version": 1, "tenants": [...]}`) serves each of them without this flag.
    #[arg(long, value_name = "N")]
    pub tenants: Option<usize>,
    /// With several tenants: write a fleet for them into DIR (roster.toml with [fleets.sim],
    /// tenants.csv and one key file per tenant), ready for `roster apply ROSTER --config
    /// DIR/roster.toml --to sim`.
    #[arg(long, value_name = "DIR")]
    pub fleet_dir: Option<PathBuf>,
    /// With several tenants: print them as one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

const PLAN_EXAMPLES: &str = "\
Examples:
  roster plan roster.csv --to prod
  roster plan roster.csv --to qlik:acme       # a qlik-cli context
  roster plan roster.csv --server https://acme.eu.qlikcloud.com
  roster plan roster.csv --to prod --mode exact --json > plan.json
  roster plan roster.csv --to prod --check -q  # exit 3 when apply would change something
  roster plan roster.csv --to eu --check -q    # a fleet: [fleets.eu] in roster.toml

Fleets: when --to names several tenants (a comma list, a glob, a fleet), each is planned with the
same flags, --tenants-in-flight at a time, and a table on stderr sums them up. --json then prints
JSON lines: for each tenant a `plan` line (the document a single plan --json prints, on one line,
with \"event\" and \"fleet_format_version\" added) and a `tenant_finished` line, then one
`fleet_finished`; every line but that last carries \"target\". --prune plans each tenant's
deletes. The exit code is the fleet's: 3 (--check) when some tenant would change, 1 when a tenant
failed or has rows with errors.

Roster columns:
  space (or space_name, space_id), type (user or group), assignee (or
  email/user, group/group_name, assignee_id), roles (API names, or UI names
  such as \"Can view\", separated by ; or |). Other columns are carried to the
  failed-rows CSV.

Exit codes:
  0    no row has an error (with --check: and the tenant already matches the roster)
  1    some rows have errors (shown with !; apply would fail them)
  2    usage, configuration or input error, or a tenant that cannot be read
  3    --check only: applying the roster would change the tenant (comes before 1)

Environment:
  ROSTER_CONFIG           config file to use instead of ./roster.toml
  QLIK_API_KEY            API key of a --server target, unless --api-key-env
                          names another variable
  ALUMIO_API_KEY          the same, with --kind alumio
  QLIK_CLI_USER_HOME_DIR  where qlik-cli keeps .qlik/contexts.yml";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  roster completions bash > ~/.local/share/bash-completion/completions/roster
  roster completions zsh > ~/.zfunc/_roster
  roster completions fish > ~/.config/fish/completions/roster.fish";

const APPLY_EXAMPLES: &str = "\
Examples:
  roster apply roster.csv --to prod
  roster apply roster.csv --to prod --mode exact
  roster apply roster.csv --to prod --mode exact --prune   # asks before deleting
  roster apply roster.failed.csv --to prod     # rerun the rows that failed
  roster apply roster.csv --to prod --only-failed
  roster apply roster.csv --to eu --yes        # a fleet: [fleets.eu] in roster.toml

Runs: every apply plans against the tenant as it is now, so whatever drifted since the last run
is written again. Only a run that was cut short (Ctrl-C, a kill, a crash, a lost connection)
resumes: rerun the same command (same roster, --mode and --prune) and the rows its journal
records done are not sent again. A rerun with another roster or settings starts a new run and
says so. --only-failed reruns the rows that failed in the last run; --fresh starts a new run even
after an interruption. The journal is .roster/journal-TARGET.jsonl beside the roster (see
--state-dir); earlier runs move to .roster/history/, which keeps the last 10. One run at a time
per journal: a second apply refuses (exit 2) while another uses it. After Ctrl-C nothing new is
sent: requests already on the wire finish, the other rows wait for the rerun; a second Ctrl-C
stops at once.

Exit codes:
  0    every row ok
  1    some rows failed (the failed-rows CSV was written)
  2    usage, configuration or input error, a tenant that cannot be read, or a journal in use by
       another run (nothing was sent)
  130  interrupted (rerun the same command to resume)

Fleets: when --to names several tenants (a comma list, a glob, a fleet), each runs with the same
flags, --tenants-in-flight at a time, with its own limiter, journal (journal-NAME.jsonl) and
failed-rows CSV (ROSTER.failed/NAME.csv); --concurrency, --fresh and --only-failed apply to each
tenant. A fleet run asks no questions: --prune and Alumio tenants need --yes, and --max-deletes
caps each tenant's deletes (a tenant past it gets nothing sent and is reported failed). With
--json every event carries \"target\". Exit 1 when some tenant failed or has failed rows.

Environment: see `roster plan --help`.";

const SIM_EXAMPLES: &str = "\
Examples:
  roster sim --addr 127.0.0.1:18901 --qlik-only > sim.txt &
  export QLIK_API_KEY=$(sed -n 2p sim.txt)
  roster plan roster.csv --server http://127.0.0.1:18901

  roster sim --tenant data/tenant-large.json --tier2-per-min 60 --fault-rate 0.02

Standard output: line 1 is the base URL; then one API key per line, first the Qlik Cloud keys,
then the Alumio keys, each in the tenant file's order. Standard error names each key and the
stdout line it is on (a Qlik key on line 2 goes with --kind qlik, an Alumio key with --kind
alumio and the Alumio URL). The keys are the tenant file's test keys, not secrets.

Exit codes:
  0    stopped with Ctrl-C
  2    the tenant file or a flag is wrong, or the address is taken";

/// Which vendor a target speaks, as typed on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// Qlik Cloud.
    Qlik,
    /// Alumio.
    Alumio,
}

/// `--mode` as typed on the command line: the values of [`Mode`], with the help `--help` shows
/// for each. The engine's `Mode` knows nothing of clap, so the command line spells it here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    /// Add roles, never remove one.
    Merge,
    /// Make the roles exactly the roster's.
    Exact,
}

impl From<ModeArg> for Mode {
    fn from(mode: ModeArg) -> Self {
        match mode {
            ModeArg::Merge => Mode::Merge,
            ModeArg::Exact => Mode::Exact,
        }
    }
}

impl From<Mode> for ModeArg {
    fn from(mode: Mode) -> Self {
        match mode {
            Mode::Merge => ModeArg::Merge,
            Mode::Exact => ModeArg::Exact,
        }
    }
}

/// Parses `--mode` into the engine's [`Mode`], offering [`ModeArg`]'s values.
fn mode_parser() -> impl clap::builder::TypedValueParser<Value = Mode> {
    use clap::builder::TypedValueParser as _;
    clap::builder::EnumValueParser::<ModeArg>::new().map(Mode::from)
}

/// `--pace`: how requests are spaced within the rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PaceArg {
    /// Up to the window's budget at once, then as the window frees up.
    Burst,
    /// Evenly at the per-minute limit.
    Steady,
}

/// Where to send: a named target, a qlik-cli context, or a server given here. Flags given here
/// override the target's settings in the config file.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Target")]
pub struct TargetArgs {
    /// Target: a name from roster.toml, or `qlik:CONTEXT` for a qlik-cli context (`qlik:` alone
    /// for qlik-cli's current context). plan, apply and export also take several: a comma list,
    /// globs over roster.toml's targets and qlik-cli's contexts (`cust-*`, `qlik:cust-*`), and
    /// fleets (`[fleets.NAME]` in roster.toml).
    #[arg(long, short = 't', value_name = "NAME")]
    pub to: Option<String>,
    /// Config file with named targets [default: $ROSTER_CONFIG, else ./roster.toml, else
    /// <config dir>/roster/roster.toml].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Tenant URL, e.g. https://acme.eu.qlikcloud.com (https:// when no scheme is given; a
    /// trailing /api/v1 is fine); with a target name, replaces the target's server.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// Vendor of the tenant [default: the target's kind, else qlik].
    #[arg(long, value_enum, value_name = "KIND")]
    pub kind: Option<KindArg>,
    /// Environment variable holding the API key [default: QLIK_API_KEY, or ALUMIO_API_KEY for
    /// alumio, when neither the target nor a flag names a credential].
    #[arg(long, value_name = "VAR", conflicts_with_all = ["api_key_file", "api_key_stdin", "client_id"])]
    pub api_key_env: Option<String>,
    /// File holding the API key (keep it readable by you only).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["api_key_stdin", "client_id"])]
    pub api_key_file: Option<PathBuf>,
    /// Read the API key from standard input, so it never sits on the command line.
    #[arg(long, conflicts_with = "client_id")]
    pub api_key_stdin: bool,
    /// OAuth client id (machine-to-machine); the secret comes from --client-secret-env or
    /// --client-secret-file.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Environment variable holding the OAuth client secret.
    #[arg(
        long,
        value_name = "VAR",
        requires = "client_id",
        conflicts_with = "client_secret_file"
    )]
    pub client_secret_env: Option<String>,
    /// File holding the OAuth client secret.
    #[arg(long, value_name = "PATH", requires = "client_id")]
    pub client_secret_file: Option<PathBuf>,
    /// Reads per minute (tier 1) [default: the target's, else 1000 for qlik, 600 for alumio];
    /// 0 turns pacing off.
    #[arg(long, value_name = "N")]
    pub tier1_per_min: Option<u32>,
    /// Write calls per minute (tier 2) [default: the target's, else 100 for qlik, 60 for
    /// alumio]; 0 turns pacing off.
    #[arg(long, value_name = "N")]
    pub tier2_per_min: Option<u32>,
    /// burst: up to a window's budget (limit × window) at once, then as the window frees up;
    /// steady: evenly at the per-minute limit [default: the target's, else burst for qlik,
    /// steady for alumio]. A tenant that refuses a burst (429) is paced steadily from then on.
    #[arg(long, value_enum, value_name = "PACE")]
    pub pace: Option<PaceArg>,
    /// The window tier 1's limit is evaluated over, in seconds, for --pace burst [default: the
    /// target's, else 300].
    #[arg(long, value_name = "SECS")]
    pub tier1_window_secs: Option<u64>,
    /// The window tier 2's limit is evaluated over, in seconds, for --pace burst [default: the
    /// target's, else 300].
    #[arg(long, value_name = "SECS")]
    pub tier2_window_secs: Option<u64>,
    /// Timeout of one request, in seconds [default: the target's, else 60].
    #[arg(long, value_name = "SECS")]
    pub timeout_secs: Option<u64>,
    /// Do not verify the server's TLS certificate (test tenants with self-signed certificates).
    #[arg(long)]
    pub insecure: bool,
    /// Allow plain http to hosts other than loopback; the credentials then travel unencrypted.
    #[arg(long)]
    pub allow_http: bool,
}

/// How much is printed, and in which form.
#[derive(Debug, Clone, Copy, Default, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Print JSON on stdout instead of text (progress and logs stay on stderr).
    #[arg(long)]
    pub json: bool,
    /// Print only the summary.
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more (-v: each lookup decision and retry, -vv: every request).
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Several tenants in one run: `--to` names more than one (a comma list, a glob, a fleet).
#[derive(Debug, Clone, Copy, Default, Args)]
#[command(next_help_heading = "Fleet")]
pub struct FleetArgs {
    /// Tenants worked on at once when --to names several [default: 32]. Each has its own rate
    /// budget, so a fleet takes about as long as its slowest tenant while all of it fits. Fewer
    /// run at once, with a warning, when the open-files limit (ulimit -n) cannot hold that many.
    #[arg(long, value_name = "N")]
    pub tenants_in_flight: Option<usize>,
    /// Take only share I of N of the fleet's tenants (I from 0 to N-1), chosen by a hash of each
    /// tenant's name: N processes with I = 0..N-1 cover every tenant exactly once.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<engine::fleet::Shard>,
}

/// `--mode` and `--concurrency`: how a roster is compared with the tenant, and how much is in
/// flight at once (plan, apply, migrate; each command's help says what it counts).
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct WriteArgs {
    /// merge: add the roster's roles to what each assignee has; exact: make them equal
    /// [default: merge].
    #[arg(long, value_parser = mode_parser())]
    pub mode: Option<Mode>,
    /// Requests in flight at once [default: the target's, else 8].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
}

/// `roster plan`: the difference between a roster and a tenant.
#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// The roster CSV file.
    #[arg(value_name = "ROSTER")]
    pub roster: PathBuf,
    /// How the roster is compared, and how many requests at once.
    #[command(flatten)]
    pub run: WriteArgs,
    /// Rows per bulk write, for targets that write in bulk (Alumio) [default: the target's, else 50].
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// With --mode exact: also show the deletes of the roster's spaces' assignments that the roster
    /// does not list (`-` rows, first in each space).
    #[arg(long)]
    pub prune: bool,
    /// Exit 3 when applying the roster would change the tenant (a create, update or delete), 0
    /// when the tenant already matches it, 1 when nothing would change but some rows are errors:
    /// for a scheduled drift check.
    #[arg(long)]
    pub check: bool,
    /// Where to send.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Several tenants at once.
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// `roster apply`: plan, then execute, with a journal to resume from.
#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// The roster CSV file (or a failed-rows CSV from an earlier run).
    #[arg(value_name = "ROSTER")]
    pub roster: PathBuf,
    /// How the roster is compared, and how many rows at once.
    #[command(flatten)]
    pub run: WriteArgs,
    /// Rows per bulk write, for targets that write in bulk (Alumio) [default: the target's, else 50].
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// Directory for the journal, its lock and its history [default: .roster/ beside the roster].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Start a new run even when the last one was interrupted (its records move to the history).
    #[arg(long, conflicts_with = "only_failed")]
    pub fresh: bool,
    /// Send only the rows that failed in the last run, whether it ended or was interrupted.
    #[arg(long)]
    pub only_failed: bool,
    /// Do not ask for confirmation before writing: before deleting (--prune), or before adding
    /// more than 10 members to Alumio spaces, which emails each of them. A fleet asks no
    /// questions, so these need --yes there.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// With --mode exact: also delete the assignments of the roster's spaces that the roster does
    /// not list (only spaces the roster names are touched; asks first unless --yes, which a fleet
    /// needs).
    #[arg(long)]
    pub prune: bool,
    /// With --prune: refuse to go on when the plan deletes more than this many assignments (for
    /// a fleet, each tenant's plan: a tenant past it gets nothing sent).
    #[arg(long, value_name = "N", default_value_t = 10, requires = "prune")]
    pub max_deletes: usize,
    /// Where to send.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Several tenants at once.
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// `roster demo`: `roster apply` twice against a simulated tenant on loopback.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Working directory for the roster copy, the journal and the failed-rows CSV [default: a new
    /// directory under the system's temp dir].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Tenant file [default: data/tenant-large.json, else the copy built into roster].
    #[arg(long, value_name = "PATH")]
    pub tenant: Option<PathBuf>,
    /// Roster to apply [default: data/demo-roster.csv, else the copy built into roster].
    #[arg(long, value_name = "PATH")]
    pub roster: Option<PathBuf>,
    /// Writes per minute the simulated tenant accepts (the real limit is 100); sets how long the
    /// demo takes.
    #[arg(long, value_name = "N", default_value_t = 3000)]
    pub write_rate: u32,
    /// Reads per minute the simulated tenant accepts (the real limit is 1000).
    #[arg(long, value_name = "N", default_value_t = 6000)]
    pub read_rate: u32,
    /// Probability of a 500 and of a 503 on each request (dropped connections half as often).
    #[arg(long, value_name = "P", default_value_t = 0.01)]
    pub fault_rate: f64,
    /// Simulated latency of each response, in milliseconds (plus up to twice as much at random).
    #[arg(long, value_name = "MS", default_value_t = 15)]
    pub latency_ms: u64,
    /// Seed for the simulator's latency and faults.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Pass --quiet to both applies: only their summaries, no progress.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Apply to a fleet of N simulated tenants at once instead of one (a smaller tenant and
    /// roster each, two of them broken on purpose).
    #[arg(long, value_name = "N")]
    pub fleet: Option<usize>,
}

const EXPORT_EXAMPLES: &str = "\
Examples:
  roster export --from prod -o prod.csv
  roster export --from prod --space Finance --space 604f1a2b -o finance.csv
  roster export --from qlik:acme --type shared,managed -o acme.csv
  roster export --from prod --space Finance -o -     # who is in Finance, on the terminal

The file is a roster (space, type, assignee, roles) with the ids in the extra columns space_id
and assignee_id; space owners are listed as `# owner of SPACE: EMAIL` comment lines. Applied back
to the same tenant it changes nothing. The file appears only once complete.

Exit codes:
  0    the file was written
  2    usage, configuration or output error, or a tenant that cannot be read (no file written)
  130  interrupted (no file written)

Fleets: when --from names several tenants (a comma list, a glob, a fleet), each is exported with
the same flags, --tenants-in-flight at a time, to a file of its own: -o DIR writes DIR/NAME.csv,
and a path with {name} in it names each file (-o 'exports/{name}.csv'); `-` is refused.
--concurrency counts each tenant's listings. Exit 1 when some tenant's file was not written.

Environment: see `roster plan --help`.";

const MIGRATE_EXAMPLES: &str = "\
Examples:
  roster migrate --from old --to new --plan
  roster migrate --from old --to new --create-missing-spaces --create-missing-groups
  roster migrate --from old --to new --space-rename 'EU *' --identity-map people.csv
  roster migrate --from qlik-prod --to alumio-prod --role-map roles.toml

--space-rename: PREFIX* adds a prefix, *SUFFIX a suffix, PREFIX*SUFFIX both (the * stands for
the source name); @FILE.csv reads a source,target map (unlisted names stay).
--identity-map: a CSV with source,target columns of emails (or subjects) and group names.
--role-map: TOML; [roles] for every space, [shared] [managed] [data] by the target space's type:
  [roles]
  codeveloper = \"producer\"
  [managed]
  producer = [\"contributor\", \"publisher\"]
Qlik to Alumio starts from consumer, dataconsumer, basicconsumer -> ROLE_USER; producer,
contributor, publisher, codeveloper -> ROLE_EDITOR; facilitator -> ROLE_ADMINISTRATOR.

The target flags (--server, key sources, rates, TLS) apply to the destination, --to; the source,
--from, is a target of roster.toml or a qlik-cli context, with its own settings.

Rerunning the same command resumes a run that was cut short (journal in the state directory,
.roster/ by default); after a run that ended it starts a new one, planned against the target as it
is now. One run at a time per journal: a second one refuses (exit 2) while another uses it.

Exit codes:
  0    every row ok (with --plan: no row has an error)
  1    some rows failed, the failed-rows CSV was written (with --plan: some rows have errors)
  2    usage, configuration or input error, a tenant that cannot be read, or a journal in use by
       another run (nothing was sent)
  130  interrupted (rerun the same command to resume)

Environment: see `roster plan --help`.";

/// Which spaces of a source export and migrate read: `--space` and `--type`.
#[derive(Debug, Clone, Default, Args)]
pub struct SpaceArgs {
    /// Only these spaces, by name or id (repeat the flag for several) [default: every space].
    #[arg(long = "space", value_name = "NAME_OR_ID")]
    pub spaces: Vec<String>,
    /// Only spaces of these types (shared, managed, data), comma-separated.
    #[arg(long = "type", value_name = "TYPES", value_delimiter = ',')]
    pub types: Vec<String>,
}

/// `roster export`: a tenant's assignments as a roster.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Which spaces.
    #[command(flatten)]
    pub selection: SpaceArgs,
    /// The roster file to write, or `-` for standard output. A file is replaced only once the
    /// export is complete; a FIFO or device (e.g. /dev/stdout) is written in place. For several
    /// tenants: a directory (DIR/NAME.csv), or a path with {name} in it.
    #[arg(long, short = 'o', value_name = "FILE.csv")]
    pub output: PathBuf,
    /// Space listings in flight at once [default: the target's, else 8].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Print only the summary (no progress).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// The source, named with --from (or --server), and how to reach it.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Several tenants at once.
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// `roster migrate`: assignments from one tenant to another.
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    /// Source: a target name from roster.toml, or `qlik:CONTEXT`.
    #[arg(long, value_name = "NAME")]
    pub from: String,
    /// Which source spaces.
    #[command(flatten)]
    pub selection: SpaceArgs,
    /// CSV with source,target columns: emails (or subjects) and group names to map differently.
    #[arg(long, value_name = "FILE.csv")]
    pub identity_map: Option<PathBuf>,
    /// TOML rules for roles (see below); Qlik to Alumio starts from the default map.
    #[arg(long, value_name = "FILE.toml")]
    pub role_map: Option<PathBuf>,
    /// Rename spaces on the way: PREFIX*, *SUFFIX, PREFIX*SUFFIX, or @FILE.csv.
    #[arg(long, value_name = "PATTERN")]
    pub space_rename: Option<String>,
    /// Create target spaces that do not exist, with the source's type and description.
    #[arg(long)]
    pub create_missing_spaces: bool,
    /// Create target groups that do not exist (providerType custom).
    #[arg(long)]
    pub create_missing_groups: bool,
    /// Show the mapping and the whole plan, and write nothing.
    #[arg(long)]
    pub plan: bool,
    /// How the mapped roster is compared, and how many writes at once.
    #[command(flatten)]
    pub run: WriteArgs,
    /// Directory for the mapped roster, the journal and the failed rows [default: .roster].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Ignore the journal of earlier runs and start over.
    #[arg(long)]
    pub fresh: bool,
    /// Do not ask for confirmation before writing: before adding more than 10 members to Alumio
    /// spaces, which emails each of them.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// The destination (--to or --server) and how to reach it.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

const RUNS_EXAMPLES: &str = "\
Examples:
  roster runs                        # every run in ./.roster, oldest first
  roster runs --to prod --state-dir /var/lib/roster
  roster runs show 5d1c09e2          # its rows and outcomes (a unique prefix of the id is enough)
  roster runs show 5d1c --outcome failed --space Finance
  roster runs show 5d1c --json > rows.json
  roster runs show 5d1c --html report.html   # one file; open it in any browser

The state directory keeps each target's current run and its last 10 runs (.roster/history/).

Exit codes:
  0    listed (or the report written)
  2    usage error, no such run, or a journal that cannot be read";

const UNDO_EXAMPLES: &str = "\
Examples:
  roster undo 5d1c09e2 --to prod             # shows the plan, asks, then writes
  roster undo 5d1c09e2 --to prod --yes       # no question (needed without a terminal)
  roster undo 5d1c09e2 --to prod --force     # also rows changed since the run

Each change of the run is reversed from the before-state it recorded before writing: a created
assignment is deleted, changed roles are restored, a deleted assignment is created again. A row
whose assignment has changed since the run (its roles are no longer what the run left) is a
conflict: skipped and listed (!), unless --force. Targets that cannot remove a member (Alumio)
list the creates they cannot undo. The undo runs like apply (same limits, journal, progress and
failed-rows CSV in the state directory) and is itself a run that can be undone.

An interrupted run in the target's journal is never dropped by an undo: finish it first (rerun
its command, which resumes it), or pass --fresh. Undoing the interrupted run itself is allowed:
its recorded changes are reversed and it is closed (never resumed).

--json prints one JSON object per line: the plan as `plan --json` prints it, with
\"event\": \"plan\" and the run it undoes, then the run's events as `apply --json` prints them.

Exit codes:
  0    every change undone (or nothing to undo)
  1    some rows failed, conflict or cannot be undone (the failed-rows CSV was written)
  2    usage or configuration error, no such run, another run interrupted in the journal, a
       tenant that cannot be read, no --yes without a terminal, or the answer was no (nothing
       was sent)
  130  interrupted (run the undo again: what is undone already is left alone)

Environment: see `roster plan --help`.";

/// `roster runs`: the runs a state directory holds.
#[derive(Debug, Clone, Args)]
pub struct RunsArgs {
    /// Show one run.
    #[command(subcommand)]
    pub command: Option<RunsCommand>,
    /// Only runs against this target (the name the runs were given with --to).
    #[arg(long, short = 't', value_name = "NAME")]
    pub to: Option<String>,
    /// The state directory [default: .roster in the current directory].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Print JSON on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What `roster runs` does beyond listing.
#[derive(Debug, Clone, Subcommand)]
pub enum RunsCommand {
    /// One run's rows and outcomes, or its HTML report with --html.
    Show(RunsShowArgs),
}

/// A row outcome, as `--outcome` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutcomeArg {
    /// Created assignments.
    Created,
    /// Updated roles.
    Updated,
    /// Rows that needed nothing.
    Unchanged,
    /// Deleted assignments.
    Deleted,
    /// Failed rows.
    Failed,
}

/// `roster runs show RUN`.
#[derive(Debug, Clone, Args)]
pub struct RunsShowArgs {
    /// The run's id, or a prefix of it that names one run.
    #[arg(value_name = "RUN")]
    pub run: String,
    /// Only runs against this target.
    #[arg(long, short = 't', value_name = "NAME")]
    pub to: Option<String>,
    /// The state directory [default: .roster in the current directory].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Only rows with these outcomes (repeat or comma-separate).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "OUTCOME")]
    pub outcome: Vec<OutcomeArg>,
    /// Only rows of these spaces, by name (repeat for several).
    #[arg(long, value_name = "NAME")]
    pub space: Vec<String>,
    /// Print JSON on stdout instead of text.
    #[arg(long, conflicts_with = "html")]
    pub json: bool,
    /// Write the run's report to this HTML file (self-contained: open it in a browser).
    #[arg(long, value_name = "FILE.html")]
    pub html: Option<PathBuf>,
}

/// `roster undo RUN`: reverse a run's changes.
#[derive(Debug, Clone, Args)]
pub struct UndoArgs {
    /// The run's id, or a prefix of it that names one run (see `roster runs`).
    #[arg(value_name = "RUN")]
    pub run: String,
    /// The state directory holding the run [default: .roster in the current directory].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Do not ask before writing (required when standard input is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Also reverse rows whose assignment changed since the run (overwrites that later work).
    #[arg(long)]
    pub force: bool,
    /// Undo even when the target's journal holds another run that was interrupted (its records
    /// move to the history and it can no longer be resumed).
    #[arg(long)]
    pub fresh: bool,
    /// Rows in flight at once [default: the target's, else 8].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Where to send.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}
