//! The Alumio client against a local mock for answers the simulator does not give: a 413, a
//! rejection whose body is not JSON, Symfony's array paths with a string status, and "already a
//! member" as a 409.

#![expect(
    clippy::unwrap_used,
    reason = "test setup fails loudly; helpers are outside #[test] functions"
)]

use std::sync::{Arc, Mutex};

use alumio::{Client, Config, Credentials, RateLimits, RetryPolicy};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use core_api::target::{AssigneeKind, SpaceInfo, Target, WriteOp, WriteOutcome};
use serde_json::Value;

/// Decides the answer to one `assign_users` call from the emails it carries.
type Responder = Arc<dyn Fn(&[String]) -> (u16, String) + Send + Sync>;

#[derive(Clone)]
struct Mock {
    responder: Responder,
    /// The emails of every `assign_users` call, in order.
    calls: Arc<Mutex<Vec<Vec<String>>>>,
}

async fn assign(State(mock): State<Mock>, body: axum::body::Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap();
    let emails: Vec<String> = body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect();
    mock.calls.lock().unwrap().push(emails.clone());
    let (status, text) = (mock.responder)(&emails);
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, "application/json")],
        text,
    )
        .into_response()
}

/// Every user asked about is a member with `ROLE_USER`.
async fn member(axum::extract::Path((_, email)): axum::extract::Path<(String, String)>) -> Response {
    axum::Json(serde_json::json!({"object": {"email": email, "roles": ["ROLE_USER"]}})).into_response()
}

/// Serves the mock (no member list: it answers 404) and returns a client for it and the call log.
async fn start(
    batch_size: usize,
    responder: impl Fn(&[String]) -> (u16, String) + Send + Sync + 'static,
) -> (Client, Arc<Mutex<Vec<Vec<String>>>>) {
    let mock = Mock {
        responder: Arc::new(responder),
        calls: Arc::new(Mutex::new(Vec::new())),
    };
    let calls = mock.calls.clone();
    let app = Router::new()
        .route("/api/v1/spaces/{space}/assign_users", post(assign))
        .route("/api/v1/spaces/{space}/users/{email}", get(member))
        .with_state(mock);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut config = Config::new(
        format!("http://{addr}/api/v1").parse().unwrap(),
        Credentials::api_key("k"),
    )
    .with_batch_size(batch_size);
    config.http.retry = RetryPolicy::fast_for_tests();
    config.http.limits = RateLimits::unlimited();
    (Client::new(config).unwrap(), calls)
}

fn space() -> SpaceInfo {
    SpaceInfo {
        id: "s".to_owned(),
        name: "S".to_owned(),
        space_type: String::new(),
        owner_id: None,
        assignable_roles: Vec::new(),
        description: None,
    }
}

fn creates(emails: &[String]) -> Vec<WriteOp> {
    emails
        .iter()
        .map(|e| WriteOp::Create {
            assignee_kind: AssigneeKind::User,
            assignee_id: e.clone(),
            roles: vec!["ROLE_EDITOR".to_owned()],
        })
        .collect()
}

fn emails(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("u{i}@x.io")).collect()
}

#[tokio::test]
async fn a_413_halves_the_batch_for_the_rest_of_the_run() {
    let (client, calls) = start(20, |batch| {
        if batch.len() > 8 {
            (413, "<html>Request Entity Too Large</html>".to_owned())
        } else {
            (200, "{}".to_owned())
        }
    })
    .await;
    let outcomes = client.write(&space(), &creates(&emails(20))).await;
    assert!(
        outcomes.iter().all(|o| matches!(o, Ok(WriteOutcome::Created(_)))),
        "{outcomes:?}"
    );
    let sizes: Vec<usize> = calls.lock().unwrap().iter().map(Vec::len).collect();
    assert_eq!(sizes, [20, 10, 5, 5, 5, 5]);
    assert_eq!(client.batch_size(), 5);
    assert_eq!(client.capabilities().max_batch, 5);
}

#[tokio::test]
async fn array_paths_and_a_string_status_name_the_bad_rows() {
    let (client, calls) = start(50, |batch| {
        let violations: Vec<Value> = batch
            .iter()
            .enumerate()
            .filter(|(_, e)| e.starts_with("bad"))
            .map(|(i, _)| serde_json::json!({"propertyPath": format!("[users][{i}][email]"), "message": "Invalid."}))
            .collect();
        if violations.is_empty() {
            (200, "[]".to_owned())
        } else {
            let body = serde_json::json!({"status": "400", "title": "Validation Failed", "violations": violations});
            (400, body.to_string())
        }
    })
    .await;
    let mut list = emails(10);
    list[2] = "bad1@x.io".to_owned();
    list[7] = "bad2@x.io".to_owned();
    let outcomes = client.write(&space(), &creates(&list)).await;
    for (i, outcome) in outcomes.iter().enumerate() {
        if i == 2 || i == 7 {
            let error = outcome.as_ref().unwrap_err();
            assert_eq!(error.title(), Some("Invalid."));
            assert_eq!(error.status(), Some(400));
            assert_eq!(error.kind_code(), "invalid");
        } else {
            assert!(matches!(outcome, Ok(WriteOutcome::Created(_))), "{outcome:?}");
        }
    }
    let sizes: Vec<usize> = calls.lock().unwrap().iter().map(Vec::len).collect();
    assert_eq!(sizes, [10, 8]);
}

#[tokio::test]
async fn a_rejection_that_is_not_json_is_bisected() {
    let (client, calls) = start(16, |batch| {
        if batch.iter().any(|e| e.starts_with("bad")) {
            (422, "oops".to_owned())
        } else {
            (200, "{}".to_owned())
        }
    })
    .await;
    let mut list = emails(16);
    list[11] = "bad@x.io".to_owned();
    let outcomes = client.write(&space(), &creates(&list)).await;
    let failed: Vec<usize> = (0..16).filter(|&i| outcomes[i].is_err()).collect();
    assert_eq!(failed, [11]);
    let error = outcomes[11].as_ref().unwrap_err();
    assert_eq!(error.status(), Some(422));
    assert_eq!(error.kind_code(), "invalid");
    let calls = calls.lock().unwrap().len();
    assert!(calls <= 1 + 2 * 4, "{calls} calls");
}

#[tokio::test]
async fn already_a_member_as_a_409_is_an_existing_assignment() {
    let (client, calls) = start(8, |batch| {
        if batch.iter().any(|e| e.starts_with("member")) {
            (409, r#"{"status":409,"title":"Conflict"}"#.to_owned())
        } else {
            (200, "{}".to_owned())
        }
    })
    .await;
    let mut list = emails(8);
    list[5] = "member@x.io".to_owned();
    let outcomes = client.write(&space(), &creates(&list)).await;
    match &outcomes[5] {
        Ok(WriteOutcome::AlreadyExists(existing)) => {
            assert_eq!(existing.assignee_id, "member@x.io");
            assert_eq!(existing.roles, ["ROLE_USER"]);
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, Ok(WriteOutcome::Created(_))))
            .count(),
        7
    );
    assert!(calls.lock().unwrap().len() <= 1 + 2 * 3);
}
