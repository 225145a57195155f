//! Name resolution: turn the roster's space, user and group names into the tenant's objects with
//! as few requests as possible.
//!
//! Every distinct name is resolved exactly once (the planner deduplicates before asking, so two
//! rows naming the same user share one lookup). For each directory the resolver chooses between
//! looking names up and paging the whole directory at the largest page size, from the number of
//! names needed; the choice and its reason go into a [`ResolveReport`] for verbose output.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use core_api::target::{AssigneeKind, SpaceInfo, Target, TargetError};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use crate::model::SpaceRef;

/// A directory of the tenant that names are resolved against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Directory {
    /// Spaces, by name or id.
    Spaces,
    /// Users, by email (ids are checked when the directory is listed anyway).
    Users,
    /// Groups, by exact name.
    Groups,
}

impl fmt::Display for Directory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Directory::Spaces => "spaces",
            Directory::Users => "users",
            Directory::Groups => "groups",
        })
    }
}

/// How a directory's names were resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Nothing to resolve: no request.
    Nothing,
    /// One lookup per name (or per batch of names, where the API takes several).
    Lookup,
    /// Page through the whole directory at the largest page size.
    ListAll,
}

/// The choice made for one directory, with its reason, for verbose output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectoryChoice {
    /// Which directory.
    pub directory: Directory,
    /// Distinct names the roster needs from it.
    pub names: usize,
    /// How they were resolved.
    pub strategy: Strategy,
    /// Why, as a lowercase fragment.
    pub reason: String,
    /// Names found.
    pub found: usize,
    /// Names not found.
    pub missing: usize,
}

/// What the resolve phase did, for `--verbose` and the JSON plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResolveReport {
    /// One entry per directory that had names to resolve.
    pub directories: Vec<DirectoryChoice>,
    /// Spaces whose assignments were read (one listing each).
    pub assignment_lists: usize,
}

/// Thresholds for choosing between lookups and listing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Thresholds {
    pub spaces: usize,
    pub users: usize,
    pub groups: usize,
    pub concurrency: usize,
    pub fewest_round_trips: bool,
    /// Roster rows, each at most one write: what the round trips saved are weighed against.
    pub rows: usize,
}

/// Lookups or listing: lookups cost `requests`; listing costs one request per page of the
/// directory, whose size the API does not tell. Past `threshold` lookup requests, listing is
/// assumed cheaper (it is unless the directory holds more than `threshold` pages).
///
/// With `fewest_round_trips` (writes not paced, so the run is bound by latency), lookups are
/// also chosen when paging would take over a twentieth of the writes' round trips more than
/// lookups: they go out `concurrency` at a time, while pages are read one after another, and the
/// directory holds at least the names it is asked for.
fn choose(
    directory: Directory,
    names: usize,
    requests: usize,
    threshold: usize,
    page: usize,
    limits: Thresholds,
) -> (Strategy, String) {
    if names == 0 {
        return (Strategy::Nothing, "no names to resolve".to_owned());
    }
    let lookups = if requests == 1 {
        "1 lookup request".to_owned()
    } else {
        format!("{requests} lookup requests")
    };
    if limits.fewest_round_trips && requests >= threshold {
        let concurrency = limits.concurrency.max(1);
        let lookup_rounds = requests.div_ceil(concurrency);
        let page_rounds = names.div_ceil(page.max(1));
        let write_rounds = limits.rows.div_ceil(concurrency);
        // Worth more requests only when paging would add over a twentieth to the writes' time.
        if lookup_rounds < page_rounds && (page_rounds - lookup_rounds) * 20 > write_rounds {
            return (
                Strategy::Lookup,
                format!(
                    "{names} {directory} need {lookups}, {lookup_rounds} round trips at {concurrency} \
                     in flight; paging the directory ({page} a page) takes at least {page_rounds}"
                ),
            );
        }
    }
    if requests >= threshold {
        (
            Strategy::ListAll,
            format!(
                "{names} {directory} need {lookups}: paging the whole directory ({page} a page) is \
                 cheaper unless it holds more than {} {directory}",
                requests.saturating_mul(page)
            ),
        )
    } else {
        (
            Strategy::Lookup,
            format!("{names} {directory} need {lookups}: cheaper than paging the directory"),
        )
    }
}

/// How many names each lookup job asks for: all at once (the target splits them into requests
/// one after another), or, when round trips count, about one request's worth, so that the jobs
/// go out `concurrency` at a time. A job is a little under the average request's share, so that
/// names of uneven length rarely spill into a second request.
pub(crate) fn lookup_batch(names: usize, requests: usize, limits: Thresholds) -> usize {
    if limits.fewest_round_trips && requests > 1 {
        (names * 9 / (requests * 10)).max(1)
    } else {
        names.max(1)
    }
}

/// How one directory of assignees is to be resolved, and why.
#[derive(Debug, Clone)]
pub(crate) struct AssigneePlan {
    pub strategy: Strategy,
    pub reason: String,
    /// Lookup requests the names would take.
    pub requests: usize,
}

/// Choose between looking `names` (lowercased emails or exact group names) up and paging the
/// directory.
pub(crate) fn assignee_strategy(
    target: &dyn Target,
    kind: AssigneeKind,
    names: &[String],
    limits: Thresholds,
) -> AssigneePlan {
    let (directory, threshold) = match kind {
        AssigneeKind::User => (Directory::Users, limits.users),
        AssigneeKind::Group => (Directory::Groups, limits.groups),
    };
    let requests = match kind {
        AssigneeKind::User => target.user_lookup_requests(names),
        AssigneeKind::Group => target.group_lookup_requests(names),
    };
    let (strategy, reason) = choose(
        directory,
        names.len(),
        requests,
        threshold,
        target.list_page_size(),
        limits,
    );
    AssigneePlan {
        strategy,
        reason,
        requests,
    }
}

/// One space by name or id. The reference is owned so that a planner's boxed, `Send` future
/// can hold the lookups.
async fn find_space(target: &dyn Target, space: SpaceRef) -> Result<Option<Arc<SpaceInfo>>, TargetError> {
    let found = match &space {
        SpaceRef::Name(name) => target.find_space_by_name(name).await?,
        SpaceRef::Id(id) => target.get_space(id).await?,
    };
    Ok(found.map(Arc::new))
}

/// Resolve distinct spaces. Returns one entry per input, `None` when the tenant has no such space.
pub(crate) async fn spaces(
    target: &dyn Target,
    refs: &[SpaceRef],
    limits: Thresholds,
) -> Result<(Vec<Option<Arc<SpaceInfo>>>, DirectoryChoice), TargetError> {
    let (strategy, reason) = choose(
        Directory::Spaces,
        refs.len(),
        refs.len(),
        limits.spaces,
        100,
        limits,
    );
    let resolved: Vec<Option<Arc<SpaceInfo>>> = match strategy {
        Strategy::Nothing => Vec::new(),
        Strategy::ListAll => {
            let all = target.list_spaces().await?;
            let all: Vec<Arc<SpaceInfo>> = all.into_iter().map(Arc::new).collect();
            let by_name: HashMap<&str, &Arc<SpaceInfo>> = all.iter().map(|s| (s.name.as_str(), s)).collect();
            let by_id: HashMap<&str, &Arc<SpaceInfo>> = all.iter().map(|s| (s.id.as_str(), s)).collect();
            refs.iter()
                .map(|r| match r {
                    SpaceRef::Name(name) => by_name
                        .get(name.as_str())
                        .copied()
                        .or_else(|| all.iter().find(|s| target.space_answers_to(s, name)))
                        .map(Arc::clone),
                    SpaceRef::Id(id) => by_id.get(id.as_str()).map(|s| Arc::clone(s)),
                })
                .collect()
        }
        Strategy::Lookup => {
            futures::stream::iter(refs.iter().cloned().map(|r| find_space(target, r)))
                .buffered(limits.concurrency.max(1))
                .try_collect()
                .await?
        }
    };
    let found = resolved.iter().filter(|s| s.is_some()).count();
    let choice = DirectoryChoice {
        directory: Directory::Spaces,
        names: refs.len(),
        strategy,
        reason,
        found,
        missing: refs.len() - found,
    };
    Ok((resolved, choice))
}
