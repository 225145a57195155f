//! Helpers shared by the simulator's HTTP tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]
#![expect(clippy::unwrap_used, reason = "test helpers panic on unexpected answers")]

use reqwest::StatusCode;
use serde_json::Value;
use sim::{Sim, SimConfig, SimHandle, Tenant, generate};

/// A started simulator and a client holding one credential.
pub struct Api {
    pub sim: SimHandle,
    pub http: reqwest::Client,
    pub token: String,
}

/// A simulator on the small tenant, without rate limits unless `tweak` sets them.
pub async fn start(tweak: impl FnOnce(&mut SimConfig)) -> Api {
    start_with(generate::small_tenant(), tweak).await
}

pub async fn start_with(tenant: Tenant, tweak: impl FnOnce(&mut SimConfig)) -> Api {
    let mut config = SimConfig::new(tenant);
    config.tier1_per_min = None;
    config.tier2_per_min = None;
    config.alumio.reads_per_min = None;
    config.alumio.writes_per_min = None;
    tweak(&mut config);
    let sim = Sim::start(config).await.unwrap();
    let token = sim.api_keys()[0].clone();
    Api {
        sim,
        http: reqwest::Client::new(),
        token,
    }
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    pub async fn send(
        &self,
        req: reqwest::RequestBuilder,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, headers, body)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.get_url(&self.url(path)).await
    }

    pub async fn get_url(&self, url: &str) -> (StatusCode, Value) {
        let (s, _, b) = self.send(self.http.get(url).bearer_auth(&self.token)).await;
        (s, b)
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (s, _, b) = self
            .send(
                self.http
                    .post(self.url(path))
                    .bearer_auth(&self.token)
                    .json(&body),
            )
            .await;
        (s, b)
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (s, _, b) = self
            .send(self.http.put(self.url(path)).bearer_auth(&self.token).json(&body))
            .await;
        (s, b)
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (s, _, b) = self
            .send(
                self.http
                    .patch(self.url(path))
                    .bearer_auth(&self.token)
                    .json(&body),
            )
            .await;
        (s, b)
    }

    /// The same simulator, called with another of the tenant's API keys.
    pub fn with_key(&self, index: usize) -> Api {
        Api {
            sim: self.sim.clone(),
            http: self.http.clone(),
            token: self.sim.api_keys()[index].clone(),
        }
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        let (s, _, b) = self
            .send(self.http.delete(self.url(path)).bearer_auth(&self.token))
            .await;
        (s, b)
    }

    /// Follow `links.next.href` from `path`, collecting every page's `data`.
    pub async fn all_pages(&self, path: &str) -> (Vec<Value>, usize) {
        let mut url = self.url(path);
        let mut items = Vec::new();
        let mut pages = 0;
        loop {
            let (status, body) = self.get_url(&url).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            pages += 1;
            items.extend(body["data"].as_array().unwrap().iter().cloned());
            match body["links"]["next"]["href"].as_str() {
                Some(next) => {
                    assert!(
                        next.starts_with(&self.sim.base_url()),
                        "next must be a full URL: {next}"
                    );
                    url = next.to_owned();
                }
                None => break,
            }
        }
        (items, pages)
    }
}

/// Assert the Qlik error body shape and return the first error's code.
pub fn qlik_error_code(body: &Value, status: StatusCode) -> String {
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array: {body}"));
    assert!(!errors.is_empty());
    let e = &errors[0];
    assert!(e["title"].is_string(), "{body}");
    assert_eq!(e["status"].as_u64(), Some(u64::from(status.as_u16())), "{body}");
    assert!(body["traceId"].is_string(), "{body}");
    e["code"].as_str().unwrap().to_owned()
}
