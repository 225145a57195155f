//! `/api/v1/users`: listing users (with SCIM filters answered from the tenant's indexes),
//! reading one, and `/users/me`, which redirects to the caller's own user as the spec says.

use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::S;
use super::filter::{lookup, parse_filter};
use super::paging::{Href, Params, limit, links, offset};
use super::reply::json_body;
use crate::error_body::qlik_error;
use crate::state::{Caller, EPOCH, Shared};
use crate::tenant::{Role, User};

fn user_json(s: &Shared, tenant_id: &str, roles: &[Role], u: &User) -> Value {
    serde_json::to_value(UserOut::new(s, tenant_id, roles, u)).unwrap_or(Value::Null)
}

pub(super) async fn list_users(State(s): S, RawQuery(q): RawQuery) -> Response {
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
    let roles = world.tenant.effective_roles();
    let data: Vec<UserOut<'_>> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|u| UserOut::new(&s, &world.tenant.tenant_id, &roles, u))
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
    assigned_roles: Vec<RoleRef>,
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

/// An entry of `assignedRoles`.
#[derive(serde::Serialize)]
struct RoleRef {
    id: String,
    level: String,
    name: String,
    #[serde(rename = "type")]
    role_type: String,
}

impl<'a> UserOut<'a> {
    fn new(s: &Shared, tenant_id: &'a str, roles: &[Role], u: &'a User) -> Self {
        let assigned_roles = u
            .tenant_roles()
            .iter()
            .filter_map(|name| roles.iter().find(|r| &r.name == name))
            .map(|r| RoleRef {
                id: r.id.clone(),
                level: r.level.clone(),
                name: r.name.clone(),
                role_type: r.role_type.clone(),
            })
            .collect();
        UserOut {
            assigned_roles,
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

/// A page of users: `data`, `links`, and `totalResults` when asked for.
#[derive(serde::Serialize)]
struct UserPage<'a> {
    data: Vec<UserOut<'a>>,
    links: Value,
    #[serde(rename = "totalResults", skip_serializing_if = "Option::is_none")]
    total_results: Option<usize>,
}

pub(super) async fn get_user(State(s): S, Path(user_id): Path<String>) -> Response {
    let world = s.world.lock();
    match world.user(&user_id) {
        Some(u) => {
            let roles = world.tenant.effective_roles();
            axum::Json(user_json(&s, &world.tenant.tenant_id, &roles, u)).into_response()
        }
        None => qlik_error(&s, StatusCode::NOT_FOUND, "USERS-7", "Not found", None),
    }
}

/// `GET /users/me`: the spec's 301 to the caller's user resource.
pub(super) async fn me(State(s): S, Extension(caller): Extension<Caller>) -> Response {
    let location = format!("{}/api/v1/users/{}", s.base_url, caller.user_id);
    (
        StatusCode::MOVED_PERMANENTLY,
        [
            (header::LOCATION, location.clone()),
            (header::CONTENT_TYPE, "text/html".to_owned()),
        ],
        format!("<a href=\"{location}\">Moved Permanently</a>.\n"),
    )
        .into_response()
}
