//! `/api/v1/groups`: listing groups (with SCIM filters), reading one and creating one.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::S;
use super::filter::{lookup, parse_filter};
use super::paging::{Params, href, limit, links, offset};
use super::reply::{bad_request, body};
use crate::error_body::qlik_error;
use crate::state::{EPOCH, Shared};
use crate::tenant::Group;

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
        .map(|g| group_json(&s, &world.tenant.tenant_id, g))
        .collect();
    drop(world);
    list_response(&s, "/api/v1/groups", &params, data, offset, limit, total)
}

pub(super) async fn get_group(State(s): S, Path(group_id): Path<String>) -> Response {
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

pub(super) async fn create_group(State(s): S, bytes: Bytes) -> Response {
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
