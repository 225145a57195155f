//! The tenant-configuration calls against a local mock that records every request: Qlik's
//! paths, methods and payloads (JSON Patch `replace` operations, role references by name), a
//! 204 without a body, and a 403 as an error with its status.

#![expect(
    clippy::unwrap_used,
    reason = "test setup fails loudly; helpers are outside #[test] functions"
)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use core_api::target::Target;
use core_api::tenant::{GroupSettingsPatch, LicenseSettings};
use qlik::{Client, Config, Credentials, RateLimits, RetryPolicy};
use serde_json::{Value, json};

type Log = Arc<Mutex<Vec<(String, String, Value)>>>;

async fn handle(State(log): State<Log>, method: Method, uri: Uri, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    log.lock()
        .unwrap()
        .push((method.to_string(), uri.path().to_owned(), body.clone()));
    let json = |status: StatusCode, value: Value| {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            value.to_string(),
        )
            .into_response()
    };
    match (method.as_str(), uri.path()) {
        ("GET", "/api/v1/groups/settings") => json(
            StatusCode::OK,
            json!({"tenantId": "t", "autoCreateGroups": false, "syncIdpGroups": true, "links": {}}),
        ),
        ("PATCH", "/api/v1/groups/settings") | ("PATCH", "/api/v1/groups/g1") => {
            StatusCode::NO_CONTENT.into_response()
        }
        ("GET", "/api/v1/licenses/settings") => json(
            StatusCode::OK,
            json!({"autoAssignProfessional": true, "autoAssignAnalyzer": false}),
        ),
        ("PUT", "/api/v1/licenses/settings") => json(StatusCode::OK, body),
        ("GET", "/api/v1/roles") => json(
            StatusCode::FORBIDDEN,
            json!({"errors": [{"code": "HTTP-403", "title": "Forbidden"}]}),
        ),
        ("GET", "/api/v1/groups") => json(
            StatusCode::OK,
            json!({"data": [{"id": "g1", "name": "Admins", "providerType": "custom",
                "assignedRoles": [{"id": "r2", "name": "AuditAdmin", "type": "default", "level": "admin"}]}],
                "links": {"self": {"href": "x"}}}),
        ),
        ("POST", "/api/v1/groups") => json(
            StatusCode::CREATED,
            json!({"id": "g2", "name": body["name"], "status": "active", "assignedRoles": []}),
        ),
        ("PATCH", "/api/v1/spaces/s1") => json(
            StatusCode::OK,
            json!({"id": "s1", "name": "S", "type": "shared", "description": "new"}),
        ),
        ("GET", "/api/v1/users/me") => json(
            StatusCode::OK,
            json!({"id": "u1", "email": "ops@example.com", "tenantId": "t",
                "assignedRoles": [{"id": "r9", "name": "AnalyticsAdmin"}]}),
        ),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn start() -> (Client, Log) {
    let log: Log = Arc::default();
    let app = Router::new().fallback(handle).with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut config = Config::new(
        format!("http://{addr}").parse().unwrap(),
        Credentials::api_key("k"),
    );
    config.retry = RetryPolicy::fast_for_tests();
    config.limits = RateLimits::unlimited();
    (Client::new(config).unwrap(), log)
}

#[tokio::test]
async fn settings_are_read_and_patched_with_replace_operations() {
    let (client, log) = start().await;
    let tenant = client.tenant_config().unwrap();
    let settings = tenant.group_settings().await.unwrap();
    assert!(!settings.auto_create_groups && settings.sync_idp_groups);
    tenant
        .patch_group_settings(&GroupSettingsPatch {
            auto_create_groups: Some(true),
            sync_idp_groups: None,
        })
        .await
        .unwrap();
    let licenses = tenant.license_settings().await.unwrap();
    assert!(licenses.auto_assign_professional);
    let written = tenant
        .put_license_settings(&LicenseSettings {
            auto_assign_professional: false,
            auto_assign_analyzer: true,
        })
        .await
        .unwrap();
    assert!(written.auto_assign_analyzer);
    let log = log.lock().unwrap();
    assert_eq!(log[1].0, "PATCH");
    assert_eq!(
        log[1].2,
        json!([{"op": "replace", "path": "/autoCreateGroups", "value": true}])
    );
    assert_eq!(
        (log[3].0.as_str(), log[3].1.as_str()),
        ("PUT", "/api/v1/licenses/settings")
    );
    assert_eq!(
        log[3].2,
        json!({"autoAssignProfessional": false, "autoAssignAnalyzer": true})
    );
}

#[tokio::test]
async fn groups_are_created_and_given_roles_by_name() {
    let (client, log) = start().await;
    let tenant = client.tenant_config().unwrap();
    let groups = tenant.list_groups_with_roles().await.unwrap();
    assert_eq!(groups[0].roles, vec!["AuditAdmin".to_owned()]);
    tenant
        .create_group_with_roles("Viewers", &["AnalyticsAdmin".to_owned()])
        .await
        .unwrap();
    tenant
        .set_group_roles("g1", &["AuditAdmin".to_owned(), "AnalyticsAdmin".to_owned()])
        .await
        .unwrap();
    tenant.set_space_description("s1", "new").await.unwrap();
    let log = log.lock().unwrap();
    assert_eq!(
        log[1].2,
        json!({"name": "Viewers", "status": "active", "providerType": "custom", "assignedRoles": [{"name": "AnalyticsAdmin"}]})
    );
    assert_eq!(
        (log[2].0.as_str(), log[2].1.as_str()),
        ("PATCH", "/api/v1/groups/g1")
    );
    assert_eq!(
        log[2].2,
        json!([{"op": "replace", "path": "/assignedRoles", "value": [{"name": "AuditAdmin"}, {"name": "AnalyticsAdmin"}]}])
    );
    assert_eq!(
        log[3].2,
        json!([{"op": "replace", "path": "/description", "value": "new"}])
    );
}

#[tokio::test]
async fn a_refused_roles_read_is_a_403_and_me_names_the_user() {
    let (client, _log) = start().await;
    let tenant = client.tenant_config().unwrap();
    let error = tenant.list_roles().await.unwrap_err();
    assert_eq!(error.status(), Some(403));
    let me = tenant.me().await.unwrap();
    assert_eq!(me.email.as_deref(), Some("ops@example.com"));
    assert_eq!(me.roles, vec!["AnalyticsAdmin".to_owned()]);
}
