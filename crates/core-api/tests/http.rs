//! The HTTP layer against a local mock server: retries, classification, throttling, OAuth,
//! pagination and redaction.

#![expect(
    clippy::unwrap_used,
    reason = "test setup fails loudly; helpers are outside #[test] functions"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use core_api::{
    ClientConfig, Credentials, Event, HttpClient, Method, Problem, RateLimits, Request, RetryPolicy, Tier,
    Timeouts, Url, Vendor,
};
use parking_lot::Mutex;
use serde_json::json;

fn parse_problem(body: &[u8]) -> Problem {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let first = &value["errors"][0];
    Problem {
        code: first["code"].as_str().map(Into::into),
        title: first["title"].as_str().map(Into::into),
        detail: first["detail"].as_str().map(Into::into),
    }
}

const VENDOR: Vendor = Vendor {
    token_path: "/oauth/token",
    default_scope: "admin_classic",
    parse_problem,
};

#[derive(Default)]
struct Mock {
    hits: AtomicU32,
    token_hits: AtomicU32,
    /// Arrival times of requests to /limited, and whether they were answered 429.
    arrivals: Mutex<Vec<(Instant, &'static str, bool)>>,
    limited_once: AtomicU32,
    /// The token the server currently accepts.
    valid_token: Mutex<String>,
}

async fn serve(router: Router) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}").parse().unwrap()
}

fn error(status: StatusCode, code: &str) -> Response {
    (
        status,
        axum::Json(json!({"errors":[{"code":code,"title":"Oops","detail":"details here"}]})),
    )
        .into_response()
}

fn config(url: Url, credentials: Credentials) -> ClientConfig {
    let mut config = ClientConfig::new(url, credentials);
    config.retry = RetryPolicy::fast_for_tests();
    config.limits = RateLimits::unlimited();
    config
}

fn router(mock: Arc<Mock>) -> Router {
    Router::new()
        .route(
            "/flaky",
            get(|State(m): State<Arc<Mock>>| async move {
                match m.hits.fetch_add(1, Ordering::SeqCst) {
                    0 => error(StatusCode::SERVICE_UNAVAILABLE, "HTTP-503"),
                    1 => error(StatusCode::BAD_GATEWAY, "HTTP-502"),
                    _ => axum::Json(json!({"ok": true})).into_response(),
                }
            }),
        )
        .route(
            "/missing",
            get(|State(m): State<Arc<Mock>>| async move {
                m.hits.fetch_add(1, Ordering::SeqCst);
                error(StatusCode::NOT_FOUND, "SpaceNotFound")
            }),
        )
        .route(
            "/forbidden",
            get(|State(m): State<Arc<Mock>>| async move {
                m.hits.fetch_add(1, Ordering::SeqCst);
                error(StatusCode::FORBIDDEN, "Forbidden")
            }),
        )
        .route(
            "/always500",
            get(|State(m): State<Arc<Mock>>| async move {
                m.hits.fetch_add(1, Ordering::SeqCst);
                error(StatusCode::INTERNAL_SERVER_ERROR, "HTTP-500")
            }),
        )
        .route(
            "/slow",
            get(|State(m): State<Arc<Mock>>| async move {
                if m.hits.fetch_add(1, Ordering::SeqCst) == 0 {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                axum::Json(json!({"ok": true}))
            }),
        )
        .route(
            "/limited",
            post(|State(m): State<Arc<Mock>>| async move {
                let first = m.limited_once.fetch_add(1, Ordering::SeqCst) == 0;
                m.arrivals.lock().push((Instant::now(), "tier2", first));
                if first {
                    let mut response = error(StatusCode::TOO_MANY_REQUESTS, "HTTP-429");
                    response.headers_mut().insert("retry-after", "1".parse().unwrap());
                    return response;
                }
                axum::Json(json!({"ok": true})).into_response()
            }),
        )
        .route(
            "/read",
            get(|State(m): State<Arc<Mock>>| async move {
                m.arrivals.lock().push((Instant::now(), "tier1", false));
                axum::Json(json!({"ok": true}))
            }),
        )
        .route(
            "/oauth/token",
            post(
                |State(m): State<Arc<Mock>>, body: axum::Json<serde_json::Value>| async move {
                    let n = m.token_hits.fetch_add(1, Ordering::SeqCst);
                    if body["client_secret"] != "top-secret-value" {
                        return error(StatusCode::UNAUTHORIZED, "invalid_client");
                    }
                    assert_eq!(body["grant_type"], "client_credentials");
                    let token = format!("token-{n}");
                    *m.valid_token.lock() = token.clone();
                    axum::Json(json!({"access_token": token, "token_type": "bearer", "expires_in": 3600}))
                        .into_response()
                },
            ),
        )
        .route(
            "/protected",
            get(|State(m): State<Arc<Mock>>, headers: HeaderMap| async move {
                m.hits.fetch_add(1, Ordering::SeqCst);
                let expected = format!("Bearer {}", m.valid_token.lock());
                if headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str()) {
                    axum::Json(json!({"ok": true})).into_response()
                } else {
                    error(StatusCode::UNAUTHORIZED, "Unauthorized")
                }
            }),
        )
        .route(
            "/items",
            get(
                |Query(q): Query<std::collections::HashMap<String, String>>| async move {
                    let page: u32 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
                    let data: Vec<u32> = (page * 3..page * 3 + 3).collect();
                    let links = if page < 3 {
                        json!({"self":{"href":"x"},"next":{"href":format!("/items?page={}", page + 1)}})
                    } else {
                        json!({"self":{"href":"x"}})
                    };
                    axum::Json(json!({"data": data, "links": links, "meta": {"count": 3}}))
                },
            ),
        )
        .route(
            "/foreign",
            get(|| async {
                axum::Json(json!({"data": [1], "links": {"next": {"href": "http://evil.example/steal"}}}))
            }),
        )
        .with_state(mock)
}

#[tokio::test]
async fn retries_transient_failures_and_reports_them_on_the_calling_task() {
    tokio::task_local! { static ROW: u32; }
    let mock = Arc::new(Mock::default());
    let url = serve(router(mock.clone())).await;
    type Seen = Vec<(u32, u32, Option<u16>)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let mut config = config(url, Credentials::api_key("key"));
    let sink = seen.clone();
    config.observer = Some(Arc::new(move |event: &Event<'_>| {
        if let Event::RetryScheduled { attempt, cause, .. } = event {
            sink.lock().push((ROW.get(), *attempt, cause.status()));
        }
    }));
    let client = HttpClient::new(config, VENDOR).unwrap();
    let request = Request::new(Method::GET, client.url("/flaky").unwrap(), Tier::Tier1);
    let response = ROW.scope(42, client.execute(&request)).await.unwrap();
    assert_eq!(response.attempts, 3);
    assert_eq!(mock.hits.load(Ordering::SeqCst), 3);
    assert_eq!(*seen.lock(), vec![(42, 1, Some(503)), (42, 2, Some(502))]);
}

#[tokio::test]
async fn gives_up_after_the_capped_attempts() {
    let mock = Arc::new(Mock::default());
    let client = HttpClient::new(
        config(serve(router(mock.clone())).await, Credentials::api_key("k")),
        VENDOR,
    )
    .unwrap();
    let err = client
        .get_json::<serde_json::Value>(client.url("/always500").unwrap(), Tier::Tier1)
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), RetryPolicy::fast_for_tests().max_attempts);
    assert_eq!(
        mock.hits.load(Ordering::SeqCst),
        RetryPolicy::fast_for_tests().max_attempts
    );
    assert_eq!(err.kind_code(), "server");
    assert!(err.to_string().contains("after 6 attempts"), "{err}");
}

#[tokio::test]
async fn never_retries_other_client_errors() {
    let mock = Arc::new(Mock::default());
    let client = HttpClient::new(
        config(serve(router(mock.clone())).await, Credentials::api_key("k")),
        VENDOR,
    )
    .unwrap();
    let err = client
        .get_json::<serde_json::Value>(client.url("/missing").unwrap(), Tier::Tier1)
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.kind_code(), err.code()),
        (Some(404), "not_found", Some("SpaceNotFound"))
    );
    assert_eq!(err.detail(), Some("details here"));
    assert!(!err.is_retryable());
    let err = client
        .get_json::<serde_json::Value>(client.url("/forbidden").unwrap(), Tier::Tier1)
        .await
        .unwrap_err();
    assert_eq!(err.kind_code(), "forbidden");
    assert_eq!(mock.hits.load(Ordering::SeqCst), 2);
    assert_eq!(
        err.to_string(),
        "GET /forbidden: HTTP 403 Forbidden: Forbidden: Oops (details here)"
    );
}

#[tokio::test]
async fn retries_timeouts() {
    let mock = Arc::new(Mock::default());
    let mut config = config(serve(router(mock.clone())).await, Credentials::api_key("k"));
    config.timeouts = Timeouts {
        connect: Duration::from_secs(1),
        request: Duration::from_millis(300),
    };
    let client = HttpClient::new(config, VENDOR).unwrap();
    let response = client
        .execute(&Request::new(
            Method::GET,
            client.url("/slow").unwrap(),
            Tier::Tier1,
        ))
        .await
        .unwrap();
    assert_eq!(response.attempts, 2);
}

#[tokio::test]
async fn a_refused_connection_fails_at_once_until_the_server_has_answered() {
    // A port nobody listens on: bind, note the port, drop the listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url: Url = format!("http://127.0.0.1:{port}").parse().unwrap();
    let client = HttpClient::new(config(url, Credentials::api_key("k")), VENDOR).unwrap();
    let err = client
        .get_json::<serde_json::Value>(client.url("/x").unwrap(), Tier::Tier1)
        .await
        .unwrap_err();
    assert_eq!(err.kind_code(), "connection");
    assert!(err.is_refused());
    assert_eq!(err.remedy(), Some(core_api::Remedy::CheckAddress));
    // Nothing ever answered there: a wrong URL or port, not worth retrying.
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn a_refused_connection_after_an_answer_is_retried() {
    // A server that answers one request, closes the connection and stops listening: a restart.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url: Url = format!("http://{}", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut socket, _) = listener.accept().await.unwrap();
        drop(listener);
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
            .await;
    });
    let client = HttpClient::new(config(url, Credentials::api_key("k")), VENDOR).unwrap();
    let first: serde_json::Value = client
        .get_json(client.url("/x").unwrap(), Tier::Tier1)
        .await
        .unwrap();
    assert_eq!(first, json!({}));
    let err = client
        .get_json::<serde_json::Value>(client.url("/x").unwrap(), Tier::Tier1)
        .await
        .unwrap_err();
    assert!(err.is_refused(), "{err}");
    assert!(err.is_retryable());
    assert_eq!(err.attempts(), RetryPolicy::fast_for_tests().max_attempts);
}

#[tokio::test]
async fn a_429_pauses_the_whole_tier_but_not_the_other() {
    let mock = Arc::new(Mock::default());
    let mut config = config(serve(router(mock.clone())).await, Credentials::api_key("k"));
    let throttled = Arc::new(AtomicU32::new(0));
    let counter = throttled.clone();
    config.observer = Some(Arc::new(move |event: &Event<'_>| {
        if matches!(
            event,
            Event::Throttled {
                tier: Tier::Tier2,
                ..
            }
        ) {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }));
    let client = HttpClient::new(config, VENDOR).unwrap();
    // The first write gets the 429; then more writes and a read start while the tier is paused.
    let first = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .execute(&Request::new(
                    Method::POST,
                    client.url("/limited").unwrap(),
                    Tier::Tier2,
                ))
                .await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while mock.arrivals.lock().is_empty() {
        assert!(Instant::now() < deadline, "the first request never arrived");
        tokio::task::yield_now().await;
    }
    let got_429 = mock.arrivals.lock()[0].0;
    // Let the 429 reach the client before the others start.
    while throttled.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "no throttled event");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut others = Vec::new();
    for _ in 0..4 {
        let client = client.clone();
        others.push(tokio::spawn(async move {
            client
                .execute(&Request::new(
                    Method::POST,
                    client.url("/limited").unwrap(),
                    Tier::Tier2,
                ))
                .await
        }));
    }
    client
        .execute(&Request::new(
            Method::GET,
            client.url("/read").unwrap(),
            Tier::Tier1,
        ))
        .await
        .unwrap();
    assert_eq!(first.await.unwrap().unwrap().attempts, 2);
    for other in others {
        assert_eq!(other.await.unwrap().unwrap().attempts, 1);
    }
    let arrivals = mock.arrivals.lock().clone();
    let tier2_after: Vec<Duration> = arrivals
        .iter()
        .filter(|a| a.1 == "tier2" && !a.2)
        .map(|a| a.0 - got_429)
        .collect();
    assert_eq!(tier2_after.len(), 5);
    assert!(
        tier2_after.iter().all(|d| *d >= Duration::from_secs(1)),
        "{tier2_after:?}"
    );
    let read = arrivals.iter().find(|a| a.1 == "tier1").unwrap().0 - got_429;
    assert!(read < Duration::from_secs(1), "tier 1 was paused too: {read:?}");
}

#[tokio::test]
async fn oauth_token_is_cached_refreshed_on_401_and_never_shown() {
    let mock = Arc::new(Mock::default());
    let url = serve(router(mock.clone())).await;
    let refreshed = Arc::new(AtomicU32::new(0));
    let counter = refreshed.clone();
    let mut config = config(url.clone(), Credentials::oauth("client-1", "top-secret-value"));
    config.observer = Some(Arc::new(move |event: &Event<'_>| {
        if matches!(event, Event::TokenRefreshed { .. }) {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }));
    let client = HttpClient::new(config.clone(), VENDOR).unwrap();
    for _ in 0..3 {
        client
            .get_json::<serde_json::Value>(client.url("/protected").unwrap(), Tier::Tier1)
            .await
            .unwrap();
    }
    assert_eq!(mock.token_hits.load(Ordering::SeqCst), 1, "token not cached");
    // The server revokes the token: the next call gets a 401, refreshes once and succeeds.
    *mock.valid_token.lock() = "rotated".into();
    let token_hits = mock.token_hits.load(Ordering::SeqCst);
    let response = client
        .execute(&Request::new(
            Method::GET,
            client.url("/protected").unwrap(),
            Tier::Tier1,
        ))
        .await
        .unwrap();
    assert_eq!(response.attempts, 2);
    assert_eq!(mock.token_hits.load(Ordering::SeqCst), token_hits + 1);
    assert_eq!(refreshed.load(Ordering::SeqCst), 2);

    let printed = format!("{config:?} {client:?}");
    assert!(!printed.contains("top-secret-value"), "{printed}");

    // Wrong secret: the token error says what failed without the secret.
    let bad = HttpClient::new(
        self::config(url, Credentials::oauth("client-1", "wrong-secret-value")),
        VENDOR,
    )
    .unwrap();
    let err = bad
        .get_json::<serde_json::Value>(bad.url("/protected").unwrap(), Tier::Tier1)
        .await
        .unwrap_err();
    assert_eq!(err.kind_code(), "auth");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("wrong-secret-value"), "{text}");
    assert!(text.contains("OAuth"), "{text}");
}

#[tokio::test]
async fn pages_follow_next_links_and_stay_on_the_server() {
    let client = HttpClient::new(
        config(
            serve(router(Arc::new(Mock::default()))).await,
            Credentials::api_key("k"),
        ),
        VENDOR,
    )
    .unwrap();
    let all: Vec<u32> = client
        .list_all(client.url("/items").unwrap(), Tier::Tier1)
        .await
        .unwrap();
    assert_eq!(all, (0..12).collect::<Vec<_>>());
    let err = client
        .list_all::<u32>(client.url("/foreign").unwrap(), Tier::Tier1)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another host"), "{err}");
}

#[tokio::test]
async fn a_429_on_the_last_attempt_still_pauses_the_tier() {
    let mock = Arc::new(Mock::default());
    let mut config = config(serve(router(mock.clone())).await, Credentials::api_key("k"));
    config.retry = RetryPolicy::none();
    let client = HttpClient::new(config, VENDOR).unwrap();
    let request = Request::new(Method::POST, client.url("/limited").unwrap(), Tier::Tier2);
    let err = client.execute(&request).await.unwrap_err();
    assert_eq!(
        (err.kind_code(), err.retry_after()),
        ("rate_limited", Some(Duration::from_secs(1)))
    );
    assert!(err.is_retryable());
    client.execute(&request).await.unwrap();
    let arrivals = mock.arrivals.lock().clone();
    assert!(
        arrivals[1].0 - arrivals[0].0 >= Duration::from_secs(1),
        "the second write did not wait"
    );
}

#[tokio::test]
async fn a_429_ends_a_burst_once_and_the_tier_paces_steadily_after_it() {
    let mock = Arc::new(Mock::default());
    let mut config = config(serve(router(mock.clone())).await, Credentials::api_key("k"));
    // 6,000/min over a minute: a budget of 6,000 writes, so nothing but the 429 slows them.
    config.limits = RateLimits {
        pace: core_api::Pace::Burst,
        tier2_window: Duration::from_secs(60),
        ..RateLimits::per_minute(0, 6000)
    };
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    config.observer = Some(Arc::new(move |event: &Event<'_>| match event {
        Event::BurstRefused { tier, per_min } => log.lock().push(format!("refused {tier} {per_min}")),
        Event::Throttled {
            source: core_api::ThrottleSource::Received429,
            ..
        } => log.lock().push("429".to_owned()),
        _ => {}
    }));
    let client = HttpClient::new(config, VENDOR).unwrap();
    for _ in 0..5 {
        client
            .execute(&Request::new(
                Method::POST,
                client.url("/limited").unwrap(),
                Tier::Tier2,
            ))
            .await
            .unwrap();
    }
    assert_eq!(
        *seen.lock(),
        ["refused tier 2 6000", "429"],
        "said once, before the pause"
    );
    // After the pause the writes leave spaced at 6,000/min × 0.98 (about 10.2 ms), one at a
    // time: the retry and four more span at least four intervals, less what the network shifts.
    let arrivals = mock.arrivals.lock();
    assert_eq!(arrivals.len(), 6);
    let span = arrivals[5].0 - arrivals[1].0;
    assert!(span >= Duration::from_millis(35), "{span:?}");
}
