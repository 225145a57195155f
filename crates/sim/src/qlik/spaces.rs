//! `/api/v1/spaces`: listing (filtered and sorted), reading, creating, patching (`name`,
//! `description`, `ownerId`; a type never changes) and deleting spaces, and the space types.
//!
//! Patching or deleting a space takes its owner or a `TenantAdmin` (403 otherwise); deleting
//! one deletes its assignments with it.

use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::S;
use super::paging::{Href, Page, PageMeta, Params, limit, links, offset};
use super::reply::{bad_request, body, json_body, not_found, replace_op};
use crate::error_body::qlik_error;
use crate::record::{WriteOp, WriteResource};
use crate::state::{Caller, ConfigWrite, EPOCH, Shared};
use crate::tenant::{Space, SpaceType, space_name_problem};

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

pub(super) async fn list_spaces(
    State(s): S,
    Extension(caller): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> Response {
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
    let sort = match params.get("sort").filter(|v| !v.is_empty()) {
        None => None,
        Some(raw) => {
            let (descending, field) = match raw.split_at_checked(1) {
                Some(("-", rest)) => (true, rest),
                Some(("+", rest)) => (false, rest),
                _ => (false, raw),
            };
            if !matches!(field, "type" | "name" | "createdAt") {
                return bad_request(
                    &s,
                    &format!("sort: {field:?} is not one of type, name, createdAt"),
                );
            }
            Some((field.to_owned(), descending))
        }
    };
    let name = params.get("name").map(str::to_lowercase);
    let owner = params.get("ownerId");
    let world = s.world.lock();
    let mut matching: Vec<&Space> = world
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
    // Stable sorts: equal keys keep tenant (creation) order, which is also `createdAt`'s.
    match sort.as_ref().map(|(f, d)| (f.as_str(), *d)) {
        None | Some(("createdAt", false)) => {}
        Some(("createdAt", true)) => matching.reverse(),
        Some((field, descending)) => {
            matching.sort_by(|a, b| {
                let order = if field == "type" {
                    a.space_type.as_str().cmp(b.space_type.as_str())
                } else {
                    a.name.to_lowercase().cmp(&b.name.to_lowercase())
                };
                if descending { order.reverse() } else { order }
            });
        }
    }
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
    let page = Page {
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

pub(super) async fn get_space(
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

pub(super) async fn create_space(
    State(s): S,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> Response {
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
    drop(world);
    let mut changed = vec!["name".to_owned(), "type".to_owned()];
    if !space.description.is_empty() {
        changed.push("description".to_owned());
    }
    s.log_config_write(
        &caller,
        ConfigWrite {
            op: WriteOp::Create,
            resource: WriteResource::Space,
            id: &space.id,
            roles: Vec::new(),
            changed,
        },
    );
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

/// `GET /spaces/types`: the types the tenant offers.
pub(super) async fn space_types() -> Response {
    let data: Vec<&str> = [SpaceType::Shared, SpaceType::Managed, SpaceType::Data]
        .iter()
        .map(|t| t.as_str())
        .collect();
    axum::Json(serde_json::json!({ "data": data })).into_response()
}

/// 404 when the space does not exist, 403 when the caller is neither its owner nor a
/// `TenantAdmin`.
fn may_change(s: &Shared, space: Option<&Space>, caller: &Caller, what: &str) -> Result<(), Response> {
    let Some(space) = space else {
        return Err(not_found(s, "Space"));
    };
    if space.owner_id == caller.user_id || s.user_has_role(&caller.user_id, "TenantAdmin") {
        Ok(())
    } else {
        Err(qlik_error(
            s,
            StatusCode::FORBIDDEN,
            "HTTP-403",
            &format!("Space {what} operation denied."),
            Some("only the space's owner or a TenantAdmin may do this"),
        ))
    }
}

/// One checked operation of a space patch.
enum Change {
    Name(String),
    Description(String),
    Owner(String),
}

pub(super) async fn patch_space(
    State(s): S,
    Extension(caller): Extension<Caller>,
    Path(space_id): Path<String>,
    bytes: Bytes,
) -> Response {
    let Ok(Value::Array(ops)) = serde_json::from_slice::<Value>(&bytes) else {
        return bad_request(&s, "the body must be an array of JSON Patch operations");
    };
    // Checked before taking the world's lock: `may_change` reads the caller's roles.
    let space = s.world.lock().space(&space_id).cloned();
    if let Err(r) = may_change(&s, space.as_ref(), &caller, "patch (update)") {
        return r;
    }
    let mut world = s.world.lock();
    let mut changes = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let (path, value) = match replace_op(&s, i, op) {
            Ok(replace) => replace,
            Err(response) => return response,
        };
        let Some(value) = value.as_str() else {
            return bad_request(&s, &format!("operation {i}: value must be a string"));
        };
        let change = match path {
            "/name" => {
                if let Some(problem) = space_name_problem(value) {
                    return bad_request(&s, &problem);
                }
                let lower = value.to_lowercase();
                if world
                    .tenant
                    .spaces
                    .iter()
                    .any(|sp| sp.id != space_id && sp.name.to_lowercase() == lower)
                {
                    return qlik_error(
                        &s,
                        StatusCode::CONFLICT,
                        "SpaceNameConflict",
                        "Space already exists.",
                        Some("name must be unique"),
                    );
                }
                Change::Name(value.to_owned())
            }
            "/description" => Change::Description(value.to_owned()),
            "/ownerId" => {
                if world.user(value).is_none() {
                    return bad_request(&s, &format!("operation {i}: no user {value:?}"));
                }
                Change::Owner(value.to_owned())
            }
            "/type" => {
                return bad_request(&s, &format!("operation {i}: a space's type cannot change"));
            }
            _ => {
                return bad_request(
                    &s,
                    &format!("operation {i}: path {path:?} is not one of /name, /description, /ownerId"),
                );
            }
        };
        changes.push(change);
    }
    let Some(space) = world.space_mut(&space_id) else {
        return not_found(&s, "Space");
    };
    let mut changed = Vec::new();
    for change in changes {
        match change {
            Change::Name(n) => {
                space.name = n;
                changed.push("name".to_owned());
            }
            Change::Description(d) => {
                space.description = d;
                changed.push("description".to_owned());
            }
            Change::Owner(o) => {
                space.owner_id = o;
                changed.push("ownerId".to_owned());
            }
        }
    }
    let space = space.clone();
    let value = space_json(
        &s,
        &world.tenant.tenant_id,
        &space,
        &caller,
        caller_roles(&world, &space.id, &caller),
    );
    drop(world);
    s.log_config_write(
        &caller,
        ConfigWrite {
            op: WriteOp::Update,
            resource: WriteResource::Space,
            id: &space_id,
            roles: Vec::new(),
            changed,
        },
    );
    axum::Json(value).into_response()
}

pub(super) async fn delete_space(
    State(s): S,
    Extension(caller): Extension<Caller>,
    Path(space_id): Path<String>,
) -> Response {
    let space = s.world.lock().space(&space_id).cloned();
    if let Err(r) = may_change(&s, space.as_ref(), &caller, "delete") {
        return r;
    }
    if s.world.lock().remove_space(&space_id).is_none() {
        return not_found(&s, "Space");
    }
    s.log_config_write(
        &caller,
        ConfigWrite {
            op: WriteOp::Delete,
            resource: WriteResource::Space,
            id: &space_id,
            roles: Vec::new(),
            changed: Vec::new(),
        },
    );
    StatusCode::NO_CONTENT.into_response()
}
