//! `-vv`: one line on stderr for every request the client sends, as it ends:
//!
//! ```text
//! request: GET /api/v1/spaces -> 200 in 12.3ms
//! request: POST /api/v1/spaces/604f1a/assignments -> 429 in 3.1ms
//! request: GET /api/v1/users -> failed in 1.0ms: GET /api/v1/users: connection refused, ...
//! ```
//!
//! Over a fleet each line starts with its tenant's name (`cust-07: request: GET ...`).
//!
//! Method, path (never the query, which can hold names and emails of a lookup), status and time on
//! the wire. Credentials never reach an [`Event`], so they cannot reach this log; token requests
//! are not logged at all.

use std::io::Write;
use std::sync::Arc;

use core_api::{Event, Observer};
use parking_lot::Mutex;

/// The verbosity (`-v` count) from which every request is logged.
pub const LOG_REQUESTS_FROM: u8 = 2;

/// Logs each request's end to a writer (stderr in the CLI), then passes the event on.
pub struct RequestLog {
    out: Mutex<Box<dyn Write + Send>>,
    next: Option<Arc<dyn Observer>>,
    /// Put before each line: `NAME: ` over a fleet, where tenants' lines interleave.
    prefix: String,
}

impl RequestLog {
    /// Log to `out`, and hand every event to `next` as well.
    pub fn new(out: Box<dyn Write + Send>, next: Option<Arc<dyn Observer>>) -> Self {
        RequestLog {
            out: Mutex::new(out),
            next,
            prefix: String::new(),
        }
    }

    /// Each line starting `TENANT: `, for a fleet's tenant.
    #[must_use]
    pub fn for_tenant(mut self, tenant: &str) -> Self {
        self.prefix = format!("{tenant}: ");
        self
    }
}

/// The observer for a client: `next` (the engine's, or none), with every request logged on
/// stderr when `verbose` asks for it.
pub fn observer(verbose: u8, next: Option<Arc<dyn Observer>>) -> Option<Arc<dyn Observer>> {
    if verbose >= LOG_REQUESTS_FROM {
        Some(Arc::new(RequestLog::new(Box::new(std::io::stderr()), next)))
    } else {
        next
    }
}

/// The observer for a fleet tenant's client: as [`observer`], each logged line naming the tenant.
pub fn tenant_observer(
    verbose: u8,
    tenant: &str,
    next: Option<Arc<dyn Observer>>,
) -> Option<Arc<dyn Observer>> {
    if verbose >= LOG_REQUESTS_FROM {
        Some(Arc::new(
            RequestLog::new(Box::new(std::io::stderr()), next).for_tenant(tenant),
        ))
    } else {
        next
    }
}

/// The log line for an event, for those that end a request.
pub fn line(event: &Event<'_>) -> Option<String> {
    match event {
        Event::ResponseReceived {
            method,
            path,
            status,
            latency,
            ..
        } => Some(format!("request: {method} {path} -> {status} in {latency:.1?}")),
        Event::RequestFailed {
            method,
            path,
            latency,
            cause,
            ..
        } => Some(format!(
            "request: {method} {path} -> failed in {latency:.1?}: {cause}"
        )),
        _ => None,
    }
}

impl Observer for RequestLog {
    fn on_event(&self, event: &Event<'_>) {
        if let Some(line) = line(event) {
            let mut out = self.out.lock();
            // A log line that cannot be written is not worth stopping a run for.
            let _ = writeln!(out, "{}{line}", self.prefix);
        }
        if let Some(next) = &self.next {
            next.on_event(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use core_api::{Method, Tier};

    use super::*;

    #[test]
    fn a_line_per_finished_request() {
        let sent = Event::RequestSent {
            tier: Tier::Tier1,
            method: &Method::GET,
            path: "/api/v1/spaces",
            attempt: 1,
        };
        assert_eq!(line(&sent), None);
        let received = Event::ResponseReceived {
            tier: Tier::Tier2,
            method: &Method::POST,
            path: "/api/v1/spaces/s1/assignments",
            status: 201,
            latency: Duration::from_micros(12_345),
        };
        assert_eq!(
            line(&received).as_deref(),
            Some("request: POST /api/v1/spaces/s1/assignments -> 201 in 12.3ms")
        );
    }

    #[test]
    fn a_fleet_tenants_lines_name_the_tenant() {
        let buf = crate::report::testing::SharedBuf::default();
        let log = RequestLog::new(Box::new(buf.clone()), None).for_tenant("cust-07");
        log.on_event(&Event::ResponseReceived {
            tier: Tier::Tier1,
            method: &Method::GET,
            path: "/api/v1/spaces",
            status: 200,
            latency: Duration::from_micros(1_500),
        });
        assert_eq!(
            buf.text(),
            "cust-07: request: GET /api/v1/spaces -> 200 in 1.5ms\n"
        );
    }
}
