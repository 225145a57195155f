//! Query parameters and pages: `limit`, the opaque `next`/`prev` cursors, and the links that
//! repeat a list's query with a new cursor.

use axum::response::Response;
use serde_json::{Value, json};

use super::reply::bad_request;
use crate::state::Shared;

/// A request's query parameters, in the order they came.
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    pub(super) fn parse(raw: Option<String>) -> Self {
        Params(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// `limit` within `1..=max`, or the default.
pub(super) fn limit(s: &Shared, params: &Params, default: usize, max: usize) -> Result<usize, Response> {
    match params.get("limit") {
        None => Ok(default),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(bad_request(
                s,
                &format!("limit must be an integer from 1 to {max}, got {raw:?}"),
            )),
        },
    }
}

fn encode_cursor(offset: usize) -> String {
    format!("c{:x}", offset ^ 0x5a5a)
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let hex = cursor.strip_prefix('c')?;
    usize::from_str_radix(hex, 16).ok().map(|n| n ^ 0x5a5a)
}

/// The page's first index, from `next` or `prev`.
pub(super) fn offset(s: &Shared, params: &Params) -> Result<usize, Response> {
    match params.get("next").or_else(|| params.get("prev")) {
        None => Ok(0),
        Some(cursor) => decode_cursor(cursor).ok_or_else(|| bad_request(s, "invalid page cursor")),
    }
}

pub(super) fn href(s: &Shared, path: &str, params: &[(String, String)]) -> Value {
    let mut url = format!("{}{path}", s.base_url);
    if !params.is_empty() {
        url.push('?');
        url.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params)
                .finish(),
        );
    }
    json!({ "href": url })
}

/// `self`, `next` and `prev` links, each a full URL repeating the query with a new cursor.
pub(super) fn links(
    s: &Shared,
    path: &str,
    params: &Params,
    offset: usize,
    limit: usize,
    total: usize,
) -> Value {
    let base: Vec<(String, String)> = params
        .0
        .iter()
        .filter(|(k, _)| k != "next" && k != "prev")
        .cloned()
        .collect();
    let with = |key: &str, at: usize| {
        let mut p = base.clone();
        p.push((key.to_owned(), encode_cursor(at)));
        href(s, path, &p)
    };
    let mut links = json!({ "self": href(s, path, &params.0) });
    if offset + limit < total {
        links["next"] = with("next", offset + limit);
    }
    if offset > 0 {
        links["prev"] = with("prev", offset.saturating_sub(limit));
    }
    links
}

/// A link as the API writes one: `{"href": url}`.
#[derive(serde::Serialize)]
pub(super) struct Href {
    pub(super) href: String,
}

/// A page's `meta`: how many items match in all.
#[derive(serde::Serialize)]
pub(super) struct PageMeta {
    pub(super) count: usize,
}

/// A page of spaces or assignments; fields in alphabetical order, as `json!` would write them.
#[derive(serde::Serialize)]
pub(super) struct Page<T> {
    pub(super) data: Vec<T>,
    pub(super) links: Value,
    pub(super) meta: PageMeta,
}
