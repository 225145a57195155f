//! The Alumio endpoints, served under [`crate::routes::ALUMIO_PREFIX`].

use std::sync::Arc;

use axum::Router;

use crate::state::Shared;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
}
