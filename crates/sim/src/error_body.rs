//! The error bodies both APIs answer with, shared by the gate in [`crate::routes`] and the
//! handlers, so that neither depends on the other.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::Shared;

/// A Qlik error body: `{"errors":[{"code","title","detail","status"}],"traceId"}`.
pub(crate) fn qlik_error(
    s: &Shared,
    status: StatusCode,
    code: &str,
    title: &str,
    detail: Option<&str>,
) -> Response {
    let mut error = json!({ "code": code, "title": title, "status": status.as_u16() });
    if let Some(detail) = detail {
        error["detail"] = json!(detail);
    }
    let body = json!({ "errors": [error], "traceId": s.trace_id() });
    (status, axum::Json(body)).into_response()
}

/// An Alumio error body without violations.
pub(crate) fn alumio_error(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = json!({
        "status": status.as_u16(),
        "type": "https://tools.ietf.org/html/rfc2616#section-10",
        "title": title,
        "detail": detail,
    });
    (status, axum::Json(body)).into_response()
}

/// The licenses API's error body: `{"error", "errors": [{"code", "title", "detail"}], "message"}`.
pub(crate) fn licenses_error(status: StatusCode, code: &str, title: &str, detail: &str) -> Response {
    let body = json!({
        "error": "util.Error",
        "errors": [{ "code": code, "title": title, "detail": detail }],
        "message": detail,
    });
    (status, axum::Json(body)).into_response()
}
