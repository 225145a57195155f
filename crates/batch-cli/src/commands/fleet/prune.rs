//! `--prune` over a fleet: each tenant's spaces made to hold exactly the roster, with the rules
//! of a single-target prune ([`engine::plan::prune`]).
//!
//! What a single run checks before anything is sent, a fleet checks once for all its tenants
//! ([`refusal`]): `--mode exact`, a roster whose every row reads, tenants that can delete, and,
//! since a fleet run asks no questions, `--yes` for `apply`. What depends on a tenant's own
//! assignments is checked tenant by tenant ([`run`]): a tenant whose plan deletes more than
//! `--max-deletes` gets nothing sent and is reported failed, and the others go on.

use std::sync::Arc;

use core_api::Tier;
use core_api::target::{Target, TargetKind};
use engine::exec::{self, ExecOptions, Interrupts, RunResult};
use engine::model::{Mode, Plan, Reporter};
use engine::plan::prune::{self, Listings};

use super::super::runs;
use super::super::steps::plan_options;
use super::jobs::Rosters;
use crate::error::CommandError;
use crate::settings::PlanSettings;
use crate::settings::fleet::Member;

/// Why `--prune` cannot run over these tenants at all (exit 2, nothing sent), checked before
/// the first request. `apply` is true for `roster apply` (deletes need `--yes`).
pub(super) fn refusal(
    mode: Mode,
    rosters: &Rosters,
    members: &[Member],
    apply: bool,
    yes: bool,
) -> Option<CommandError> {
    if mode != Mode::Exact {
        return Some(super::super::job::prune_needs_exact());
    }
    let cannot: Vec<&str> = members
        .iter()
        .filter(|m| matches!(&m.target, Ok(t) if t.kind == TargetKind::Alumio))
        .map(|m| m.name.as_str())
        .collect();
    if let Some(first) = cannot.first() {
        return Some(
            CommandError::new(format!(
                "alumio targets cannot delete assignments, so --prune cannot be used: {} of the \
                 tenants are alumio ({first}{})",
                cannot.len(),
                if cannot.len() > 1 { ", ..." } else { "" }
            ))
            .hint("leave the alumio tenants out of --to, or run without --prune"),
        );
    }
    let unreadable = rosters
        .rows
        .values()
        .flat_map(|rows| rows.iter().filter(|r| r.row.is_err()))
        .map(|r| r.line)
        .min();
    if let Some(line) = unreadable {
        let count = rosters
            .rows
            .values()
            .map(|rows| rows.iter().filter(|r| r.row.is_err()).count())
            .max()
            .unwrap_or(0);
        return Some(
            CommandError::new(format!(
                "refusing to prune: {count} roster rows cannot be read (first at line {line}), and \
                 one of them may name an assignee that must stay"
            ))
            .hint("fix those rows (see `roster plan`), then run again"),
        );
    }
    if apply && !yes {
        return Some(
            CommandError::new(
                "--prune over a fleet deletes without asking, tenant by tenant, and a fleet run asks \
                 no questions; nothing was sent",
            )
            .hint(
                "check the deletes with `roster plan ROSTER --to FLEET --mode exact --prune`, then \
                 pass --yes (--max-deletes caps each tenant's deletes)",
            ),
        );
    }
    None
}

/// Plan `rows` for one tenant with the deletes: the whole roster planned through a
/// [`Listings`] cache (so finding the deletes reads nothing twice), then the assignments of the
/// roster's spaces that no row names.
pub(super) async fn plan(
    rows: Vec<engine::model::ParsedRow>,
    client: &Arc<dyn Target>,
    settings: &PlanSettings,
) -> Result<Plan, String> {
    if !client.capabilities().delete {
        return Err(format!(
            "{} targets cannot delete assignments, so --prune cannot be used",
            client.kind()
        ));
    }
    let target = &settings.target;
    let listings = Listings::new(Arc::clone(client));
    let planned = engine::plan::build_owned(rows, &listings, &plan_options(settings), &|_| {}).await;
    let mut plan = match planned {
        Ok(planned) => planned.plan,
        Err(error) => {
            let message = format!("failed to plan: {error}");
            return Err(super::jobs::with_hint(
                message,
                crate::hint::in_plan(&error),
                target,
            ));
        }
    };
    let limit = target.limits.for_tier(Tier::Tier2);
    if let Err(error) = prune::add_deletes(
        &mut plan,
        &listings,
        target.concurrency,
        (limit > 0).then_some(limit),
    )
    .await
    {
        let message = format!("failed to plan the deletes: {error}");
        return Err(super::jobs::with_hint(message, &error, target));
    }
    Ok(plan)
}

/// What a pruning apply needs of its tenant's run beyond the rows.
pub(super) struct Pruning<'a> {
    /// The tenant's journal as read: what an interrupted run already did.
    pub state: &'a engine::journal::State,
    /// Which rows this run does.
    pub select: runs::Select,
    /// `--max-deletes`, for this tenant's plan.
    pub max_deletes: usize,
}

/// One tenant's pruning apply: plan with the deletes (always against the whole roster, so a row
/// done by an earlier run keeps its assignee), leave out what the journal has done, refuse past
/// `--max-deletes` before anything is sent, then execute (the deletes go after the roster's
/// writes, as in a single run).
pub(super) async fn run<E: std::fmt::Display>(
    rows: Vec<engine::model::ParsedRow>,
    client: &Arc<dyn Target>,
    settings: &PlanSettings,
    pruning: Pruning<'_>,
    open: impl FnOnce() -> Result<Vec<Box<dyn Reporter>>, E>,
    mut options: ExecOptions,
    interrupts: &mut Interrupts,
) -> Result<RunResult, String> {
    let mut plan = tokio::select! {
        plan = plan(rows, client, settings) => plan?,
        () = interrupts.recv() => return Ok(interrupted()),
    };
    if pruning.select != runs::Select::All {
        let mut resumed = 0;
        plan.items.retain(|item| {
            let (skip, done) = runs::skip(pruning.select, pruning.state, &item.key);
            resumed += u64::from(done);
            !skip
        });
        let limit = settings.target.limits.for_tier(Tier::Tier2);
        prune::recount(&mut plan, &client.capabilities(), (limit > 0).then_some(limit));
        options.resumed = resumed;
    }
    let deletes = plan.counts.delete;
    if deletes > pruning.max_deletes as u64 {
        return Err(format!(
            "the plan deletes {} assignments, more than --max-deletes {}; nothing was sent to it\n\
             hint: check that the roster names every assignee that must stay (`roster plan ROSTER \
             --to {} --mode exact --prune`), then raise --max-deletes",
            crate::report::format::count(deletes),
            pruning.max_deletes,
            settings.target.name
        ));
    }
    let mut reporters = open().map_err(|e| e.to_string())?;
    exec::execute(&mut plan, client.as_ref(), &mut reporters, &options, interrupts)
        .await
        .map_err(|e| e.to_string())
}

/// A run stopped by Ctrl-C before its first row.
fn interrupted() -> RunResult {
    RunResult {
        totals: engine::model::Totals::default(),
        elapsed: std::time::Duration::ZERO,
        interrupted: true,
    }
}
