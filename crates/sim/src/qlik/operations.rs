//! Each Qlik operation the simulator serves, as the specs describe it: its rate-limit tier
//! (`x-qlik-tier`), the tenant role a caller's user needs, and which error body its spec gives.
//!
//! The specs say that an operation may answer 403 ("insufficient permissions") but not which
//! role it takes; the simulator's rule is that the tenant-configuration operations (group and
//! license settings, roles, creating and changing groups) need `TenantAdmin`, and everything
//! else any authenticated user may call. Changing or deleting a space takes its owner or a
//! `TenantAdmin`, which the spaces handler checks, since it depends on the space.

use axum::http::Method;

/// The error body an operation's spec gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorStyle {
    /// `{"errors": [{"code", "title", "detail", "status"}], "traceId"}`.
    Qlik,
    /// The licenses API's `{"error", "errors": [{"code", "title", "detail"}], "message"}`.
    Licenses,
}

/// What the gate needs to know about one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operation {
    /// `x-qlik-tier`: 1 or 2.
    pub(crate) tier: u8,
    /// The tenant role the caller's user must hold, if any.
    pub(crate) needs: Option<&'static str>,
    /// The error body of the operation's spec.
    pub(crate) errors: ErrorStyle,
}

const ADMIN: Option<&str> = Some("TenantAdmin");

/// Method, path pattern (`{x}` is one segment), tier, role. Static paths come before the
/// patterns they would also match (`/groups/settings` before `/groups/{groupId}`).
const OPERATIONS: &[(&str, &str, u8, Option<&str>)] = &[
    ("GET", "/api/v1/spaces", 1, None),
    ("POST", "/api/v1/spaces", 2, None),
    ("GET", "/api/v1/spaces/types", 1, None),
    ("GET", "/api/v1/spaces/{spaceId}", 1, None),
    ("PATCH", "/api/v1/spaces/{spaceId}", 2, None),
    ("PUT", "/api/v1/spaces/{spaceId}", 2, None),
    ("DELETE", "/api/v1/spaces/{spaceId}", 2, None),
    ("GET", "/api/v1/spaces/{spaceId}/assignments", 1, None),
    ("POST", "/api/v1/spaces/{spaceId}/assignments", 2, None),
    (
        "GET",
        "/api/v1/spaces/{spaceId}/assignments/{assignmentId}",
        1,
        None,
    ),
    (
        "PUT",
        "/api/v1/spaces/{spaceId}/assignments/{assignmentId}",
        2,
        None,
    ),
    (
        "DELETE",
        "/api/v1/spaces/{spaceId}/assignments/{assignmentId}",
        2,
        None,
    ),
    ("GET", "/api/v1/users", 1, None),
    ("POST", "/api/v1/users", 2, None),
    ("GET", "/api/v1/users/me", 1, None),
    ("GET", "/api/v1/users/{userId}", 1, None),
    ("PATCH", "/api/v1/users/{userId}", 2, None),
    ("DELETE", "/api/v1/users/{userId}", 2, None),
    ("GET", "/api/v1/groups/settings", 1, ADMIN),
    ("PATCH", "/api/v1/groups/settings", 2, ADMIN),
    ("GET", "/api/v1/groups", 1, None),
    ("POST", "/api/v1/groups", 2, ADMIN),
    ("GET", "/api/v1/groups/{groupId}", 1, None),
    ("PATCH", "/api/v1/groups/{groupId}", 2, ADMIN),
    ("DELETE", "/api/v1/groups/{groupId}", 2, ADMIN),
    ("GET", "/api/v1/roles", 1, ADMIN),
    ("POST", "/api/v1/roles", 2, ADMIN),
    ("GET", "/api/v1/roles/{id}", 1, ADMIN),
    ("PATCH", "/api/v1/roles/{id}", 2, ADMIN),
    ("DELETE", "/api/v1/roles/{id}", 2, ADMIN),
    ("GET", "/api/v1/licenses/settings", 1, ADMIN),
    ("PUT", "/api/v1/licenses/settings", 2, ADMIN),
];

fn matches(pattern: &str, path: &str) -> bool {
    let mut want = pattern.split('/');
    let mut got = path.trim_end_matches('/').split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w == g || (w.starts_with('{') && !g.is_empty()) => {}
            _ => return false,
        }
    }
}

/// The operation a request is, if the specs list it.
pub(crate) fn operation(method: &Method, path: &str) -> Option<Operation> {
    OPERATIONS
        .iter()
        .find(|(m, pattern, _, _)| *m == method.as_str() && matches(pattern, path))
        .map(|(_, pattern, tier, needs)| Operation {
            tier: *tier,
            needs: *needs,
            errors: if pattern.starts_with("/api/v1/licenses") {
                ErrorStyle::Licenses
            } else {
                ErrorStyle::Qlik
            },
        })
}

/// Every operation's method, path pattern and tier, for checking against the specs.
pub fn tiers() -> Vec<(&'static str, &'static str, u8)> {
    OPERATIONS.iter().map(|(m, p, t, _)| (*m, *p, *t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_paths_win_over_patterns() {
        let settings = operation(&Method::GET, "/api/v1/groups/settings");
        assert_eq!(settings.map(|o| o.needs), Some(ADMIN));
        let group = operation(&Method::GET, "/api/v1/groups/abc");
        assert_eq!(group.map(|o| o.needs), Some(None));
        assert_eq!(
            operation(&Method::PATCH, "/api/v1/spaces/x").map(|o| o.tier),
            Some(2)
        );
        assert_eq!(
            operation(&Method::GET, "/api/v1/spaces/x/assignments").map(|o| o.tier),
            Some(1)
        );
        assert_eq!(
            operation(&Method::PUT, "/api/v1/licenses/settings").map(|o| o.errors),
            Some(ErrorStyle::Licenses)
        );
        assert!(operation(&Method::GET, "/api/v1/nothing").is_none());
        assert!(operation(&Method::GET, "/api/v1/spaces/x/y/z").is_none());
    }
}
