//! The Alumio endpoints, served under [`crate::routes::ALUMIO_PREFIX`] (`/alumio/api/v1`).
//!
//! Written from the `assign_users` OpenAPI excerpt and the API notes. What Alumio does not
//! document is configurable ([`crate::AlumioConfig`]); the choices made here:
//!
//! - Validation failures answer `422` with a Symfony-style body:
//!   `{"status":422,"type","title","detail","violations":[{"propertyPath":"users[3].email","title","type"}]}`.
//!   With `indexed_violations` off the paths lose the index (`email`), so a client has to find
//!   the bad entries by splitting the batch.
//! - A batch larger than `batch_limit` is a `422` with one violation on `users` ("This collection
//!   should contain N elements or less."), as Symfony's `Count` constraint answers. An empty
//!   batch is a `422` on `users` too.
//! - All-or-nothing: a batch with any violation changes nothing. Partial: the valid entries are
//!   applied and the answer is still `422` with the violations of the others.
//! - A fully valid batch answers `200` with `{"space", "added", "updated", "unchanged"}` (lists
//!   of emails); the real shape is undocumented, so clients should not rely on it.
//! - `GET /current_space/users` pages with `filter={"limit","skip","where":{"email"}}`; `limit`
//!   defaults to 25 and is capped at 100 (a larger one is answered with 100 results, so clients
//!   must follow `totalCount`).

use std::collections::HashSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::{AlumioBatchMode, AlumioConfig, AlumioExistingMember, AlumioUnknownEmail};
use crate::error_body::alumio_error;
use crate::record::{AlumioEntryOutcome, AlumioWriteRecord};
use crate::state::{Caller, Shared};
use crate::tenant::{ALUMIO_ROLES, AlumioMember, AlumioSpace, AlumioUser};

type S = State<Arc<Shared>>;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/spaces", get(list_spaces))
        .route("/spaces/{space}", get(get_space))
        .route("/spaces/{space}/assign_users", post(assign_users))
        .route("/spaces/{space}/users/{email}", get(get_space_user))
        .route("/current_space/users", get(list_space_users))
}

const VIOLATION_TYPE: &str = "https://symfony.com/errors/validation";

/// A Symfony-style validation failure.
fn violations_response(config: &AlumioConfig, violations: Vec<Value>) -> Response {
    let detail = violations
        .iter()
        .map(|v| {
            format!(
                "{}: {}",
                v["propertyPath"].as_str().unwrap_or(""),
                v["title"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let status: Value = if config.status_as_string {
        json!("422")
    } else {
        json!(422)
    };
    let body = json!({
        "status": status,
        "type": VIOLATION_TYPE,
        "title": "An error occurred",
        "detail": detail,
        "violations": violations,
    });
    (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response()
}

fn violation(path: String, title: &str) -> Value {
    json!({ "propertyPath": path, "title": title, "type": VIOLATION_TYPE })
}

fn space_json(space: &AlumioSpace) -> Value {
    json!({ "identifier": space.identifier, "name": space.name, "description": space.description })
}

fn space_user_json(space: &str, member: &AlumioMember, name: &str) -> Value {
    json!({ "space": space, "email": member.email, "name": name, "roles": member.roles })
}

fn user_name(users: &[AlumioUser], email: &str) -> String {
    users
        .iter()
        .find(|u| u.email.eq_ignore_ascii_case(email))
        .map(|u| u.name.clone())
        .unwrap_or_default()
}

fn not_found(what: &str) -> Response {
    alumio_error(StatusCode::NOT_FOUND, "Not Found", &format!("{what} not found"))
}

/// The list filter: `{"limit":N,"skip":M,"where":{...}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListFilter {
    limit: Option<usize>,
    skip: Option<usize>,
    #[serde(rename = "where")]
    where_: Option<serde_json::Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    filter: Option<String>,
    space: Option<String>,
}

const LIST_DEFAULT: usize = 25;
const LIST_MAX: usize = 100;

fn parse_filter(raw: Option<&str>, fields: &[&str]) -> Result<ListFilter, Box<Response>> {
    let filter: ListFilter = match raw {
        None | Some("") => ListFilter::default(),
        Some(raw) => serde_json::from_str(raw).map_err(|e| {
            Box::new(alumio_error(
                StatusCode::BAD_REQUEST,
                "Bad Request",
                &format!("invalid filter: {e}"),
            ))
        })?,
    };
    if let Some(bad) = filter
        .where_
        .iter()
        .flatten()
        .find(|(k, v)| !fields.contains(&k.as_str()) || !v.is_string())
    {
        return Err(Box::new(alumio_error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            &format!("invalid filter: cannot filter on {:?} with {}", bad.0, bad.1),
        )));
    }
    Ok(filter)
}

fn where_matches(filter: &ListFilter, get: impl Fn(&str) -> String) -> bool {
    filter
        .where_
        .iter()
        .flatten()
        .all(|(k, v)| v.as_str().is_some_and(|v| get(k).eq_ignore_ascii_case(v)))
}

fn page(filter: &ListFilter, results: Vec<Value>) -> Response {
    let total = results.len();
    let skip = filter.skip.unwrap_or(0);
    let limit = filter.limit.unwrap_or(LIST_DEFAULT).min(LIST_MAX);
    let results: Vec<Value> = results.into_iter().skip(skip).take(limit).collect();
    axum::Json(json!({ "metadata": { "totalCount": total }, "results": results })).into_response()
}

async fn list_spaces(State(s): S, Query(q): Query<ListQuery>) -> Response {
    let filter = match parse_filter(q.filter.as_deref(), &["identifier", "name"]) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let world = s.world.lock();
    let results = world
        .tenant
        .alumio
        .spaces
        .iter()
        .filter(|sp| {
            where_matches(&filter, |k| {
                if k == "name" {
                    sp.name.clone()
                } else {
                    sp.identifier.clone()
                }
            })
        })
        .map(space_json)
        .collect();
    drop(world);
    page(&filter, results)
}

async fn get_space(State(s): S, Path(space): Path<String>) -> Response {
    let world = s.world.lock();
    match world
        .tenant
        .alumio
        .spaces
        .iter()
        .find(|sp| sp.identifier == space)
    {
        Some(sp) => axum::Json(json!({ "object": space_json(sp) })).into_response(),
        None => not_found("Space"),
    }
}

async fn get_space_user(State(s): S, Path((space, email)): Path<(String, String)>) -> Response {
    let world = s.world.lock();
    let alumio = &world.tenant.alumio;
    if !alumio.spaces.iter().any(|sp| sp.identifier == space) {
        return not_found("Space");
    }
    match alumio
        .members
        .iter()
        .find(|m| m.space == space && m.email.eq_ignore_ascii_case(&email))
    {
        Some(m) => {
            axum::Json(json!({ "object": space_user_json(&space, m, &user_name(&alumio.users, &m.email)) }))
                .into_response()
        }
        None => not_found("User"),
    }
}

async fn list_space_users(State(s): S, Query(q): Query<ListQuery>) -> Response {
    if !s.alumio.lock().list_enabled {
        return alumio_error(
            StatusCode::NOT_FOUND,
            "Not Found",
            "no route for /current_space/users",
        );
    }
    let Some(space) = q.space.filter(|sp| !sp.is_empty()) else {
        return alumio_error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "the space parameter is required",
        );
    };
    let filter = match parse_filter(q.filter.as_deref(), &["email"]) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let world = s.world.lock();
    let alumio = &world.tenant.alumio;
    if !alumio.spaces.iter().any(|sp| sp.identifier == space) {
        return not_found("Space");
    }
    let results = alumio
        .members
        .iter()
        .filter(|m| m.space == space && where_matches(&filter, |_| m.email.clone()))
        .map(|m| space_user_json(&space, m, &user_name(&alumio.users, &m.email)))
        .collect();
    drop(world);
    page(&filter, results)
}

/// What to do with one valid entry.
enum Plan {
    Add { roles: Vec<String>, invite: bool },
    Update { roles: Vec<String> },
    Unchanged,
}

/// A loose, Symfony-like email check: something@something.something, no spaces.
fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
        && !domain.contains('@')
}

async fn assign_users(
    State(s): S,
    Extension(caller): Extension<Caller>,
    Path(space): Path<String>,
    bytes: Bytes,
) -> Response {
    let config = s.alumio.lock().clone();
    let mut world = s.world.lock();
    if !world.tenant.alumio.spaces.iter().any(|sp| sp.identifier == space) {
        return not_found("Space");
    }
    let body: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            return alumio_error(
                StatusCode::BAD_REQUEST,
                "Bad Request",
                &format!("Syntax error: {e}"),
            );
        }
    };
    let Some(users) = body.get("users").and_then(Value::as_array) else {
        return violations_response(
            &config,
            vec![violation("users".to_owned(), "This value should not be blank.")],
        );
    };
    let path = |i: usize, field: &str| {
        if config.indexed_violations {
            format!("users[{i}].{field}")
        } else {
            field.to_owned()
        }
    };
    let mut record = AlumioWriteRecord {
        at: s.elapsed(),
        space: space.clone(),
        batch_size: users.len(),
        status: 422,
        entries: Vec::new(),
        credential: caller.credential.clone(),
    };
    if users.is_empty() {
        s.logs.lock().alumio_writes.push(record);
        return violations_response(
            &config,
            vec![violation(
                "users".to_owned(),
                "This collection should contain 1 element or more.",
            )],
        );
    }
    if let Some(limit) = config.batch_limit.filter(|l| users.len() > *l) {
        s.logs.lock().alumio_writes.push(record);
        return violations_response(
            &config,
            vec![violation(
                "users".to_owned(),
                &format!("This collection should contain {limit} elements or less."),
            )],
        );
    }

    let alumio = &world.tenant.alumio;
    let mut violations = Vec::new();
    let mut plans: Vec<(String, Option<Plan>)> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (i, entry) in users.iter().enumerate() {
        let email = entry
            .get("email")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_owned();
        let before = violations.len();
        if email.is_empty() {
            violations.push(violation(path(i, "email"), "This value should not be blank."));
        } else if !valid_email(&email) {
            violations.push(violation(
                path(i, "email"),
                "This value is not a valid email address.",
            ));
        } else if seen.contains(&email.to_ascii_lowercase()) {
            violations.push(violation(
                path(i, "email"),
                "This email address appears more than once in the batch.",
            ));
        }
        let roles: Vec<String> = match entry.get("roles").and_then(Value::as_array) {
            None => {
                violations.push(violation(path(i, "roles"), "This value should not be blank."));
                Vec::new()
            }
            Some(list) if list.is_empty() => {
                violations.push(violation(
                    path(i, "roles"),
                    "This collection should contain 1 element or more.",
                ));
                Vec::new()
            }
            Some(list) => {
                let mut roles = Vec::new();
                for (j, role) in list.iter().enumerate() {
                    match role.as_str().filter(|r| ALUMIO_ROLES.contains(r)) {
                        Some(r) => roles.push(r.to_owned()),
                        None => violations.push(violation(
                            path(i, &format!("roles[{j}]")),
                            "The value you selected is not a valid choice.",
                        )),
                    }
                }
                let mut unique = roles.clone();
                unique.sort();
                unique.dedup();
                if unique.len() != roles.len() {
                    violations.push(violation(
                        path(i, "roles"),
                        "This collection should contain only unique elements.",
                    ));
                }
                roles
            }
        };
        let member = alumio
            .members
            .iter()
            .find(|m| m.space == space && m.email.eq_ignore_ascii_case(&email));
        let known = alumio.users.iter().any(|u| u.email.eq_ignore_ascii_case(&email));
        if violations.len() == before {
            if member.is_some() && config.existing_member == AlumioExistingMember::Reject {
                violations.push(violation(
                    path(i, "email"),
                    "This user is already a member of this space.",
                ));
            } else if !known && member.is_none() && config.unknown_email == AlumioUnknownEmail::Reject {
                violations.push(violation(
                    path(i, "email"),
                    "No user exists with this email address.",
                ));
            }
        }
        if !email.is_empty() {
            seen.insert(email.to_ascii_lowercase());
        }
        let plan = (violations.len() == before).then(|| match member {
            None => Plan::Add {
                roles,
                invite: !known,
            },
            Some(m) if config.existing_member == AlumioExistingMember::Replace && m.roles != roles => {
                Plan::Update { roles }
            }
            Some(_) => Plan::Unchanged,
        });
        plans.push((email, plan));
    }

    let apply = violations.is_empty() || config.batch_mode == AlumioBatchMode::Partial;
    let (mut added, mut updated, mut unchanged) = (Vec::new(), Vec::new(), Vec::new());
    for (email, plan) in plans {
        let outcome = match plan {
            None => AlumioEntryOutcome::Rejected,
            Some(_) if !apply => AlumioEntryOutcome::NotApplied,
            Some(Plan::Add { roles, invite }) => {
                let alumio = &mut world.tenant.alumio;
                if invite {
                    alumio.users.push(AlumioUser {
                        email: email.clone(),
                        name: String::new(),
                    });
                }
                alumio.members.push(AlumioMember {
                    space: space.clone(),
                    email: email.clone(),
                    roles,
                });
                added.push(email.clone());
                AlumioEntryOutcome::Added
            }
            Some(Plan::Update { roles }) => {
                let alumio = &mut world.tenant.alumio;
                if let Some(m) = alumio
                    .members
                    .iter_mut()
                    .find(|m| m.space == space && m.email.eq_ignore_ascii_case(&email))
                {
                    m.roles = roles;
                }
                updated.push(email.clone());
                AlumioEntryOutcome::Updated
            }
            Some(Plan::Unchanged) => {
                unchanged.push(email.clone());
                AlumioEntryOutcome::Unchanged
            }
        };
        record.entries.push((email, outcome));
    }
    drop(world);
    let response = if violations.is_empty() {
        axum::Json(json!({ "space": space, "added": added, "updated": updated, "unchanged": unchanged }))
            .into_response()
    } else {
        violations_response(&config, violations)
    };
    record.status = response.status().as_u16();
    s.logs.lock().alumio_writes.push(record);
    response
}
