//! `POST /oauth/token`: the client-credentials grant that issues the bearer tokens the gate checks.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::S;
use crate::state::IssuedToken;

#[derive(Deserialize)]
struct TokenRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    grant_type: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// `POST /oauth/token`: the client-credentials grant, JSON or form-encoded.
pub(super) async fn token(State(s): S, headers: HeaderMap, body: Bytes) -> Response {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let parsed: Option<TokenRequest> = if is_form {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        Some(TokenRequest {
            client_id: get("client_id"),
            client_secret: get("client_secret"),
            grant_type: get("grant_type"),
        })
    } else {
        serde_json::from_slice(&body).ok()
    };
    let Some(req) = parsed else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body is not a token request",
        );
    };
    if req.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is supported",
        );
    }
    let client = {
        let world = s.world.lock();
        world
            .tenant
            .oauth_clients
            .iter()
            .find(|c| {
                Some(&c.client_id) == req.client_id.as_ref()
                    && Some(&c.client_secret) == req.client_secret.as_ref()
            })
            .cloned()
    };
    let Some(client) = client else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    };
    let access_token = s.random_token();
    s.tokens.lock().insert(
        access_token.clone(),
        IssuedToken {
            client_id: client.client_id,
            user_id: client.user_id,
            expires: Instant::now() + s.token_ttl,
        },
    );
    axum::Json(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": s.token_ttl.as_secs(),
        "scope": "admin_classic",
    }))
    .into_response()
}
