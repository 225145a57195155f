//! An in-memory tenant for the planner's and executor's unit tests: deterministic, instant, and
//! it counts every call.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use core_api::target::{
    AssigneeKind, AssignmentInfo, Capabilities, GroupInfo, SpaceInfo, Target, TargetError, TargetKind,
    UserInfo, WriteOp, WriteOutcome,
};
use core_api::{ErrorKind, Method, Problem, StatusCode};
use parking_lot::Mutex;

/// A tenant in memory.
#[derive(Default)]
pub(crate) struct State {
    pub spaces: Vec<SpaceInfo>,
    pub users: Vec<UserInfo>,
    pub groups: Vec<GroupInfo>,
    /// Space id -> assignments.
    pub assignments: HashMap<String, Vec<AssignmentInfo>>,
    /// Assignee id -> (status, how many more writes fail).
    pub fail_writes: HashMap<String, (u16, u32)>,
    /// Space id -> status returned by `list_assignments`.
    pub fail_listing: HashMap<String, u16>,
    /// A status every space read answers with (the tenant cannot be read).
    pub fail_spaces: Option<u16>,
    /// Every call, in order: `list_spaces`, `find_users:2`, `write:s1:create:u1`, ...
    pub calls: Vec<String>,
    pub next_id: u64,
}

pub(crate) struct Fake {
    pub state: Mutex<State>,
    pub caps: Capabilities,
    /// When set, each write waits for a permit: tests hold writes in flight.
    pub gate: Option<Arc<tokio::sync::Semaphore>>,
    /// When set, each write waits for a permit before it is sent (as for a rate limiter).
    pub send_gate: Option<Arc<tokio::sync::Semaphore>>,
    /// Writes that have entered `write` (before the gate).
    pub entered: tokio::sync::watch::Sender<u64>,
    /// When set, listing this space id waits for a permit: tests hold a read in flight.
    pub listing_gate: Option<(String, Arc<tokio::sync::Semaphore>)>,
    /// When set, called as each write goes on the wire: tests look at what is recorded then.
    pub on_send: Option<Box<dyn Fn() + Send + Sync>>,
}

pub(crate) fn api_error(status: u16, path: &str) -> TargetError {
    ErrorKind::Api {
        method: Method::POST,
        path: path.to_owned(),
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        problem: Problem {
            code: None,
            title: Some(format!("status {status}")),
            detail: None,
        },
        retry_after: None,
    }
    .into()
}

pub(crate) fn space(id: &str, name: &str, owner: Option<&str>) -> SpaceInfo {
    SpaceInfo {
        id: id.to_owned(),
        name: name.to_owned(),
        space_type: "shared".to_owned(),
        owner_id: owner.map(str::to_owned),
        assignable_roles: [
            "codeveloper",
            "consumer",
            "dataconsumer",
            "facilitator",
            "producer",
        ]
        .map(str::to_owned)
        .to_vec(),
        description: None,
    }
}

pub(crate) fn user(id: &str, email: &str) -> UserInfo {
    UserInfo {
        id: id.to_owned(),
        email: Some(email.to_owned()),
        subject: None,
        name: None,
        status: Some("active".to_owned()),
    }
}

pub(crate) fn roles(list: &[&str]) -> Vec<String> {
    list.iter().map(|r| (*r).to_owned()).collect()
}

impl Fake {
    pub fn new(state: State) -> Fake {
        Fake {
            state: Mutex::new(state),
            caps: Capabilities {
                max_batch: 1,
                groups: true,
                delete: true,
                emails_new_members: false,
                lists_whole_space: true,
            },
            gate: None,
            send_gate: None,
            entered: tokio::sync::watch::channel(0).0,
            listing_gate: None,
            on_send: None,
        }
    }

    pub fn assign(&self, space_id: &str, kind: AssigneeKind, assignee_id: &str, r: &[&str]) {
        let mut state = self.state.lock();
        state.next_id += 1;
        let id = format!("a{}", state.next_id);
        state
            .assignments
            .entry(space_id.to_owned())
            .or_default()
            .push(AssignmentInfo {
                id,
                assignee_kind: kind,
                assignee_id: assignee_id.to_owned(),
                roles: roles(r),
            });
    }

    pub fn roles_of(&self, space_id: &str, assignee_id: &str) -> Option<Vec<String>> {
        let state = self.state.lock();
        state
            .assignments
            .get(space_id)?
            .iter()
            .find(|a| a.assignee_id == assignee_id)
            .map(|a| a.roles.clone())
    }

    pub fn calls(&self) -> Vec<String> {
        self.state.lock().calls.clone()
    }

    pub fn writes(&self) -> usize {
        self.state
            .lock()
            .calls
            .iter()
            .filter(|c| c.starts_with("write:"))
            .count()
    }

    fn spaces_readable(&self) -> Result<(), TargetError> {
        match self.state.lock().fail_spaces {
            Some(status) => Err(api_error(status, "/api/v1/spaces")),
            None => Ok(()),
        }
    }

    fn log(&self, call: String) {
        self.state.lock().calls.push(call);
    }

    fn apply(&self, space: &SpaceInfo, op: &WriteOp) -> Result<WriteOutcome, TargetError> {
        let mut state = self.state.lock();
        let (kind, assignee) = match op {
            WriteOp::Create { assignee_id, .. } => ("create", assignee_id),
            WriteOp::Update { assignee_id, .. } => ("update", assignee_id),
            WriteOp::Delete { assignee_id, .. } => ("delete", assignee_id),
        };
        state.calls.push(format!("write:{}:{kind}:{assignee}", space.id));
        if let Some((status, left)) = state.fail_writes.get_mut(assignee)
            && *left > 0
        {
            *left -= 1;
            return Err(api_error(
                *status,
                &format!("/api/v1/spaces/{}/assignments", space.id),
            ));
        }
        state.next_id += 1;
        let next = format!("a{}", state.next_id);
        let list = state.assignments.entry(space.id.clone()).or_default();
        match op {
            WriteOp::Create {
                assignee_kind,
                assignee_id,
                roles,
            } => {
                if let Some(existing) = list.iter().find(|a| &a.assignee_id == assignee_id) {
                    return Ok(WriteOutcome::AlreadyExists(existing.clone()));
                }
                let info = AssignmentInfo {
                    id: next,
                    assignee_kind: *assignee_kind,
                    assignee_id: assignee_id.clone(),
                    roles: roles.clone(),
                };
                list.push(info.clone());
                Ok(WriteOutcome::Created(Some(info)))
            }
            WriteOp::Update {
                assignment_id, roles, ..
            } => match list.iter_mut().find(|a| &a.id == assignment_id) {
                Some(a) => {
                    a.roles = roles.clone();
                    Ok(WriteOutcome::Updated(Some(a.clone())))
                }
                None => Err(api_error(404, "/api/v1/spaces/x/assignments/y")),
            },
            WriteOp::Delete { assignment_id, .. } => {
                list.retain(|a| &a.id != assignment_id);
                Ok(WriteOutcome::Deleted)
            }
        }
    }
}

#[async_trait]
impl Target for Fake {
    fn kind(&self) -> TargetKind {
        TargetKind::Qlik
    }

    fn capabilities(&self) -> Capabilities {
        self.caps.clone()
    }

    async fn list_spaces(&self) -> Result<Vec<SpaceInfo>, TargetError> {
        self.log("list_spaces".into());
        self.spaces_readable()?;
        Ok(self.state.lock().spaces.clone())
    }

    async fn find_space_by_name(&self, name: &str) -> Result<Option<SpaceInfo>, TargetError> {
        self.log(format!("find_space:{name}"));
        self.spaces_readable()?;
        Ok(self.state.lock().spaces.iter().find(|s| s.name == name).cloned())
    }

    async fn get_space(&self, id: &str) -> Result<Option<SpaceInfo>, TargetError> {
        self.log(format!("get_space:{id}"));
        self.spaces_readable()?;
        Ok(self.state.lock().spaces.iter().find(|s| s.id == id).cloned())
    }

    async fn find_users_by_email(&self, emails: &[String]) -> Result<Vec<UserInfo>, TargetError> {
        self.log(format!("find_users:{}", emails.len()));
        let state = self.state.lock();
        Ok(state
            .users
            .iter()
            .filter(|u| {
                u.email
                    .as_ref()
                    .is_some_and(|e| emails.iter().any(|x| x.eq_ignore_ascii_case(e)))
            })
            .cloned()
            .collect())
    }

    async fn list_users(&self) -> Result<Vec<UserInfo>, TargetError> {
        self.log("list_users".into());
        Ok(self.state.lock().users.clone())
    }

    async fn find_groups_by_name(&self, names: &[String]) -> Result<Vec<GroupInfo>, TargetError> {
        self.log(format!("find_groups:{}", names.len()));
        let state = self.state.lock();
        Ok(state
            .groups
            .iter()
            .filter(|g| names.contains(&g.name))
            .cloned()
            .collect())
    }

    async fn list_groups(&self) -> Result<Vec<GroupInfo>, TargetError> {
        self.log("list_groups".into());
        Ok(self.state.lock().groups.clone())
    }

    async fn list_assignments(&self, space: &SpaceInfo) -> Result<Vec<AssignmentInfo>, TargetError> {
        self.log(format!("list_assignments:{}", space.id));
        if let Some((id, gate)) = &self.listing_gate
            && *id == space.id
            && let Ok(permit) = gate.acquire().await
        {
            permit.forget();
        }
        let state = self.state.lock();
        if let Some(status) = state.fail_listing.get(&space.id) {
            return Err(api_error(
                *status,
                &format!("/api/v1/spaces/{}/assignments", space.id),
            ));
        }
        Ok(state.assignments.get(&space.id).cloned().unwrap_or_default())
    }

    async fn write(&self, space: &SpaceInfo, ops: &[WriteOp]) -> Vec<Result<WriteOutcome, TargetError>> {
        if let Some(gate) = &self.send_gate {
            // Waiting to send, as a call waits for the rate limiter.
            match gate.acquire().await {
                Ok(permit) => permit.forget(),
                Err(_) => return ops.iter().map(|_| Err(api_error(503, "/closed"))).collect(),
            }
        }
        // Tell the engine's observer what a client would: the request is on the wire, then
        // answered.
        let observer = crate::exec::observer();
        let path = format!("/api/v1/spaces/{}/assignments", space.id);
        observer.on_event(&core_api::Event::RequestSent {
            tier: core_api::Tier::Tier2,
            method: &Method::POST,
            path: &path,
            attempt: 1,
        });
        if let Some(on_send) = &self.on_send {
            on_send();
        }
        self.entered.send_modify(|n| *n += 1);
        if let Some(gate) = &self.gate {
            match gate.acquire().await {
                Ok(permit) => permit.forget(),
                Err(_) => return ops.iter().map(|_| Err(api_error(503, "/closed"))).collect(),
            }
        }
        observer.on_event(&core_api::Event::ResponseReceived {
            tier: core_api::Tier::Tier2,
            method: &Method::POST,
            path: &path,
            status: 200,
            latency: std::time::Duration::ZERO,
        });
        ops.iter().map(|op| self.apply(space, op)).collect()
    }

    async fn create_space(
        &self,
        name: &str,
        space_type: &str,
        _description: Option<&str>,
    ) -> Result<SpaceInfo, TargetError> {
        let mut info = space(&format!("new-{name}"), name, None);
        info.space_type = space_type.to_owned();
        self.state.lock().spaces.push(info.clone());
        Ok(info)
    }

    async fn create_group(&self, name: &str) -> Result<GroupInfo, TargetError> {
        let info = GroupInfo {
            id: format!("g-{name}"),
            name: name.to_owned(),
        };
        self.state.lock().groups.push(info.clone());
        Ok(info)
    }

    async fn list_group_members(&self, _group: &GroupInfo) -> Result<Vec<UserInfo>, TargetError> {
        Ok(Vec::new())
    }
}
