//! Scenario 13: `roster undo` of a paced run of creates and updates, at scenario 1's limits.
//!
//! The tenant's assignments are read through the Qlik API before the apply and after the undo:
//! the undo must leave them exactly as they were.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use sim::generate::{Grid, grid_email, grid_space, grid_tenant};

use super::{Ctx, NAMES, RATE_CLIENT, RATE_SIM, code, journal_in, mb, secs, usage_details};
use crate::report::{Figure, Outcome};
use crate::sim::SimProcess;

/// Assignments as (space id, assignee id) -> sorted roles.
type Assignments = BTreeMap<(String, String), Vec<String>>;

/// Rows `r` with `r % 5 < 2` already hold `consumer`: the roster's `producer` updates them (merge
/// mode adds it); the other three in five are creates.
fn is_update(r: usize) -> bool {
    r % 5 < 2
}

/// Write the tenant (a grid of `spaces` × `rows` users, the update rows assigned) and the roster.
fn write_files(dir: &Path, rows: usize, spaces: usize) -> Result<(PathBuf, PathBuf)> {
    let mut tenant = grid_tenant(Grid {
        spaces,
        users: rows,
        assigned: false,
    });
    let space_ids: Vec<String> = tenant.spaces.iter().map(|s| s.id.clone()).collect();
    // The grid's users follow its admin, in order.
    let user_ids: Vec<String> = tenant.users.iter().skip(1).map(|u| u.id.clone()).collect();
    for r in (0..rows).filter(|&r| is_update(r)) {
        tenant.assignments.push(sim::Assignment {
            id: format!("b{r:023x}"),
            space_id: space_ids[r % spaces].clone(),
            assignee_type: sim::AssigneeType::User,
            assignee_id: user_ids[r].clone(),
            roles: vec!["consumer".to_owned()],
        });
    }
    let tenant_path = dir.join("s13-undo.tenant.json");
    std::fs::write(&tenant_path, serde_json::to_vec(&tenant)?)
        .with_context(|| format!("write {}", tenant_path.display()))?;
    let roster = dir.join("s13-undo.csv");
    let mut csv = String::from("space,type,assignee,roles\n");
    for r in 0..rows {
        csv.push_str(&format!(
            "{},user,{},producer\n",
            grid_space(r % spaces),
            grid_email(r)
        ));
    }
    std::fs::write(&roster, csv).with_context(|| format!("write {}", roster.display()))?;
    Ok((tenant_path, roster))
}

/// Every assignment of every space, read through the Qlik API (`GET /api/v1/spaces` and each
/// space's `GET .../assignments`, following the pages), one request at a time.
fn read_assignments(sim: &SimProcess) -> Result<Assignments> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start a runtime for the API reads")?;
    let http = reqwest::Client::new();
    runtime.block_on(async {
        let spaces = pages(&http, sim, "/api/v1/spaces?limit=100").await?;
        let mut all = Assignments::new();
        for space in spaces {
            let id = space["id"].as_str().context("a space without an id")?;
            let path = format!("/api/v1/spaces/{id}/assignments?limit=100");
            for a in pages(&http, sim, &path).await? {
                let assignee = a["assigneeId"]
                    .as_str()
                    .context("an assignment without assigneeId")?;
                let mut roles: Vec<String> = a["roles"]
                    .as_array()
                    .context("an assignment without roles")?
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect();
                roles.sort();
                all.insert((id.to_owned(), assignee.to_owned()), roles);
            }
        }
        Ok(all)
    })
}

/// The `data` of every page from `path` on.
async fn pages(http: &reqwest::Client, sim: &SimProcess, path: &str) -> Result<Vec<serde_json::Value>> {
    let mut url = format!("{}{path}", sim.url);
    let mut items = Vec::new();
    for _ in 0..10_000 {
        let mut attempt = 0;
        let page: serde_json::Value = loop {
            let response = http
                .get(&url)
                .bearer_auth(&sim.key)
                .timeout(Duration::from_secs(60))
                .send()
                .await?;
            // These reads share Tier 1 with nothing else; a 429 would only mean a slow machine.
            if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS && attempt < 20 {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            break response.error_for_status()?.json().await?;
        };
        if let Some(data) = page["data"].as_array() {
            items.extend(data.iter().cloned());
        }
        match page["links"]["next"]["href"].as_str() {
            Some(next) if next.starts_with("http") => url = next.to_owned(),
            Some(next) => url = format!("{}{next}", sim.url),
            None => return Ok(items),
        }
    }
    bail!("more than 10,000 pages at {path}")
}

/// The run id in a journal's header.
fn run_id(journal: &Path) -> Result<String> {
    let text = std::fs::read_to_string(journal).with_context(|| format!("read {}", journal.display()))?;
    let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap_or_default())
        .with_context(|| format!("the header of {}", journal.display()))?;
    header["run"]["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no run id in {}", journal.display()))
}

/// Scenario 13: apply a roster of creates and updates at scenario 1's limits (Tier 2 at
/// 3,000/min paced strictly), then `roster undo RUN --yes` at the same limits. The ideal is the
/// undo's writes over the write rate.
pub fn undo(ctx: &mut Ctx) -> Result<Outcome> {
    let mut outcome = Outcome::new(13, NAMES[12]);
    let rows = ctx.size(2500, 500);
    let spaces = ctx.size(100, 20);
    let updates = (0..rows).filter(|&r| is_update(r)).count();
    let creates = rows - updates;
    let (tenant, roster) = write_files(&ctx.dir, rows, spaces)?;
    let sim = ctx.sim("s13-undo", &tenant, RATE_SIM)?;
    let state = ctx.dir.join("s13-state");
    let state_arg = state.to_string_lossy().into_owned();
    let mut flags = vec!["--state-dir", state_arg.as_str()];
    flags.extend_from_slice(RATE_CLIENT);

    let before = read_assignments(&sim)?;
    let start = sim.stats()?;
    let applied = ctx.apply("s13-apply", &sim, &roster, &flags, Duration::from_secs(600))?;
    let after_apply = sim.stats()?;
    let apply_writes = after_apply.qlik_writes() - start.qlik_writes();
    if applied.code != Some(0) || apply_writes != rows as u64 {
        bail!(
            "the apply did not finish (exit {}, {apply_writes} of {rows} writes): {}",
            code(&applied),
            ctx.tail("s13-apply")
        );
    }
    let applied_state = read_assignments(&sim)?;
    let changed = applied_state
        .iter()
        .filter(|(k, roles)| before.get(*k) != Some(*roles))
        .count();
    if changed != rows {
        bail!("the apply changed {changed} assignments, not {rows}");
    }
    let id = run_id(&journal_in(&state)?)?;

    let before_undo = sim.stats()?;
    let mut args = vec!["undo", id.as_str(), "--yes", "--quiet"];
    args.extend_from_slice(&flags);
    let usage = ctx.roster("s13-undo", &sim, &args, Duration::from_secs(600))?;
    let stats = sim.stats()?;
    let writes = stats.qlik_writes() - before_undo.qlik_writes();
    let reads = stats.qlik_requests() - before_undo.qlik_requests() - writes;
    let limited = stats.rate_limited - before_undo.rate_limited;
    let apply_reads = after_apply.qlik_requests() - start.qlik_requests() - apply_writes;
    let now = read_assignments(&sim)?;
    let differ = before
        .keys()
        .chain(now.keys())
        .filter(|k| before.get(*k) != now.get(*k))
        .collect::<std::collections::BTreeSet<_>>()
        .len();

    let ideal = writes.max(rows as u64) as f64 * 60.0 / 3000.0;
    let wall = secs(usage.wall);
    let ratio = ideal / wall;
    outcome.measured = Some(Figure::secs(wall));
    outcome.ideal = Some(Figure::secs(ideal));
    outcome.ratio = Some(ratio);
    outcome.ratio_is = "achieved/ideal";
    outcome.check("achieved/ideal", format!("{ratio:.3}"), ">= 0.95", ratio >= 0.95);
    outcome.check("429s received", limited.to_string(), "0", limited == 0);
    outcome.check(
        "every change undone",
        format!(
            "exit {}, {writes} writes of {rows}, {differ} assignments differ from before the apply",
            code(&usage)
        ),
        "exit 0, all written, 0 differ",
        usage.code == Some(0) && writes == rows as u64 && differ == 0,
    );
    // A space's current state is its record and one page of its assignments.
    let listing_pages = rows.div_ceil(spaces).div_ceil(100).max(1);
    let budget = (spaces * (1 + listing_pages)) as u64;
    outcome.check(
        "planning reads",
        format!("{reads} ({spaces} spaces touched)"),
        &format!("<= {budget}, a space's record and its assignments' pages"),
        reads <= budget,
    );
    usage_details(&mut outcome, &usage);
    outcome.detail("rows", rows);
    outcome.detail("writes", writes);
    outcome.detail("reads", reads);
    outcome.detail("apply_reads", apply_reads);
    outcome.detail("apply_wall_s", secs(applied.wall));
    outcome.detail("rate_limited", limited);
    outcome.note(format!(
        "{rows} rows over {spaces} spaces applied ({creates} creates, {updates} updates, {:.2} s, \
         {apply_reads} reads), then undone: {creates} deletes and {updates} roles restored, \
         {reads} reads + {writes} writes; client CPU {:.2} s, peak RSS {:.0} MB",
        secs(applied.wall),
        secs(usage.cpu()),
        mb(usage.max_rss)
    ));
    if usage.code != Some(0) {
        outcome.note(format!("stderr: {}", ctx.tail("s13-undo")));
    }
    Ok(outcome)
}
