//! Send a configuration plan's writes in dependency order (settings, groups, group roles,
//! spaces), recording each in the tenant journal.
//!
//! The tenant journal (`tenant-TARGET.jsonl` in the state directory) is append-only JSON Lines,
//! one record per write sent, versioned by `v`. Configuration writes need no replay from it: a
//! rerun reads the tenant again and a write already done is `=` there, so it is never sent twice;
//! the journal is the run's record (what was sent, when, with what outcome).

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use core_api::target::TargetError;
use core_api::tenant::TenantConfig;
use serde::Serialize;

use super::diff::Write;

/// The tenant journal's record version.
pub const JOURNAL_VERSION: u32 = 1;

/// Where the tenant journal of `target` goes in `state_dir`.
pub fn journal_path(state_dir: &Path, target: &str) -> PathBuf {
    let safe: String = target
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    state_dir.join(format!("tenant-{safe}.jsonl"))
}

/// The outcome of one write.
#[derive(Debug)]
pub struct Outcome<'a> {
    /// The write.
    pub write: &'a Write,
    /// Ok, or the client's error.
    pub result: Result<(), TargetError>,
}

#[derive(Serialize)]
struct Record<'a> {
    v: u32,
    at: String,
    target: &'a str,
    file: &'a str,
    #[serde(flatten)]
    write: &'a Write,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status: Option<u16>,
    attempts: u32,
}

/// Appends records to the tenant journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    target: String,
    file: String,
}

impl Journal {
    /// A journal at `path` for writes of `file` to `target`.
    pub fn new(path: PathBuf, target: &str, file: &str) -> Journal {
        Journal {
            path,
            target: target.to_owned(),
            file: file.to_owned(),
        }
    }

    /// Append one write's outcome and sync it to disk before the run goes on.
    pub fn record(&self, outcome: &Outcome<'_>) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let (status, error, http_status, attempts) = match &outcome.result {
            Ok(()) => ("done", None, None, 1),
            Err(error) => (
                "failed",
                Some(error.to_string()),
                error.status(),
                error.attempts(),
            ),
        };
        let record = Record {
            v: JOURNAL_VERSION,
            at: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
            target: &self.target,
            file: &self.file,
            write: outcome.write,
            outcome: status,
            error,
            http_status,
            attempts,
        };
        let mut line = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut out = OpenOptions::new().create(true).append(true).open(&self.path)?;
        out.write_all(&line)?;
        out.sync_data()
    }
}

/// Send `writes` section by section (settings, groups, group roles, spaces), up to
/// `concurrency` at once within a section: a section's writes are independent of each other, and
/// each section starts only once the one before it is done. A failed write does not stop the
/// others (a group that could not be created fails its assignments later, each with its own
/// reason); `on_done` sees every outcome as soon as it is journaled. Returns how many failed.
pub async fn send(
    writes: &[Write],
    tenant: &dyn TenantConfig,
    journal: &Journal,
    concurrency: usize,
    on_done: &mut dyn FnMut(&Outcome<'_>),
) -> std::io::Result<usize> {
    use futures::StreamExt as _;
    let mut failed = 0;
    let mut rest = writes;
    while let Some(first) = rest.first() {
        let section = first.section();
        let end = rest
            .iter()
            .position(|w| w.section() != section)
            .unwrap_or(rest.len());
        let (batch, next) = rest.split_at(end);
        rest = next;
        let mut results = futures::stream::iter(batch)
            .map(|write| async move { (write, send_one(write, tenant).await) })
            .buffer_unordered(concurrency.max(1));
        while let Some((write, result)) = results.next().await {
            failed += usize::from(result.is_err());
            let outcome = Outcome { write, result };
            journal.record(&outcome)?;
            on_done(&outcome);
        }
    }
    Ok(failed)
}

async fn send_one(write: &Write, tenant: &dyn TenantConfig) -> Result<(), TargetError> {
    match write {
        Write::GroupSettings { patch } => tenant.patch_group_settings(patch).await,
        Write::LicenseSettings { settings } => tenant.put_license_settings(settings).await.map(drop),
        Write::CreateGroup { name, roles } => tenant.create_group_with_roles(name, roles).await.map(drop),
        Write::GroupRoles { id, roles, .. } => tenant.set_group_roles(id, roles).await,
        Write::CreateSpace {
            name,
            space_type,
            description,
        } => tenant
            .create_space_described(name, space_type, description.as_deref())
            .await
            .map(drop),
        Write::SpaceDescription { id, description, .. } => {
            tenant.set_space_description(id, description).await
        }
    }
}
