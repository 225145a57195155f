//! [`core_api::target::Target`] for Alumio: users by email, memberships read per space, bulk
//! writes per space, no groups and no unassign.

use std::collections::BTreeSet;

use async_trait::async_trait;
use core_api::Error;
use core_api::target::{
    AssignmentInfo, Capabilities, GroupInfo, SpaceInfo, Target, TargetKind, UserInfo, WriteOp, WriteOutcome,
};
use futures::{StreamExt, TryStreamExt};

use crate::client::{Client, PAGE_SIZE};
use crate::models::{ROLES, Space, SpaceUser};
use crate::write::assignment;

/// How many single-member reads run at once when the member list is missing.
const MEMBER_READS_AT_ONCE: usize = 8;

/// The engine's view of a space; `None` for a space without an identifier (it cannot be
/// addressed).
fn space_info(space: Space) -> Option<SpaceInfo> {
    let id = space.identifier.filter(|i| !i.is_empty())?;
    Some(SpaceInfo {
        name: space.name.filter(|n| !n.is_empty()).unwrap_or_else(|| id.clone()),
        id,
        space_type: String::new(),
        owner_id: None,
        assignable_roles: ROLES.iter().map(|r| (*r).to_owned()).collect(),
        description: space.description.filter(|d| !d.is_empty()),
    })
}

fn member_info(member: SpaceUser) -> Option<AssignmentInfo> {
    let email = member.email()?.to_owned();
    Some(assignment(&email, member.roles))
}

impl Client {
    /// Memberships of these emails, one read each.
    async fn members_one_by_one(
        &self,
        space: &str,
        emails: Vec<String>,
    ) -> Result<Vec<AssignmentInfo>, Error> {
        let found: Vec<Option<AssignmentInfo>> = futures::stream::iter(emails)
            .map(|email| async move {
                let member = self.members(space).get(&email).await?;
                // The answer may leave the email out; the request named it.
                Ok::<_, Error>(member.map(|m| {
                    let roles = m.roles.clone();
                    member_info(m).unwrap_or_else(|| assignment(&email, roles))
                }))
            })
            .buffer_unordered(MEMBER_READS_AT_ONCE)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    pub(crate) async fn memberships(
        &self,
        space: &SpaceInfo,
        emails: Option<&[String]>,
    ) -> Result<Vec<AssignmentInfo>, Error> {
        if let Some(members) = self.members(&space.id).list_all().await? {
            return Ok(members.into_iter().filter_map(member_info).collect());
        }
        let emails: Vec<String> = match emails {
            Some(emails) => emails
                .iter()
                .map(|e| e.trim().to_lowercase())
                .filter(|e| !e.is_empty())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            // Without the planner's list: every email looked up in this run.
            None => self.remembered_emails(),
        };
        self.members_one_by_one(&space.id, emails).await
    }
}

#[async_trait]
impl Target for Client {
    fn kind(&self) -> TargetKind {
        TargetKind::Alumio
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_batch: self.batch_size(),
            groups: false,
            delete: false,
            emails_new_members: true,
            lists_whole_space: false,
        }
    }

    async fn list_spaces(&self) -> Result<Vec<SpaceInfo>, Error> {
        Ok(self
            .spaces()
            .list_cached()
            .await?
            .iter()
            .cloned()
            .filter_map(space_info)
            .collect())
    }

    /// By exact display name, else by identifier (see [`crate::Spaces::find`]).
    async fn find_space_by_name(&self, name: &str) -> Result<Option<SpaceInfo>, Error> {
        Ok(self.spaces().find(name).await?.and_then(space_info))
    }

    /// Alumio spaces are named by display name or by identifier, as [`Target::find_space_by_name`]
    /// finds them.
    fn space_answers_to(&self, space: &SpaceInfo, name: &str) -> bool {
        space.name == name || space.id == name
    }

    async fn get_space(&self, id: &str) -> Result<Option<SpaceInfo>, Error> {
        Ok(self.spaces().get(id).await?.and_then(space_info))
    }

    /// Alumio has no user directory to search: every email is taken as found, with the
    /// lowercased email as its id. An email Alumio does not know fails at its write, with
    /// Alumio's own message (or the user is invited, if that is what Alumio does).
    async fn find_users_by_email(&self, emails: &[String]) -> Result<Vec<UserInfo>, Error> {
        let distinct: BTreeSet<String> = emails
            .iter()
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty())
            .collect();
        self.remember_emails(distinct.iter().map(String::as_str));
        Ok(distinct
            .into_iter()
            .map(|email| UserInfo {
                id: email.clone(),
                email: Some(email),
                subject: None,
                name: None,
                status: None,
            })
            .collect())
    }

    async fn list_users(&self) -> Result<Vec<UserInfo>, Error> {
        Err(Error::invalid(
            "list the users of an Alumio environment: the Alumio API has no user directory; \
             users are looked up by email",
        ))
    }

    /// Looking users up costs no request.
    fn user_lookup_requests(&self, _emails: &[String]) -> usize {
        0
    }

    fn group_lookup_requests(&self, _names: &[String]) -> usize {
        0
    }

    fn list_page_size(&self) -> usize {
        PAGE_SIZE
    }

    /// No groups in the Alumio API: none is ever found.
    async fn find_groups_by_name(&self, _names: &[String]) -> Result<Vec<GroupInfo>, Error> {
        Ok(Vec::new())
    }

    async fn list_groups(&self) -> Result<Vec<GroupInfo>, Error> {
        Ok(Vec::new())
    }

    /// The space's members from the list endpoint; where the environment has none, one read
    /// per email looked up in this run (see [`Target::list_assignments_of`] for the cheaper
    /// form).
    async fn list_assignments(&self, space: &SpaceInfo) -> Result<Vec<AssignmentInfo>, Error> {
        self.memberships(space, None).await
    }

    /// The space's members from the list endpoint; where the environment has none, one read
    /// per email asked about.
    async fn list_assignments_of(
        &self,
        space: &SpaceInfo,
        assignee_ids: &[String],
    ) -> Result<Vec<AssignmentInfo>, Error> {
        self.memberships(space, Some(assignee_ids)).await
    }

    /// Up to [`Capabilities::max_batch`] creates and updates of one space in one
    /// `assign_users` call (more calls when the server rejects part of it; see the `write`
    /// module). Deletes and group rows fail without a request.
    async fn write(&self, space: &SpaceInfo, ops: &[WriteOp]) -> Vec<Result<WriteOutcome, Error>> {
        self.write_ops(space, ops).await
    }

    async fn create_space(
        &self,
        name: &str,
        _space_type: &str,
        _description: Option<&str>,
    ) -> Result<SpaceInfo, Error> {
        Err(Error::invalid(format!(
            "create the Alumio space {name:?}: roster does not create Alumio spaces; create it in Alumio"
        )))
    }

    async fn create_group(&self, name: &str) -> Result<GroupInfo, Error> {
        Err(Error::invalid(format!(
            "create the group {name:?} in Alumio: the Alumio API has no groups"
        )))
    }

    async fn list_group_members(&self, group: &GroupInfo) -> Result<Vec<UserInfo>, Error> {
        Err(Error::invalid(format!(
            "list the members of the group {:?} in Alumio: the Alumio API has no groups",
            group.name
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_need_an_identifier() {
        let info = space_info(Space {
            identifier: Some("sales-eu".to_owned()),
            name: None,
            description: Some(String::new()),
        })
        .unwrap();
        assert_eq!(info.id, "sales-eu");
        assert_eq!(info.name, "sales-eu");
        assert_eq!(info.space_type, "");
        assert_eq!(info.assignable_roles, ROLES);
        assert_eq!(info.description, None);
        assert_eq!(space_info(Space::default()), None);
    }
}
