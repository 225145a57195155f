//! Qlik Cloud's payloads, as the spaces, assignments, users and groups APIs send them.
//!
//! Decoding is lenient: unknown fields are ignored and fields the API may leave out or send as
//! `null` fall back to defaults, so a new API version does not break the tool.

use serde::{Deserialize, Deserializer, Serialize};

/// `null` or missing becomes the type's default.
fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Space {
    /// Id.
    pub id: String,
    /// Name, unique in the tenant (personal spaces have none).
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// `shared`, `managed` or `data`.
    #[serde(rename = "type", default, deserialize_with = "null_default")]
    pub space_type: String,
    /// The owner's user id.
    #[serde(default)]
    pub owner_id: Option<String>,
    /// The tenant's id.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Roles and actions of the caller, and the roles assignable in this space.
    #[serde(default, deserialize_with = "null_default")]
    pub meta: SpaceMeta,
}

/// `Space.meta`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpaceMeta {
    /// The caller's roles in the space.
    #[serde(default, deserialize_with = "null_default")]
    pub roles: Vec<String>,
    /// What the caller may do.
    #[serde(default, deserialize_with = "null_default")]
    pub actions: Vec<String>,
    /// Roles that can be assigned in this space.
    #[serde(default, deserialize_with = "null_default")]
    pub assignable_roles: Vec<String>,
}

/// The body of `POST /api/v1/spaces`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateSpace {
    /// Name (at most 256 characters, none of `"*?<>/|\:`).
    pub name: String,
    /// `shared`, `managed` or `data`.
    #[serde(rename = "type")]
    pub space_type: String,
    /// Optional description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A space assignment: one user or group with roles in one space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    /// Id.
    pub id: String,
    /// `user`, `group` (or `bot`, which the tool leaves alone).
    #[serde(rename = "type", default, deserialize_with = "null_default")]
    pub assignee_type: String,
    /// The user or group id.
    #[serde(default, deserialize_with = "null_default")]
    pub assignee_id: String,
    /// Roles held.
    #[serde(default, deserialize_with = "null_default")]
    pub roles: Vec<String>,
    /// The space.
    #[serde(default)]
    pub space_id: Option<String>,
    /// The tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Who created it.
    #[serde(default)]
    pub created_by: Option<String>,
    /// Last update time.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Who last updated it.
    #[serde(default)]
    pub updated_by: Option<String>,
}

/// The body of `POST /api/v1/spaces/{id}/assignments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAssignment {
    /// `user` or `group`.
    #[serde(rename = "type")]
    pub assignee_type: String,
    /// The user or group id.
    pub assignee_id: String,
    /// Roles to grant (non-empty).
    pub roles: Vec<String>,
}

/// The body of `PUT /api/v1/spaces/{id}/assignments/{aid}`: the complete new role list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateAssignment {
    /// Roles (non-empty).
    pub roles: Vec<String>,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Id in this tenant.
    pub id: String,
    /// The identity provider's subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// `active`, `invited`, `disabled`, `deleted` or `provisioned`.
    #[serde(default)]
    pub status: Option<String>,
    /// The tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Groups the user belongs to.
    #[serde(default, deserialize_with = "null_default")]
    pub assigned_groups: Vec<GroupRef>,
}

/// A group as listed inside a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    /// Group id.
    pub id: String,
    /// Group name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// Id.
    pub id: String,
    /// Exact, case-sensitive name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// `active` or `disabled`.
    #[serde(default)]
    pub status: Option<String>,
    /// `idp` or `custom`.
    #[serde(default)]
    pub provider_type: Option<String>,
    /// The tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
}

/// The body of `POST /api/v1/groups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateGroup {
    /// Name (at most 256 characters).
    pub name: String,
    /// Always `active` on creation.
    pub status: String,
    /// `custom` for groups made in the tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_type: Option<String>,
}

/// Qlik's error body: `{"errors": [{"code", "title", "detail", "status", "meta"}], "traceId"}`,
/// with the deprecated top-level `code`/`title`/`detail` some endpoints still send.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The errors.
    #[serde(default, deserialize_with = "null_default")]
    pub errors: Vec<ErrorItem>,
    /// The request's trace id.
    #[serde(default)]
    pub trace_id: Option<String>,
    /// Deprecated top-level code.
    #[serde(default)]
    pub code: Option<String>,
    /// Deprecated top-level title.
    #[serde(default)]
    pub title: Option<String>,
    /// Deprecated top-level detail.
    #[serde(default)]
    pub detail: Option<String>,
}

/// One entry of [`ErrorBody::errors`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ErrorItem {
    /// Machine-readable code, e.g. `AssignmentConflict`, `HTTP-429`.
    #[serde(default)]
    pub code: Option<String>,
    /// Summary.
    #[serde(default)]
    pub title: Option<String>,
    /// Explanation.
    #[serde(default)]
    pub detail: Option<String>,
    /// The HTTP status, as a string or a number.
    #[serde(default)]
    pub status: Option<serde_json::Value>,
    /// Extra data.
    #[serde(default)]
    pub meta: Option<serde_json::Value>,
}

/// Turns an error response body into the vendor-neutral problem; never fails.
pub(crate) fn parse_problem(body: &[u8]) -> core_api::Problem {
    let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) else {
        return core_api::Problem::default();
    };
    let first = parsed.errors.into_iter().next().unwrap_or_default();
    core_api::Problem {
        code: first.code.or(parsed.code),
        title: first.title.or(parsed.title),
        detail: first.detail.or(parsed.detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_with_unknown_and_null_fields() {
        let space: Space = serde_json::from_str(
            r#"{"id":"s1","name":"Finance","type":"shared","ownerId":"u1","tenantId":"t",
                "description":null,"createdAt":"2024-01-01T00:00:00Z","links":{"self":{"href":"x"}},
                "meta":{"roles":[],"actions":["read"],"assignableRoles":["consumer","producer"]},
                "somethingNew":{"a":1}}"#,
        )
        .unwrap();
        assert_eq!(space.meta.assignable_roles, ["consumer", "producer"]);
        assert_eq!(space.description, None);

        let user: User =
            serde_json::from_str(r#"{"id":"u1","email":"a@b.c","assignedGroups":null}"#).unwrap();
        assert!(user.assigned_groups.is_empty());
        let assignment: Assignment =
            serde_json::from_str(r#"{"id":"a1","type":"group","assigneeId":"g1","roles":["consumer"]}"#)
                .unwrap();
        assert_eq!(assignment.assignee_type, "group");
    }

    #[test]
    fn parses_error_bodies_old_and_new() {
        let problem = parse_problem(
            br#"{"errors":[{"code":"AssignmentConflict","title":"Conflict","detail":"exists","status":"409"}],
                 "traceId":"abc"}"#,
        );
        assert_eq!(problem.code.as_deref(), Some("AssignmentConflict"));
        assert_eq!(problem.detail.as_deref(), Some("exists"));
        let problem = parse_problem(br#"{"code":"SpaceNotFound","title":"Not found","status":404}"#);
        assert_eq!(problem.code.as_deref(), Some("SpaceNotFound"));
        assert_eq!(
            parse_problem(b"<html>bad gateway</html>"),
            core_api::Problem::default()
        );
        assert_eq!(parse_problem(b""), core_api::Problem::default());
    }
}
