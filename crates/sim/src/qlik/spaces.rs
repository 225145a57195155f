//! `/api/v1/spaces`: listing, reading and creating spaces.

use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::S;
use super::paging::{Href, Page, PageMeta, Params, limit, links, offset};
use super::reply::{bad_request, body, json_body, not_found};
use crate::error_body::qlik_error;
use crate::state::{Caller, EPOCH, Shared};
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
    (StatusCode::CREATED, axum::Json(value)).into_response()
}
