//! `/api/v1/groups`: listing groups (with SCIM filters), reading one, creating one (with its
//! `assignedRoles`) and patching one (`replace` of `assignedRoles`, and of `name` and
//! `description` for custom groups).

use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::S;
use super::filter::{lookup, parse_filter};
use super::paging::{Params, href, limit, links, offset};
use super::reply::{bad_request, body, replace_op};
use super::roles::{assigned_roles, resolve_refs};
use crate::error_body::qlik_error;
use crate::record::{WriteOp, WriteResource};
use crate::state::{Caller, ConfigWrite, EPOCH, Shared, World};
use crate::tenant::Group;

fn group_json(s: &Shared, world: &World, g: &Group) -> Value {
    let tenant_id = &world.tenant.tenant_id;
    let mut value = json!({
        "id": g.id,
        "tenantId": tenant_id,
        "name": g.name,
        "status": g.status,
        "providerType": g.provider_type,
        "createdAt": EPOCH,
        "lastUpdatedAt": EPOCH,
        "assignedRoles": assigned_roles(world, &g.roles),
        "links": { "self": href(s, &format!("/api/v1/groups/{}", g.id), &[]) },
    });
    if !g.description.is_empty() {
        value["description"] = json!(g.description);
    }
    value
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

pub(super) async fn list_groups(State(s): S, RawQuery(q): RawQuery) -> Response {
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
        .map(|g| group_json(&s, &world, g))
        .collect();
    drop(world);
    list_response(&s, "/api/v1/groups", &params, data, offset, limit, total)
}

pub(super) async fn get_group(State(s): S, Path(group_id): Path<String>) -> Response {
    let world = s.world.lock();
    match world.group(&group_id) {
        Some(g) => axum::Json(group_json(&s, &world, g)).into_response(),
        None => qlik_error(&s, StatusCode::NOT_FOUND, "GROUPS-7", "Not found", None),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupCreate {
    name: Option<String>,
    status: Option<String>,
    provider_type: Option<String>,
    description: Option<String>,
    assigned_roles: Option<Value>,
}

pub(super) async fn create_group(
    State(s): S,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> Response {
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
    let roles = match req.assigned_roles.as_ref() {
        None | Some(Value::Null) => Vec::new(),
        Some(refs) => match resolve_refs(&s, &world, refs) {
            Ok(names) => names,
            Err(r) => return r,
        },
    };
    let group = Group {
        id: s.new_id(),
        name,
        status: "active".to_owned(),
        provider_type,
        description: req.description.unwrap_or_default(),
        roles,
    };
    world.add_group(group.clone());
    let answer = group_json(&s, &world, &group);
    drop(world);
    let mut changed = vec!["name".to_owned()];
    if !group.description.is_empty() {
        changed.push("description".to_owned());
    }
    if !group.roles.is_empty() {
        changed.push("assignedRoles".to_owned());
    }
    s.log_config_write(
        &caller,
        ConfigWrite {
            op: WriteOp::Create,
            resource: WriteResource::Group,
            id: &group.id,
            roles: group.roles.clone(),
            changed,
        },
    );
    (StatusCode::CREATED, axum::Json(answer)).into_response()
}

/// One checked operation of a group patch.
enum Change {
    Roles(Vec<String>),
    Name(String),
    Description(String),
}

pub(super) async fn patch_group(
    State(s): S,
    Extension(caller): Extension<Caller>,
    Path(group_id): Path<String>,
    bytes: Bytes,
) -> Response {
    let Ok(Value::Array(ops)) = serde_json::from_slice::<Value>(&bytes) else {
        return bad_request(&s, "the body must be an array of JSON Patch operations");
    };
    let mut world = s.world.lock();
    let Some(group) = world.group(&group_id).cloned() else {
        return qlik_error(&s, StatusCode::NOT_FOUND, "GROUPS-7", "Not found", None);
    };
    let mut changes = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let (path, value) = match replace_op(&s, i, op) {
            Ok(replace) => replace,
            Err(response) => return response,
        };
        // The spec's enum spells the paths without the slash, its example with it.
        let change = match (path.trim_start_matches('/'), value) {
            ("assignedRoles", refs) => match resolve_refs(&s, &world, refs) {
                Ok(names) => Change::Roles(names),
                Err(r) => return r,
            },
            ("name" | "description", _) if group.provider_type != "custom" => {
                return bad_request(
                    &s,
                    &format!("operation {i}: {path} can only change on a custom group"),
                );
            }
            ("name", Value::String(n)) => {
                if n.is_empty() || n.chars().count() > 256 {
                    return bad_request(&s, "name must be 1 to 256 characters");
                }
                if world.group_named(n).is_some_and(|g| g.id != group.id) {
                    return qlik_error(
                        &s,
                        StatusCode::CONFLICT,
                        "GROUPS-9",
                        "Conflict",
                        Some("a group with this name exists"),
                    );
                }
                Change::Name(n.clone())
            }
            ("description", Value::String(d)) => Change::Description(d.clone()),
            ("name" | "description", _) => {
                return bad_request(&s, &format!("operation {i}: {path} takes a string"));
            }
            _ => {
                return bad_request(
                    &s,
                    &format!("operation {i}: path {path:?} is not one of assignedRoles, name, description"),
                );
            }
        };
        changes.push(change);
    }
    let mut updated = group;
    let mut changed = Vec::new();
    for change in changes {
        match change {
            Change::Roles(names) => {
                updated.roles = names;
                changed.push("assignedRoles".to_owned());
            }
            Change::Name(n) => {
                updated.name = n;
                changed.push("name".to_owned());
            }
            Change::Description(d) => {
                updated.description = d;
                changed.push("description".to_owned());
            }
        }
    }
    let roles = updated.roles.clone();
    world.replace_group(updated);
    drop(world);
    s.log_config_write(
        &caller,
        ConfigWrite {
            op: WriteOp::Update,
            resource: WriteResource::Group,
            id: &group_id,
            roles,
            changed,
        },
    );
    StatusCode::NO_CONTENT.into_response()
}

/// `DELETE /groups/{groupId}`: 204, or 404 for an unknown id. The group's space assignments go
/// with it.
pub(super) async fn delete_group(
    State(s): S,
    Extension(caller): Extension<Caller>,
    Path(group_id): Path<String>,
) -> Response {
    if s.world.lock().remove_group(&group_id).is_none() {
        return qlik_error(&s, StatusCode::NOT_FOUND, "GROUPS-7", "Not found", None);
    }
    s.log_config_write(
        &caller,
        ConfigWrite {
            op: WriteOp::Delete,
            resource: WriteResource::Group,
            id: &group_id,
            roles: Vec::new(),
            changed: Vec::new(),
        },
    );
    StatusCode::NO_CONTENT.into_response()
}
