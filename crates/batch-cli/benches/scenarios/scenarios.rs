//! The eight scenarios of the performance bar. Each starts its own `roster sim`, runs `roster`
//! as a measured child process, and compares what it saw with the ideal or the bar.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::measure::{self, Usage};
use crate::peer;
use crate::report::{Figure, Outcome, Status};
use crate::sim::{FleetSim, SimProcess, Stats};
use crate::workload::{Layout, Workload};

// A child module, so that it shares the scenarios' private helpers.
#[path = "undo.rs"]
mod undo;

/// The environment variable the API key reaches `roster` through.
const KEY_VAR: &str = "ROSTER_BENCH_API_KEY";

/// Scenario names, by number.
pub const NAMES: [&str; 13] = [
    "rate-bound",
    "latency-bound",
    "client cost",
    "scale (plan)",
    "resume",
    "faults",
    "peer baseline",
    "rerun (ended)",
    "burst (in budget)",
    "burst (4 budgets)",
    "tenant configuration",
    "fleet",
    "undo",
];

/// What every scenario needs.
pub struct Ctx {
    /// The `roster` binary under test.
    pub roster: PathBuf,
    /// Work directory for tenants, rosters, journals and logs.
    pub dir: PathBuf,
    /// Scaled-down sizes.
    pub quick: bool,
    /// Scenario 1's run, for scenario 7 to stand beside.
    pub rate_bound: Option<PeerFigures>,
}

/// A run's time, 429s and failed rows, for the peer comparison.
#[derive(Debug, Clone, Copy)]
pub struct PeerFigures {
    /// Wall time.
    pub wall: Duration,
    /// 429s the simulator sent.
    pub rate_limited: u64,
    /// Rows that did not end done.
    pub failed_rows: u64,
    /// Requests sent.
    pub requests: u64,
}

impl Ctx {
    /// `full` normally, `quick` with `--quick`.
    fn size(&self, full: usize, quick: usize) -> usize {
        if self.quick { quick } else { full }
    }

    fn sim(&self, name: &str, tenant: &Path, flags: &[&str]) -> Result<SimProcess> {
        let flags: Vec<String> = flags.iter().map(|f| (*f).to_owned()).collect();
        SimProcess::start(
            &self.roster,
            tenant,
            &flags,
            &self.dir.join(format!("{name}.sim.log")),
        )
    }

    /// Run `roster ARGS --server URL --api-key-env VAR` measured; stdout and stderr go to
    /// `NAME.out` and `NAME.err`.
    fn roster(&self, name: &str, sim: &SimProcess, args: &[&str], deadline: Duration) -> Result<Usage> {
        let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        all.extend([
            "--server".to_owned(),
            sim.url.clone(),
            "--api-key-env".to_owned(),
            KEY_VAR.to_owned(),
        ]);
        measure::measure(&measure::Run {
            program: &self.roster,
            args: all,
            env: vec![(KEY_VAR.to_owned(), sim.key.clone())],
            stdout: self.dir.join(format!("{name}.out")),
            stderr: self.dir.join(format!("{name}.err")),
            dir: &self.dir,
            deadline,
        })
    }

    /// `roster apply ROSTER --yes --quiet FLAGS` against `sim`.
    fn apply(
        &self,
        name: &str,
        sim: &SimProcess,
        roster: &Path,
        flags: &[&str],
        deadline: Duration,
    ) -> Result<Usage> {
        let roster = roster.to_string_lossy();
        let mut args = vec!["apply", roster.as_ref(), "--yes", "--quiet"];
        args.extend_from_slice(flags);
        self.roster(name, sim, &args, deadline)
    }

    /// The last lines of a run's stderr, for a note when something went wrong.
    fn tail(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.dir.join(format!("{name}.err"))).unwrap_or_default();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(3)..].join(" | ")
    }
}

/// Run scenario `id`.
pub fn run(ctx: &mut Ctx, id: u8) -> Outcome {
    let name = NAMES
        .get(usize::from(id).wrapping_sub(1))
        .copied()
        .unwrap_or("unknown");
    let result = match id {
        1 => rate_bound(ctx),
        2 => latency_bound(ctx),
        3 => client_cost(ctx),
        4 => scale(ctx),
        5 => resume(ctx),
        6 => faults(ctx),
        7 => peer_baseline(ctx),
        8 => rerun_ended(ctx),
        9 => burst_in_budget(ctx),
        10 => burst_budgets(ctx),
        11 => tenant_config(ctx),
        12 => fleet(ctx),
        13 => undo::undo(ctx),
        _ => Err(anyhow::anyhow!("there is no scenario {id} (1 to 13)")),
    };
    match result {
        Ok(outcome) => outcome.settle(),
        Err(error) => {
            let mut outcome = Outcome::new(id, name);
            outcome.status = Status::Error;
            outcome.note(format!("error: {error:#}"));
            outcome
        }
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

/// CPU, memory and exit code of a run, for the JSON output and a note.
fn usage_details(outcome: &mut Outcome, usage: &Usage) {
    outcome.detail("wall_s", secs(usage.wall));
    outcome.detail("cpu_s", secs(usage.cpu()));
    outcome.detail("user_s", secs(usage.user));
    outcome.detail("sys_s", secs(usage.sys));
    outcome.detail("max_rss_mb", mb(usage.max_rss));
    outcome.detail("exit_code", usage.code);
}

/// `every row done`: exit code 0 and the simulator applied one write per row.
fn check_done(outcome: &mut Outcome, usage: &Usage, stats: &Stats, rows: usize) {
    let written = stats.assignees_written();
    outcome.check(
        "every row done",
        format!("exit {}, {written} of {rows} assigned", code(usage)),
        "exit 0, all assigned",
        usage.code == Some(0) && written == rows as u64,
    );
}

fn code(usage: &Usage) -> String {
    usage
        .code
        .map_or_else(|| "by signal".to_owned(), |c| c.to_string())
}

/// Limits, latency and concurrency for a create run.
struct CreateRun<'a> {
    sim_flags: &'a [&'a str],
    client_flags: &'a [&'a str],
    deadline: Duration,
}

/// Start a simulator on `workload`'s tenant and apply its roster; returns the run and the
/// simulator's counters after it.
fn creates(ctx: &Ctx, name: &str, workload: Workload, run: &CreateRun<'_>) -> Result<(Usage, Stats)> {
    let (tenant, roster) = workload.write(&ctx.dir, name)?;
    let sim = ctx.sim(name, &tenant, run.sim_flags)?;
    let usage = ctx.apply(name, &sim, &roster, run.client_flags, run.deadline)?;
    let stats = sim.stats()?;
    Ok((usage, stats))
}

/// Scenarios 1 and 7 measure steady pacing at the limit: the simulator paces strictly (no
/// window, `--window-secs 1`) and so does the client (`--pace steady`). With Qlik's window the
/// 3,000 writes would be one budget and go out at the speed of latency (scenario 9 measures that).
const RATE_SIM: &[&str] = &[
    "--tier1-per-min",
    "30000",
    "--tier2-per-min",
    "3000",
    "--window-secs",
    "1",
    "--latency-ms",
    "10",
    "--jitter-ms",
    "20",
];
const RATE_CLIENT: &[&str] = &[
    "--concurrency",
    "16",
    "--tier1-per-min",
    "30000",
    "--tier2-per-min",
    "3000",
    "--pace",
    "steady",
];

fn rate_workload(ctx: &Ctx) -> Workload {
    Workload {
        rows: ctx.size(3000, 600),
        spaces: ctx.size(100, 20),
        layout: Layout::Spread,
        assigned: false,
    }
}

/// Scenario 1: Writes at Tier 2's 3,000/min with 20 ± 10 ms latency: the rate limit is the bottleneck.
fn rate_bound(ctx: &mut Ctx) -> Result<Outcome> {
    let mut outcome = Outcome::new(1, NAMES[0]);
    let w = rate_workload(ctx);
    let (usage, stats) = creates(
        ctx,
        "s1-rate",
        w,
        &CreateRun {
            sim_flags: RATE_SIM,
            client_flags: RATE_CLIENT,
            deadline: Duration::from_secs(600),
        },
    )?;
    let ideal = w.rows as f64 * 60.0 / 3000.0;
    let wall = secs(usage.wall);
    let ratio = ideal / wall;
    let per_row = stats.qlik_requests() as f64 / w.rows as f64;
    outcome.measured = Some(Figure::secs(wall));
    outcome.ideal = Some(Figure::secs(ideal));
    outcome.ratio = Some(ratio);
    outcome.ratio_is = "achieved/ideal";
    outcome.check("achieved/ideal", format!("{ratio:.3}"), ">= 0.95", ratio >= 0.95);
    outcome.check(
        "429s received",
        stats.rate_limited.to_string(),
        "0",
        stats.rate_limited == 0,
    );
    outcome.check(
        "HTTP requests per row",
        format!(
            "{per_row:.3} ({} requests, {} rows)",
            stats.qlik_requests(),
            w.rows
        ),
        "<= 1.05",
        per_row <= 1.05,
    );
    check_done(&mut outcome, &usage, &stats, w.rows);
    usage_details(&mut outcome, &usage);
    outcome.detail("rows", w.rows);
    outcome.detail("requests", stats.qlik_requests());
    outcome.detail("writes", stats.qlik_writes());
    outcome.detail("rate_limited", stats.rate_limited);
    outcome.note(format!(
        "{} rows over {} spaces; {} reads + {} writes; client CPU {:.2} s, peak RSS {:.0} MB",
        w.rows,
        w.spaces,
        stats.qlik_requests() - stats.qlik_writes(),
        stats.qlik_writes(),
        secs(usage.cpu()),
        mb(usage.max_rss)
    ));
    if usage.code != Some(0) {
        outcome.note(format!("stderr: {}", ctx.tail("s1-rate")));
    }
    ctx.rate_bound = Some(PeerFigures {
        wall: usage.wall,
        rate_limited: stats.rate_limited,
        failed_rows: (w.rows as u64).saturating_sub(stats.assignees_written()),
        requests: stats.qlik_requests(),
    });
    Ok(outcome)
}

/// Scenario 2: No rate limit, 100 ms latency, 64 in flight: latency is the bottleneck.
fn latency_bound(ctx: &mut Ctx) -> Result<Outcome> {
    let mut outcome = Outcome::new(2, NAMES[1]);
    let w = Workload {
        rows: ctx.size(5000, 1000),
        spaces: ctx.size(100, 20),
        layout: Layout::Spread,
        assigned: false,
    };
    let concurrency = 64;
    let latency = 0.1;
    let (usage, stats) = creates(
        ctx,
        "s2-latency",
        w,
        &CreateRun {
            sim_flags: &[
                "--tier1-per-min",
                "0",
                "--tier2-per-min",
                "0",
                "--latency-ms",
                "100",
            ],
            client_flags: &[
                "--concurrency",
                "64",
                "--tier1-per-min",
                "0",
                "--tier2-per-min",
                "0",
            ],
            deadline: Duration::from_secs(300),
        },
    )?;
    let ideal = w.rows as f64 * latency / f64::from(concurrency);
    let wall = secs(usage.wall);
    let ratio = ideal / wall;
    outcome.measured = Some(Figure::secs(wall));
    outcome.ideal = Some(Figure::secs(ideal));
    outcome.ratio = Some(ratio);
    outcome.ratio_is = "achieved/ideal";
    outcome.check("achieved/ideal", format!("{ratio:.3}"), ">= 0.95", ratio >= 0.95);
    check_done(&mut outcome, &usage, &stats, w.rows);
    usage_details(&mut outcome, &usage);
    outcome.detail("rows", w.rows);
    outcome.detail("requests", stats.qlik_requests());
    outcome.note(format!(
        "{} rows over {} spaces; {} requests ({} reads)",
        w.rows,
        w.spaces,
        stats.qlik_requests(),
        stats.qlik_requests() - stats.qlik_writes()
    ));
    if usage.code != Some(0) {
        outcome.note(format!("stderr: {}", ctx.tail("s2-latency")));
    }
    Ok(outcome)
}

/// Scenario 3: No limit, no latency: what the client itself costs per row.
fn client_cost(ctx: &mut Ctx) -> Result<Outcome> {
    let mut outcome = Outcome::new(3, NAMES[2]);
    let w = Workload {
        rows: ctx.size(20_000, 4000),
        spaces: 100,
        layout: Layout::Spread,
        assigned: false,
    };
    let (usage, stats) = creates(
        ctx,
        "s3-cost",
        w,
        &CreateRun {
            sim_flags: &["--tier1-per-min", "0", "--tier2-per-min", "0"],
            client_flags: &[
                "--concurrency",
                "16",
                "--tier1-per-min",
                "0",
                "--tier2-per-min",
                "0",
            ],
            deadline: Duration::from_secs(300),
        },
    )?;
    let per_row_us = usage.cpu().as_secs_f64() * 1e6 / w.rows as f64;
    let rss = mb(usage.max_rss);
    outcome.measured = Some(Figure {
        value: per_row_us,
        unit: "µs/row",
    });
    outcome.ideal = Some(Figure {
        value: 50.0,
        unit: "µs/row",
    });
    outcome.reference = "bar";
    outcome.ratio = Some(per_row_us / 50.0);
    outcome.ratio_is = "measured/bar";
    outcome.check(
        "CPU per row (user+sys)",
        format!("{per_row_us:.1} µs"),
        "< 50 µs",
        per_row_us < 50.0,
    );
    outcome.check("peak RSS", format!("{rss:.1} MB"), "< 100 MB", rss < 100.0);
    check_done(&mut outcome, &usage, &stats, w.rows);
    usage_details(&mut outcome, &usage);
    outcome.detail("rows", w.rows);
    outcome.detail("cpu_us_per_row", per_row_us);
    outcome.note(format!(
        "{} rows over {} spaces in {:.2} s; CPU user {:.2} s + sys {:.2} s",
        w.rows,
        w.spaces,
        secs(usage.wall),
        secs(usage.user),
        secs(usage.sys)
    ));
    if usage.code != Some(0) {
        outcome.note(format!("stderr: {}", ctx.tail("s3-cost")));
    }
    Ok(outcome)
}

/// A duration as `roster plan -v` prints it: Rust's `{:?}` form (`1.2s`, `345.6ms`, `80µs`).
fn duration_secs(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "s" => 1.0,
        "ms" => 1e-3,
        "µs" | "us" => 1e-6,
        "ns" => 1e-9,
        _ => return None,
    };
    Some(number * scale)
}

/// The time split `roster plan -v` prints, in seconds: parse (`roster: parsed N rows in 1.2s`,
/// plus the plan's `read`, which collects the names), resolve and diff (from `plan: read 80ms,
/// resolve 3.1s, diff 400ms`).
fn plan_timings(stderr: &str) -> Option<(f64, f64, f64)> {
    let mut parse = stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("roster: parsed "))
        .filter_map(|rest| rest.split_once(" in ").and_then(|(_, d)| duration_secs(d)))
        .sum::<f64>();
    let line = stderr.lines().rev().find(|l| {
        let l = l.trim_start();
        l.starts_with("plan:") && l.contains("resolve") && l.contains("diff")
    })?;
    let (mut resolve, mut diff) = (None, None);
    for field in line.trim_start().trim_start_matches("plan:").split(',') {
        let Some((name, value)) = field.trim().split_once(' ') else {
            continue;
        };
        let value = duration_secs(value)?;
        match name {
            "parse" | "read" => parse += value,
            "resolve" => resolve = Some(value),
            "diff" => diff = Some(value),
            _ => {}
        }
    }
    Some((parse, resolve?, diff?))
}

/// Scenario 4: A million rows already in place: `roster plan` must read, resolve and diff them fast.
fn scale(ctx: &mut Ctx) -> Result<Outcome> {
    let mut outcome = Outcome::new(4, NAMES[3]);
    let w = Workload {
        rows: ctx.size(1_000_000, 100_000),
        spaces: ctx.size(1000, 100),
        layout: Layout::Grid,
        assigned: true,
    };
    let (tenant, roster) = w.write(&ctx.dir, "s4-scale")?;
    let sim = ctx.sim(
        "s4-scale",
        &tenant,
        &["--tier1-per-min", "0", "--tier2-per-min", "0"],
    )?;
    let roster = roster.to_string_lossy();
    let usage = ctx.roster(
        "s4-scale",
        &sim,
        &[
            "plan",
            roster.as_ref(),
            "-v",
            "--concurrency",
            "16",
            "--tier1-per-min",
            "0",
            "--tier2-per-min",
            "0",
        ],
        Duration::from_secs(300),
    )?;
    let stats = sim.stats()?;
    let wall = secs(usage.wall);
    let rss = mb(usage.max_rss);
    outcome.measured = Some(Figure::secs(wall));
    outcome.ideal = Some(Figure::secs(20.0));
    outcome.reference = "bar";
    outcome.ratio = Some(wall / 20.0);
    outcome.ratio_is = "measured/bar";
    outcome.check("plan time", format!("{wall:.2} s"), "< 20 s", wall < 20.0);
    outcome.check("peak RSS", format!("{rss:.0} MB"), "< 600 MB", rss < 600.0);
    outcome.check(
        "all unchanged",
        format!("exit {}, {} writes", code(&usage), stats.qlik_writes()),
        "exit 0, 0 writes",
        usage.code == Some(0) && stats.qlik_writes() == 0,
    );
    usage_details(&mut outcome, &usage);
    outcome.detail("rows", w.rows);
    outcome.detail("requests", stats.qlik_requests());
    let stderr = std::fs::read_to_string(ctx.dir.join("s4-scale.err")).unwrap_or_default();
    match plan_timings(&stderr) {
        Some((parse, resolve, diff)) => {
            outcome.detail(
                "split_s",
                serde_json::json!({"parse": parse, "resolve": resolve, "diff": diff}),
            );
            let rest = (wall - parse - resolve - diff).max(0.0);
            outcome.detail("output_and_exit_s", rest);
            outcome.note(format!(
                "split: parse {parse:.2} s, resolve {resolve:.2} s, diff {diff:.2} s, printing the plan \
                 and exit {rest:.2} s; {} rows, {} spaces x {} users; {} requests; CPU {:.2} s",
                w.rows,
                w.spaces,
                w.users(),
                stats.qlik_requests(),
                secs(usage.cpu())
            ));
        }
        None => {
            outcome.note("split: roster plan -v printed no `plan: ... resolve ..., diff ...` line".to_owned())
        }
    }
    if usage.code != Some(0) {
        outcome.note(format!("stderr: {}", ctx.tail("s4-scale")));
    }
    Ok(outcome)
}

/// The flags of scenarios 5 and 8: no limits, 32 in flight, the journal in `STATE`.
fn unpaced_flags(state: &Path) -> Vec<String> {
    let mut flags: Vec<String> = [
        "--concurrency",
        "32",
        "--tier1-per-min",
        "0",
        "--tier2-per-min",
        "0",
        "--state-dir",
    ]
    .iter()
    .map(|f| (*f).to_owned())
    .collect();
    flags.push(state.to_string_lossy().into_owned());
    flags
}

/// Apply `w`'s roster once against `sim`, unmeasured, and fail unless every row was done.
fn first_run(
    ctx: &Ctx,
    name: &str,
    sim: &SimProcess,
    roster: &Path,
    w: &Workload,
    flags: &[&str],
) -> Result<Usage> {
    let first = ctx.apply(name, sim, roster, flags, Duration::from_secs(600))?;
    let stats = sim.stats()?;
    if first.code != Some(0) || stats.assignees_written() != w.rows as u64 {
        bail!(
            "the first run did not finish (exit {}, {} of {} assigned): {}",
            code(&first),
            stats.assignees_written(),
            w.rows,
            ctx.tail(name)
        );
    }
    Ok(first)
}

/// A 100,000-row grid roster applied once to its end against an unlimited simulator, with its
/// journal in `state`: what the resume and rerun scenarios start from.
struct AppliedOnce {
    w: Workload,
    roster: PathBuf,
    sim: SimProcess,
    flags: Vec<String>,
    first: Usage,
}

/// Write the workload and tenant as `{scenario}-{what}`, start its simulator and run the first,
/// unmeasured apply (`{scenario}-first-run`), which does the work and fills the journal.
fn applied_once(ctx: &mut Ctx, scenario: &str, what: &str, state: &Path) -> Result<AppliedOnce> {
    let w = Workload {
        rows: ctx.size(100_000, 20_000),
        spaces: 100,
        layout: Layout::Grid,
        assigned: false,
    };
    let name = format!("{scenario}-{what}");
    let (tenant, roster) = w.write(&ctx.dir, &name)?;
    let sim = ctx.sim(&name, &tenant, &["--tier1-per-min", "0", "--tier2-per-min", "0"])?;
    let flags = unpaced_flags(state);
    let borrowed: Vec<&str> = flags.iter().map(String::as_str).collect();
    let first = first_run(
        ctx,
        &format!("{scenario}-first-run"),
        &sim,
        &roster,
        &w,
        &borrowed,
    )?;
    Ok(AppliedOnce {
        w,
        roster,
        sim,
        flags,
        first,
    })
}

/// The journal in a state directory (the only `journal-*.jsonl` there).
fn journal_in(state: &Path) -> Result<PathBuf> {
    std::fs::read_dir(state)
        .with_context(|| format!("read {}", state.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("journal-") && n.ends_with(".jsonl"))
        })
        .with_context(|| format!("no journal in {}", state.display()))
}

/// Scenario 5: every row of an interrupted run already done in the journal (the run was killed
/// after its last record, before its end marker): the rerun must send nothing and finish fast.
fn resume(ctx: &mut Ctx) -> Result<Outcome> {
    let mut outcome = Outcome::new(5, NAMES[4]);
    let state = ctx.dir.join("s5-state");
    let AppliedOnce {
        w,
        roster,
        sim,
        flags,
        first,
    } = applied_once(ctx, "s5", "resume", &state)?;
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    // Without its end marker the run reads as one cut short after its last row.
    let journal = journal_in(&state)?;
    let text = std::fs::read_to_string(&journal).with_context(|| format!("read {}", journal.display()))?;
    let cut: String = text
        .lines()
        .filter(|l| !l.starts_with("{\"end\":"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&journal, cut).with_context(|| format!("write {}", journal.display()))?;
    let before = sim.stats()?;
    let usage = ctx.apply("s5-resume", &sim, &roster, &flags, Duration::from_secs(120))?;
    let after = sim.stats()?;
    let writes = after.qlik_writes() - before.qlik_writes();
    let requests = after.qlik_requests() - before.qlik_requests();
    let wall = secs(usage.wall);
    outcome.measured = Some(Figure::secs(wall));
    outcome.ideal = Some(Figure::secs(3.0));
    outcome.reference = "bar";
    outcome.ratio = Some(wall / 3.0);
    outcome.ratio_is = "measured/bar";
    outcome.check("rerun time", format!("{wall:.2} s"), "< 3 s", wall < 3.0);
    outcome.check("writes sent", writes.to_string(), "0", writes == 0);
    outcome.check("exit code", code(&usage), "0", usage.code == Some(0));
    usage_details(&mut outcome, &usage);
    outcome.detail("rows", w.rows);
    outcome.detail("requests", requests);
    outcome.detail("first_run_s", secs(first.wall));
    outcome.note(format!(
        "{} rows; the rerun sent {requests} requests; peak RSS {:.0} MB; the first run took {:.1} s",
        w.rows,
        mb(usage.max_rss),
        secs(first.wall)
    ));
    Ok(outcome)
}

/// Scenario 8: the same roster applied again after a run that ended, nothing changed in the
/// tenant: a new run that plans every row against the tenant, sends zero writes and no more
/// reads than `roster plan` of the same roster.
fn rerun_ended(ctx: &mut Ctx) -> Result<Outcome> {
    let mut outcome = Outcome::new(8, NAMES[7]);
    let AppliedOnce {
        w,
        roster,
        sim,
        flags,
        ..
    } = applied_once(ctx, "s8", "rerun", &ctx.dir.join("s8-state"))?;
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();

    // What `roster plan` reads for this roster, for comparison.
    let roster_arg = roster.to_string_lossy();
    let before_plan = sim.stats()?;
    let plan = ctx.roster(
        "s8-plan",
        &sim,
        &[
            "plan",
            roster_arg.as_ref(),
            "--quiet",
            "--concurrency",
            "32",
            "--tier1-per-min",
            "0",
            "--tier2-per-min",
            "0",
        ],
        Duration::from_secs(120),
    )?;
    let before = sim.stats()?;
    let plan_reads = before.qlik_requests() - before_plan.qlik_requests();

    let usage = ctx.apply("s8-rerun", &sim, &roster, &flags, Duration::from_secs(120))?;
    let after = sim.stats()?;
    let writes = after.qlik_writes() - before.qlik_writes();
    let reads = after.qlik_requests() - before.qlik_requests() - writes;
    let wall = secs(usage.wall);
    outcome.measured = Some(Figure::secs(wall));
    outcome.check("writes sent", writes.to_string(), "0", writes == 0);
    outcome.check(
        "reads",
        format!("{reads} (roster plan: {plan_reads})"),
        "<= roster plan's",
        reads <= plan_reads && plan.code == Some(0),
    );
    outcome.check("exit code", code(&usage), "0", usage.code == Some(0));
    usage_details(&mut outcome, &usage);
    outcome.detail("rows", w.rows);
    outcome.detail("reads", reads);
    outcome.detail("plan_reads", plan_reads);
    outcome.detail("plan_s", secs(plan.wall));
    outcome.note(format!(
        "{} rows over {} spaces already in place; the rerun sent {reads} reads and {writes} writes \
         (`roster plan` of the roster: {plan_reads} reads, {:.2} s); peak RSS {:.0} MB",
        w.rows,
        w.spaces,
        secs(plan.wall),
        mb(usage.max_rss)
    ));
    Ok(outcome)
}

/// Scenario 6: 5% 500/503, 1% resets, 1% responses slower than the client's timeout, with lost
/// responses (the write is applied before the fault): every row must end done, created once.
fn faults(ctx: &mut Ctx) -> Result<Outcome> {
    let mut outcome = Outcome::new(6, NAMES[5]);
    let w = Workload {
        rows: ctx.size(5000, 1000),
        spaces: ctx.size(100, 20),
        layout: Layout::Spread,
        assigned: false,
    };
    let base = [
        "--tier1-per-min",
        "0",
        "--tier2-per-min",
        "0",
        "--latency-ms",
        "10",
        "--jitter-ms",
        "20",
    ];
    let client = [
        "--concurrency",
        "16",
        "--tier1-per-min",
        "0",
        "--tier2-per-min",
        "0",
        "--timeout-secs",
        "1",
    ];
    let (clean, clean_stats) = creates(
        ctx,
        "s6-fault-free",
        w,
        &CreateRun {
            sim_flags: &base,
            client_flags: &client,
            deadline: Duration::from_secs(300),
        },
    )?;
    let mut faulty_flags = base.to_vec();
    faulty_flags.extend([
        "--fault-500",
        "0.025",
        "--fault-503",
        "0.025",
        "--fault-reset",
        "0.01",
        "--fault-slow",
        "0.01",
        "--slow-delay-ms",
        "3000",
        "--apply-before-fault",
        "--seed",
        "6",
    ]);
    let (usage, stats) = creates(
        ctx,
        "s6-faults",
        w,
        &CreateRun {
            sim_flags: &faulty_flags,
            client_flags: &client,
            deadline: Duration::from_secs(600),
        },
    )?;
    let wall = secs(usage.wall);
    let ideal = secs(clean.wall);
    outcome.measured = Some(Figure::secs(wall));
    outcome.ideal = Some(Figure::secs(ideal));
    outcome.ratio = Some(wall / ideal);
    outcome.ratio_is = "faults/fault-free";
    check_done(&mut outcome, &usage, &stats, w.rows);
    let duplicates = stats.duplicate_writes();
    outcome.check("duplicate creates", duplicates.to_string(), "0", duplicates == 0);
    if clean.code != Some(0) || clean_stats.assignees_written() != w.rows as u64 {
        outcome.check(
            "fault-free run done",
            format!("exit {}", code(&clean)),
            "exit 0",
            false,
        );
    }
    usage_details(&mut outcome, &usage);
    outcome.detail("rows", w.rows);
    outcome.detail("fault_free_s", ideal);
    outcome.detail("faults", serde_json::to_value(&stats.faults)?);
    outcome.detail("requests", stats.qlik_requests());
    let kinds: Vec<String> = stats.faults.iter().map(|(k, n)| format!("{n} {k}")).collect();
    outcome.note(format!(
        "{} rows over {} spaces; faults injected: {} ({}); {} requests vs {} fault-free",
        w.rows,
        w.spaces,
        stats.faults_injected(),
        kinds.join(", "),
        stats.qlik_requests(),
        clean_stats.qlik_requests()
    ));
    if usage.code != Some(0) {
        outcome.note(format!("stderr: {}", ctx.tail("s6-faults")));
    }
    Ok(outcome)
}

/// Scenario 7: Scenario 1's rows the way admins script it today: one `curl` pipeline per row (look the
/// space up, look the user up, create), through GNU parallel -j16 and in a sequential loop.
fn peer_baseline(ctx: &mut Ctx) -> Result<Outcome> {
    let mut outcome = Outcome::new(7, NAMES[6]);
    if let Some(missing) = peer::missing_tools() {
        outcome.status = Status::Skipped;
        outcome.note(format!(
            "skipped: {missing} not found; install them with `apt-get install parallel curl`"
        ));
        return Ok(outcome);
    }
    let w = rate_workload(ctx);
    let ideal = w.rows as f64 * 60.0 / 3000.0;
    let (tenant, roster) = w.write(&ctx.dir, "s7-peer")?;
    let scripts = peer::write_scripts(&ctx.dir, &roster).context("write the peer scripts")?;

    let mut figures = Vec::new();
    for (name, script) in [
        ("parallel -j16", &scripts.parallel),
        ("sequential", &scripts.sequential),
    ] {
        let label = if name == "sequential" {
            "s7-sequential"
        } else {
            "s7-parallel"
        };
        let sim = ctx.sim(label, &tenant, RATE_SIM)?;
        let usage = measure::measure(&measure::Run {
            program: Path::new("bash"),
            args: vec![script.to_string_lossy().into_owned()],
            env: vec![
                ("QLIK_SERVER".to_owned(), sim.url.clone()),
                ("QLIK_API_KEY".to_owned(), sim.key.clone()),
            ],
            stdout: ctx.dir.join(format!("{label}.out")),
            stderr: ctx.dir.join(format!("{label}.err")),
            dir: &ctx.dir,
            deadline: Duration::from_secs(900),
        })?;
        let stats = sim.stats()?;
        let statuses = std::fs::read_to_string(ctx.dir.join(format!("{label}.out"))).unwrap_or_default();
        let ok = statuses.lines().filter(|l| l.trim().starts_with('2')).count() as u64;
        let figure = PeerFigures {
            wall: usage.wall,
            rate_limited: stats.rate_limited,
            failed_rows: (w.rows as u64).saturating_sub(ok),
            requests: stats.qlik_requests(),
        };
        outcome.detail(
            &format!("{}_s", label.trim_start_matches("s7-")),
            secs(usage.wall),
        );
        figures.push((name, figure));
    }
    let roster_figures = match ctx.rate_bound {
        Some(f) => f,
        None => {
            let (usage, stats) = creates(
                ctx,
                "s7-roster",
                w,
                &CreateRun {
                    sim_flags: RATE_SIM,
                    client_flags: RATE_CLIENT,
                    deadline: Duration::from_secs(600),
                },
            )?;
            PeerFigures {
                wall: usage.wall,
                rate_limited: stats.rate_limited,
                failed_rows: (w.rows as u64).saturating_sub(stats.assignees_written()),
                requests: stats.qlik_requests(),
            }
        }
    };
    figures.insert(0, ("roster apply", roster_figures));
    if let Some((_, parallel)) = figures.get(1) {
        outcome.measured = Some(Figure::secs(secs(parallel.wall)));
        outcome.ideal = Some(Figure::secs(ideal));
        outcome.ratio = Some(ideal / secs(parallel.wall));
        outcome.ratio_is = "achieved/ideal";
    }
    let mut rows = Vec::new();
    for (name, f) in &figures {
        outcome.note(format!(
            "{name:<14} {:>8.1} s  {:>5} 429s  {:>5} failed rows  {:>6} requests",
            secs(f.wall),
            f.rate_limited,
            f.failed_rows,
            f.requests
        ));
        rows.push(serde_json::json!({
            "how": name,
            "wall_s": secs(f.wall),
            "rate_limited": f.rate_limited,
            "failed_rows": f.failed_rows,
            "requests": f.requests,
        }));
    }
    outcome.detail("runs", serde_json::Value::Array(rows));
    outcome.detail("rows", w.rows);
    Ok(outcome)
}

/// Scenario 9: a roster within the window's budget, as most rosters are: the writes burst, so
/// latency and concurrency are the bottleneck, not the per-minute limit. The window is scaled to
/// 30 s (Qlik's is 300 s); the ideal is rows × latency / concurrency.
fn burst_in_budget(ctx: &mut Ctx) -> Result<Outcome> {
    let mut outcome = Outcome::new(9, NAMES[8]);
    let w = Workload {
        rows: ctx.size(2000, 500),
        spaces: ctx.size(40, 10),
        layout: Layout::Spread,
        assigned: false,
    };
    // 6,000/min over 30 s: a budget of 3,000 writes, more than the roster holds.
    let (per_min, window_secs) = (6000.0, 30.0);
    let budget = per_min * window_secs / 60.0;
    let concurrency = 32;
    let latency = 0.1;
    let (usage, stats) = creates(
        ctx,
        "s8-burst",
        w,
        &CreateRun {
            sim_flags: &[
                "--tier1-per-min",
                "30000",
                "--tier2-per-min",
                "6000",
                "--window-secs",
                "30",
                "--latency-ms",
                "100",
            ],
            client_flags: &[
                "--concurrency",
                "32",
                "--tier1-per-min",
                "30000",
                "--tier2-per-min",
                "6000",
                "--pace",
                "burst",
                "--tier1-window-secs",
                "30",
                "--tier2-window-secs",
                "30",
            ],
            deadline: Duration::from_secs(300),
        },
    )?;
    let ideal = w.rows as f64 * latency / f64::from(concurrency);
    let steady = w.rows as f64 * 60.0 / per_min;
    let wall = secs(usage.wall);
    let ratio = ideal / wall;
    outcome.measured = Some(Figure::secs(wall));
    outcome.ideal = Some(Figure::secs(ideal));
    outcome.ratio = Some(ratio);
    outcome.ratio_is = "achieved/ideal";
    outcome.check("achieved/ideal", format!("{ratio:.3}"), ">= 0.9", ratio >= 0.9);
    outcome.check(
        "429s received",
        stats.rate_limited.to_string(),
        "0",
        stats.rate_limited == 0,
    );
    check_done(&mut outcome, &usage, &stats, w.rows);
    usage_details(&mut outcome, &usage);
    outcome.detail("rows", w.rows);
    outcome.detail("steady_s", steady);
    outcome.detail("most_in_window", stats.most_in_window("qlik-tier2"));
    outcome.note(format!(
        "{} rows over {} spaces, budget {budget:.0} per {window_secs:.0} s window; at most {} writes \
         in one window; paced steadily they would take {steady:.0} s",
        w.rows,
        w.spaces,
        stats.most_in_window("qlik-tier2")
    ));
    if usage.code != Some(0) {
        outcome.note(format!("stderr: {}", ctx.tail("s8-burst")));
    }
    Ok(outcome)
}

/// Scenario 10: a roster of four budgets: the first goes at once, and each other waits for the
/// window to free up. The window is scaled to 5 s; the ideal is the windowed minimum time,
/// three windows plus one budget's round trips at the concurrency.
fn burst_budgets(ctx: &mut Ctx) -> Result<Outcome> {
    let mut outcome = Outcome::new(10, NAMES[9]);
    // 2,400/min over 5 s: a budget of 200.
    let (budget, window) = (200_usize, 5.0);
    let budgets = 4;
    let w = Workload {
        rows: budget * budgets,
        spaces: 20,
        layout: Layout::Spread,
        assigned: false,
    };
    let concurrency = 16;
    let latency = 0.02;
    let (usage, stats) = creates(
        ctx,
        "s9-budgets",
        w,
        &CreateRun {
            sim_flags: &[
                "--tier1-per-min",
                "30000",
                "--tier2-per-min",
                "2400",
                "--window-secs",
                "5",
                "--latency-ms",
                "20",
            ],
            client_flags: &[
                "--concurrency",
                "16",
                "--tier1-per-min",
                "30000",
                "--tier2-per-min",
                "2400",
                "--pace",
                "burst",
                "--tier1-window-secs",
                "5",
                "--tier2-window-secs",
                "5",
            ],
            deadline: Duration::from_secs(300),
        },
    )?;
    let ideal = (budgets - 1) as f64 * window + budget as f64 * latency / f64::from(concurrency);
    let wall = secs(usage.wall);
    let ratio = ideal / wall;
    let most = stats.most_in_window("qlik-tier2");
    outcome.measured = Some(Figure::secs(wall));
    outcome.ideal = Some(Figure::secs(ideal));
    outcome.ratio = Some(ratio);
    outcome.ratio_is = "achieved/ideal";
    outcome.check("achieved/ideal", format!("{ratio:.3}"), ">= 0.95", ratio >= 0.95);
    outcome.check(
        "429s received",
        stats.rate_limited.to_string(),
        "0",
        stats.rate_limited == 0,
    );
    outcome.check(
        "most writes in one window",
        most.to_string(),
        &format!("<= {budget}"),
        most <= budget as u64,
    );
    check_done(&mut outcome, &usage, &stats, w.rows);
    usage_details(&mut outcome, &usage);
    outcome.detail("rows", w.rows);
    outcome.detail("most_in_window", most);
    outcome.note(format!(
        "{} rows = {budgets} budgets of {budget} per {window:.0} s window; paced steadily they \
         would take {:.0} s",
        w.rows,
        w.rows as f64 * 60.0 / 2400.0
    ));
    if usage.code != Some(0) {
        outcome.note(format!("stderr: {}", ctx.tail("s9-budgets")));
    }
    Ok(outcome)
}

/// Scenario 11: `roster tenant apply` of a file with 200 groups with roles, 100 spaces and 5,000
/// assignments (a roster the file names), at scenario 1's Tier 2 of 3,000/min paced strictly. The
/// ideal is every write (group creates, space creates, assignment creates) over the write rate.
fn tenant_config(ctx: &mut Ctx) -> Result<Outcome> {
    let mut outcome = Outcome::new(11, NAMES[10]);
    let groups = ctx.size(200, 40);
    let spaces = ctx.size(100, 20);
    let rows = ctx.size(5000, 1000);
    let workload = Workload {
        rows,
        spaces: 1,
        layout: Layout::Spread,
        assigned: false,
    };
    let (tenant, _) = workload.write(&ctx.dir, "s11-tenant")?;
    let roster = ctx.dir.join("s11-assignments.csv");
    let mut csv = String::from("space,type,assignee,roles\n");
    for r in 0..rows {
        csv.push_str(&format!(
            "Config space {:03},user,{},consumer\n",
            r % spaces,
            sim::generate::grid_email(r)
        ));
    }
    std::fs::write(&roster, csv).with_context(|| format!("write {}", roster.display()))?;
    let file = ctx.dir.join("s11-tenant.toml");
    let mut text = String::new();
    let roles = ["AnalyticsAdmin", "AuditAdmin", "DataAdmin"];
    for g in 0..groups {
        text.push_str(&format!(
            "\n[[groups]]\nname = \"Config group {g:03}\"\nroles = [\"{}\"]\n",
            roles[g % roles.len()]
        ));
    }
    for sp in 0..spaces {
        text.push_str(&format!(
            "\n[[spaces]]\nname = \"Config space {sp:03}\"\ntype = \"{}\"\ndescription = \"Space {sp}\"\n",
            if sp % 2 == 0 { "shared" } else { "managed" }
        ));
    }
    text.push_str("\n[assignments]\nrosters = [\"s11-assignments.csv\"]\n");
    std::fs::write(&file, text).with_context(|| format!("write {}", file.display()))?;

    let sim = ctx.sim("s11-tenant", &tenant, RATE_SIM)?;
    let path = file.to_string_lossy().into_owned();
    let mut args = vec!["tenant", "apply", path.as_str(), "--yes", "--quiet"];
    args.extend_from_slice(RATE_CLIENT);
    let usage = ctx.roster("s11-tenant", &sim, &args, Duration::from_secs(900))?;
    let stats = sim.stats()?;
    let writes = groups + spaces + rows;
    let ideal = writes as f64 * 60.0 / 3000.0;
    let wall = secs(usage.wall);
    let ratio = ideal / wall;
    outcome.measured = Some(Figure::secs(wall));
    outcome.ideal = Some(Figure::secs(ideal));
    outcome.ratio = Some(ratio);
    outcome.ratio_is = "achieved/ideal";
    outcome.check("achieved/ideal", format!("{ratio:.3}"), ">= 0.95", ratio >= 0.95);
    outcome.check(
        "429s received",
        stats.rate_limited.to_string(),
        "0",
        stats.rate_limited == 0,
    );
    outcome.check(
        "every write done",
        format!(
            "exit {}, {} writes of {writes}",
            code(&usage),
            stats.qlik_writes()
        ),
        "exit 0, all written",
        usage.code == Some(0) && stats.qlik_writes() == writes as u64,
    );
    usage_details(&mut outcome, &usage);
    outcome.detail("writes", stats.qlik_writes());
    outcome.detail("rate_limited", stats.rate_limited);
    outcome.note(format!(
        "{groups} groups with roles, {spaces} spaces, {rows} assignments; {} reads + {} writes",
        stats.qlik_requests() - stats.qlik_writes(),
        stats.qlik_writes()
    ));
    if usage.code != Some(0) {
        outcome.note(format!("stderr: {}", ctx.tail("s11-tenant")));
    }
    Ok(outcome)
}

/// One fleet run of scenario 12: `tenants` simulated tenants, the same roster applied to all.
struct FleetRun {
    usage: Usage,
    stats: Vec<Stats>,
}

/// `roster sim --tenants` serving `tenants` copies of the workload's tenant, its fleet files in
/// `NAME.fleet`; with the roster written beside it, and that directory.
fn start_fleet(
    ctx: &Ctx,
    name: &str,
    w: Workload,
    tenants: usize,
    sim_flags: &[&str],
) -> Result<(FleetSim, PathBuf, PathBuf)> {
    let (tenant, roster) = w.write(&ctx.dir, name)?;
    let dir = ctx.dir.join(format!("{name}.fleet"));
    let sim = FleetSim::start(
        &ctx.roster,
        &tenant,
        tenants,
        &dir,
        sim_flags,
        &ctx.dir.join(format!("{name}.sim.log")),
    )?;
    Ok((sim, roster, dir))
}

fn fleet_run(
    ctx: &Ctx,
    name: &str,
    w: Workload,
    tenants: usize,
    sim_flags: &[&str],
    client_flags: &[&str],
) -> Result<FleetRun> {
    let (sim, roster, _) = start_fleet(ctx, name, w, tenants, sim_flags)?;
    let config = sim.config.to_string_lossy().into_owned();
    let roster = roster.to_string_lossy().into_owned();
    let mut args: Vec<String> = [
        "apply",
        roster.as_str(),
        "--config",
        config.as_str(),
        "--to",
        "sim",
        "--yes",
        "--quiet",
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    args.extend(client_flags.iter().map(|a| (*a).to_owned()));
    let usage = measure::measure(&measure::Run {
        program: &ctx.roster,
        args,
        env: Vec::new(),
        stdout: ctx.dir.join(format!("{name}.out")),
        stderr: ctx.dir.join(format!("{name}.err")),
        dir: &ctx.dir,
        deadline: Duration::from_secs(900),
    })?;
    let stats = sim.stats()?;
    Ok(FleetRun { usage, stats })
}

/// The same fleet's HTTP work done by reqwest alone ([`crate::floor`]), on a fresh simulator:
/// what it cost, and how many rows it created.
fn floor_run(
    ctx: &Ctx,
    name: &str,
    w: Workload,
    tenants: usize,
    sim_flags: &[&str],
    concurrency: usize,
    in_flight: usize,
) -> Result<(Usage, usize)> {
    let (_sim, _, dir) = start_fleet(ctx, name, w, tenants, sim_flags)?;
    let me = std::env::current_exe().context("find the benchmark binary")?;
    let stdout = ctx.dir.join(format!("{name}.out"));
    let usage = measure::measure(&measure::Run {
        program: &me,
        args: crate::floor::args(&dir, w.rows, concurrency, in_flight),
        env: Vec::new(),
        stdout: stdout.clone(),
        stderr: ctx.dir.join(format!("{name}.err")),
        dir: &ctx.dir,
        deadline: Duration::from_secs(900),
    })?;
    let created = std::fs::read_to_string(&stdout)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(0);
    Ok((usage, created))
}

/// Scenario 12: 50 tenants × 200 rows, each tenant's Tier 2 at 600/min (paced strictly) with
/// 20 ms latency, all 50 in flight: the fleet should take about as long as one tenant. Then
/// 500 tenants, 50 in flight and unpaced, for peak memory: it grows with the tenants in
/// flight, not with the fleet.
fn fleet(ctx: &mut Ctx) -> Result<Outcome> {
    let mut outcome = Outcome::new(12, NAMES[11]);
    let tenants = ctx.size(50, 10);
    let in_flight = tenants.to_string();
    let w = Workload {
        rows: ctx.size(200, 100),
        spaces: 10,
        layout: Layout::Spread,
        assigned: false,
    };
    let paced = fleet_run(
        ctx,
        "s12-fleet",
        w,
        tenants,
        &[
            "--tier1-per-min",
            "30000",
            "--tier2-per-min",
            "600",
            "--window-secs",
            "1",
            "--latency-ms",
            "20",
        ],
        &[
            "--tenants-in-flight",
            &in_flight,
            "--concurrency",
            "8",
            "--tier1-per-min",
            "30000",
            "--tier2-per-min",
            "600",
            "--pace",
            "steady",
        ],
    )?;
    let rows = w.rows * tenants;
    let ideal = w.rows as f64 * 60.0 / 600.0;
    let wall = secs(paced.usage.wall);
    let ratio = ideal / wall;
    let limited: u64 = paced.stats.iter().map(|s| s.rate_limited).sum();
    let written: u64 = paced.stats.iter().map(Stats::assignees_written).sum();
    let per_row_us = paced.usage.cpu().as_secs_f64() * 1e6 / rows as f64;
    outcome.measured = Some(Figure::secs(wall));
    outcome.ideal = Some(Figure::secs(ideal));
    outcome.ratio = Some(ratio);
    outcome.ratio_is = "achieved/ideal";
    outcome.check("achieved/ideal", format!("{ratio:.3}"), ">= 0.90", ratio >= 0.90);
    outcome.check("429s received", limited.to_string(), "0", limited == 0);
    outcome.check(
        "every row of every tenant done",
        format!("exit {}, {written} of {rows} assigned", code(&paced.usage)),
        "exit 0, all assigned",
        paced.usage.code == Some(0) && written == rows as u64,
    );
    if paced.usage.code != Some(0) {
        outcome.note(format!("stderr: {}", ctx.tail("s12-fleet")));
    }

    // Unpaced and without latency, as scenario 3 measures the client's cost, first with the
    // fleet in flight at once, then with ten times as many tenants and the same in flight.
    let unpaced_sim: &[&str] = &["--tier1-per-min", "0", "--tier2-per-min", "0"];
    let unpaced_client: &[&str] = &[
        "--tenants-in-flight",
        &in_flight,
        "--concurrency",
        "16",
        "--tier1-per-min",
        "0",
        "--tier2-per-min",
        "0",
    ];
    let few = fleet_run(ctx, "s12-fleet-unpaced", w, tenants, unpaced_sim, unpaced_client)?;
    let many = tenants * 10;
    let big = fleet_run(ctx, "s12-fleet-many", w, many, unpaced_sim, unpaced_client)?;
    let (rss_few, rss_many) = (mb(few.usage.max_rss), mb(big.usage.max_rss));
    let many_rows = (w.rows * many) as u64;
    let many_per_row_us = big.usage.cpu().as_secs_f64() * 1e6 / many_rows as f64;
    outcome.check(
        &format!("CPU per row, {many} tenants unpaced (user+sys)"),
        format!("{many_per_row_us:.1} µs"),
        "< 50 µs",
        many_per_row_us < 50.0,
    );
    // What reqwest alone costs for the same requests, as a floor under the figure above.
    let (floor, floor_created) = floor_run(ctx, "s12-http-floor", w, many, unpaced_sim, 16, tenants)?;
    let floor_per_row_us = floor.cpu().as_secs_f64() * 1e6 / many_rows as f64;
    outcome.check(
        &format!("HTTP floor: reqwest alone, same {many} tenants: every row created"),
        format!("exit {}, {floor_created} of {many_rows}", code(&floor)),
        "exit 0, all",
        floor.code == Some(0) && floor_created as u64 == many_rows,
    );
    if floor.code != Some(0) {
        outcome.note(format!("stderr: {}", ctx.tail("s12-http-floor")));
    }
    outcome.check(
        &format!("peak RSS, {many} tenants vs {tenants}, {tenants} in flight, unpaced"),
        format!("{rss_many:.0} MB vs {rss_few:.0} MB"),
        "< 1.25x + 10 MB",
        rss_many < rss_few * 1.25 + 10.0,
    );
    for (run, n, label) in [
        (&few, tenants, "s12-fleet-unpaced"),
        (&big, many, "s12-fleet-many"),
    ] {
        let written: u64 = run.stats.iter().map(Stats::assignees_written).sum();
        let all = (w.rows * n) as u64;
        outcome.check(
            &format!("{n} tenants unpaced: every row done"),
            format!("exit {}, {written} of {all} assigned", code(&run.usage)),
            "exit 0, all assigned",
            run.usage.code == Some(0) && written == all,
        );
        if run.usage.code != Some(0) {
            outcome.note(format!("stderr: {}", ctx.tail(label)));
        }
    }
    usage_details(&mut outcome, &paced.usage);
    outcome.detail("tenants", tenants);
    outcome.detail("rows", rows);
    outcome.detail("cpu_us_per_row", per_row_us);
    outcome.detail("rate_limited", limited);
    outcome.detail("many_tenants", many);
    outcome.detail("unpaced_max_rss_mb", rss_few);
    outcome.detail("many_max_rss_mb", rss_many);
    outcome.detail("many_wall_s", secs(big.usage.wall));
    outcome.note(format!(
        "{tenants} tenants x {} rows at 600/min each, {tenants} in flight: {wall:.2} s (one tenant's ideal {ideal:.1} s); \
         CPU {:.2} s ({per_row_us:.1} µs/row, paced: each answer wakes the process alone); peak RSS {:.0} MB",
        w.rows,
        secs(paced.usage.cpu()),
        mb(paced.usage.max_rss)
    ));
    for (run, n) in [(&few, tenants), (&big, many)] {
        let cpu = secs(run.usage.cpu());
        outcome.note(format!(
            "{n} tenants x {} rows unpaced, no latency, {tenants} in flight, --concurrency 16: {:.2} s, CPU {cpu:.2} s \
             ({:.1} µs/row), peak RSS {:.0} MB",
            w.rows,
            secs(run.usage.wall),
            cpu * 1e6 / (w.rows * n) as f64,
            mb(run.usage.max_rss)
        ));
    }
    outcome.note(format!(
        "HTTP floor: the same {many} tenants' listings and creates with reqwest alone (no roster), {tenants} in flight, \
         16 at a time each: CPU {:.2} s ({floor_per_row_us:.1} µs/row), peak RSS {:.0} MB; roster's own work is the rest \
         ({:.1} µs/row)",
        secs(floor.cpu()),
        mb(floor.max_rss),
        many_per_row_us - floor_per_row_us
    ));
    outcome.detail("many_cpu_us_per_row", many_per_row_us);
    outcome.detail("http_floor_cpu_us_per_row", floor_per_row_us);
    Ok(outcome)
}
