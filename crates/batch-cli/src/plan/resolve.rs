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

use crate::model::{AssigneeRef, SpaceRef};

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

/// The names in the groups that lookups are sent in: all at once (the target splits them into
/// requests one after another), or, when round trips count, slices of about one request each so
/// that they go out `concurrency` at a time. A slice is a little under the average request's
/// share, so that names of uneven length rarely spill into a second request.
fn lookup_groups<'a>(
    names: &'a [String],
    requests: usize,
    limits: Thresholds,
) -> futures::stream::Iter<std::slice::Chunks<'a, String>> {
    let size = if limits.fewest_round_trips && requests > 1 {
        (names.len() * 9 / (requests * 10)).max(1)
    } else {
        names.len().max(1)
    };
    futures::stream::iter(names.chunks(size))
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
            futures::stream::iter(refs.iter())
                .map(|r| async move {
                    let found = match r {
                        SpaceRef::Name(name) => target.find_space_by_name(name).await?,
                        SpaceRef::Id(id) => target.get_space(id).await?,
                    };
                    Ok::<_, TargetError>(found.map(Arc::new))
                })
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

/// Resolve distinct assignees of one kind to their ids. Returns one entry per input.
///
/// Ids given by the roster are trusted when the directory is not listed: checking them would
/// cost one request each, and a wrong id fails at its write with the tenant's own message.
pub(crate) async fn assignees(
    target: &dyn Target,
    kind: AssigneeKind,
    refs: &[&AssigneeRef],
    limits: Thresholds,
) -> Result<(Vec<Option<String>>, DirectoryChoice), TargetError> {
    let (directory, threshold) = match kind {
        AssigneeKind::User => (Directory::Users, limits.users),
        AssigneeKind::Group => (Directory::Groups, limits.groups),
    };
    let names: Vec<String> = refs
        .iter()
        .filter_map(|r| match (kind, r) {
            (AssigneeKind::User, AssigneeRef::Email(e)) => Some(e.to_lowercase()),
            (AssigneeKind::Group, AssigneeRef::Name(n)) => Some(n.clone()),
            _ => None,
        })
        .collect();
    let requests = match kind {
        AssigneeKind::User => target.user_lookup_requests(&names),
        AssigneeKind::Group => target.group_lookup_requests(&names),
    };
    let (strategy, reason) = choose(
        directory,
        names.len(),
        requests,
        threshold,
        target.list_page_size(),
        limits,
    );
    // name (lowercased email or exact group name) -> id; and the set of known ids when listed.
    let mut by_name: HashMap<String, String> = HashMap::new();
    let mut ids: Option<std::collections::HashSet<String>> = None;
    match (strategy, kind) {
        (Strategy::Nothing, _) => {}
        (Strategy::ListAll, AssigneeKind::User) => {
            let users = target.list_users().await?;
            let mut known = std::collections::HashSet::with_capacity(users.len());
            for user in users {
                if let Some(email) = &user.email {
                    by_name
                        .entry(email.to_lowercase())
                        .or_insert_with(|| user.id.clone());
                }
                known.insert(user.id);
            }
            ids = Some(known);
        }
        (Strategy::ListAll, AssigneeKind::Group) => {
            let groups = target.list_groups().await?;
            let mut known = std::collections::HashSet::with_capacity(groups.len());
            for group in groups {
                by_name.entry(group.name).or_insert_with(|| group.id.clone());
                known.insert(group.id);
            }
            ids = Some(known);
        }
        (Strategy::Lookup, AssigneeKind::User) => {
            for users in lookup_groups(&names, requests, limits)
                .map(|group| target.find_users_by_email(group))
                .buffer_unordered(limits.concurrency.max(1))
                .try_collect::<Vec<_>>()
                .await?
            {
                for user in users {
                    if let Some(email) = &user.email {
                        by_name.entry(email.to_lowercase()).or_insert(user.id);
                    }
                }
            }
        }
        (Strategy::Lookup, AssigneeKind::Group) => {
            for groups in lookup_groups(&names, requests, limits)
                .map(|group| target.find_groups_by_name(group))
                .buffer_unordered(limits.concurrency.max(1))
                .try_collect::<Vec<_>>()
                .await?
            {
                for group in groups {
                    by_name.entry(group.name).or_insert(group.id);
                }
            }
        }
    }
    let resolved: Vec<Option<String>> = refs
        .iter()
        .map(|r| match (kind, r) {
            (AssigneeKind::User, AssigneeRef::Email(e)) => by_name.get(&e.to_lowercase()).cloned(),
            (AssigneeKind::Group, AssigneeRef::Name(n)) => by_name.get(n).cloned(),
            (_, AssigneeRef::Id(id)) => match &ids {
                Some(known) => known.contains(id).then(|| id.clone()),
                None => Some(id.clone()),
            },
            // A user named by group name or a group by email cannot be resolved.
            _ => None,
        })
        .collect();
    let found = resolved.iter().filter(|r| r.is_some()).count();
    let choice = DirectoryChoice {
        directory,
        names: refs.len(),
        strategy,
        reason,
        found,
        missing: refs.len() - found,
    };
    Ok((resolved, choice))
}
