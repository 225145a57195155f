//! The tenant settings: `/api/v1/groups/settings` (read, and JSON-Patch `replace` of
//! `/autoCreateGroups`, `/syncIdpGroups` and the Everyone group's `assignedRoles`) and
//! `/api/v1/licenses/settings` (read, and `PUT` of the whole document).
//!
//! A patch is checked whole before any of it applies: one bad operation and nothing changes.
//! `PUT /licenses/settings` replaces the document, so a field the body leaves out becomes
//! `false` (the spec is silent; a client that means to keep a value sends it back).

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::S;
use super::paging::href;
use super::reply::{bad_request, replace_op};
use super::roles::{assigned_roles, resolve_refs};
use crate::error_body::licenses_error;
use crate::record::{WriteOp, WriteResource};
use crate::state::{Caller, ConfigWrite, EPOCH};

/// The system group Everyone, the only one `systemGroups` holds.
const EVERYONE_ID: &str = "000000000000000000000001";

pub(super) async fn get_groups_settings(State(s): S) -> Response {
    let world = s.world.lock();
    let settings = &world.tenant.groups_settings;
    let body = json!({
        "tenantId": world.tenant.tenant_id,
        "autoCreateGroups": settings.auto_create_groups,
        "syncIdpGroups": settings.sync_idp_groups,
        "systemGroups": {
            EVERYONE_ID: {
                "id": EVERYONE_ID,
                "name": "com.qlik.Everyone",
                "enabled": true,
                "createdAt": EPOCH,
                "lastUpdatedAt": EPOCH,
                "assignedRoles": assigned_roles(&world, &settings.everyone_roles),
            }
        },
        "links": { "self": href(&s, "/api/v1/groups/settings", &[]) },
    });
    axum::Json(body).into_response()
}

/// One checked operation of a settings patch.
enum Change {
    AutoCreateGroups(bool),
    SyncIdpGroups(bool),
    EveryoneRoles(Vec<String>),
}

pub(super) async fn patch_groups_settings(
    State(s): S,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> Response {
    let Ok(Value::Array(ops)) = serde_json::from_slice::<Value>(&bytes) else {
        return bad_request(&s, "the body must be a JSON Patch array");
    };
    let mut world = s.world.lock();
    let mut changes = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let (path, value) = match replace_op(&s, i, op) {
            Ok(replace) => replace,
            Err(response) => return response,
        };
        let everyone = format!("/systemGroups/{EVERYONE_ID}/assignedRoles");
        let change = match (path, value) {
            ("/autoCreateGroups", Value::Bool(b)) => Change::AutoCreateGroups(*b),
            ("/syncIdpGroups", Value::Bool(b)) => Change::SyncIdpGroups(*b),
            ("/autoCreateGroups" | "/syncIdpGroups", _) => {
                return bad_request(&s, &format!("operation {i}: {path} takes a boolean"));
            }
            (p, v) if p == everyone => match resolve_refs(&s, &world, v) {
                Ok(names) => Change::EveryoneRoles(names),
                Err(r) => return r,
            },
            _ => {
                return bad_request(
                    &s,
                    &format!(
                        "operation {i}: path {path:?} is not one of /autoCreateGroups, /syncIdpGroups, {everyone}"
                    ),
                );
            }
        };
        changes.push(change);
    }
    let settings = &mut world.tenant.groups_settings;
    let mut changed = Vec::new();
    for change in changes {
        match change {
            Change::AutoCreateGroups(b) => {
                settings.auto_create_groups = b;
                changed.push("autoCreateGroups".to_owned());
            }
            Change::SyncIdpGroups(b) => {
                settings.sync_idp_groups = b;
                changed.push("syncIdpGroups".to_owned());
            }
            Change::EveryoneRoles(names) => {
                settings.everyone_roles = names;
                changed.push(format!("systemGroups/{EVERYONE_ID}/assignedRoles"));
            }
        }
    }
    drop(world);
    s.log_config_write(
        &caller,
        ConfigWrite {
            op: WriteOp::Update,
            resource: WriteResource::GroupsSettings,
            id: "",
            roles: Vec::new(),
            changed,
        },
    );
    StatusCode::NO_CONTENT.into_response()
}

fn license_body(world: &crate::state::World) -> Value {
    let l = &world.tenant.license_settings;
    json!({
        "autoAssignProfessional": l.auto_assign_professional,
        "autoAssignAnalyzer": l.auto_assign_analyzer,
    })
}

pub(super) async fn get_license_settings(State(s): S) -> Response {
    let world = s.world.lock();
    axum::Json(license_body(&world)).into_response()
}

pub(super) async fn put_license_settings(
    State(s): S,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> Response {
    let invalid = |detail: &str| licenses_error(StatusCode::BAD_REQUEST, "HTTP-400", "Bad request", detail);
    // The spec marks the body optional: none at all is an empty document.
    let body: Map<String, Value> = if bytes.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => map,
            _ => return invalid("the body must be a JSON object"),
        }
    };
    let mut values = [false, false];
    for (key, value) in &body {
        let slot = match key.as_str() {
            "autoAssignProfessional" => 0,
            "autoAssignAnalyzer" => 1,
            _ => return invalid(&format!("unknown property {key:?}")),
        };
        let Some(b) = value.as_bool() else {
            return invalid(&format!("{key} must be a boolean"));
        };
        values[slot] = b;
    }
    let mut world = s.world.lock();
    let settings = &mut world.tenant.license_settings;
    settings.auto_assign_professional = values[0];
    settings.auto_assign_analyzer = values[1];
    let answer = license_body(&world);
    drop(world);
    s.log_config_write(
        &caller,
        ConfigWrite {
            op: WriteOp::Update,
            resource: WriteResource::LicenseSettings,
            id: "",
            roles: Vec::new(),
            changed: body.keys().cloned().collect(),
        },
    );
    axum::Json(answer).into_response()
}
