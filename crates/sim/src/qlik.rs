//! The Qlik Cloud endpoints: OAuth tokens, spaces, assignments, users and groups, written from
//! the OpenAPI specs in `shared/specs/qlik` and the API notes.
//!
//! Choices where the specs are silent: list results are in tenant order (creation order); page
//! cursors are opaque offsets; `email` comparisons in filters ignore case, other values do not;
//! space names are unique ignoring case; creating an assignment for the space owner is a 400
//! (owners hold every role and are never listed as assignees).

#![expect(
    clippy::result_large_err,
    reason = "helpers fail with the finished error response; one request, one allocation either way"
)]

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::record::{WriteOp, WriteRecord};
use crate::routes::qlik_error;
use crate::scim::{self, Op};
use crate::state::{Caller, EPOCH, IssuedToken, Shared, StoredAssignment, now_rfc3339};
use crate::tenant::{AssigneeType, Assignment, Group, Space, SpaceType, User, space_name_problem};

type S = State<Arc<Shared>>;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/spaces", get(list_spaces).post(create_space))
        .route("/api/v1/spaces/{space_id}", get(get_space))
        .route(
            "/api/v1/spaces/{space_id}/assignments",
            get(list_assignments).post(create_assignment),
        )
        .route(
            "/api/v1/spaces/{space_id}/assignments/{assignment_id}",
            get(get_assignment)
                .put(update_assignment)
                .delete(delete_assignment),
        )
        .route("/api/v1/users", get(list_users))
        .route("/api/v1/users/{user_id}", get(get_user))
        .route("/api/v1/groups", get(list_groups).post(create_group))
        .route("/api/v1/groups/{group_id}", get(get_group))
}

// ---------------------------------------------------------------------------------------------
// OAuth

#[derive(Deserialize)]
struct TokenRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    grant_type: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// `POST /oauth/token`: the client-credentials grant, JSON or form-encoded.
pub(crate) async fn token(State(s): S, headers: HeaderMap, body: Bytes) -> Response {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let parsed: Option<TokenRequest> = if is_form {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        Some(TokenRequest {
            client_id: get("client_id"),
            client_secret: get("client_secret"),
            grant_type: get("grant_type"),
        })
    } else {
        serde_json::from_slice(&body).ok()
    };
    let Some(req) = parsed else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body is not a token request",
        );
    };
    if req.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is supported",
        );
    }
    let client = {
        let world = s.world.lock();
        world
            .tenant
            .oauth_clients
            .iter()
            .find(|c| {
                Some(&c.client_id) == req.client_id.as_ref()
                    && Some(&c.client_secret) == req.client_secret.as_ref()
            })
            .cloned()
    };
    let Some(client) = client else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    };
    let access_token = s.random_token();
    s.tokens.lock().insert(
        access_token.clone(),
        IssuedToken {
            client_id: client.client_id,
            user_id: client.user_id,
            expires: Instant::now() + s.token_ttl,
        },
    );
    axum::Json(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": s.token_ttl.as_secs(),
        "scope": "admin_classic",
    }))
    .into_response()
}

// ---------------------------------------------------------------------------------------------
// Shared helpers: query parameters, pagination, bodies

struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: Option<String>) -> Self {
        Params(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn bad_request(s: &Shared, detail: &str) -> Response {
    qlik_error(
        s,
        StatusCode::BAD_REQUEST,
        "HTTP-400",
        "Bad request",
        Some(detail),
    )
}

fn not_found(s: &Shared, what: &str) -> Response {
    qlik_error(
        s,
        StatusCode::NOT_FOUND,
        "HTTP-404",
        &format!("{what} not found or access denied."),
        None,
    )
}

/// `limit` within `1..=max`, or the default.
fn limit(s: &Shared, params: &Params, default: usize, max: usize) -> Result<usize, Response> {
    match params.get("limit") {
        None => Ok(default),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(bad_request(
                s,
                &format!("limit must be an integer from 1 to {max}, got {raw:?}"),
            )),
        },
    }
}

fn encode_cursor(offset: usize) -> String {
    format!("c{:x}", offset ^ 0x5a5a)
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let hex = cursor.strip_prefix('c')?;
    usize::from_str_radix(hex, 16).ok().map(|n| n ^ 0x5a5a)
}

/// The page's first index, from `next` or `prev`.
fn offset(s: &Shared, params: &Params) -> Result<usize, Response> {
    match params.get("next").or_else(|| params.get("prev")) {
        None => Ok(0),
        Some(cursor) => decode_cursor(cursor).ok_or_else(|| bad_request(s, "invalid page cursor")),
    }
}

fn href(s: &Shared, path: &str, params: &[(String, String)]) -> Value {
    let mut url = format!("{}{path}", s.base_url);
    if !params.is_empty() {
        url.push('?');
        url.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params)
                .finish(),
        );
    }
    json!({ "href": url })
}

/// `self`, `next` and `prev` links, each a full URL repeating the query with a new cursor.
fn links(s: &Shared, path: &str, params: &Params, offset: usize, limit: usize, total: usize) -> Value {
    let base: Vec<(String, String)> = params
        .0
        .iter()
        .filter(|(k, _)| k != "next" && k != "prev")
        .cloned()
        .collect();
    let with = |key: &str, at: usize| {
        let mut p = base.clone();
        p.push((key.to_owned(), encode_cursor(at)));
        href(s, path, &p)
    };
    let mut links = json!({ "self": href(s, path, &params.0) });
    if offset + limit < total {
        links["next"] = with("next", offset + limit);
    }
    if offset > 0 {
        links["prev"] = with("prev", offset.saturating_sub(limit));
    }
    links
}

fn body<T: DeserializeOwned>(s: &Shared, bytes: &Bytes) -> Result<T, Response> {
    serde_json::from_slice(bytes).map_err(|e| bad_request(s, &format!("invalid request body: {e}")))
}

// ---------------------------------------------------------------------------------------------
// Spaces

fn space_json(
    s: &Shared,
    tenant_id: &str,
    space: &Space,
    caller: &Caller,
    caller_roles: Vec<String>,
) -> Value {
    serde_json::to_value(SpaceOut::new(s, tenant_id, space, caller, caller_roles)).unwrap_or(Value::Null)
}

fn caller_roles(world: &crate::state::World, space_id: &str, caller: &Caller) -> Vec<String> {
    world
        .assignments
        .get(space_id)
        .and_then(|list| list.iter().find(|a| a.a.assignee_id == caller.user_id))
        .map(|a| a.a.roles.clone())
        .unwrap_or_default()
}

async fn list_spaces(State(s): S, Extension(caller): Extension<Caller>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q);
    let (limit, offset) = match (limit(&s, &params, 10, 100), offset(&s, &params)) {
        (Ok(l), Ok(o)) => (l, o),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let types: Option<Vec<SpaceType>> = match params.get("type") {
        None | Some("") => None,
        Some(raw) => {
            let parsed: Option<Vec<SpaceType>> = raw.split(',').map(|t| SpaceType::parse(t.trim())).collect();
            match parsed {
                Some(t) => Some(t),
                None => return bad_request(&s, &format!("invalid space type in {raw:?}")),
            }
        }
    };
    let name = params.get("name").map(str::to_lowercase);
    let owner = params.get("ownerId");
    let world = s.world.lock();
    let matching: Vec<&Space> = world
        .tenant
        .spaces
        .iter()
        .filter(|sp| types.as_ref().is_none_or(|t| t.contains(&sp.space_type)))
        .filter(|sp| {
            name.as_ref()
                .is_none_or(|n| sp.name.to_lowercase().contains(n.as_str()))
        })
        .filter(|sp| owner.is_none_or(|o| sp.owner_id == o))
        .collect();
    let total = matching.len();
    let data: Vec<SpaceOut<'_>> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|sp| {
            SpaceOut::new(
                &s,
                &world.tenant.tenant_id,
                sp,
                &caller,
                caller_roles(&world, &sp.id, &caller),
            )
        })
        .collect();
    let page = SpacePage {
        data,
        links: links(&s, "/api/v1/spaces", &params, offset, limit, total),
        meta: PageMeta { count: total },
    };
    let body = serde_json::to_vec(&page);
    drop(world);
    json_body(&s, body)
}

/// A space as the API answers it, for a page of spaces written straight to JSON (fields in
/// alphabetical order, as a `Value` would write them).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SpaceOut<'a> {
    created_at: &'a str,
    created_by: &'a str,
    description: &'a str,
    id: &'a str,
    links: SpaceLinks,
    meta: SpaceMeta,
    name: &'a str,
    owner_id: &'a str,
    tenant_id: &'a str,
    #[serde(rename = "type")]
    space_type: SpaceType,
    updated_at: &'a str,
}

#[derive(serde::Serialize)]
struct SpaceLinks {
    assignments: Href,
    #[serde(rename = "self")]
    this: Href,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SpaceMeta {
    actions: [&'static str; 5],
    assignable_roles: Vec<String>,
    roles: Vec<String>,
}

impl<'a> SpaceOut<'a> {
    fn new(
        s: &Shared,
        tenant_id: &'a str,
        space: &'a Space,
        caller: &Caller,
        caller_roles: Vec<String>,
    ) -> Self {
        let assignable = space.assignable_roles();
        let roles = if space.owner_id == caller.user_id {
            assignable.clone()
        } else {
            caller_roles
        };
        SpaceOut {
            created_at: EPOCH,
            created_by: &space.owner_id,
            description: &space.description,
            id: &space.id,
            links: SpaceLinks {
                assignments: Href {
                    href: format!("{}/api/v1/spaces/{}/assignments", s.base_url, space.id),
                },
                this: Href {
                    href: format!("{}/api/v1/spaces/{}", s.base_url, space.id),
                },
            },
            meta: SpaceMeta {
                actions: SPACE_ACTIONS,
                assignable_roles: assignable,
                roles,
            },
            name: &space.name,
            owner_id: &space.owner_id,
            tenant_id,
            space_type: space.space_type,
            updated_at: EPOCH,
        }
    }
}

/// What the caller may do with a space, as the simulator answers for every space.
const SPACE_ACTIONS: [&str; 5] = ["change_owner", "create", "delete", "read", "update"];

/// A page of spaces; fields in alphabetical order, as `json!` would write them.
#[derive(serde::Serialize)]
struct SpacePage<'a> {
    data: Vec<SpaceOut<'a>>,
    links: Value,
    meta: PageMeta,
}

async fn get_space(
    State(s): S,
    Extension(caller): Extension<Caller>,
    Path(space_id): Path<String>,
) -> Response {
    let world = s.world.lock();
    match world.space(&space_id) {
        Some(sp) => axum::Json(space_json(
            &s,
            &world.tenant.tenant_id,
            sp,
            &caller,
            caller_roles(&world, &sp.id, &caller),
        ))
        .into_response(),
        None => not_found(&s, "Space"),
    }
}

#[derive(Deserialize)]
struct SpaceCreate {
    name: Option<String>,
    #[serde(rename = "type")]
    space_type: Option<String>,
    description: Option<String>,
}

async fn create_space(State(s): S, Extension(caller): Extension<Caller>, bytes: Bytes) -> Response {
    let req: SpaceCreate = match body(&s, &bytes) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some(name) = req.name else {
        return bad_request(&s, "name is required");
    };
    if let Some(problem) = space_name_problem(&name) {
        return bad_request(&s, &problem);
    }
    let Some(space_type) = req.space_type.as_deref().and_then(SpaceType::parse) else {
        return bad_request(&s, "type must be one of shared, managed, data");
    };
    let mut world = s.world.lock();
    if world
        .tenant
        .spaces
        .iter()
        .any(|sp| sp.name.to_lowercase() == name.to_lowercase())
    {
        return qlik_error(
            &s,
            StatusCode::CONFLICT,
            "SpaceNameConflict",
            "Space already exists.",
            Some("name must be unique"),
        );
    }
    let space = Space {
        id: s.new_id(),
        name,
        space_type,
        owner_id: caller.user_id.clone(),
        description: req.description.unwrap_or_default(),
        assignable_roles: None,
    };
    world.add_space(space.clone());
    let value = space_json(&s, &world.tenant.tenant_id, &space, &caller, Vec::new());
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

// ---------------------------------------------------------------------------------------------
// Assignments

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

#[derive(serde::Serialize)]
struct Href {
    href: String,
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

/// A page of assignments; fields in alphabetical order, as `json!` would write them.
#[derive(serde::Serialize)]
struct AssignmentPage<'a> {
    data: Vec<AssignmentOut<'a>>,
    links: Value,
    meta: PageMeta,
}

#[derive(serde::Serialize)]
struct PageMeta {
    count: usize,
}

async fn list_assignments(State(s): S, Path(space_id): Path<String>, RawQuery(q): RawQuery) -> Response {
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
    let page = AssignmentPage {
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

async fn get_assignment(State(s): S, Path((space_id, assignment_id)): Path<(String, String)>) -> Response {
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
        space_id: a.space_id.clone(),
        assignment_id: a.id.clone(),
        kind: a.assignee_type.as_str().to_owned(),
        assignee_id: a.assignee_id.clone(),
        roles: a.roles.clone(),
        credential: caller.credential.clone(),
    });
}

async fn create_assignment(
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

async fn update_assignment(
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

async fn delete_assignment(
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

// ---------------------------------------------------------------------------------------------
// Users and groups

fn user_json(s: &Shared, tenant_id: &str, u: &User) -> Value {
    serde_json::to_value(UserOut::new(s, tenant_id, u)).unwrap_or(Value::Null)
}

fn group_json(s: &Shared, tenant_id: &str, g: &Group) -> Value {
    json!({
        "id": g.id,
        "tenantId": tenant_id,
        "name": g.name,
        "status": g.status,
        "providerType": g.provider_type,
        "createdAt": EPOCH,
        "lastUpdatedAt": EPOCH,
        "links": { "self": href(s, &format!("/api/v1/groups/{}", g.id), &[]) },
    })
}

/// Parse `filter`, allowing only the given `eq` and `co` attributes.
fn parse_filter(
    s: &Shared,
    params: &Params,
    eq_attrs: &[&str],
    co_attrs: &[&str],
) -> Result<Option<scim::Filter>, Response> {
    let Some(raw) = params.get("filter").filter(|f| !f.trim().is_empty()) else {
        return Ok(None);
    };
    let filter = scim::parse(raw).map_err(|e| bad_request(s, &format!("invalid filter: {e}")))?;
    for (attr, op) in filter.comparisons() {
        let allowed = match op {
            Op::Eq => eq_attrs.contains(&attr),
            Op::Co => co_attrs.contains(&attr),
        };
        if !allowed {
            return Err(bad_request(
                s,
                &format!("invalid filter: unsupported comparison on {attr:?}"),
            ));
        }
    }
    Ok(Some(filter))
}

/// Answer an `or` of `eq` lookups from an index: the matching positions in tenant order, or
/// `None` when some comparison has no index (then the caller scans).
fn lookup(filter: &scim::Filter, find: impl Fn(&str, &str) -> Option<Option<usize>>) -> Option<Vec<usize>> {
    let mut found = Vec::new();
    for (attr, value) in filter.or_of_eq()? {
        found.extend(find(attr, value)?);
    }
    found.sort_unstable();
    found.dedup();
    Some(found)
}

fn list_response(
    s: &Shared,
    path: &str,
    params: &Params,
    data: Vec<Value>,
    offset: usize,
    limit: usize,
    total: usize,
) -> Response {
    let mut body = json!({ "data": data, "links": links(s, path, params, offset, limit, total) });
    if params.get("totalResults") == Some("true") {
        body["totalResults"] = json!(total);
    }
    axum::Json(body).into_response()
}

async fn list_users(State(s): S, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q);
    let (limit, offset) = match (limit(&s, &params, 20, 100), offset(&s, &params)) {
        (Ok(l), Ok(o)) => (l, o),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let filter = match parse_filter(
        &s,
        &params,
        &["id", "subject", "name", "email", "status", "assignedGroups.id"],
        &["name", "email", "subject"],
    ) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let world = s.world.lock();
    let users = &world.tenant.users;
    // Members of groups: `assignedGroups.id eq "g"` (or an `or` of them) from the membership index.
    let by_group = filter.as_ref().and_then(|f| f.or_of_eq()).and_then(|eqs| {
        let groups: Vec<&str> = eqs
            .iter()
            .filter(|(attr, _)| *attr == "assignedGroups.id")
            .map(|(_, value)| *value)
            .collect();
        (groups.len() == eqs.len()).then(|| world.members_of(&groups))
    });
    let indexed = by_group.or_else(|| {
        filter
            .as_ref()
            .and_then(|f| lookup(f, |attr, value| world.user_lookup(attr, value)))
    });
    let matching: Vec<&User> = match indexed {
        Some(found) => found.into_iter().filter_map(|i| users.get(i)).collect(),
        None => users
            .iter()
            .filter(|u| {
                filter.as_ref().is_none_or(|f| {
                    f.matches(
                        &|attr| match attr {
                            "id" => Some(u.id.as_str()),
                            "subject" => Some(u.subject.as_str()),
                            "name" => Some(u.name.as_str()),
                            "email" => u.email.as_deref(),
                            "status" => Some(u.status.as_str()),
                            _ => None,
                        },
                        &|attr| attr == "email" || attr == "status",
                    )
                })
            })
            .collect(),
    };
    let total = matching.len();
    let data: Vec<UserOut<'_>> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|u| UserOut::new(&s, &world.tenant.tenant_id, u))
        .collect();
    let page = UserPage {
        data,
        links: links(&s, "/api/v1/users", &params, offset, limit, total),
        total_results: (params.get("totalResults") == Some("true")).then_some(total),
    };
    let body = serde_json::to_vec(&page);
    drop(world);
    json_body(&s, body)
}

/// A user as the API answers it, borrowed from the tenant: a lookup's page is written straight
/// to JSON rather than through a `Value` per user. Fields are in alphabetical order, as a `Value`
/// would write them.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct UserOut<'a> {
    created_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    id: &'a str,
    last_updated_at: &'a str,
    links: SelfLink,
    name: &'a str,
    status: &'a str,
    subject: &'a str,
    tenant_id: &'a str,
}

#[derive(serde::Serialize)]
struct SelfLink {
    #[serde(rename = "self")]
    this: Href,
}

impl<'a> UserOut<'a> {
    fn new(s: &Shared, tenant_id: &'a str, u: &'a User) -> Self {
        UserOut {
            created_at: EPOCH,
            email: u.email.as_deref(),
            id: &u.id,
            last_updated_at: EPOCH,
            links: SelfLink {
                this: Href {
                    href: format!("{}/api/v1/users/{}", s.base_url, u.id),
                },
            },
            name: &u.name,
            status: &u.status,
            subject: &u.subject,
            tenant_id,
        }
    }
}

/// A page of users or groups: `data`, `links`, and `totalResults` when asked for.
#[derive(serde::Serialize)]
struct UserPage<'a> {
    data: Vec<UserOut<'a>>,
    links: Value,
    #[serde(rename = "totalResults", skip_serializing_if = "Option::is_none")]
    total_results: Option<usize>,
}

/// A serialized body as a JSON response (a failure to serialize is the simulator's own 500).
fn json_body(s: &Shared, body: serde_json::Result<Vec<u8>>) -> Response {
    match body {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => qlik_error(
            s,
            StatusCode::INTERNAL_SERVER_ERROR,
            "HTTP-500",
            "Internal Server Error",
            Some(&e.to_string()),
        ),
    }
}

async fn get_user(State(s): S, Path(user_id): Path<String>) -> Response {
    let world = s.world.lock();
    match world.user(&user_id) {
        Some(u) => axum::Json(user_json(&s, &world.tenant.tenant_id, u)).into_response(),
        None => qlik_error(&s, StatusCode::NOT_FOUND, "USERS-7", "Not found", None),
    }
}

async fn list_groups(State(s): S, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q);
    let (limit, offset) = match (limit(&s, &params, 20, 100), offset(&s, &params)) {
        (Ok(l), Ok(o)) => (l, o),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let filter = match parse_filter(&s, &params, &["id", "name", "status", "providerType"], &["name"]) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let world = s.world.lock();
    let groups = &world.tenant.groups;
    let indexed = filter
        .as_ref()
        .and_then(|f| lookup(f, |attr, value| world.group_lookup(attr, value)));
    let matching: Vec<&Group> = match indexed {
        Some(found) => found.into_iter().filter_map(|i| groups.get(i)).collect(),
        None => groups
            .iter()
            .filter(|g| {
                filter.as_ref().is_none_or(|f| {
                    f.matches(
                        &|attr| match attr {
                            "id" => Some(g.id.as_str()),
                            "name" => Some(g.name.as_str()),
                            "status" => Some(g.status.as_str()),
                            "providerType" => Some(g.provider_type.as_str()),
                            _ => None,
                        },
                        &|attr| attr == "status" || attr == "providerType",
                    )
                })
            })
            .collect(),
    };
    let total = matching.len();
    let data = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|g| group_json(&s, &world.tenant.tenant_id, g))
        .collect();
    drop(world);
    list_response(&s, "/api/v1/groups", &params, data, offset, limit, total)
}

async fn get_group(State(s): S, Path(group_id): Path<String>) -> Response {
    let world = s.world.lock();
    match world.group(&group_id) {
        Some(g) => axum::Json(group_json(&s, &world.tenant.tenant_id, g)).into_response(),
        None => qlik_error(&s, StatusCode::NOT_FOUND, "GROUPS-7", "Not found", None),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupCreate {
    name: Option<String>,
    status: Option<String>,
    provider_type: Option<String>,
}

async fn create_group(State(s): S, bytes: Bytes) -> Response {
    let req: GroupCreate = match body(&s, &bytes) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some(name) = req.name.filter(|n| !n.is_empty() && n.chars().count() <= 256) else {
        return bad_request(&s, "name is required, 1 to 256 characters");
    };
    if req.status.as_deref().is_some_and(|st| st != "active") {
        return bad_request(&s, "status must be active");
    }
    let provider_type = req.provider_type.unwrap_or_else(|| "idp".to_owned());
    if provider_type != "idp" && provider_type != "custom" {
        return bad_request(&s, "providerType must be idp or custom");
    }
    let mut world = s.world.lock();
    if world.group_named(&name).is_some() {
        return qlik_error(
            &s,
            StatusCode::CONFLICT,
            "GROUPS-9",
            "Conflict",
            Some("a group with this name exists"),
        );
    }
    let group = Group {
        id: s.new_id(),
        name,
        status: "active".to_owned(),
        provider_type,
    };
    world.add_group(group.clone());
    (
        StatusCode::CREATED,
        axum::Json(group_json(&s, &world.tenant.tenant_id, &group)),
    )
        .into_response()
}
