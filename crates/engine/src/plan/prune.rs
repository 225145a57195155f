//! Sync with prune: `--mode exact --prune` also deletes the assignments of the roster's spaces that
//! the roster does not list.
//!
//! Safety comes first:
//! - only spaces named by a roster row are touched, and every assignee a row names (even a row
//!   that fails) is kept;
//! - a roster with unreadable rows is refused, since such a row may be the one that names an
//!   assignee;
//! - deletes are planned against the whole roster, also on resume (a row done by an earlier run
//!   still keeps its assignee);
//! - the caller caps the number of deletes and asks before sending them.
//!
//! The planner reads each space's assignments once; [`Listings`] keeps those listings so finding
//! what to delete costs no second read.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use core_api::target::{
    AssigneeKind, AssignmentInfo, Capabilities, GroupInfo, SpaceInfo, Target, TargetError, TargetKind,
    UserInfo, WriteOp, WriteOutcome,
};
use futures::{StreamExt, TryStreamExt};
use parking_lot::Mutex;
use sha2::{Digest, Sha256};

use crate::model::{Action, AssigneeRef, Plan, PlanItem, RowKey, SpaceRef};

/// The resume key of a delete: over (target, space id, assignee kind, assignee id), so a rerun
/// finds the same key for the same assignment whatever the roster looks like.
pub fn delete_key(target: &str, space_id: &str, kind: AssigneeKind, assignee_id: &str) -> RowKey {
    let mut hash = Sha256::new();
    for part in [
        "roster-delete-key/1",
        target,
        space_id,
        &kind.to_string(),
        assignee_id,
        "delete",
    ] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    RowKey(hex::encode(&hash.finalize()[..16]))
}

/// A target that remembers what it listed: whole assignment listings (asked for instead of the
/// planner's narrower reads), users and groups. Writes and everything else pass through.
pub struct Listings {
    inner: Arc<dyn Target>,
    assignments: Mutex<HashMap<String, Vec<AssignmentInfo>>>,
    users: Mutex<Option<Vec<UserInfo>>>,
    groups: Mutex<Option<Vec<GroupInfo>>>,
}

impl std::fmt::Debug for Listings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listings").finish_non_exhaustive()
    }
}

impl Listings {
    /// Wrap a target.
    pub fn new(inner: Arc<dyn Target>) -> Listings {
        Listings {
            inner,
            assignments: Mutex::new(HashMap::new()),
            users: Mutex::new(None),
            groups: Mutex::new(None),
        }
    }
}

#[async_trait]
impl Target for Listings {
    fn kind(&self) -> TargetKind {
        self.inner.kind()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn list_spaces(&self) -> Result<Vec<SpaceInfo>, TargetError> {
        self.inner.list_spaces().await
    }
    async fn find_space_by_name(&self, name: &str) -> Result<Option<SpaceInfo>, TargetError> {
        self.inner.find_space_by_name(name).await
    }
    fn space_answers_to(&self, space: &SpaceInfo, name: &str) -> bool {
        self.inner.space_answers_to(space, name)
    }
    async fn get_space(&self, id: &str) -> Result<Option<SpaceInfo>, TargetError> {
        self.inner.get_space(id).await
    }
    async fn find_users_by_email(&self, emails: &[String]) -> Result<Vec<UserInfo>, TargetError> {
        self.inner.find_users_by_email(emails).await
    }
    async fn list_users(&self) -> Result<Vec<UserInfo>, TargetError> {
        if let Some(users) = self.users.lock().clone() {
            return Ok(users);
        }
        let users = self.inner.list_users().await?;
        *self.users.lock() = Some(users.clone());
        Ok(users)
    }
    fn user_lookup_requests(&self, emails: &[String]) -> usize {
        self.inner.user_lookup_requests(emails)
    }
    fn group_lookup_requests(&self, names: &[String]) -> usize {
        self.inner.group_lookup_requests(names)
    }
    fn list_page_size(&self) -> usize {
        self.inner.list_page_size()
    }
    async fn find_groups_by_name(&self, names: &[String]) -> Result<Vec<GroupInfo>, TargetError> {
        self.inner.find_groups_by_name(names).await
    }
    async fn list_groups(&self) -> Result<Vec<GroupInfo>, TargetError> {
        if let Some(groups) = self.groups.lock().clone() {
            return Ok(groups);
        }
        let groups = self.inner.list_groups().await?;
        *self.groups.lock() = Some(groups.clone());
        Ok(groups)
    }
    async fn list_assignments(&self, space: &SpaceInfo) -> Result<Vec<AssignmentInfo>, TargetError> {
        if let Some(list) = self.assignments.lock().get(&space.id) {
            return Ok(list.clone());
        }
        let list = self.inner.list_assignments(space).await?;
        self.assignments.lock().insert(space.id.clone(), list.clone());
        Ok(list)
    }
    async fn list_assignments_of(
        &self,
        space: &SpaceInfo,
        _assignee_ids: &[String],
    ) -> Result<Vec<AssignmentInfo>, TargetError> {
        // Pruning needs every assignment of the space, not only the roster's.
        self.list_assignments(space).await
    }
    async fn write(&self, space: &SpaceInfo, ops: &[WriteOp]) -> Vec<Result<WriteOutcome, TargetError>> {
        self.inner.write(space, ops).await
    }
    async fn create_space(
        &self,
        name: &str,
        space_type: &str,
        description: Option<&str>,
    ) -> Result<SpaceInfo, TargetError> {
        self.inner.create_space(name, space_type, description).await
    }
    async fn create_group(&self, name: &str) -> Result<GroupInfo, TargetError> {
        self.inner.create_group(name).await
    }
    async fn list_group_members(&self, group: &GroupInfo) -> Result<Vec<UserInfo>, TargetError> {
        self.inner.list_group_members(group).await
    }
}

/// Add a `-` item for every assignment of the plan's spaces that no roster row names, after the
/// roster's rows. Returns how many were added.
///
/// `target` should be the [`Listings`] the plan was built through, so nothing is read twice.
/// Delete items name users by email and groups by name when the directory knows them, so people
/// can check who loses access.
pub async fn add_deletes(
    plan: &mut Plan,
    target: &dyn Target,
    concurrency: usize,
    write_limit_per_min: Option<u32>,
) -> Result<usize, TargetError> {
    // Spaces named by the roster, in order, and every assignee a row names in each.
    let mut order: Vec<Arc<SpaceInfo>> = Vec::new();
    let mut keep: HashMap<String, HashSet<(AssigneeKind, String)>> = HashMap::new();
    for item in &plan.items {
        let Some(space) = &item.space_info else {
            continue;
        };
        let entry = keep.entry(space.id.clone()).or_insert_with(|| {
            order.push(Arc::clone(space));
            HashSet::new()
        });
        if let Some(id) = &item.assignee_id {
            entry.insert((item.assignee_kind, id.clone()));
        }
    }
    let listings: Vec<(Arc<SpaceInfo>, Vec<AssignmentInfo>)> = futures::stream::iter(order)
        .map(|space| async move {
            let list = target.list_assignments(&space).await?;
            Ok::<_, TargetError>((space, list))
        })
        .buffered(concurrency.max(1))
        .try_collect()
        .await?;
    let mut deletes: Vec<PlanItem> = Vec::new();
    for (space, list) in listings {
        let kept = keep.get(&space.id);
        for a in list {
            if kept.is_some_and(|k| k.contains(&(a.assignee_kind, a.assignee_id.clone()))) {
                continue;
            }
            let mut roles = a.roles.clone();
            roles.sort_unstable();
            roles.dedup();
            deletes.push(PlanItem {
                line: 0,
                key: delete_key(&plan.target, &space.id, a.assignee_kind, &a.assignee_id),
                space: SpaceRef::Name(space.name.clone()),
                space_info: Some(Arc::clone(&space)),
                assignee_kind: a.assignee_kind,
                assignee: AssigneeRef::Id(a.assignee_id.clone()),
                assignee_id: Some(a.assignee_id.clone()),
                stated_type: None,
                roles: roles.clone(),
                action: Action::Delete {
                    assignment_id: a.id,
                    roles,
                },
            });
        }
    }
    let added = deletes.len();
    if added == 0 {
        return Ok(0);
    }
    label(&mut deletes, target).await;
    // Deletes run after the roster's writes, so a run that stops early leaves extra access rather
    // than missing access. (The plan's display still shows them first in each space.)
    plan.items.extend(deletes);
    recount(plan, &target.capabilities(), write_limit_per_min);
    Ok(added)
}

/// Name deleted users by email and groups by name. Best effort: a directory that cannot be listed
/// leaves the ids, which still say exactly what is removed.
async fn label(deletes: &mut [PlanItem], target: &dyn Target) {
    let wants = |kind| deletes.iter().any(|d| d.assignee_kind == kind);
    let mut names: HashMap<(AssigneeKind, String), AssigneeRef> = HashMap::new();
    if wants(AssigneeKind::User)
        && let Ok(users) = target.list_users().await
    {
        for u in users {
            if let Some(email) = u.email {
                names.insert(
                    (AssigneeKind::User, u.id),
                    AssigneeRef::Email(email.to_lowercase()),
                );
            }
        }
    }
    if wants(AssigneeKind::Group)
        && let Ok(groups) = target.list_groups().await
    {
        for g in groups {
            names.insert((AssigneeKind::Group, g.id), AssigneeRef::Name(g.name));
        }
    }
    for d in deletes {
        if let Some(id) = &d.assignee_id
            && let Some(name) = names.get(&(d.assignee_kind, id.clone()))
        {
            d.assignee = name.clone();
        }
    }
}

/// Counts, write calls and the least write time after items were added or removed, computed as
/// the planner computes them.
pub fn recount(plan: &mut Plan, caps: &Capabilities, write_limit_per_min: Option<u32>) {
    plan.counts = crate::plan::count(&plan.items, caps.emails_new_members);
    plan.write_calls = crate::plan::write_calls(&plan.items, caps.max_batch);
    plan.min_write_time = crate::plan::min_write_time(plan.write_calls, write_limit_per_min);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Mode, PlanCounts};

    #[test]
    fn delete_keys_are_stable_and_distinct() {
        let a = delete_key("prod", "s1", AssigneeKind::User, "u1");
        assert_eq!(a, delete_key("prod", "s1", AssigneeKind::User, "u1"));
        assert_eq!(a.0.len(), 32);
        assert_ne!(a, delete_key("test", "s1", AssigneeKind::User, "u1"));
        assert_ne!(a, delete_key("prod", "s2", AssigneeKind::User, "u1"));
        assert_ne!(a, delete_key("prod", "s1", AssigneeKind::Group, "u1"));
        assert_ne!(a, delete_key("prod", "s1", AssigneeKind::User, "u2"));
        assert_ne!(
            delete_key("t", "ab", AssigneeKind::User, "c"),
            delete_key("t", "a", AssigneeKind::User, "bc")
        );
    }

    #[tokio::test]
    async fn deletes_only_unnamed_assignees_of_named_spaces_reading_each_space_once() {
        use crate::plan::fake::{self, Fake, State};
        let fake = Arc::new(Fake::new(State {
            spaces: vec![fake::space("s1", "One", None), fake::space("s2", "Two", None)],
            users: vec![
                fake::user("u1", "a@x.io"),
                fake::user("u2", "b@x.io"),
                fake::user("u3", "c@x.io"),
            ],
            ..State::default()
        }));
        fake.assign("s1", AssigneeKind::User, "u1", &["consumer"]);
        fake.assign("s1", AssigneeKind::User, "u2", &["producer", "consumer"]);
        fake.assign("s1", AssigneeKind::User, "u3", &["consumer"]);
        fake.assign("s2", AssigneeKind::User, "u2", &["consumer"]);
        let target: Arc<dyn Target> = Arc::clone(&fake) as Arc<dyn Target>;
        let listings = Listings::new(Arc::clone(&target));
        let text = "space,type,assignee,roles\nOne,user,a@x.io,consumer\nOne,user,c@x.io,Can fly\n";
        let roster = crate::roster::read_roster_from(text.as_bytes(), "r.csv", TargetKind::Qlik).unwrap();
        // The bad row still names c@x.io, but it is a reader problem: keep only valid rows here.
        let rows: Vec<_> = roster.rows.into_iter().filter(|r| r.row.is_ok()).collect();
        let mut opts = crate::plan::PlanOptions::new("t", Mode::Exact);
        opts.concurrency = 1;
        let mut plan = crate::plan::build(rows, &listings, &opts, &|_| {})
            .await
            .unwrap()
            .plan;
        let added = add_deletes(&mut plan, &listings, 2, None).await.unwrap();
        assert_eq!(added, 2);
        let deletes: Vec<(&str, &AssigneeRef, &Vec<String>)> = plan
            .items
            .iter()
            .filter(|i| matches!(i.action, Action::Delete { .. }))
            .map(|i| (i.space_info.as_ref().unwrap().id.as_str(), &i.assignee, &i.roles))
            .collect();
        assert_eq!(
            deletes,
            vec![
                (
                    "s1",
                    &AssigneeRef::Email("b@x.io".into()),
                    &vec!["consumer".to_owned(), "producer".to_owned()]
                ),
                (
                    "s1",
                    &AssigneeRef::Email("c@x.io".into()),
                    &vec!["consumer".to_owned()]
                ),
            ]
        );
        assert_eq!(plan.counts.delete, 2);
        assert_eq!(plan.counts.unchanged, 1);
        assert_eq!(plan.write_calls, 2);
        // Space s2 is not named; s1 was listed once, by the planner.
        let listed: Vec<String> = fake
            .calls()
            .into_iter()
            .filter(|c| c.starts_with("list_assignments"))
            .collect();
        assert_eq!(listed, vec!["list_assignments:s1".to_owned()]);
    }

    #[test]
    fn recount_counts_deletes_and_calls() {
        let space = Arc::new(SpaceInfo {
            id: "s1".into(),
            name: "S".into(),
            space_type: "shared".into(),
            owner_id: None,
            assignable_roles: Vec::new(),
            description: None,
        });
        let item = |action: Action| PlanItem {
            line: 0,
            key: RowKey("k".into()),
            space: SpaceRef::Name("S".into()),
            space_info: Some(Arc::clone(&space)),
            assignee_kind: AssigneeKind::User,
            assignee: AssigneeRef::Id("u".into()),
            assignee_id: Some("u".into()),
            stated_type: None,
            roles: vec!["consumer".into()],
            action,
        };
        let mut plan = Plan {
            target: "t".into(),
            mode: Mode::Exact,
            items: vec![
                item(Action::Delete {
                    assignment_id: "a".into(),
                    roles: vec!["consumer".into()],
                }),
                item(Action::Create {
                    roles: vec!["consumer".into()],
                }),
                item(Action::Unchanged {
                    roles: vec!["consumer".into()],
                }),
            ],
            counts: PlanCounts::default(),
            write_calls: 0,
            min_write_time: std::time::Duration::ZERO,
            write_time_estimated: false,
        };
        let caps = Capabilities {
            max_batch: 1,
            groups: true,
            delete: true,
            emails_new_members: false,
            lists_whole_space: true,
        };
        recount(&mut plan, &caps, Some(60));
        assert_eq!(plan.counts.delete, 1);
        assert_eq!(plan.counts.create, 1);
        assert_eq!(plan.counts.unchanged, 1);
        assert_eq!(plan.write_calls, 2);
        assert_eq!(plan.min_write_time, std::time::Duration::from_secs(2));
    }
}
