//! [`core_api::target::Target`] for Qlik Cloud: one write per assignment, groups supported.

use async_trait::async_trait;
use core_api::Error;
use core_api::target::{
    AssigneeKind, AssignmentInfo, Capabilities, GroupInfo, SpaceInfo, Target, TargetKind, UserInfo, WriteOp,
    WriteOutcome,
};

use crate::client::{Client, Created, Groups, PAGE_SIZE, Users};
use crate::models::{Assignment, CreateAssignment, CreateSpace, Group, Space, User};

impl From<Space> for SpaceInfo {
    fn from(space: Space) -> Self {
        SpaceInfo {
            id: space.id,
            name: space.name,
            space_type: space.space_type,
            owner_id: space.owner_id,
            assignable_roles: space.meta.assignable_roles,
            description: space.description,
        }
    }
}

impl From<User> for UserInfo {
    fn from(user: User) -> Self {
        UserInfo {
            id: user.id,
            email: user.email,
            subject: user.subject,
            name: user.name,
            status: user.status,
        }
    }
}

impl From<Group> for GroupInfo {
    fn from(group: Group) -> Self {
        GroupInfo {
            id: group.id,
            name: group.name,
        }
    }
}

/// The engine's view of an assignment; `None` for assignee types it does not manage (bots).
fn assignment_info(assignment: Assignment) -> Option<AssignmentInfo> {
    let assignee_kind = match assignment.assignee_type.as_str() {
        "user" => AssigneeKind::User,
        "group" => AssigneeKind::Group,
        _ => return None,
    };
    Some(AssignmentInfo {
        id: assignment.id,
        assignee_kind,
        assignee_id: assignment.assignee_id,
        roles: assignment.roles,
    })
}

/// An assignment the API answered with but that the engine cannot represent is a decode
/// problem, not a success to hide.
fn known_assignment(assignment: Assignment) -> Result<AssignmentInfo, Error> {
    let kind = assignment.assignee_type.clone();
    assignment_info(assignment).ok_or_else(|| {
        Error::invalid(format!(
            "use an assignment of type `{kind}`: only user and group are supported"
        ))
    })
}

fn assignee_type(kind: AssigneeKind) -> String {
    kind.to_string()
}

impl Client {
    async fn write_one(&self, space: &SpaceInfo, op: &WriteOp) -> Result<WriteOutcome, Error> {
        let assignments = self.assignments(&space.id);
        match op {
            WriteOp::Create {
                assignee_kind,
                assignee_id,
                roles,
            } => {
                let body = CreateAssignment {
                    assignee_type: assignee_type(*assignee_kind),
                    assignee_id: assignee_id.clone(),
                    roles: roles.clone(),
                };
                match assignments.create_or_existing(&body).await? {
                    Created::New(created) => Ok(WriteOutcome::Created(assignment_info(created))),
                    Created::Existing(existing) => {
                        Ok(WriteOutcome::AlreadyExists(known_assignment(existing)?))
                    }
                }
            }
            WriteOp::Update {
                assignment_id, roles, ..
            } => {
                let updated = assignments.update_roles(assignment_id, roles).await?;
                Ok(WriteOutcome::Updated(assignment_info(updated)))
            }
            WriteOp::Delete { assignment_id, .. } => match assignments.delete(assignment_id).await {
                Ok(_) => Ok(WriteOutcome::Deleted),
                // A 404 on a retry: the lost first attempt deleted it.
                Err(error) if error.is_not_found() && error.attempts() > 1 => Ok(WriteOutcome::Deleted),
                Err(error) => Err(error),
            },
        }
    }
}

#[async_trait]
impl Target for Client {
    fn kind(&self) -> TargetKind {
        TargetKind::Qlik
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_batch: 1,
            groups: true,
            delete: true,
            emails_new_members: false,
            lists_whole_space: true,
        }
    }

    async fn list_spaces(&self) -> Result<Vec<SpaceInfo>, Error> {
        Ok(self
            .spaces()
            .list_all()
            .await?
            .into_iter()
            .map(SpaceInfo::from)
            .collect())
    }

    async fn find_space_by_name(&self, name: &str) -> Result<Option<SpaceInfo>, Error> {
        Ok(self.spaces().find_by_name(name).await?.map(SpaceInfo::from))
    }

    async fn get_space(&self, id: &str) -> Result<Option<SpaceInfo>, Error> {
        match self.spaces().get(id).await {
            Ok(space) => Ok(Some(space.into())),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn find_users_by_email(&self, emails: &[String]) -> Result<Vec<UserInfo>, Error> {
        Ok(self
            .users()
            .find_by_emails(emails)
            .await?
            .into_iter()
            .map(UserInfo::from)
            .collect())
    }

    async fn list_users(&self) -> Result<Vec<UserInfo>, Error> {
        Ok(self
            .users()
            .list_all()
            .await?
            .into_iter()
            .map(UserInfo::from)
            .collect())
    }

    fn user_lookup_requests(&self, emails: &[String]) -> usize {
        Users::lookup_requests(emails)
    }

    fn group_lookup_requests(&self, names: &[String]) -> usize {
        Groups::lookup_requests(names)
    }

    fn list_page_size(&self) -> usize {
        PAGE_SIZE
    }

    async fn find_groups_by_name(&self, names: &[String]) -> Result<Vec<GroupInfo>, Error> {
        Ok(self
            .groups()
            .find_by_names(names)
            .await?
            .into_iter()
            .map(GroupInfo::from)
            .collect())
    }

    async fn list_groups(&self) -> Result<Vec<GroupInfo>, Error> {
        Ok(self
            .groups()
            .list_all()
            .await?
            .into_iter()
            .map(GroupInfo::from)
            .collect())
    }

    async fn list_assignments(&self, space: &SpaceInfo) -> Result<Vec<AssignmentInfo>, Error> {
        Ok(self
            .assignments(&space.id)
            .list_all()
            .await?
            .into_iter()
            .filter_map(assignment_info)
            .collect())
    }

    /// One op at a time, in order (Qlik has no bulk endpoint; `max_batch` is 1). A create that meets an existing assignment (409, also on the
    /// retry of a create whose response was lost) is `AlreadyExists` with the assignment read
    /// back. An update or delete of an assignment that is not there fails with `not_found`,
    /// except a delete whose earlier attempt was lost, which is `Deleted`.
    async fn write(&self, space: &SpaceInfo, ops: &[WriteOp]) -> Vec<Result<WriteOutcome, Error>> {
        let mut outcomes = Vec::with_capacity(ops.len());
        for op in ops {
            outcomes.push(self.write_one(space, op).await);
        }
        outcomes
    }

    async fn create_space(
        &self,
        name: &str,
        space_type: &str,
        description: Option<&str>,
    ) -> Result<SpaceInfo, Error> {
        let body = CreateSpace {
            name: name.to_owned(),
            space_type: space_type.to_owned(),
            description: description.map(str::to_owned),
        };
        match self.spaces().create(&body).await {
            Ok(space) => Ok(space.into()),
            // A retried create whose first response was lost: the space is ours, read it back.
            Err(error) if error.is_conflict() && error.attempts() > 1 => self
                .spaces()
                .find_by_name(name)
                .await?
                .map(SpaceInfo::from)
                .ok_or(error),
            Err(error) => Err(error),
        }
    }

    async fn create_group(&self, name: &str) -> Result<GroupInfo, Error> {
        match self.groups().create(name).await {
            Ok(group) => Ok(group.into()),
            // A retried create whose first response was lost: the group is ours, read it back.
            Err(error) if error.is_conflict() && error.attempts() > 1 => self
                .groups()
                .find_by_name(name)
                .await?
                .map(GroupInfo::from)
                .ok_or(error),
            Err(error) => Err(error),
        }
    }

    async fn list_group_members(&self, group: &GroupInfo) -> Result<Vec<UserInfo>, Error> {
        Ok(self
            .users()
            .list_by_group(&group.id)
            .await?
            .into_iter()
            .map(UserInfo::from)
            .collect())
    }

    fn tenant_config(&self) -> Option<&dyn core_api::tenant::TenantConfig> {
        Some(self)
    }
}
