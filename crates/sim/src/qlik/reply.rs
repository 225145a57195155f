//! The answers every Qlik resource shares: 400 and 404 bodies, reading a JSON request body (and
//! a JSON Patch operation) and writing a serialized one.

use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error_body::qlik_error;
use crate::state::Shared;

pub(super) fn bad_request(s: &Shared, detail: &str) -> Response {
    qlik_error(
        s,
        StatusCode::BAD_REQUEST,
        "HTTP-400",
        "Bad request",
        Some(detail),
    )
}

pub(super) fn not_found(s: &Shared, what: &str) -> Response {
    qlik_error(
        s,
        StatusCode::NOT_FOUND,
        "HTTP-404",
        &format!("{what} not found or access denied."),
        None,
    )
}

pub(super) fn body<T: DeserializeOwned>(s: &Shared, bytes: &Bytes) -> Result<T, Response> {
    serde_json::from_slice(bytes).map_err(|e| bad_request(s, &format!("invalid request body: {e}")))
}

/// A serialized body as a JSON response (a failure to serialize is the simulator's own 500).
pub(super) fn json_body(s: &Shared, body: serde_json::Result<Vec<u8>>) -> Response {
    match body {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => qlik_error(
            s,
            StatusCode::INTERNAL_SERVER_ERROR,
            "HTTP-500",
            "Internal Server Error",
            Some(&e.to_string()),
        ),
    }
}

/// One operation of a JSON Patch body, the `i`th, as its path and value. Every PATCH endpoint
/// the simulator serves takes only `replace`, so an operation missing a field or naming another
/// op is the 400 they all answer with.
pub(super) fn replace_op<'a>(s: &Shared, i: usize, op: &'a Value) -> Result<(&'a str, &'a Value), Response> {
    let (Some(name), Some(path), Some(value)) = (
        op.get("op").and_then(Value::as_str),
        op.get("path").and_then(Value::as_str),
        op.get("value"),
    ) else {
        return Err(bad_request(
            s,
            &format!("operation {i}: op, path and value are required"),
        ));
    };
    if name != "replace" {
        return Err(bad_request(
            s,
            &format!("operation {i}: op {name:?} is not supported, only replace"),
        ));
    }
    Ok((path, value))
}
