//! What the simulator does not cover: the exact query strings sent, 403s, group members, and
//! the deprecated error fields. A local mock server records requests and answers fixtures.

#![expect(
    clippy::unwrap_used,
    reason = "test setup fails loudly; helpers are outside #[test] functions"
)]

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use core_api::target::{GroupInfo, Target};
use parking_lot::Mutex;
use qlik::{Client, Config, Credentials, RateLimits, RetryPolicy};
use serde_json::json;

type Queries = Arc<Mutex<Vec<String>>>;

async fn serve() -> (Client, Queries) {
    let queries: Queries = Arc::default();
    let router = Router::new()
        .route(
            "/api/v1/users",
            get(|State(q): State<Queries>, RawQuery(raw): RawQuery| async move {
                q.lock().push(raw.unwrap_or_default());
                axum::Json(json!({
                    "data": [{"id": "u1", "email": "Ann@Example.com", "name": "Ann", "status": "active",
                              "assignedGroups": [{"id": "g1", "name": "Team"}], "preferredLocale": "nl"}],
                    "links": {"self": {"href": "/api/v1/users"}}
                }))
            }),
        )
        .route(
            "/api/v1/spaces/{id}",
            get(|| async {
                // The deprecated top-level fields only, as some endpoints still answer.
                (
                    StatusCode::FORBIDDEN,
                    axum::Json(json!({"code": "SPACES-403", "title": "Forbidden", "detail": "no access"})),
                )
                    .into_response()
            }),
        )
        .with_state(queries.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let mut config = Config::new(
        format!("http://{addr}").parse().unwrap(),
        Credentials::api_key("k"),
    );
    config.retry = RetryPolicy::fast_for_tests();
    config.limits = RateLimits::unlimited();
    (Client::new(config).unwrap(), queries)
}

fn decoded_filter(query: &str) -> String {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "filter")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

#[tokio::test]
async fn filters_are_escaped_and_encoded() {
    let (client, queries) = serve().await;
    client
        .users()
        .find_by_email(r#"a"b\c+d@example.com"#)
        .await
        .unwrap();
    let query = queries.lock()[0].clone();
    assert!(query.contains("limit=100"), "{query}");
    // Nothing of the filter travels unencoded.
    assert!(
        !query.contains('"') && !query.contains(' ') && !query.contains('\\'),
        "{query}"
    );
    assert_eq!(decoded_filter(&query), r#"email eq "a\"b\\c+d@example.com""#);

    let emails = vec![
        "ann@example.com".to_owned(),
        "BOB@example.com".to_owned(),
        "Ann@example.com".to_owned(),
    ];
    let found = client.users().find_by_emails(&emails).await.unwrap();
    assert_eq!(found.len(), 1, "matched case-insensitively, once");
    assert_eq!(
        decoded_filter(&queries.lock()[1]),
        r#"email eq "ann@example.com" or email eq "bob@example.com""#
    );
}

#[tokio::test]
async fn group_members_filter_on_assigned_groups() {
    let (client, queries) = serve().await;
    let members = client
        .list_group_members(&GroupInfo {
            id: "g1".into(),
            name: "Team".into(),
        })
        .await
        .unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].email.as_deref(), Some("Ann@Example.com"));
    assert_eq!(decoded_filter(&queries.lock()[0]), r#"assignedGroups.id eq "g1""#);
}

#[tokio::test]
async fn forbidden_is_classified_with_the_deprecated_error_fields() {
    let (client, _) = serve().await;
    let err = client.spaces().get("s1").await.unwrap_err();
    assert_eq!(
        (err.status(), err.kind_code(), err.code()),
        (Some(403), "forbidden", Some("SPACES-403"))
    );
    assert_eq!(err.detail(), Some("no access"));
    assert!(!err.is_retryable());
    assert_eq!(err.attempts(), 1);
    assert_eq!(
        err.to_string(),
        "GET /api/v1/spaces/s1: HTTP 403 Forbidden: SPACES-403: Forbidden (no access)"
    );
    // The Target maps only 404 to "no such space"; a 403 stays an error.
    assert!(client.get_space("s1").await.is_err());
}
