//! Alumio's payloads: spaces, space members, list envelopes, the `assign_users` body and the
//! error body with its violations.
//!
//! Alumio documents little of its answers, so every field is optional and unknown fields are
//! ignored: a client that refuses an answer it could have used helps nobody.

use std::cell::RefCell;
use std::future::Future;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The roles a space member can hold, as the API spells them.
pub const ROLES: [&str; 3] = ["ROLE_USER", "ROLE_EDITOR", "ROLE_ADMINISTRATOR"];

/// A space.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Space {
    /// The identifier (`^[a-z0-9-]+$`), used in every path.
    #[serde(default)]
    pub identifier: Option<String>,
    /// The display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// A user's membership of a space.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpaceUser {
    /// The member's email.
    #[serde(default)]
    pub email: Option<String>,
    /// Some answers nest the user instead: `{"user": {"email": ...}}`.
    #[serde(default)]
    pub user: Option<UserRef>,
    /// The roles held.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub roles: Vec<String>,
}

/// `null` where a list is expected means an empty list.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

impl SpaceUser {
    /// The member's email, from wherever the answer put it.
    pub fn email(&self) -> Option<&str> {
        self.email
            .as_deref()
            .or_else(|| self.user.as_ref().and_then(|u| u.email.as_deref()))
            .filter(|e| !e.is_empty())
    }
}

/// A user as nested in another object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct UserRef {
    /// The email.
    #[serde(default)]
    pub email: Option<String>,
}

/// A single object: `{"object": {...}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Object<T> {
    /// The object.
    pub object: T,
}

/// A list: `{"metadata": {"totalCount": N}, "results": [...]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct List<T> {
    /// Counts.
    #[serde(default)]
    pub metadata: Option<ListMetadata>,
    /// This page's items.
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
}

/// The counts of a list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMetadata {
    /// Items in the whole list, across pages.
    #[serde(default)]
    pub total_count: Option<u64>,
}

/// The `filter` query parameter of a list: `{"limit":N,"skip":M}`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ListFilter {
    /// Page size.
    pub limit: usize,
    /// Items to skip.
    pub skip: usize,
}

/// The body of `POST /spaces/{space}/assign_users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignUsers<'a> {
    /// The users to assign, each with the full list of roles they should hold.
    pub users: Vec<AssignUser<'a>>,
}

/// One entry of [`AssignUsers`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignUser<'a> {
    /// The user's email.
    pub email: &'a str,
    /// The roles (non-empty, unique).
    pub roles: &'a [String],
}

/// One violation of a rejected request (Symfony validator style).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violation {
    /// What is wrong, for people.
    pub title: Option<String>,
    /// Where: `users[3].email`, `users`, ...
    pub property_path: Option<String>,
    /// A machine-readable type (often a URN).
    pub kind: Option<String>,
}

/// The error body, every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// The HTTP status the body states, whether the server wrote it as a string or a number.
    pub status: Option<u16>,
    /// A type URI or code.
    pub kind: Option<String>,
    /// Short summary.
    pub title: Option<String>,
    /// Explanation.
    pub detail: Option<String>,
    /// Extra context, as sent.
    pub context: Option<Value>,
    /// The violations, in the order sent.
    pub violations: Vec<Violation>,
}

impl ErrorBody {
    /// Decodes an error body. Never fails: what is missing or mistyped is left out, and a body
    /// that is not JSON at all gives an empty value.
    pub fn decode(body: &[u8]) -> ErrorBody {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return ErrorBody::default();
        };
        let status = match value.get("status") {
            Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let violations = value
            .get("violations")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter(|v| v.is_object())
                    .map(|v| Violation {
                        title: text(v, &["title", "message"]),
                        property_path: text(v, &["propertyPath", "property_path", "path"]),
                        kind: text(v, &["type", "code"]),
                    })
                    .collect()
            })
            .unwrap_or_default();
        ErrorBody {
            status,
            kind: text(&value, &["type"]),
            title: text(&value, &["title"]),
            detail: text(&value, &["detail"]),
            context: value.get("context").filter(|c| !c.is_null()).cloned(),
            violations,
        }
    }

    /// The vendor-neutral summary the error model carries. A type that is a URI says nothing a
    /// reader can use, so only a short token becomes the code.
    pub fn problem(&self) -> core_api::Problem {
        let code = self
            .kind
            .clone()
            .filter(|k| !k.contains('/') && !k.contains(':') && !k.contains(' '));
        let detail = self.detail.clone().or_else(|| {
            let listed: Vec<String> = self
                .violations
                .iter()
                .filter_map(|v| match (&v.property_path, &v.title) {
                    (Some(path), Some(title)) if !path.is_empty() => Some(format!("{path}: {title}")),
                    (_, Some(title)) => Some(title.clone()),
                    _ => None,
                })
                .collect();
            (!listed.is_empty()).then(|| listed.join("; "))
        });
        core_api::Problem {
            code,
            title: self.title.clone(),
            detail,
        }
    }
}

/// The first of `keys` holding a non-empty string (numbers are written out).
fn text(value: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| match value.get(*key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

tokio::task_local! {
    /// The error body of the last failed attempt of the call running in [`capturing`]. The HTTP
    /// layer keeps only a [`core_api::Problem`]; bulk writes need the violations too.
    static CAPTURED: RefCell<Option<ErrorBody>>;
}

/// The error-body decoder given to the HTTP layer. It runs inline on the calling task (the HTTP
/// layer spawns nothing), so inside [`capturing`] it can hand the whole body to the caller.
pub(crate) fn parse_problem(body: &[u8]) -> core_api::Problem {
    let parsed = ErrorBody::decode(body);
    let problem = parsed.problem();
    // Outside `capturing` there is nobody to hand it to.
    let _ = CAPTURED.try_with(|cell| *cell.borrow_mut() = Some(parsed));
    problem
}

/// Runs a call and returns its output with the error body of its last failed attempt, if any.
pub(crate) async fn capturing<F: Future>(call: F) -> (F::Output, Option<ErrorBody>) {
    CAPTURED
        .scope(RefCell::new(None), async move {
            let output = call.await;
            let body = CAPTURED.try_with(|cell| cell.borrow_mut().take()).ok().flatten();
            (output, body)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_may_be_a_string_or_a_number() {
        assert_eq!(ErrorBody::decode(br#"{"status":422}"#).status, Some(422));
        assert_eq!(ErrorBody::decode(br#"{"status":"422"}"#).status, Some(422));
        assert_eq!(ErrorBody::decode(br#"{"status":"unprocessable"}"#).status, None);
        assert_eq!(ErrorBody::decode(br#"{"status":null}"#).status, None);
    }

    #[test]
    fn every_field_is_optional_and_mistyped_fields_are_dropped() {
        assert_eq!(ErrorBody::decode(b"{}"), ErrorBody::default());
        assert_eq!(ErrorBody::decode(b""), ErrorBody::default());
        assert_eq!(ErrorBody::decode(b"<html>502</html>"), ErrorBody::default());
        let body = ErrorBody::decode(
            br#"{"status":"400","title":["x"],"detail":null,"violations":"none","context":{"a":1}}"#,
        );
        assert_eq!(body.status, Some(400));
        assert_eq!(body.title, None);
        assert!(body.violations.is_empty());
        assert_eq!(body.context, Some(serde_json::json!({"a": 1})));
    }

    #[test]
    fn decodes_violations() {
        let body = ErrorBody::decode(
            br#"{"status":422,"type":"https://tools.ietf.org/html/rfc2616#section-10",
                "title":"An error occurred","detail":"users[3].email: This value is not a valid email address.",
                "violations":[
                  {"title":"This value is not a valid email address.","propertyPath":"users[3].email",
                   "type":"urn:uuid:bd79c0ab-ddba-46cc-a703-a7a4b08de310"},
                  {"message":"Unknown role.","propertyPath":"users[5].roles[0]"},
                  "garbage",
                  {}
                ]}"#,
        );
        assert_eq!(body.violations.len(), 3);
        assert_eq!(
            body.violations[0].property_path.as_deref(),
            Some("users[3].email")
        );
        assert_eq!(body.violations[1].title.as_deref(), Some("Unknown role."));
        assert_eq!(body.violations[2], Violation::default());
        let problem = body.problem();
        // A URI type is not a code.
        assert_eq!(problem.code, None);
        assert_eq!(problem.title.as_deref(), Some("An error occurred"));
    }

    #[test]
    fn problem_lists_violations_when_there_is_no_detail() {
        let body = ErrorBody::decode(
            br#"{"type":"validation_failed","violations":[{"title":"Bad.","propertyPath":"users[0].email"},{"title":"Worse."}]}"#,
        );
        let problem = body.problem();
        assert_eq!(problem.code.as_deref(), Some("validation_failed"));
        assert_eq!(problem.detail.as_deref(), Some("users[0].email: Bad.; Worse."));
    }

    #[tokio::test]
    async fn capturing_hands_over_the_last_body() {
        let (value, body) = capturing(async {
            parse_problem(br#"{"title":"first"}"#);
            parse_problem(br#"{"title":"second"}"#);
            7
        })
        .await;
        assert_eq!(value, 7);
        assert_eq!(body.and_then(|b| b.title).as_deref(), Some("second"));
        let (_, body) = capturing(async {}).await;
        assert_eq!(body, None);
        // Outside a capture the decoder still works.
        assert_eq!(parse_problem(br#"{"title":"x"}"#).title.as_deref(), Some("x"));
    }

    #[test]
    fn space_users_with_nested_or_flat_email() {
        let flat: SpaceUser =
            serde_json::from_str(r#"{"email":"a@b.c","roles":["ROLE_USER"],"x":1}"#).unwrap();
        assert_eq!(flat.email(), Some("a@b.c"));
        let nested: SpaceUser = serde_json::from_str(r#"{"user":{"email":"d@e.f"},"roles":null}"#).unwrap();
        assert_eq!(nested.email(), Some("d@e.f"));
    }
}
