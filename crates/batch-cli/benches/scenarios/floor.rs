//! The HTTP stack's own cost in a fleet: what scenario 12's client CPU per row cannot go below.
//!
//! This binary, started with [`FLOOR_ARG`], does the fleet's HTTP work with reqwest alone, as
//! `roster` sets it up (rustls, the same timeouts, `TCP_NODELAY`, mimalloc, one current-thread
//! runtime): per tenant one client, the listings a plan reads (spaces, users, each space's
//! assignments) and one create per row, `--concurrency` at a time, so many tenants at a time.
//! No roster, no plan, no journal: the difference between this and `roster apply` on the same
//! fleet is roster's own work.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures::{StreamExt as _, TryStreamExt as _, stream};
use serde_json::{Value, json};

/// The first argument that turns this binary into the bare fleet client.
pub const FLOOR_ARG: &str = "__http_floor";

/// The arguments for a run over the fleet files in `dir` (as `roster sim --fleet-dir` writes them).
pub fn args(dir: &Path, rows: usize, concurrency: usize, tenants_in_flight: usize) -> Vec<String> {
    vec![
        FLOOR_ARG.to_owned(),
        dir.to_string_lossy().into_owned(),
        rows.to_string(),
        concurrency.to_string(),
        tenants_in_flight.to_string(),
    ]
}

/// `FLOOR_ARG DIR ROWS CONCURRENCY TENANTS_IN_FLIGHT`: prints the rows created on stdout.
pub fn floor_main(args: &[String]) -> ExitCode {
    match floor(args) {
        Ok(created) => {
            let _ = writeln!(std::io::stdout(), "{created}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            crate::eprint_error(&error);
            ExitCode::from(3)
        }
    }
}

fn floor(args: &[String]) -> Result<usize> {
    let [dir, rows, concurrency, in_flight] = args else {
        bail!("usage: {FLOOR_ARG} DIR ROWS CONCURRENCY TENANTS_IN_FLIGHT");
    };
    let number = |s: &str| {
        s.parse::<usize>()
            .with_context(|| format!("{s:?} is not a number"))
    };
    let (rows, concurrency, in_flight) = (number(rows)?, number(concurrency)?, number(in_flight)?);
    let dir = Path::new(dir);
    let list = std::fs::read_to_string(dir.join("tenants.csv")).context("read tenants.csv")?;
    let mut tenants = Vec::new();
    for line in list.lines().skip(1) {
        let (name, url) = line.split_once(',').ok_or_else(|| anyhow!("bad line {line:?}"))?;
        let key = std::fs::read_to_string(dir.join("keys").join(format!("{name}.key")))
            .with_context(|| format!("read {name}'s key"))?;
        tenants.push((url.trim_end_matches('/').to_owned(), key.trim().to_owned()));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start the runtime")?;
    runtime.block_on(async {
        stream::iter(
            tenants
                .into_iter()
                .map(|(url, key)| tenant(url, key, rows, concurrency)),
        )
        .buffer_unordered(in_flight.max(1))
        .try_fold(0, |sum, created| async move { Ok(sum + created) })
        .await
    })
}

async fn tenant(url: String, key: String, rows: usize, concurrency: usize) -> Result<usize> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        reqwest::header::HeaderValue::from_static("application/json"),
    );
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .user_agent("roster-floor")
        .default_headers(headers)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        .build()
        .context("build the client")?;
    let auth = format!("Bearer {key}");
    let get = |path: String| {
        let request = client.get(format!("{url}{path}")).header("authorization", &auth);
        async move {
            let response = request.send().await?.error_for_status()?;
            Ok::<Value, anyhow::Error>(response.json::<Value>().await?)
        }
    };
    let ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let listed = get("/api/v1/spaces?limit=100".to_owned()).await?;
    let spaces = ids(&listed);
    // The spaces' owner holds them already; a create for them is refused.
    let owners: Vec<&str> = listed["data"]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["ownerId"].as_str()).collect())
        .unwrap_or_default();
    let mut users = Vec::new();
    let mut next = Some("/api/v1/users?limit=100".to_owned());
    while let Some(path) = next.take() {
        let page = get(path).await?;
        users.extend(ids(&page).into_iter().filter(|id| !owners.contains(&id.as_str())));
        next = page["links"]["next"]["href"]
            .as_str()
            .and_then(|href| href.find("/api/").map(|at| href[at..].to_owned()));
    }
    if spaces.is_empty() || users.is_empty() {
        bail!("{url}: no spaces or no users");
    }
    stream::iter(
        spaces
            .iter()
            .map(|s| get(format!("/api/v1/spaces/{s}/assignments?limit=100"))),
    )
    .buffer_unordered(concurrency)
    .try_collect::<Vec<_>>()
    .await?;
    let creates = (0..rows).map(|i| {
        let space = &spaces[i % spaces.len()];
        let body = json!({ "type": "user", "assigneeId": users[i % users.len()], "roles": ["consumer"] });
        let request = client
            .post(format!("{url}/api/v1/spaces/{space}/assignments"))
            .header("authorization", &auth)
            .json(&body);
        async move {
            let response = request.send().await?;
            let created = response.status() == reqwest::StatusCode::CREATED;
            response.json::<Value>().await?;
            Ok::<usize, anyhow::Error>(usize::from(created))
        }
    });
    stream::iter(creates)
        .buffer_unordered(concurrency)
        .try_fold(0, |sum, created| async move { Ok(sum + created) })
        .await
}
