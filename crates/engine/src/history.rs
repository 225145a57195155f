//! The runs a state directory holds, read whole for `roster runs` and `roster undo`: the
//! current journal of each target and the earlier runs in `history/`, with every record, every
//! before-state, and the pauses and retries the run met.
//!
//! The journal module owns the format and what a rerun resumes; this one only reads it back
//! for people. A version-1 journal has no run id and is listed under its file's name.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::before::{AssignmentBefore, Before, BeforeLine, ProcessEnd, Retry, Throttled};
use crate::journal::{self, Header, Record, RecordOutcome, RunInfo};
use crate::model::RowKey;
use crate::tenant::apply::{self as tenant_journal, ConfigChange, RunStart};

/// Why the runs could not be read or a run not found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("read {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A line other than the last one is not valid.
    #[error("read journal {}: line {line} is corrupt ({message})", path.display())]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// What is wrong with it.
        message: String,
    },
    /// No run has that id.
    #[error("no run {id} in {}{}", dir.display(), target.as_ref().map_or_else(String::new, |t| format!(" for target {t}")))]
    NotFound {
        /// The id asked for.
        id: String,
        /// The state directory.
        dir: PathBuf,
        /// The target asked for.
        target: Option<String>,
    },
    /// Several runs start with that id.
    #[error("{id} names {count} runs; give more of the id")]
    Ambiguous {
        /// The id asked for.
        id: String,
        /// How many runs it matches.
        count: usize,
    },
}

/// How many rows of a run ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Rows created.
    pub created: u64,
    /// Rows updated.
    pub updated: u64,
    /// Rows unchanged.
    pub unchanged: u64,
    /// Assignments deleted.
    pub deleted: u64,
    /// Rows failed.
    pub failed: u64,
}

impl Counts {
    fn add(&mut self, outcome: RecordOutcome) {
        match outcome {
            RecordOutcome::Created => self.created += 1,
            RecordOutcome::Updated => self.updated += 1,
            RecordOutcome::Unchanged => self.unchanged += 1,
            RecordOutcome::Deleted => self.deleted += 1,
            RecordOutcome::Failed => self.failed += 1,
        }
    }
}

/// One run, read whole.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The journal file.
    pub path: PathBuf,
    /// The header.
    pub header: Header,
    /// Every record, in the order written (a later record of a key replaces an earlier one).
    pub records: Vec<Record>,
    /// The before-state of every write the run sent or was about to send, in order.
    pub befores: Vec<AssignmentBefore>,
    /// The 429 pauses.
    pub throttles: Vec<Throttled>,
    /// The retries.
    pub retries: Vec<Retry>,
    /// How many later processes continued it.
    pub resumes: u32,
    /// What each process's summary said when it stopped.
    pub processes: Vec<ProcessEnd>,
    /// When it ended (RFC 3339), when it did.
    pub ended_at: Option<String>,
    /// The latest time any line records, milliseconds since the Unix epoch.
    pub last_ms: Option<u64>,
    /// The tenant configuration the run changed (a tenant file's settings, groups, group roles
    /// and spaces), from the tenant journal, in the order it was changed.
    pub config: Vec<ConfigChange>,
}

impl RunRecord {
    /// The run's id (a version-1 journal's file name stands in for it).
    pub fn id(&self) -> String {
        match &self.header.run {
            Some(run) => run.id.clone(),
            None => self
                .path
                .file_stem()
                .map_or_else(|| "legacy".to_owned(), |s| s.to_string_lossy().into_owned()),
        }
    }

    /// What the run was started with (none for version 1).
    pub fn run(&self) -> Option<&RunInfo> {
        self.header.run.as_ref()
    }

    /// Whether every row reached an outcome (the `end` marker).
    pub fn ended(&self) -> bool {
        self.ended_at.is_some()
    }

    /// When the run started, milliseconds since the Unix epoch.
    pub fn started_ms(&self) -> Option<u64> {
        let run = self.run()?;
        let at = humantime::parse_rfc3339_weak(&run.started).ok()?;
        Some(ms_since_epoch(at))
    }

    /// From the start to the end, or to the last line written for an interrupted run.
    pub fn duration(&self) -> Option<Duration> {
        let start = self.started_ms()?;
        let end = self
            .ended_at
            .as_deref()
            .and_then(|at| humantime::parse_rfc3339_weak(at).ok())
            .map(ms_since_epoch)
            .into_iter()
            .chain(self.last_ms)
            .max()?;
        Some(Duration::from_millis(end.saturating_sub(start)))
    }

    /// The last record of each key, in the order the keys first ended.
    pub fn final_records(&self) -> Vec<&Record> {
        let mut order: Vec<&RowKey> = Vec::new();
        let mut last: HashMap<&RowKey, &Record> = HashMap::new();
        for record in &self.records {
            if last.insert(&record.key, record).is_none() {
                order.push(&record.key);
            }
        }
        order.into_iter().filter_map(|k| last.get(k).copied()).collect()
    }

    /// How the rows ended (each key's last record).
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for record in self.final_records() {
            counts.add(record.outcome);
        }
        counts
    }

    /// The before-state of each key's write: the first, taken before anything was sent, unless
    /// its create found the assignment already there (a 409): then the line with the roles it
    /// had, written before the update that followed.
    pub fn before_of(&self) -> HashMap<&RowKey, &AssignmentBefore> {
        let mut map: HashMap<&RowKey, &AssignmentBefore> = HashMap::new();
        for before in &self.befores {
            match map.entry(&before.key) {
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(before);
                }
                std::collections::hash_map::Entry::Occupied(mut slot) => {
                    if before.existing && slot.get().change == crate::before::Change::Create {
                        slot.insert(before);
                    }
                }
            }
        }
        map
    }

    /// The write calls the records account for.
    pub fn writes(&self) -> u64 {
        self.records.iter().map(|r| r.writes).sum()
    }
}

fn ms_since_epoch(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Read one journal file whole. A torn last line (a crash) is dropped.
pub fn read_run(path: &Path) -> Result<RunRecord, Error> {
    let text = fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let lines: Vec<&[u8]> = text.split_inclusive(|&b| b == b'\n').collect();
    let corrupt = |line: u64, message: String| Error::Corrupt {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut header: Option<Header> = None;
    let mut run = RunRecord {
        path: path.to_path_buf(),
        header: Header {
            format: journal::FORMAT.to_owned(),
            version: journal::VERSION,
            target: String::new(),
            run: None,
        },
        records: Vec::new(),
        befores: Vec::new(),
        throttles: Vec::new(),
        retries: Vec::new(),
        resumes: 0,
        processes: Vec::new(),
        ended_at: None,
        last_ms: None,
        config: Vec::new(),
    };
    for (i, raw) in lines.iter().enumerate() {
        let no = i as u64 + 1;
        if raw.last() != Some(&b'\n') {
            // Cut by a crash: the row is simply not recorded.
            break;
        }
        let text = raw.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_slice(text).map_err(|e| corrupt(no, e.to_string()))?;
        if header.is_none() {
            let parsed: Header = serde_json::from_value(value).map_err(|e| corrupt(no, e.to_string()))?;
            if parsed.format != journal::FORMAT {
                return Err(corrupt(no, format!("not a {} header", journal::FORMAT)));
            }
            header = Some(parsed);
            continue;
        }
        let Some(object) = value.as_object() else {
            return Err(corrupt(no, "not a JSON object".to_owned()));
        };
        if let Some(before) = object.get("before") {
            let parsed = serde_json::from_value::<BeforeLine>(serde_json::json!({ "before": before }));
            // Only assignments are this file's business: another kind (a tenant file's, whose
            // lines live in the tenant journal) is skipped whatever its shape.
            let line = match parsed {
                Ok(line) => line,
                Err(e) if before.get("what").and_then(|w| w.as_str()) == Some("assignment") => {
                    return Err(corrupt(no, e.to_string()));
                }
                Err(_) => continue,
            };
            if let Before::Assignment(before) = line.before {
                run.last_ms = run.last_ms.max(Some(before.at));
                run.befores.push(*before);
            }
        } else if let Some(throttled) = object.get("throttled") {
            let t: Throttled =
                serde_json::from_value(throttled.clone()).map_err(|e| corrupt(no, e.to_string()))?;
            run.last_ms = run.last_ms.max(Some(t.at));
            run.throttles.push(t);
        } else if let Some(retry) = object.get("retry") {
            let r: Retry = serde_json::from_value(retry.clone()).map_err(|e| corrupt(no, e.to_string()))?;
            run.last_ms = run.last_ms.max(Some(r.at));
            run.retries.push(r);
        } else if let Some(end) = object.get("finished") {
            let p: ProcessEnd =
                serde_json::from_value(end.clone()).map_err(|e| corrupt(no, e.to_string()))?;
            run.last_ms = run.last_ms.max(Some(p.at));
            run.processes.push(p);
        } else if object.contains_key("resumed") {
            run.resumes += 1;
        } else if let Some(end) = object.get("end") {
            run.ended_at = end.get("at").and_then(|a| a.as_str()).map(str::to_owned);
        } else if object.contains_key("key") {
            let record: Record = serde_json::from_value(value).map_err(|e| corrupt(no, e.to_string()))?;
            run.last_ms = run.last_ms.max(record.at);
            run.records.push(record);
        }
        // Anything else is a line a newer release added: skipped.
    }
    match header {
        Some(header) => {
            run.header = header;
            Ok(run)
        }
        None => Err(corrupt(1, "the file has no journal header".to_owned())),
    }
}

/// The journal files of a state directory: each target's current one and its history.
fn journal_files(state_dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for dir in [state_dir.to_path_buf(), state_dir.join(journal::HISTORY_DIR)] {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(source) => return Err(Error::Io { path: dir, source }),
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("journal-") && name.ends_with(".jsonl") && path.is_file() {
                files.push(path);
            }
        }
    }
    Ok(files)
}

/// Every run in `state_dir` (of `target` only, when given), oldest first. Files that are not
/// journals are skipped; an empty journal is no run.
pub fn list(state_dir: &Path, target: Option<&str>) -> Result<Vec<RunRecord>, Error> {
    let mut runs = Vec::new();
    for path in journal_files(state_dir)? {
        let run = match read_run(&path) {
            Ok(run) => run,
            // An empty file (a run that had not begun) is no run.
            Err(Error::Corrupt { line: 1, .. }) if fs::metadata(&path).is_ok_and(|m| m.len() == 0) => {
                continue;
            }
            Err(e) => return Err(e),
        };
        if target.is_some_and(|t| t != run.header.target) {
            continue;
        }
        runs.push(run);
    }
    attach_config(state_dir, target, &mut runs)?;
    runs.sort_by_key(|r| (r.started_ms().unwrap_or(0), r.path.clone()));
    Ok(runs)
}

/// Give each run the configuration changes the tenant journals record for it; a run that made
/// configuration changes only (a tenant file without assignments, or stopped before them) is
/// listed from the tenant journal alone.
fn attach_config(state_dir: &Path, target: Option<&str>, runs: &mut Vec<RunRecord>) -> Result<(), Error> {
    let files = tenant_journal::journal_files(state_dir).map_err(|source| Error::Io {
        path: state_dir.to_path_buf(),
        source,
    })?;
    for path in files {
        let (changes, starts) = tenant_journal::read_changes(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        for change in changes {
            if target.is_some_and(|t| t != change.target) {
                continue;
            }
            let at_ms = humantime::parse_rfc3339_weak(&change.at).ok().map(ms_since_epoch);
            let index = match runs.iter().position(|r| r.id() == change.run) {
                Some(index) => index,
                None => {
                    let start = starts.iter().find(|s| s.run == change.run);
                    runs.push(config_run(&path, &change, start));
                    runs.len() - 1
                }
            };
            let run = &mut runs[index];
            run.last_ms = run.last_ms.max(at_ms);
            run.config.push(change);
        }
    }
    // A run of configuration changes only ended when each of its writes has an answer.
    for run in runs.iter_mut().filter(|r| {
        r.path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("tenant-"))
    }) {
        if run.config.iter().all(|c| c.end.is_some()) {
            run.ended_at = run.config.last().map(|c| c.at.clone());
        }
    }
    Ok(())
}

/// A run known only from the tenant journal.
fn config_run(path: &Path, first: &ConfigChange, start: Option<&RunStart>) -> RunRecord {
    let about = journal::RunAbout {
        command: Some(start.map_or_else(|| "tenant apply".to_owned(), |s| s.command.clone())),
        file: Some(first.file.clone()),
        undoes: start.and_then(|s| s.undoes.clone()),
        ..journal::RunAbout::default()
    };
    let started = start.map_or(first.at.as_str(), |s| s.at.as_str());
    // The journal's times have milliseconds; a run's start is to the second.
    let started = humantime::parse_rfc3339_weak(started)
        .map(|t| humantime::format_rfc3339_seconds(t).to_string())
        .unwrap_or_else(|_| started.to_owned());
    RunRecord {
        path: path.to_path_buf(),
        header: Header {
            format: journal::FORMAT.to_owned(),
            version: journal::VERSION,
            target: first.target.clone(),
            run: Some(RunInfo {
                id: first.run.clone(),
                started,
                pid: 0,
                roster: String::new(),
                mode: crate::model::Mode::Merge,
                prune: false,
                about,
            }),
        },
        records: Vec::new(),
        befores: Vec::new(),
        throttles: Vec::new(),
        retries: Vec::new(),
        resumes: 0,
        processes: Vec::new(),
        ended_at: None,
        last_ms: None,
        config: Vec::new(),
    }
}

/// The run whose id is `id`, or the only one whose id starts with it.
pub fn find(state_dir: &Path, target: Option<&str>, id: &str) -> Result<RunRecord, Error> {
    let runs = list(state_dir, target)?;
    if let Some(exact) = runs.iter().position(|r| r.id() == id) {
        return runs
            .into_iter()
            .nth(exact)
            .ok_or_else(|| not_found(state_dir, target, id));
    }
    let mut matching: Vec<RunRecord> = runs.into_iter().filter(|r| r.id().starts_with(id)).collect();
    match matching.len() {
        0 => Err(not_found(state_dir, target, id)),
        1 => matching.pop().ok_or_else(|| not_found(state_dir, target, id)),
        count => Err(Error::Ambiguous {
            id: id.to_owned(),
            count,
        }),
    }
}

fn not_found(dir: &Path, target: Option<&str>, id: &str) -> Error {
    Error::NotFound {
        id: id.to_owned(),
        dir: dir.to_path_buf(),
        target: target.map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_reads_whole_with_its_history_lines_and_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal-prod.jsonl");
        let text = concat!(
            r#"{"format":"roster-journal","version":3,"target":"prod","run":{"id":"abc123","started":"2026-12-04T08:00:00Z","pid":1,"roster":"r","mode":"exact","prune":true,"command":"apply"}}"#,
            "\n",
            r#"{"before":{"what":"assignment","key":"k1","line":2,"at":1796371200100,"change":"update","space_id":"s0","space":"Space 0","assignee_kind":"user","assignee_id":"u0","assignee":"a@x","assignment_id":"a1","roles":["consumer"],"after":["producer"]}}"#,
            "\n",
            r#"{"before":{"what":"group_roles","group":"g1"}}"#,
            "\n",
            r#"{"key":"k1","line":2,"outcome":"updated","attempts":1,"at":1796371200200,"writes":1}"#,
            "\n",
            r#"{"throttled":{"at":1796371200300,"resume_in_ms":2000}}"#,
            "\n",
            r#"{"key":"k2","line":3,"outcome":"failed","attempts":0,"error":{"code":"unknown_user","http_status":null,"message":"m","attempts":0}}"#,
            "\n",
            r#"{"key":"k3","line":4,"outc"#,
        );
        fs::write(&path, text).unwrap();
        let run = read_run(&path).unwrap();
        assert_eq!(run.id(), "abc123");
        assert_eq!(run.befores.len(), 1, "the unknown kind is skipped");
        assert_eq!(run.records.len(), 2, "the torn last line is dropped");
        assert_eq!(run.throttles.len(), 1);
        assert!(!run.ended());
        assert_eq!(
            run.counts(),
            Counts {
                updated: 1,
                failed: 1,
                ..Counts::default()
            }
        );
        assert_eq!(run.writes(), 1);
        assert_eq!(run.duration(), Some(Duration::from_millis(300)));
        let found = find(dir.path(), Some("prod"), "abc").unwrap();
        assert_eq!(found.id(), "abc123");
        assert!(matches!(
            find(dir.path(), Some("test"), "abc"),
            Err(Error::NotFound { .. })
        ));
    }

    #[test]
    fn a_version_2_journal_is_listed_without_history() {
        let dir = tempfile::tempdir().unwrap();
        let text = concat!(
            r#"{"format":"roster-journal","version":2,"target":"prod","run":{"id":"old","started":"2026-12-03T08:00:00Z","pid":1,"roster":"r","mode":"merge","prune":false}}"#,
            "\n",
            r#"{"key":"k1","line":2,"outcome":"created","attempts":1}"#,
            "\n",
            r#"{"end":{"at":"2026-12-03T08:01:00Z"}}"#,
            "\n",
        );
        fs::write(dir.path().join("journal-prod.jsonl"), text).unwrap();
        // The reader that decides resumes still reads it too.
        journal::read(&dir.path().join("journal-prod.jsonl"), "prod").unwrap();
        let runs = list(dir.path(), None).unwrap();
        assert_eq!(runs.len(), 1);
        assert!(runs[0].ended());
        assert_eq!(runs[0].counts().created, 1);
        assert!(runs[0].befores.is_empty());
        assert_eq!(runs[0].duration(), Some(Duration::from_secs(60)));
    }

    #[test]
    fn a_tenant_journal_ties_configuration_changes_to_runs_and_old_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let journal_text = concat!(
            r#"{"format":"roster-journal","version":3,"target":"prod","run":{"id":"withrows","started":"2026-12-04T08:00:00Z","pid":1,"roster":"r","mode":"merge","prune":false,"command":"tenant apply"}}"#,
            "\n",
            r#"{"key":"k1","line":2,"outcome":"created","attempts":1}"#,
            "\n",
        );
        fs::write(dir.path().join("journal-prod.jsonl"), journal_text).unwrap();
        let tenant_text = concat!(
            // A line of a release before runs had ids: no `run`, skipped.
            r#"{"v":1,"at":"2026-12-01T10:00:00.000Z","target":"prod","file":"t.toml","write":"create_group","name":"Old","roles":[],"outcome":"done","attempts":1}"#,
            "\n",
            r#"{"v":1,"at":"2026-12-04T07:59:59.000Z","target":"prod","file":"t.toml","run":"withrows","start":{"run":"withrows","command":"tenant apply"}}"#,
            "\n",
            r#"{"v":1,"at":"2026-12-04T07:59:59.100Z","target":"prod","file":"t.toml","run":"withrows","before":{"what":"group_roles","at":1,"group_id":"g1","group":"A","roles":[],"after":["AuditAdmin"]}}"#,
            "\n",
            r#"{"v":1,"at":"2026-12-04T07:59:59.200Z","target":"prod","file":"t.toml","run":"withrows","write":"group_roles","id":"g1","name":"A","roles":["AuditAdmin"],"outcome":"done","attempts":1}"#,
            "\n",
            // A run that stopped in its configuration phase: no assignments' journal.
            r#"{"v":1,"at":"2026-12-05T07:00:00.000Z","target":"prod","file":"t.toml","run":"confonly","start":{"run":"confonly","command":"tenant apply"}}"#,
            "\n",
            r#"{"v":1,"at":"2026-12-05T07:00:00.100Z","target":"prod","file":"t.toml","run":"confonly","before":{"what":"group","at":2,"change":"create","group":"B","roles":[]}}"#,
            "\n",
            // A kind a newer release writes, and a record version this one does not know.
            r#"{"v":1,"at":"2026-12-05T07:00:00.200Z","target":"prod","file":"t.toml","run":"confonly","before":{"what":"space_settings","x":1}}"#,
            "\n",
            r#"{"v":2,"at":"2026-12-05T07:00:00.300Z","target":"prod","run":"confonly","before":{"what":"group","at":3,"change":"create","group":"C","roles":[]}}"#,
            "\n",
            r#"{"v":1,"at":"2026-12-05T07:00:00.400Z","target":"prod","run":"confonly","wri"#,
        );
        fs::write(dir.path().join("tenant-prod.jsonl"), tenant_text).unwrap();
        let runs = list(dir.path(), Some("prod")).unwrap();
        assert_eq!(runs.len(), 2, "{runs:?}");
        let with_rows = &runs[0];
        assert_eq!(with_rows.id(), "withrows");
        assert_eq!(with_rows.records.len(), 1);
        assert_eq!(with_rows.config.len(), 1);
        assert_eq!(
            with_rows.config[0].end,
            Some(crate::tenant::apply::WriteEnd::Done)
        );
        let only = &runs[1];
        assert_eq!(only.id(), "confonly");
        assert_eq!(only.config.len(), 1, "{:?}", only.config);
        assert_eq!(only.config[0].end, None, "stopped before the answer");
        assert!(!only.ended());
        assert_eq!(
            only.run().and_then(|r| r.about.command.as_deref()),
            Some("tenant apply")
        );
        assert!(list(dir.path(), Some("test")).unwrap().is_empty());
    }

    #[test]
    fn a_journal_without_configuration_lines_has_none() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("tenant-prod.jsonl"),
            concat!(
                r#"{"v":1,"at":"2026-12-01T10:00:00.000Z","target":"prod","file":"t.toml","write":"group_settings","patch":{"auto_create_groups":true,"sync_idp_groups":null},"outcome":"done","attempts":1}"#,
                "\n"
            ),
        )
        .unwrap();
        assert!(list(dir.path(), None).unwrap().is_empty());
    }
}
