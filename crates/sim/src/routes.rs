//! The router and the gate every request passes: logging, authentication, rate limits, latency
//! and injected faults, in the order the real services apply them.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::connection::ConnectionKill;
use crate::error_body::{alumio_error, licenses_error, qlik_error};
use crate::limiter::Bucket;
use crate::qlik::operations::{ErrorStyle, operation};
use crate::record::{Api, FaultKind, RequestRecord};
use crate::state::{Caller, Shared};

/// Where the Alumio API is served, so its paths cannot clash with Qlik's `/api/v1`.
pub const ALUMIO_PREFIX: &str = "/alumio/api/v1";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_sim/stats", get(stats))
        .merge(crate::qlik::routes())
        .nest(ALUMIO_PREFIX, crate::alumio::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

async fn stats(State(s): State<Arc<Shared>>) -> Response {
    axum::Json(s.stats()).into_response()
}

async fn not_found(State(s): State<Arc<Shared>>, req: Request) -> Response {
    let path = req.uri().path();
    if classify(path) == Api::Alumio {
        alumio_error(
            StatusCode::NOT_FOUND,
            "Not Found",
            &format!("no route for {path}"),
        )
    } else {
        qlik_error(
            &s,
            StatusCode::NOT_FOUND,
            "HTTP-404",
            "Not found",
            Some(&format!("no route for {path}")),
        )
    }
}

fn classify(path: &str) -> Api {
    if path.starts_with("/api/") {
        Api::Qlik
    } else if path == "/oauth/token" {
        Api::OAuth
    } else if path.starts_with("/alumio/") {
        Api::Alumio
    } else {
        Api::Other
    }
}

async fn gate(State(s): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    // Latency counts from arrival, so the gate's own work is part of it rather than added to it.
    let arrived = std::time::Instant::now();
    let path = req.uri().path().to_owned();
    if path.starts_with("/_sim/") {
        return next.run(req).await;
    }
    let api = classify(&path);
    let method = req.method().clone();
    let record = RequestRecord {
        at: s.elapsed(),
        api,
        method: method.to_string(),
        query: req.uri().query().map(str::to_owned),
        path,
        tier: None,
        status: 0,
        credential: None,
        fault: None,
    };
    let enabled = match api {
        Api::Qlik | Api::OAuth => s.qlik_enabled,
        Api::Alumio => s.alumio.lock().enabled,
        Api::Other => true,
    };
    if !enabled || !matches!(api, Api::Qlik | Api::Alumio) {
        let index = s.log_start(record);
        let response = if enabled {
            next.run(req).await
        } else {
            not_found(State(s.clone()), req).await
        };
        s.log_status(index, response.status().as_u16());
        return response;
    }

    let write = method != Method::GET && method != Method::HEAD;
    // Qlik operations take the tier their spec's `x-qlik-tier` gives; anything else (Alumio, a
    // path no spec lists) reads at tier 1 and writes at tier 2.
    let op = (api == Api::Qlik)
        .then(|| operation(&method, &path_of(&req)))
        .flatten();
    let style = op.map_or(ErrorStyle::Qlik, |o| o.errors);
    let tier = op.map_or(if write { 2 } else { 1 }, |o| o.tier);
    let mut record = RequestRecord {
        tier: Some(tier),
        ..record
    };
    let caller = match authenticate(&s, api, req.headers()) {
        Ok(caller) => caller,
        Err(detail) => {
            let response = unauthorized(&s, api, style, &detail);
            record.status = response.status().as_u16();
            s.log_start(record);
            return response;
        }
    };
    record.credential = Some(caller.credential.clone());
    let bucket = match (api, write, tier) {
        (Api::Alumio, false, _) => Bucket::AlumioRead,
        (Api::Alumio, true, _) => Bucket::AlumioWrite,
        (_, _, 1) => Bucket::QlikTier1,
        _ => Bucket::QlikTier2,
    };
    if let Err(secs) = s.limiter.check(bucket, &caller.user_id) {
        let response = too_many_requests(&s, api, style, secs);
        record.status = 429;
        s.log_start(record);
        return response;
    }
    if let Some(role) = op.and_then(|o| o.needs)
        && !s.user_has_role(&caller.user_id, role)
    {
        let detail = format!("The operation needs the tenant role {role}, which the caller's user lacks.");
        let response = forbidden(&s, style, &detail);
        record.status = 403;
        s.log_start(record);
        return response;
    }
    req.extensions_mut().insert(caller);

    let (fault, delay, faults) = s.draw();
    record.fault = fault;
    let index = s.log_start(record);
    if !delay.is_zero() {
        crate::delay::until(arrived + delay).await;
    }
    // On a write, a fault may strike after the write was applied: the client must survive
    // "it worked but I did not hear back".
    let apply_first = write && faults.apply_before_fault;
    let response = match fault {
        None => next.run(req).await,
        Some(kind @ (FaultKind::Http500 | FaultKind::Http503)) => {
            if apply_first {
                let _applied = next.run(req).await;
            }
            let status = if kind == FaultKind::Http500 {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            match api {
                Api::Alumio => alumio_error(
                    status,
                    status.canonical_reason().unwrap_or("Error"),
                    "injected fault",
                ),
                _ => qlik_error(
                    &s,
                    status,
                    &format!("HTTP-{}", status.as_u16()),
                    status.canonical_reason().unwrap_or("Error"),
                    None,
                ),
            }
        }
        Some(FaultKind::Reset) => {
            let kill = req.extensions().get::<ConnectionKill>().cloned();
            if apply_first {
                let _applied = next.run(req).await;
            }
            if let Some(kill) = kill {
                kill.kill();
                // The connection task drops this future together with the connection.
                return std::future::pending().await;
            }
            // Only reachable when served without a connection (never in practice).
            StatusCode::BAD_GATEWAY.into_response()
        }
        Some(FaultKind::Slow) => {
            if apply_first {
                let response = next.run(req).await;
                tokio::time::sleep(faults.slow_delay).await;
                response
            } else {
                tokio::time::sleep(faults.slow_delay).await;
                next.run(req).await
            }
        }
    };
    s.log_status(index, response.status().as_u16());
    response
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn authenticate(s: &Shared, api: Api, headers: &HeaderMap) -> Result<Caller, String> {
    let Some(token) = bearer(headers) else {
        return Err("missing bearer token".to_owned());
    };
    let world = s.world.lock();
    if api == Api::Alumio {
        return world
            .tenant
            .alumio
            .api_keys
            .iter()
            .find(|k| k.key == token)
            .map(|k| Caller {
                credential: k.id.clone(),
                user_id: format!("alumio:{}", k.id),
            })
            .ok_or_else(|| "invalid API key".to_owned());
    }
    if let Some(key) = world.tenant.api_keys.iter().find(|k| k.key == token) {
        return Ok(Caller {
            credential: key.id.clone(),
            user_id: key.user_id.clone(),
        });
    }
    drop(world);
    let tokens = s.tokens.lock();
    match tokens.get(token) {
        Some(issued) if issued.expires > std::time::Instant::now() => Ok(Caller {
            credential: issued.client_id.clone(),
            user_id: issued.user_id.clone(),
        }),
        Some(_) => Err("access token expired".to_owned()),
        None => Err("invalid bearer token".to_owned()),
    }
}

fn path_of(req: &Request) -> String {
    req.uri().path().to_owned()
}

fn forbidden(s: &Shared, style: ErrorStyle, detail: &str) -> Response {
    match style {
        ErrorStyle::Licenses => licenses_error(StatusCode::FORBIDDEN, "HTTP-403", "Forbidden", detail),
        ErrorStyle::Qlik => qlik_error(s, StatusCode::FORBIDDEN, "HTTP-403", "Forbidden", Some(detail)),
    }
}

fn unauthorized(s: &Shared, api: Api, style: ErrorStyle, detail: &str) -> Response {
    match api {
        Api::Alumio => alumio_error(StatusCode::UNAUTHORIZED, "Unauthorized", detail),
        _ if style == ErrorStyle::Licenses => {
            licenses_error(StatusCode::UNAUTHORIZED, "HTTP-401", "Unauthorized", detail)
        }
        _ => qlik_error(
            s,
            StatusCode::UNAUTHORIZED,
            "HTTP-401",
            "Unauthorized",
            Some(detail),
        ),
    }
}

fn too_many_requests(s: &Shared, api: Api, style: ErrorStyle, secs: u64) -> Response {
    let detail = format!("You need to wait {secs} seconds before making a new request.");
    let mut response = match api {
        Api::Alumio => alumio_error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests", &detail),
        _ if style == ErrorStyle::Licenses => licenses_error(
            StatusCode::TOO_MANY_REQUESTS,
            "HTTP-429",
            "API rate limit reached.",
            &detail,
        ),
        _ => qlik_error(
            s,
            StatusCode::TOO_MANY_REQUESTS,
            "HTTP-429",
            "API rate limit reached.",
            Some(&detail),
        ),
    };
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    response
}
