//! The Qlik Cloud endpoints: OAuth tokens, spaces, assignments, users, groups, roles and the
//! group and license settings, written from the OpenAPI specs in `shared/specs/qlik` and the
//! API notes. [`operations`] gives each operation its tier and the role it needs.
//!
//! Choices where the specs are silent: list results are in tenant order (creation order); page
//! cursors are opaque offsets; `email` comparisons in filters ignore case, other values do not;
//! space names are unique ignoring case; creating an assignment for the space owner is a 400
//! (owners hold every role and are never listed as assignees).
//!
//! One module per resource; this one only wires their routes. What several resources share has
//! its own module: [`roles`] (role references), [`paging`] (query parameters, cursors, links), [`filter`] (SCIM filters) and
//! [`reply`] (error and JSON bodies).

#![expect(
    clippy::result_large_err,
    reason = "helpers fail with the finished error response; one request, one allocation either way"
)]

mod assignments;
mod filter;
mod groups;
mod oauth;
pub(crate) mod operations;
mod paging;
mod reply;
mod roles;
mod settings;
mod spaces;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};

pub use operations::tiers as operation_tiers;

use crate::state::Shared;

type S = State<Arc<Shared>>;

/// Every Qlik route, OAuth included; the gate in [`crate::routes`] wraps them all.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/oauth/token", post(oauth::token))
        .route(
            "/api/v1/spaces",
            get(spaces::list_spaces).post(spaces::create_space),
        )
        .route("/api/v1/spaces/types", get(spaces::space_types))
        .route(
            "/api/v1/spaces/{space_id}",
            get(spaces::get_space)
                .patch(spaces::patch_space)
                .delete(spaces::delete_space),
        )
        .route(
            "/api/v1/spaces/{space_id}/assignments",
            get(assignments::list_assignments).post(assignments::create_assignment),
        )
        .route(
            "/api/v1/spaces/{space_id}/assignments/{assignment_id}",
            get(assignments::get_assignment)
                .put(assignments::update_assignment)
                .delete(assignments::delete_assignment),
        )
        .route("/api/v1/users", get(users::list_users))
        .route("/api/v1/users/me", get(users::me))
        .route("/api/v1/users/{user_id}", get(users::get_user))
        .route(
            "/api/v1/groups",
            get(groups::list_groups).post(groups::create_group),
        )
        .route(
            "/api/v1/groups/settings",
            get(settings::get_groups_settings).patch(settings::patch_groups_settings),
        )
        .route(
            "/api/v1/groups/{group_id}",
            get(groups::get_group)
                .patch(groups::patch_group)
                .delete(groups::delete_group),
        )
        .route("/api/v1/roles", get(roles::list_roles))
        .route("/api/v1/roles/{id}", get(roles::get_role))
        .route(
            "/api/v1/licenses/settings",
            get(settings::get_license_settings).put(settings::put_license_settings),
        )
}
