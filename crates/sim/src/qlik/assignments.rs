//! `/api/v1/spaces/{space_id}/assignments`: listing, reading, creating, updating and deleting a
//! space's assignments, each write recorded in the write log.

use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::S;
use super::paging::{Href, Page, PageMeta, Params, href, limit, links, offset};
use super::reply::{bad_request, body, json_body, not_found};
use crate::error_body::qlik_error;
use crate::record::{WriteOp, WriteRecord, WriteResource};
use crate::state::{Caller, Shared, StoredAssignment, now_rfc3339};
use crate::tenant::{AssigneeType, Assignment, Space};

fn assignment_json(s: &Shared, tenant_id: &str, stored: &StoredAssignment) -> Value {
    let a = &stored.a;
    json!({
        "id": a.id,
        "type": a.assignee_type,
        "assigneeId": a.assignee_id,
        "roles": a.roles,
        "spaceId": a.space_id,
        "tenantId": tenant_id,
        "createdAt": stored.created_at,
        "createdBy": stored.created_by,
        "updatedAt": stored.updated_at,
        "updatedBy": stored.updated_by,
        "links": {
            "self": href(s, &format!("/api/v1/spaces/{}/assignments/{}", a.space_id, a.id), &[]),
            "space": href(s, &format!("/api/v1/spaces/{}", a.space_id), &[]),
        },
    })
}

/// An assignment as the API answers it, borrowed from the stored one: a list of thousands is
/// written straight to JSON instead of through a `Value` per assignment. Fields are in
/// alphabetical order, so the bytes are the same as [`assignment_json`]'s.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct AssignmentOut<'a> {
    assignee_id: &'a str,
    created_at: &'a str,
    created_by: &'a str,
    id: &'a str,
    links: AssignmentLinks,
    roles: &'a [String],
    space_id: &'a str,
    tenant_id: &'a str,
    #[serde(rename = "type")]
    kind: AssigneeType,
    updated_at: &'a str,
    updated_by: &'a str,
}

#[derive(serde::Serialize)]
struct AssignmentLinks {
    #[serde(rename = "self")]
    this: Href,
    space: Href,
}

impl<'a> AssignmentOut<'a> {
    fn new(s: &Shared, tenant_id: &'a str, stored: &'a StoredAssignment) -> Self {
        let a = &stored.a;
        AssignmentOut {
            assignee_id: &a.assignee_id,
            created_at: &stored.created_at,
            created_by: &stored.created_by,
            id: &a.id,
            links: AssignmentLinks {
                this: Href {
                    href: format!("{}/api/v1/spaces/{}/assignments/{}", s.base_url, a.space_id, a.id),
                },
                space: Href {
                    href: format!("{}/api/v1/spaces/{}", s.base_url, a.space_id),
                },
            },
            roles: &a.roles,
            space_id: &a.space_id,
            tenant_id,
            kind: a.assignee_type,
            updated_at: &stored.updated_at,
            updated_by: &stored.updated_by,
        }
    }
}

pub(super) async fn list_assignments(
    State(s): S,
    Path(space_id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let params = Params::parse(q);
    let world = s.world.lock();
    if world.space(&space_id).is_none() {
        return not_found(&s, "Space");
    }
    let (limit, offset) = match (limit(&s, &params, 10, 100), offset(&s, &params)) {
        (Ok(l), Ok(o)) => (l, o),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let kind = match params.get("type") {
        None | Some("") => None,
        Some("user") => Some(AssigneeType::User),
        Some("group") => Some(AssigneeType::Group),
        // Bots exist in the real service; this tenant has none.
        Some("bot") => return axum::Json(json!({"data": [], "meta": {"count": 0}, "links": links(&s, &format!("/api/v1/spaces/{space_id}/assignments"), &params, 0, limit, 0)})).into_response(),
        Some(other) => return bad_request(&s, &format!("invalid assignment type {other:?}")),
    };
    let assignee = params.get("assigneeId");
    let matching: Vec<&StoredAssignment> = world
        .assignments
        .get(&space_id)
        .into_iter()
        .flatten()
        .filter(|a| kind.is_none_or(|k| a.a.assignee_type == k))
        .filter(|a| assignee.is_none_or(|id| a.a.assignee_id == id))
        .collect();
    let total = matching.len();
    let links = links(
        &s,
        &format!("/api/v1/spaces/{space_id}/assignments"),
        &params,
        offset,
        limit,
        total,
    );
    let page = Page {
        data: matching
            .iter()
            .skip(offset)
            .take(limit)
            .map(|a| AssignmentOut::new(&s, &world.tenant.tenant_id, a))
            .collect(),
        links,
        meta: PageMeta { count: total },
    };
    // Written while the lock is held, since the page borrows the stored assignments.
    let body = serde_json::to_vec(&page);
    drop(world);
    json_body(&s, body)
}

pub(super) async fn get_assignment(
    State(s): S,
    Path((space_id, assignment_id)): Path<(String, String)>,
) -> Response {
    let world = s.world.lock();
    if world.space(&space_id).is_none() {
        return not_found(&s, "Space");
    }
    match world
        .assignments
        .get(&space_id)
        .and_then(|l| l.iter().find(|a| a.a.id == assignment_id))
    {
        Some(a) => axum::Json(assignment_json(&s, &world.tenant.tenant_id, a)).into_response(),
        None => not_found(&s, "Assignment"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssignmentCreate {
    #[serde(rename = "type")]
    assignee_type: Option<String>,
    assignee_id: Option<String>,
    roles: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct AssignmentUpdate {
    roles: Option<Vec<String>>,
}

/// Roles must be non-empty and each assignable in the space (roles are case-sensitive).
fn check_roles(s: &Shared, space: &Space, roles: Option<&Vec<String>>) -> Result<Vec<String>, Response> {
    let roles = match roles {
        Some(r) if !r.is_empty() => r,
        _ => return Err(bad_request(s, "roles must not be empty")),
    };
    let assignable = space.assignable_roles();
    if let Some(bad) = roles.iter().find(|r| !assignable.contains(r)) {
        return Err(bad_request(
            s,
            &format!(
                "role {bad:?} is not assignable in this {} space (assignable: {})",
                space.space_type,
                assignable.join(", ")
            ),
        ));
    }
    let mut unique = roles.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != roles.len() {
        return Err(bad_request(s, "roles must not repeat"));
    }
    Ok(roles.clone())
}

fn log_write(s: &Shared, op: WriteOp, a: &Assignment, caller: &Caller) {
    s.logs.lock().writes.push(WriteRecord {
        at: s.elapsed(),
        op,
        resource: WriteResource::Assignment,
        id: a.id.clone(),
        space_id: a.space_id.clone(),
        assignment_id: a.id.clone(),
        kind: a.assignee_type.as_str().to_owned(),
        assignee_id: a.assignee_id.clone(),
        roles: a.roles.clone(),
        changed: Vec::new(),
        credential: caller.credential.clone(),
    });
}

pub(super) async fn create_assignment(
    State(s): S,
    Extension(caller): Extension<Caller>,
    Path(space_id): Path<String>,
    bytes: Bytes,
) -> Response {
    let mut world = s.world.lock();
    let Some(space) = world.space(&space_id).cloned() else {
        return not_found(&s, "Space");
    };
    let req: AssignmentCreate = match body(&s, &bytes) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let assignee_type = match req.assignee_type.as_deref() {
        Some("user") => AssigneeType::User,
        Some("group") => AssigneeType::Group,
        Some("bot") => return bad_request(&s, "no bot with this assigneeId"),
        _ => return bad_request(&s, "type must be user or group"),
    };
    let Some(assignee_id) = req.assignee_id.filter(|id| !id.is_empty()) else {
        return bad_request(&s, "assigneeId is required");
    };
    let exists = match assignee_type {
        AssigneeType::User => world.user(&assignee_id).is_some(),
        AssigneeType::Group => world.group(&assignee_id).is_some(),
    };
    if !exists {
        return bad_request(&s, &format!("no {assignee_type} with id {assignee_id}"));
    }
    let roles = match check_roles(&s, &space, req.roles.as_ref()) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if assignee_id == space.owner_id {
        return bad_request(&s, "the space owner holds every role and cannot be assigned");
    }
    let list = world.assignments.entry(space_id.clone()).or_default();
    if list.iter().any(|a| a.a.assignee_id == assignee_id) {
        return qlik_error(
            &s,
            StatusCode::CONFLICT,
            "AssignmentConflict",
            "Assignment already exists.",
            Some("assigneeId must be unique in a space"),
        );
    }
    let now = now_rfc3339();
    let stored = StoredAssignment {
        a: Assignment {
            id: s.new_id(),
            space_id,
            assignee_type,
            assignee_id,
            roles,
        },
        created_at: now.clone(),
        created_by: caller.user_id.clone(),
        updated_at: now,
        updated_by: caller.user_id.clone(),
    };
    list.push(stored.clone());
    log_write(&s, WriteOp::Create, &stored.a, &caller);
    let value = assignment_json(&s, &world.tenant.tenant_id, &stored);
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

pub(super) async fn update_assignment(
    State(s): S,
    Extension(caller): Extension<Caller>,
    Path((space_id, assignment_id)): Path<(String, String)>,
    bytes: Bytes,
) -> Response {
    let mut world = s.world.lock();
    let Some(space) = world.space(&space_id).cloned() else {
        return not_found(&s, "Space");
    };
    let tenant_id = world.tenant.tenant_id.clone();
    let Some(stored) = world
        .assignments
        .get_mut(&space_id)
        .and_then(|l| l.iter_mut().find(|a| a.a.id == assignment_id))
    else {
        return not_found(&s, "Assignment");
    };
    let req: AssignmentUpdate = match body(&s, &bytes) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let roles = match check_roles(&s, &space, req.roles.as_ref()) {
        Ok(r) => r,
        Err(r) => return r,
    };
    stored.a.roles = roles;
    stored.updated_at = now_rfc3339();
    stored.updated_by = caller.user_id.clone();
    log_write(&s, WriteOp::Update, &stored.a, &caller);
    axum::Json(assignment_json(&s, &tenant_id, stored)).into_response()
}

pub(super) async fn delete_assignment(
    State(s): S,
    Extension(caller): Extension<Caller>,
    Path((space_id, assignment_id)): Path<(String, String)>,
) -> Response {
    let mut world = s.world.lock();
    if world.space(&space_id).is_none() {
        return not_found(&s, "Space");
    }
    let Some(list) = world.assignments.get_mut(&space_id) else {
        return not_found(&s, "Assignment");
    };
    let Some(index) = list.iter().position(|a| a.a.id == assignment_id) else {
        return not_found(&s, "Assignment");
    };
    let removed = list.remove(index);
    log_write(&s, WriteOp::Delete, &removed.a, &caller);
    StatusCode::NO_CONTENT.into_response()
}
