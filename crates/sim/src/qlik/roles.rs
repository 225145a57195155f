//! `/api/v1/roles`: the tenant roles (listing, with SCIM filters and `sort`, and reading one),
//! and the role references (`[{"id"}]` or `[{"name"}]`) that groups and the group settings
//! take in their `assignedRoles`.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::S;
use super::filter::parse_filter;
use super::paging::{Params, href, limit, links, offset};
use super::reply::bad_request;
use crate::error_body::qlik_error;
use crate::state::{EPOCH, Shared, World};
use crate::tenant::Role;

/// Most roles one group may hold (the groups spec's limit).
const MAX_ROLES: usize = 100;

fn role_json(s: &Shared, tenant_id: &str, r: &Role) -> Value {
    json!({
        "id": r.id,
        "tenantId": tenant_id,
        "name": r.name,
        "type": r.role_type,
        "level": r.level,
        "description": r.description,
        "permissions": [],
        "assignedScopes": [],
        "canEdit": r.role_type == "custom",
        "canDelete": r.role_type == "custom",
        "createdAt": EPOCH,
        "lastUpdatedAt": EPOCH,
        "links": { "self": href(s, &format!("/api/v1/roles/{}", r.id), &[]) },
    })
}

/// The fields a role list may be filtered and sorted on (the spec's `x-qlik-filterable`
/// strings).
fn field<'a>(r: &'a Role, tenant_id: &'a str, attr: &str) -> Option<&'a str> {
    match attr {
        "id" => Some(&r.id),
        "name" => Some(&r.name),
        "type" => Some(&r.role_type),
        "level" => Some(&r.level),
        "description" => Some(&r.description),
        "tenantId" => Some(tenant_id),
        "createdAt" | "lastUpdatedAt" => Some(EPOCH),
        _ => None,
    }
}

const FIELDS: &[&str] = &[
    "id",
    "name",
    "type",
    "level",
    "description",
    "tenantId",
    "createdAt",
    "lastUpdatedAt",
];

pub(super) async fn list_roles(State(s): S, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q);
    let (limit, offset) = match (limit(&s, &params, 20, 100), offset(&s, &params)) {
        (Ok(l), Ok(o)) => (l, o),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let filter = match parse_filter(&s, &params, FIELDS, FIELDS) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let sort = match params.get("sort").filter(|v| !v.is_empty()) {
        None => None,
        Some(raw) => {
            let (descending, name) = match raw.split_at_checked(1) {
                Some(("-", rest)) => (true, rest),
                Some(("+", rest)) => (false, rest),
                _ => (false, raw),
            };
            if !FIELDS.contains(&name) {
                return bad_request(&s, &format!("sort: unknown field {name:?}"));
            }
            Some((name.to_owned(), descending))
        }
    };
    let world = s.world.lock();
    let tenant_id = world.tenant.tenant_id.clone();
    let roles = world.tenant.effective_roles();
    drop(world);
    // The spec: "All conditional statements within this query parameter are case insensitive."
    let mut matching: Vec<&Role> = roles
        .iter()
        .filter(|r| {
            filter
                .as_ref()
                .is_none_or(|f| f.matches(&|attr| field(r, &tenant_id, attr), &|_| true))
        })
        .collect();
    if let Some((name, descending)) = &sort {
        matching.sort_by(|a, b| {
            let key = |r: &Role| field(r, &tenant_id, name).unwrap_or_default().to_lowercase();
            let order = key(a).cmp(&key(b));
            if *descending { order.reverse() } else { order }
        });
    }
    let total = matching.len();
    let data: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|r| role_json(&s, &tenant_id, r))
        .collect();
    let mut body =
        json!({ "data": data, "links": links(&s, "/api/v1/roles", &params, offset, limit, total) });
    if params.get("totalResults") == Some("true") {
        body["totalResults"] = json!(total);
    }
    axum::Json(body).into_response()
}

pub(super) async fn get_role(State(s): S, Path(id): Path<String>) -> Response {
    let world = s.world.lock();
    let roles = world.tenant.effective_roles();
    match roles.iter().find(|r| r.id == id) {
        Some(r) => axum::Json(role_json(&s, &world.tenant.tenant_id, r)).into_response(),
        None => qlik_error(
            &s,
            StatusCode::NOT_FOUND,
            "IDENTITIES-10402",
            "Not Found",
            Some("role ID not found or invalid format"),
        ),
    }
}

/// `assignedRoles` as the groups and group-settings specs answer it: `[{id, name, type, level}]`.
pub(super) fn assigned_roles(world: &World, names: &[String]) -> Value {
    let roles = world.tenant.effective_roles();
    Value::Array(
        names
            .iter()
            .filter_map(|n| roles.iter().find(|r| &r.name == n))
            .map(|r| json!({ "id": r.id, "name": r.name, "type": r.role_type, "level": r.level }))
            .collect(),
    )
}

/// Resolve role references, `[{"id": ...}]` or `[{"name": ...}]` (mixed is allowed), to role
/// names; an unknown role, a malformed reference or more than 100 roles is a 400.
pub(super) fn resolve_refs(s: &Shared, world: &World, value: &Value) -> Result<Vec<String>, Response> {
    let Some(refs) = value.as_array() else {
        return Err(bad_request(
            s,
            "assignedRoles must be an array of role references",
        ));
    };
    if refs.len() > MAX_ROLES {
        return Err(bad_request(s, "a group may hold at most 100 roles"));
    }
    let roles = world.tenant.effective_roles();
    let mut names: Vec<String> = Vec::with_capacity(refs.len());
    for r in refs {
        let found = match (
            r.get("id").and_then(Value::as_str),
            r.get("name").and_then(Value::as_str),
        ) {
            (Some(id), _) => roles.iter().find(|role| role.id == id).ok_or(("id", id)),
            (None, Some(name)) => roles.iter().find(|role| role.name == name).ok_or(("name", name)),
            (None, None) => {
                return Err(bad_request(
                    s,
                    &format!("invalid role reference {r}: needs an id or a name"),
                ));
            }
        };
        match found {
            Ok(role) => {
                if !names.contains(&role.name) {
                    names.push(role.name.clone());
                }
            }
            Err((key, value)) => {
                return Err(bad_request(s, &format!("unknown role {key} {value:?}")));
            }
        }
    }
    Ok(names)
}
