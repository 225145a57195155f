//! Send a configuration plan's writes in dependency order (settings, groups, group roles,
//! spaces), recording each in the tenant journal.
//!
//! The tenant journal (`tenant-TARGET.jsonl` in the state directory) is append-only JSON Lines,
//! one record per write sent, versioned by `v`. Configuration writes need no replay from it: a
//! rerun reads the tenant again and a write already done is `=` there, so it is never sent twice;
//! the journal is the run's record (what was sent, when, with what outcome).
//!
//! Each write is preceded by a `before` line (what the tenant held that the write changes, from
//! the state the plan read), synced before the request leaves, and both carry the id of the run
//! they belong to: `roster runs` and `roster undo` find a tenant apply's configuration changes
//! there, beside its assignments' journal.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use core_api::target::TargetError;
use core_api::tenant::TenantConfig;
use serde::Serialize;

use super::diff::Write;
use crate::before::Before;

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
    /// The id of the group or space a create made.
    pub created_id: Option<String>,
}

#[derive(Serialize)]
struct Record<'a> {
    v: u32,
    at: String,
    target: &'a str,
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<&'a str>,
    #[serde(flatten)]
    write: &'a Write,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status: Option<u16>,
    attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
}

#[derive(Serialize)]
struct BeforeRecord<'a> {
    v: u32,
    at: String,
    target: &'a str,
    file: &'a str,
    run: &'a str,
    before: &'a Before,
}

/// Appends records to the tenant journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    target: String,
    file: String,
    run: Option<RunStart>,
    started: std::sync::atomic::AtomicBool,
}

/// The line that opens a run's part of the tenant journal, before its first `before` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RunStart {
    /// The run's id.
    pub run: String,
    /// The command (`tenant apply`, `undo`).
    pub command: String,
    /// For an undo: the run it reverses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<String>,
    /// When (RFC 3339), filled in when read back.
    #[serde(default, skip_serializing)]
    pub at: String,
    /// The target, filled in when read back.
    #[serde(default, skip_serializing)]
    pub target: String,
    /// The file, filled in when read back.
    #[serde(default, skip_serializing)]
    pub file: String,
}

impl Journal {
    /// A journal at `path` for writes of `file` to `target`.
    pub fn new(path: PathBuf, target: &str, file: &str) -> Journal {
        Journal {
            path,
            target: target.to_owned(),
            file: file.to_owned(),
            run: None,
            started: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The same journal, its lines tied to run `run` of `command` (`before` lines are written
    /// only then); `undoes` names the run an undo reverses.
    #[must_use]
    pub fn for_run(mut self, run: &str, command: &str, undoes: Option<&str>) -> Journal {
        self.run = Some(RunStart {
            run: run.to_owned(),
            command: command.to_owned(),
            undoes: undoes.map(str::to_owned),
            at: String::new(),
            target: String::new(),
            file: String::new(),
        });
        self
    }

    /// Append the before-state of a write about to be sent, synced to disk before it returns.
    pub fn before(&self, before: &Before) -> std::io::Result<()> {
        let Some(start) = self.run.as_ref() else {
            return Ok(());
        };
        let at = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
        if !self.started.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.append(&serde_json::json!({
                "v": JOURNAL_VERSION,
                "at": at,
                "target": self.target,
                "file": self.file,
                "run": start.run,
                "start": start,
            }))?;
        }
        let line = BeforeRecord {
            v: JOURNAL_VERSION,
            at,
            target: &self.target,
            file: &self.file,
            run: &start.run,
            before,
        };
        self.append(&line)
    }

    fn append(&self, value: &impl Serialize) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut line = serde_json::to_vec(value).map_err(std::io::Error::other)?;
        line.push(b'\n');
        // One write call per line: a crash can cut the last line, never mix two.
        let mut out = OpenOptions::new().create(true).append(true).open(&self.path)?;
        out.write_all(&line)?;
        out.sync_data()
    }

    /// Append one write's outcome and sync it to disk before the run goes on.
    pub fn record(&self, outcome: &Outcome<'_>) -> std::io::Result<()> {
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
            run: self.run.as_ref().map(|r| r.run.as_str()),
            write: outcome.write,
            outcome: status,
            error,
            http_status,
            attempts,
            id: outcome.created_id.as_deref(),
        };
        self.append(&record)
    }
}

/// Send `writes` section by section (settings, groups, group roles, spaces), up to
/// `concurrency` at once within a section: a section's writes are independent of each other, and
/// each section starts only once the one before it is done. A failed write does not stop the
/// others (a group that could not be created fails its assignments later, each with its own
/// reason); `on_done` sees every outcome as soon as it is journaled. Returns how many failed.
///
/// `before_of` gives each write's before-state; it is journaled (and synced) before the write's
/// request is sent, so a crash between the two loses nothing an undo needs.
pub async fn send(
    writes: &[Write],
    tenant: &dyn TenantConfig,
    journal: &Journal,
    concurrency: usize,
    before_of: &(dyn Fn(&Write) -> Option<Before> + Sync),
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
            .map(|write| async move {
                if let Some(before) = before_of(write) {
                    journal.before(&before)?;
                }
                Ok::<_, std::io::Error>((write, send_one(write, tenant).await))
            })
            .buffer_unordered(concurrency.max(1));
        while let Some(sent) = results.next().await {
            let (write, result) = sent?;
            failed += usize::from(result.is_err());
            let (result, created_id) = match result {
                Ok(id) => (Ok(()), id),
                Err(error) => (Err(error), None),
            };
            let outcome = Outcome {
                write,
                result,
                created_id,
            };
            journal.record(&outcome)?;
            on_done(&outcome);
        }
    }
    Ok(failed)
}

/// Send one write; a create answers the new group's or space's id.
async fn send_one(write: &Write, tenant: &dyn TenantConfig) -> Result<Option<String>, TargetError> {
    match write {
        Write::GroupSettings { patch } => tenant.patch_group_settings(patch).await.map(|()| None),
        Write::LicenseSettings { settings } => tenant.put_license_settings(settings).await.map(|_| None),
        Write::CreateGroup { name, roles } => tenant
            .create_group_with_roles(name, roles)
            .await
            .map(|g| Some(g.id)),
        Write::GroupRoles { id, roles, .. } => tenant.set_group_roles(id, roles).await.map(|()| None),
        Write::CreateSpace {
            name,
            space_type,
            description,
        } => tenant
            .create_space_described(name, space_type, description.as_deref())
            .await
            .map(|s| Some(s.id)),
        Write::SpaceDescription { id, description, .. } => {
            tenant.set_space_description(id, description).await.map(|()| None)
        }
        Write::DeleteGroup { id, .. } => tenant.delete_group(id).await.map(|()| None),
        Write::DeleteSpace { id, .. } => tenant.delete_space(id).await.map(|()| None),
    }
}

/// How a configuration write ended, as the tenant journal recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum WriteEnd {
    /// The tenant took it.
    Done,
    /// It failed.
    Failed {
        /// Why.
        error: String,
    },
}

impl ConfigChange {
    /// The change in a few words: `group roles "A": AuditAdmin -> DataAdmin`.
    pub fn describe(&self) -> String {
        let roles = |r: &[String]| {
            if r.is_empty() {
                "(none)".to_owned()
            } else {
                r.join(", ")
            }
        };
        let settings = |s: &crate::before::SettingsBefore| {
            s.before
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{k} {v} -> {}",
                        s.after.get(k).map_or("?".to_owned(), ToString::to_string)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match &self.before {
            Before::GroupSettings(s) => format!("group settings: {}", settings(s)),
            Before::LicenseSettings(s) => format!("license settings: {}", settings(s)),
            Before::Group(g) if g.change == crate::before::Change::Delete => {
                format!("delete group {:?} (roles {})", g.group, roles(&g.roles))
            }
            Before::Group(g) => format!("create group {:?} (roles {})", g.group, roles(&g.roles)),
            Before::GroupRoles(g) => format!(
                "group roles {:?}: {} -> {}",
                g.group,
                roles(&g.roles),
                roles(&g.after)
            ),
            Before::Space(s) if s.change == crate::before::Change::Delete => {
                format!("delete space {:?} ({})", s.space, s.space_type)
            }
            Before::Space(s) => format!("create space {:?} ({})", s.space, s.space_type),
            Before::SpaceDescription(s) => format!(
                "space description {:?}: {:?} -> {:?}",
                s.space,
                s.description.as_deref().unwrap_or_default(),
                s.after
            ),
            Before::Assignment(_) | Before::Unknown => "(not a configuration change)".to_owned(),
        }
    }
}

/// One configuration change of a run, read back from the tenant journal: its before-state and,
/// when the run got that far, how the write ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigChange {
    /// The run it belongs to.
    pub run: String,
    /// The target's name.
    pub target: String,
    /// The tenant file, as named.
    pub file: String,
    /// When the before line was written (RFC 3339).
    pub at: String,
    /// What the tenant held before the write.
    pub before: Before,
    /// How the write ended; `None`: no record (the run stopped between the line and the answer).
    #[serde(flatten)]
    pub end: Option<WriteEnd>,
    /// The id of the group or space a create made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_id: Option<String>,
}

/// The write kind and name a before-state pairs with in the journal's records.
fn pair_key(before: &Before) -> Option<(&'static str, &str)> {
    Some(match before {
        Before::GroupSettings(_) => ("group_settings", ""),
        Before::LicenseSettings(_) => ("license_settings", ""),
        Before::Group(g) if g.change == crate::before::Change::Delete => ("delete_group", g.group.as_str()),
        Before::Group(g) => ("create_group", g.group.as_str()),
        Before::GroupRoles(g) => ("group_roles", g.group.as_str()),
        Before::Space(s) if s.change == crate::before::Change::Delete => ("delete_space", s.space.as_str()),
        Before::Space(s) => ("create_space", s.space.as_str()),
        Before::SpaceDescription(s) => ("space_description", s.space.as_str()),
        Before::Assignment(_) | Before::Unknown => return None,
    })
}

/// Every configuration change the tenant journal at `path` records for a run, in the order
/// they were made. Lines written before runs had ids (no `run`), lines of a record version this
/// release does not know, kinds it does not know and a torn last line are skipped; a missing
/// file has none.
pub fn read_changes(path: &Path) -> std::io::Result<(Vec<ConfigChange>, Vec<RunStart>)> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(e),
    };
    let mut changes: Vec<ConfigChange> = Vec::new();
    let mut starts: Vec<RunStart> = Vec::new();
    for raw in text.split_inclusive(|&b| b == b'\n') {
        if raw.last() != Some(&b'\n') {
            break;
        }
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(raw.trim_ascii()) else {
            continue;
        };
        if value.get("v").and_then(serde_json::Value::as_u64) != Some(u64::from(JOURNAL_VERSION)) {
            continue;
        }
        let Some(run) = value.get("run").and_then(|r| r.as_str()) else {
            continue;
        };
        let text = |key: &str| {
            value
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        if let Some(start) = value.get("start") {
            if let Ok(mut start) = serde_json::from_value::<RunStart>(start.clone()) {
                start.at = text("at");
                start.target = text("target");
                start.file = text("file");
                starts.push(start);
            }
            continue;
        }
        if let Some(before) = value.get("before") {
            let Ok(line) =
                serde_json::from_value::<crate::before::BeforeLine>(serde_json::json!({ "before": before }))
            else {
                continue;
            };
            if !line.before.is_config() {
                continue;
            }
            changes.push(ConfigChange {
                run: run.to_owned(),
                target: text("target"),
                file: text("file"),
                at: text("at"),
                before: line.before,
                end: None,
                created_id: None,
            });
            continue;
        }
        let (Some(write), Some(outcome)) = (
            value.get("write").and_then(|w| w.as_str()),
            value.get("outcome").and_then(|o| o.as_str()),
        ) else {
            continue;
        };
        let name = value.get("name").and_then(|n| n.as_str()).unwrap_or_default();
        let Some(change) = changes
            .iter_mut()
            .find(|c| c.run == run && c.end.is_none() && pair_key(&c.before) == Some((write, name)))
        else {
            continue;
        };
        change.end = Some(if outcome == "done" {
            WriteEnd::Done
        } else {
            WriteEnd::Failed { error: text("error") }
        });
        change.created_id = value.get("id").and_then(|i| i.as_str()).map(str::to_owned);
    }
    Ok((changes, starts))
}

/// The tenant journals in `state_dir`.
pub fn journal_files(state_dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(state_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("tenant-") && n.ends_with(".jsonl"))
                && p.is_file()
        })
        .collect();
    files.sort();
    Ok(files)
}
