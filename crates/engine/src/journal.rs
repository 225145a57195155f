//! The run journal: an append-only JSONL file per target and state directory, holding the current
//! run (what it was started with, one record per finished row, and whether it ended), plus a
//! bounded history of earlier runs and the lock that lets one run at a time use the journal.
//!
//! # Format (`roster-journal`, version 3)
//! The first line is a header naming the run, every further line a record or a marker (version 3
//! adds the lines of the run's history: `before`, written before each write is sent, `throttled`,
//! `retry` and `finished`; see [`crate::before`] and the README; this reader skips them):
//! ```text
//! {"format":"roster-journal","version":3,"target":"prod","run":{"id":"5d1c09e2a4b7f381","started":"2026-12-03T08:00:00Z","pid":4242,"roster":"9f2c...","mode":"merge","prune":false}}
//! {"key":"3f2a...","line":2,"outcome":"created","attempts":1}
//! {"key":"9b01...","line":3,"outcome":"failed","attempts":3,"error":{"code":"server",...}}
//! {"resumed":{"at":"2026-12-03T08:05:00Z","pid":4301,"only_failed":false}}
//! {"end":{"at":"2026-12-03T08:07:00Z"}}
//! ```
//! Rows are keyed by [`RowKey`] (`RosterRow::key`), a hash of their content, not by line number, so a
//! re-sorted roster still resumes; a record counts only within its run, whose header fixes the mode
//! and the prune setting, so the key of a record is in effect (run mode, row key). The last record
//! of a key wins. `resumed` marks each later process that continued the run; `end` is written when
//! every row of the run reached an outcome. A run without `end` was interrupted (Ctrl-C, a kill, a
//! crash, a lost connection) and is the only kind that resumes.
//!
//! When a new run starts, the file of the previous one moves to `history/` in the same directory
//! (`journal-prod.20261203T080000.123456Z.jsonl`, named after its last write); the newest
//! [`HISTORY_KEEP`] per target are kept. The new file only replaces the old one once the new run
//! records its first row (or ends), so a run stopped before deciding anything leaves the journal
//! as it was.
//!
//! Version 2 files are read as they are (they have no history lines). Version 1 files (no `run` in
//! the header, no markers) are read as a legacy run whose settings are unknown: never resumed, but its failed rows serve `--only-failed`, and it moves to the history
//! like any other run. Newer versions are refused.
//!
//! Each line is written with one `write` call, so a crash can only cut the last line; such a torn
//! line is dropped (that row is simply done again), while an unreadable line anywhere else is an
//! error naming the file and line, because silently skipping it could send a write twice or hide a
//! failure.
//!
//! Nothing secret goes in: keys are hashes and error messages name only methods and paths.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{Event, Mode, Plan, Reporter, RowError, RowKey, RowOutcome};

/// The `format` value of the header line.
pub const FORMAT: &str = "roster-journal";
/// The current format version. Readers refuse newer versions rather than guess.
pub const VERSION: u32 = 3;
/// The version that had no runs: read as a legacy run.
pub const LEGACY_VERSION: u32 = 1;
/// The subdirectory of the state directory holding earlier runs.
pub const HISTORY_DIR: &str = "history";
/// How many earlier runs per target the history keeps.
pub const HISTORY_KEEP: usize = 10;

/// What identifies a roster for resuming: a hash of its rows' keys in sorted order, so the same
/// rows in another order are the same roster.
pub fn roster_digest<'a>(keys: impl IntoIterator<Item = &'a RowKey>) -> String {
    let mut keys: Vec<&str> = keys.into_iter().map(|k| k.0.as_str()).collect();
    keys.sort_unstable();
    let mut hash = Sha256::new();
    hash.update(b"roster-digest/1\n");
    for key in keys {
        hash.update(key.as_bytes());
        hash.update(b"\n");
    }
    hex::encode(&hash.finalize()[..16])
}

/// The journal file for a target inside a state directory.
pub fn path_for(state_dir: &Path, target: &str) -> PathBuf {
    state_dir.join(format!("journal-{}.jsonl", file_safe(target)))
}

/// The lock file beside a journal.
pub fn lock_path(journal: &Path) -> PathBuf {
    journal.with_extension("lock")
}

/// The directory earlier runs of a journal move to.
pub fn history_dir(journal: &Path) -> PathBuf {
    journal
        .parent()
        .map_or_else(|| PathBuf::from(HISTORY_DIR), |dir| dir.join(HISTORY_DIR))
}

fn file_safe(target: &str) -> String {
    target
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Why the journal could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct Error {
    kind: Box<ErrorKind>,
}

/// What went wrong with the journal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be opened, read or written.
    #[error("{action} journal {}: {source}", path.display())]
    Io {
        /// What was being done (`read`, `create`, `write`, ...).
        action: &'static str,
        /// The journal file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A line other than the last one is not a valid record.
    #[error(
        "read journal {}: line {line} is corrupt ({message}); fix or remove that line, or start over with --fresh",
        path.display()
    )]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// What is wrong with it.
        message: String,
    },
    /// The header names another format, a newer version or another target.
    #[error("read journal {}: {message}; start over with --fresh", path.display())]
    Header {
        /// The journal file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Another process holds the journal's lock.
    #[error(
        "the journal {} is in use by another run ({}); nothing was sent\n\
         hint: wait for that run to end, or give this one its own --state-dir",
        path.display(),
        holder.as_ref().map_or_else(|| "process unknown".to_owned(), Holder::describe)
    )]
    Busy {
        /// The journal file.
        path: PathBuf,
        /// Who holds it, as its lock file says (unknown while it is still writing that).
        holder: Option<Holder>,
    },
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error { kind: Box::new(kind) }
    }
}

/// The first line of a journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format version.
    pub version: u32,
    /// The target's name as the user chose it.
    pub target: String,
    /// The run the file holds (absent in version 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunInfo>,
}

/// What a run was started with: a rerun with the same roster, mode and prune setting continues
/// it when it was interrupted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    /// A random-looking id, for people and file names.
    pub id: String,
    /// When the run started (RFC 3339, UTC, seconds).
    pub started: String,
    /// The process that started it.
    pub pid: u32,
    /// [`roster_digest`] of its rows.
    pub roster: String,
    /// Merge or exact.
    pub mode: Mode,
    /// Whether it pruned (`--prune`).
    pub prune: bool,
    /// What the run was for: the command, its file and what it reverses (absent before version 3).
    #[serde(flatten)]
    pub about: RunAbout,
}

/// What a run was started for, for `roster runs`: none of it decides whether a rerun resumes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunAbout {
    /// The command that started the run (`apply`, `migrate`, `undo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The roster or tenant file the run read, as it was named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// SHA-256 of that file's content when the run started (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_digest: Option<String>,
    /// For an undo: the id of the run it reverses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<String>,
    /// The write limit the run was paced at, writes per minute (0: unpaced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_limit_per_min: Option<u32>,
}

impl RunAbout {
    /// A run of `command` reading `file`: its digest is taken now (none when it cannot be read).
    pub fn for_file(command: &str, file: &Path) -> RunAbout {
        RunAbout {
            command: Some(command.to_owned()),
            file: Some(file.display().to_string()),
            file_digest: file_digest(file),
            ..RunAbout::default()
        }
    }
}

/// SHA-256 of a file's content, hex; `None` when it cannot be read.
pub fn file_digest(path: &Path) -> Option<String> {
    let mut file = File::open(path).ok()?;
    let mut hash = Sha256::new();
    io::copy(&mut file, &mut hash).ok()?;
    Some(hex::encode(hash.finalize()))
}

impl RunInfo {
    /// A run starting now in this process.
    pub fn new(roster: String, mode: Mode, prune: bool) -> RunInfo {
        let now = SystemTime::now();
        let pid = std::process::id();
        let mut hash = Sha256::new();
        hash.update(pid.to_le_bytes());
        let nanos = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        hash.update(nanos.to_le_bytes());
        hash.update(roster.as_bytes());
        RunInfo {
            id: hex::encode(&hash.finalize()[..8]),
            started: humantime::format_rfc3339_seconds(now).to_string(),
            pid,
            roster,
            mode,
            prune,
            about: RunAbout::default(),
        }
    }

    /// Whether a rerun with `other`'s roster and settings continues this run.
    pub fn same_work(&self, other: &RunInfo) -> bool {
        self.roster == other.roster && self.mode == other.mode && self.prune == other.prune
    }

    /// What differs from `other`, in words ("another roster", "--mode exact", ...).
    pub fn difference(&self, other: &RunInfo) -> String {
        let mut parts = Vec::new();
        if self.roster != other.roster {
            parts.push("another roster".to_owned());
        }
        if self.mode != other.mode {
            parts.push(format!("--mode {}", mode_name(self.mode)));
        }
        if self.prune != other.prune {
            parts.push(if self.prune { "--prune" } else { "no --prune" }.to_owned());
        }
        parts.join(", ")
    }
}

/// `merge` or `exact`, as the command line spells it.
pub fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Merge => "merge",
        Mode::Exact => "exact",
    }
}

/// How a row ended, as the journal spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordOutcome {
    /// The assignment was created.
    Created,
    /// The roles were replaced.
    Updated,
    /// Nothing needed doing.
    Unchanged,
    /// The assignment was removed.
    Deleted,
    /// The row failed.
    Failed,
}

impl RecordOutcome {
    /// Whether a row with this outcome needs no further work.
    pub fn is_done(self) -> bool {
        !matches!(self, RecordOutcome::Failed)
    }
}

/// One record line: a row's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The row's key.
    pub key: RowKey,
    /// The roster line it had in this run (for people reading the file).
    pub line: u64,
    /// How it ended.
    pub outcome: RecordOutcome,
    /// HTTP attempts spent on it.
    pub attempts: u32,
    /// Why it failed, for failed rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RowError>,
    /// When it ended, milliseconds since the Unix epoch (absent before version 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<u64>,
    /// Write calls the row's end accounts for (a bulk call counts on its first row; absent: 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub writes: u64,
    /// The id of the assignment a `created` row made, when the target said it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_id: Option<String>,
    /// The row's space and assignee as the roster names them, for `roster runs show`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<RowLabel>,
}

/// A row as people know it: its space and its assignee, as the roster names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowLabel {
    /// The space's name (or id, as the roster gave it when it did not resolve).
    pub space: String,
    /// `user` or `group`.
    pub kind: core_api::target::AssigneeKind,
    /// The email, group name or id.
    pub assignee: String,
}

impl RowLabel {
    /// The label of a plan item.
    pub fn of(item: &crate::model::PlanItem) -> RowLabel {
        use crate::model::{AssigneeRef, SpaceRef};
        let space = match (&item.space_info, &item.space) {
            (Some(info), _) => info.name.clone(),
            (None, SpaceRef::Name(v) | SpaceRef::Id(v)) => v.clone(),
        };
        let assignee = match &item.assignee {
            AssigneeRef::Email(v) | AssigneeRef::Name(v) | AssigneeRef::Id(v) => v.clone(),
        };
        RowLabel {
            space,
            kind: item.assignee_kind,
            assignee,
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A marker line: a later process continued the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Resumed {
    at: String,
    pid: u32,
    only_failed: bool,
}

/// A marker line: every row of the run reached an outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct End {
    at: String,
}

/// Any line after the header. Records are the common case; fields this reader does not need
/// (`line`, `attempts`, `error`) are not kept.
#[derive(Debug, Deserialize)]
struct Line {
    #[serde(default)]
    key: Option<RowKey>,
    #[serde(default)]
    outcome: Option<RecordOutcome>,
    #[serde(default)]
    end: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    resumed: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    before: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    throttled: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    retry: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    finished: Option<serde::de::IgnoredAny>,
}

/// What an existing journal says: its run, the last outcome of every key, and whether it ended.
#[derive(Debug, Clone, Default)]
pub struct State {
    last: HashMap<RowKey, RecordOutcome>,
    /// The header, when the journal exists.
    pub header: Option<Header>,
    /// Records read (not counting the header and markers).
    pub records: u64,
    /// Whether the run's `end` marker was read.
    pub ended: bool,
    /// Whether a torn last line was dropped.
    pub torn_tail: bool,
}

impl State {
    /// The last outcome recorded for a key.
    pub fn last(&self, key: &RowKey) -> Option<RecordOutcome> {
        self.last.get(key).copied()
    }

    /// Whether the journal marks the key done (created, updated, unchanged or deleted).
    pub fn is_done(&self, key: &RowKey) -> bool {
        self.last(key).is_some_and(RecordOutcome::is_done)
    }

    /// Whether the last record of the key says it failed.
    pub fn is_failed(&self, key: &RowKey) -> bool {
        self.last(key) == Some(RecordOutcome::Failed)
    }

    /// How many distinct keys the journal knows.
    pub fn keys(&self) -> usize {
        self.last.len()
    }

    /// The run the journal holds (none for a missing or version-1 journal).
    pub fn run(&self) -> Option<&RunInfo> {
        self.header.as_ref().and_then(|h| h.run.as_ref())
    }

    /// Whether the journal is a version-1 file, whose run's settings are unknown.
    pub fn is_legacy(&self) -> bool {
        self.header.as_ref().is_some_and(|h| h.run.is_none())
    }
}

/// Read a journal. A missing file is an empty state. `target` must match the header's.
pub fn read(path: &Path, target: &str) -> Result<State, Error> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(State::default()),
        Err(source) => return Err(io_error("read", path, source)),
    };
    read_from(BufReader::with_capacity(1 << 16, file), path, target)
}

/// Read a journal from any reader; `path` is only used in messages.
pub fn read_from(mut reader: impl BufRead, path: &Path, target: &str) -> Result<State, Error> {
    let mut state = State::default();
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    // A line is held back until the next one arrives, because only the very last line may be torn.
    let mut pending: Option<(u64, Vec<u8>, bool)> = None;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|source| io_error("read", path, source))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let complete = buf.last() == Some(&b'\n');
        // The held line's buffer becomes the next read's: no allocation per line.
        let spare = match pending.take() {
            Some((no, text, _)) => {
                apply_line(&mut state, path, target, no, &text, false)?;
                text
            }
            None => Vec::new(),
        };
        pending = Some((line_no, std::mem::replace(&mut buf, spare), complete));
    }
    if let Some((no, text, complete)) = pending {
        apply_line(&mut state, path, target, no, &text, !complete)?;
    }
    Ok(state)
}

fn apply_line(
    state: &mut State,
    path: &Path,
    target: &str,
    line: u64,
    raw: &[u8],
    torn: bool,
) -> Result<(), Error> {
    // A last line without its newline was cut by a crash, even when what is there happens to
    // parse: `Writer::open` cuts it off before appending, so trusting it would skip a row whose
    // record is then lost. Dropping it only means that row is done again.
    if torn {
        state.torn_tail = true;
        return Ok(());
    }
    let text = raw.strip_suffix(b"\n").unwrap_or(raw);
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    if text.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    if state.header.is_none() {
        let header: Header = match serde_json::from_slice(text) {
            Ok(header) => header,
            Err(e) => {
                return Err(ErrorKind::Header {
                    path: path.to_path_buf(),
                    message: format!("the first line is not a journal header ({e})"),
                }
                .into());
            }
        };
        check_header(&header, path, target)?;
        state.header = Some(header);
        return Ok(());
    }
    let corrupt = |message: String| -> Error {
        ErrorKind::Corrupt {
            path: path.to_path_buf(),
            line,
            message,
        }
        .into()
    };
    let parsed: Line = serde_json::from_slice(text).map_err(|e| corrupt(e.to_string()))?;
    match parsed {
        Line {
            key: Some(key),
            outcome: Some(outcome),
            ..
        } => {
            state.records += 1;
            state.last.insert(key, outcome);
            Ok(())
        }
        Line { end: Some(_), .. } => {
            state.ended = true;
            Ok(())
        }
        Line { resumed: Some(_), .. }
        | Line { before: Some(_), .. }
        | Line {
            throttled: Some(_), ..
        }
        | Line { retry: Some(_), .. }
        | Line {
            finished: Some(_), ..
        } => Ok(()),
        Line { key: Some(_), .. } => Err(corrupt("a record without an outcome".to_owned())),
        _ => Err(corrupt("neither a record nor a run marker".to_owned())),
    }
}

fn check_header(header: &Header, path: &Path, target: &str) -> Result<(), Error> {
    let message = if header.format != FORMAT {
        format!("the file is a {:?}, not a {FORMAT}", header.format)
    } else if header.version > VERSION {
        format!(
            "it was written by a newer roster (format version {}, this one reads up to {VERSION})",
            header.version
        )
    } else if header.target != target {
        format!("it belongs to target {:?}, not {target:?}", header.target)
    } else if header.version > LEGACY_VERSION && header.run.is_none() {
        format!(
            "its header has no \"run\", which format version {} requires",
            header.version
        )
    } else {
        return Ok(());
    };
    Err(ErrorKind::Header {
        path: path.to_path_buf(),
        message,
    }
    .into())
}

fn io_error(action: &'static str, path: &Path, source: io::Error) -> Error {
    ErrorKind::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
    .into()
}

/// Create the state directory, readable by the user only.
pub fn create_state_dir(dir: &Path) -> Result<(), Error> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|source| io_error("create the state directory for", dir, source))
}

/// Who holds a journal's lock, as its lock file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The process id.
    pub pid: u32,
    /// When it took the lock (RFC 3339, UTC).
    pub started: String,
}

impl Holder {
    fn describe(&self) -> String {
        format!("process {}, started {}", self.pid, self.started)
    }
}

/// The lock that makes a journal one run's at a time. It is an OS file lock on `journal-*.lock`,
/// which the OS releases when the process ends, however it ends: a killed run never blocks the
/// next one. Dropping it releases it.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    path: PathBuf,
}

impl RunLock {
    /// Take the lock of `journal` at once, or fail with [`ErrorKind::Busy`] naming the process
    /// that holds it. Creates the state directory.
    pub fn acquire(journal: &Path) -> Result<RunLock, Error> {
        if let Some(dir) = journal.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_state_dir(dir)?;
        }
        let path = lock_path(journal);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&path)
            .map_err(|source| io_error("open the lock of", journal, source))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = fs::read(&path)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice::<Holder>(&bytes).ok());
                return Err(ErrorKind::Busy {
                    path: journal.to_path_buf(),
                    holder,
                }
                .into());
            }
            Err(TryLockError::Error(source)) => return Err(io_error("lock", journal, source)),
        }
        // Who holds it, for the message of a run that finds it taken.
        let holder = Holder {
            pid: std::process::id(),
            started: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        };
        let mut text = serde_json::to_vec(&holder).unwrap_or_default();
        text.push(b'\n');
        // Written over the old holder, then cut to length: truncating a file to nothing makes
        // ext4 flush it to disk when it is closed, a cost every tenant of a fleet would pay.
        let old = file.metadata().map_or(u64::MAX, |m| m.len());
        let len = text.len() as u64;
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.write_all(&text))
            .and_then(|()| if old > len { file.set_len(len) } else { Ok(()) })
            .map_err(|source| io_error("write the lock of", journal, source))?;
        Ok(RunLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The failure codes of rows the tenant never answered: a run with one is cut, not ended.
pub const CUT_CODES: [&str; 2] = ["connection", "timeout"];

/// How a [`Writer`] starts.
#[derive(Debug, Clone)]
pub enum Start {
    /// A new run: the journal's current file moves to the history once the run records its first
    /// row or ends.
    New(RunInfo),
    /// Append to the run the journal holds (a resume, or `--only-failed`).
    Continue {
        /// That run, for the header should the file turn out empty.
        run: RunInfo,
        /// Whether this process writes the `end` marker when its rows have all reached an outcome:
        /// not when the run already ended, nor when it takes on only some of the rows the run
        /// has yet to finish (`--only-failed` before every row has a record).
        write_end: bool,
        /// Whether this process reruns only the failed rows.
        only_failed: bool,
    },
}

/// What the writer does before its first line.
#[derive(Debug)]
enum Pending {
    /// The new run's header waits in a temporary file beside the journal.
    New(tempfile::TempPath),
    /// A `resumed` marker to write first.
    Marker(Vec<u8>),
}

/// An open journal, appending one record per finished row and the `end` marker when the run
/// ends. It is a [`Reporter`].
#[derive(Debug)]
pub struct Writer {
    file: File,
    path: PathBuf,
    /// Lines not yet written: the events of one turn of the executor's loop, written together
    /// at its [`Reporter::flush`].
    batch: Vec<u8>,
    /// Lines wait in `batch` for the next flush (while an executor event is recorded).
    batching: bool,
    pending: Option<Pending>,
    /// No `end` marker is (or is any longer) to be written.
    ended: bool,
    /// A row failed for want of an answer from the tenant (connection or timeout): the network
    /// cut the run, which then resumes rather than ends.
    cut: bool,
    /// What the run's history needs beyond the records: created ids and the write count.
    history: crate::before::Pending,
}

impl Writer {
    /// Open the journal the simple way: continue its run, or start a new one (any roster, merge,
    /// no prune) when it is missing or `fresh` is set.
    pub fn open(path: &Path, target: &str, fresh: bool) -> Result<Writer, Error> {
        let exists = fs::metadata(path).is_ok_and(|m| m.len() > 0);
        let run = RunInfo::new(String::new(), Mode::Merge, false);
        let start = if fresh || !exists {
            Start::New(run)
        } else {
            Start::Continue {
                run,
                write_end: true,
                only_failed: false,
            }
        };
        Writer::open_run(path, target, start)
    }

    /// Open the journal for `start`. Everything that can fail early does: the state directory is
    /// created, a new run's header is written to a temporary file beside the journal, and a
    /// continued journal's torn last line (left by a crash) is cut off, so that the next record
    /// starts on a line of its own.
    pub fn open_run(path: &Path, target: &str, start: Start) -> Result<Writer, Error> {
        Writer::open_run_in(path, target, start, None)
    }

    /// [`Writer::open_run`] in a state directory listed once by [`StaleTemps::list`]: a new run
    /// removes the temporary files the listing found for its journal instead of listing the
    /// directory again. The caller holds the journal's [`RunLock`], as for `open_run`.
    pub fn open_run_listed(
        path: &Path,
        target: &str,
        start: Start,
        stale: &StaleTemps,
    ) -> Result<Writer, Error> {
        Writer::open_run_in(path, target, start, Some(stale))
    }

    fn open_run_in(
        path: &Path,
        target: &str,
        start: Start,
        stale: Option<&StaleTemps>,
    ) -> Result<Writer, Error> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir {
            create_state_dir(dir)?;
        }
        match start {
            Start::New(run) => {
                let dir = dir.unwrap_or(Path::new("."));
                // `~` never occurs in a journal's name, so the prefix is this journal's alone.
                let prefix = format!(
                    ".{}~",
                    path.file_stem()
                        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
                );
                match stale {
                    Some(stale) => stale.remove(path),
                    None => remove_stale_temps(dir, &prefix),
                }
                let temp = tempfile::Builder::new()
                    .prefix(&prefix)
                    .suffix(".tmp")
                    .tempfile_in(dir)
                    .map_err(|source| io_error("create", path, source))?;
                let (file, temp) = temp.into_parts();
                let mut writer = Writer {
                    file,
                    path: path.to_path_buf(),
                    batch: Vec::with_capacity(4096),
                    batching: false,
                    pending: None,
                    ended: false,
                    cut: false,
                    history: crate::before::Pending::default(),
                };
                writer.write_json(&Header {
                    format: FORMAT.to_owned(),
                    version: VERSION,
                    target: target.to_owned(),
                    run: Some(run),
                })?;
                writer.pending = Some(Pending::New(temp));
                Ok(writer)
            }
            Start::Continue {
                run,
                write_end,
                only_failed,
            } => {
                let mut options = OpenOptions::new();
                options.read(true).write(true).create(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                let mut file = options
                    .open(path)
                    .map_err(|source| io_error("open", path, source))?;
                let len = cut_torn_tail(&mut file).map_err(|source| io_error("repair", path, source))?;
                file.seek(SeekFrom::End(0))
                    .map_err(|source| io_error("open", path, source))?;
                if len == 0 {
                    // Not even the header survived: the run starts its file again.
                    let mut writer = Writer {
                        file,
                        path: path.to_path_buf(),
                        batch: Vec::with_capacity(4096),
                        batching: false,
                        pending: None,
                        ended: !write_end,
                        cut: false,
                        history: crate::before::Pending::default(),
                    };
                    writer.write_json(&Header {
                        format: FORMAT.to_owned(),
                        version: VERSION,
                        target: target.to_owned(),
                        run: Some(run),
                    })?;
                    return Ok(writer);
                }
                let mut marker = serde_json::to_vec(&serde_json::json!({
                    "resumed": Resumed {
                        at: now(),
                        pid: std::process::id(),
                        only_failed,
                    }
                }))
                .map_err(|e| io_error("write", path, io::Error::other(e)))?;
                marker.push(b'\n');
                Ok(Writer {
                    file,
                    path: path.to_path_buf(),
                    batch: Vec::with_capacity(4096),
                    batching: false,
                    pending: Some(Pending::Marker(marker)),
                    ended: !write_end,
                    cut: false,
                    history: crate::before::Pending::default(),
                })
            }
        }
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record with a single write.
    pub fn append(&mut self, record: &Record) -> Result<(), Error> {
        self.cut |= record
            .error
            .as_ref()
            .is_some_and(|e| CUT_CODES.contains(&e.code.as_str()));
        self.begin()?;
        self.write_json(record)
    }

    /// Write the `end` marker: every row of the run has an outcome. Not written when a row of
    /// this process failed for want of an answer (connection or timeout): such a run was cut by
    /// the network, and a rerun resumes it.
    pub fn end(&mut self) -> Result<(), Error> {
        self.begin()?;
        if self.ended || self.cut {
            return Ok(());
        }
        self.ended = true;
        self.write_json(&serde_json::json!({ "end": End { at: now() } }))
    }

    /// Make the run's file the journal, before its first line after the header.
    fn begin(&mut self) -> Result<(), Error> {
        match self.pending.take() {
            None => Ok(()),
            Some(Pending::Marker(marker)) => self.write_raw(&marker),
            Some(Pending::New(temp)) => {
                rotate(&self.path).map_err(|source| io_error("move to the history", &self.path, source))?;
                temp.persist(&self.path)
                    .map_err(|e| io_error("create", &self.path, e.error))?;
                Ok(())
            }
        }
    }

    fn write_json(&mut self, value: &impl Serialize) -> Result<(), Error> {
        let start = self.batch.len();
        if let Err(e) = serde_json::to_writer(&mut self.batch, value) {
            self.batch.truncate(start);
            return Err(io_error("write", &self.path, io::Error::other(e)));
        }
        self.batch.push(b'\n');
        self.write_batch()
    }

    fn write_raw(&mut self, line: &[u8]) -> Result<(), Error> {
        self.batch.extend_from_slice(line);
        self.write_batch()
    }

    /// Write the waiting lines, unless an executor event is being recorded (its turn's flush
    /// writes them).
    fn write_batch(&mut self) -> Result<(), Error> {
        if self.batching || self.batch.is_empty() {
            return Ok(());
        }
        // One write call for whole lines: a crash can cut the last line, never interleave two.
        let written = self.file.write_all(&self.batch).and_then(|()| self.file.flush());
        self.batch.clear();
        written.map_err(|source| io_error("write", &self.path, source))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // A run that stopped on an error still leaves what it recorded; a failure here has no
        // one left to tell.
        self.batching = false;
        let _ = self.write_batch();
    }
}

/// Remove the temporary files a new run of this journal left when it was killed before its first
/// row. Only the run holding the journal's lock opens a new run, so none of them is in use.
fn remove_stale_temps(dir: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(prefix) && name.ends_with(".tmp") {
            // Best effort: a file that cannot be removed is only clutter.
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The temporary files of new runs in one state directory, listed once for the many journals
/// a fleet run opens there: listing the directory for each of them would cost the square of
/// the tenants.
///
/// Listing before the journals' locks are taken is safe: a run creates its temporary file only
/// while it holds its journal's lock, so once a tenant holds that lock, every file the listing
/// found for its journal is either gone (its run made it the journal, or dropped it) or stale.
/// A file created after the listing is left for the next run to remove, as clutter only.
#[derive(Debug, Default)]
pub struct StaleTemps {
    /// File paths by journal stem (the part of `.STEM~RANDOM.tmp` before the `~`).
    by_stem: std::sync::Mutex<HashMap<String, Vec<PathBuf>>>,
}

impl StaleTemps {
    /// List `dir` (nothing when it cannot be read: there is nothing to remove then).
    pub fn list(dir: &Path) -> StaleTemps {
        let mut by_stem: HashMap<String, Vec<PathBuf>> = HashMap::new();
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.filter_map(Result::ok) {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if let Some(stem) = name
                    .strip_prefix('.')
                    .filter(|_| name.ends_with(".tmp"))
                    .and_then(|rest| rest.split_once('~'))
                    .map(|(stem, _)| stem)
                {
                    by_stem.entry(stem.to_owned()).or_default().push(entry.path());
                }
            }
        }
        StaleTemps {
            by_stem: std::sync::Mutex::new(by_stem),
        }
    }

    /// Remove what the listing found for the journal at `path`.
    fn remove(&self, path: &Path) {
        let stem = path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let found = match self.by_stem.lock() {
            Ok(mut by_stem) => by_stem.remove(&stem),
            Err(poisoned) => poisoned.into_inner().remove(&stem),
        };
        for file in found.unwrap_or_default() {
            // Best effort, as in `remove_stale_temps`: a file that cannot be removed is clutter.
            let _ = fs::remove_file(file);
        }
    }
}

fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Move the journal at `path` (when there is one) into the history, named after its last write,
/// and delete the oldest runs beyond [`HISTORY_KEEP`]. Returns where it went.
pub fn rotate(path: &Path) -> io::Result<Option<PathBuf>> {
    let modified = match fs::metadata(path) {
        Ok(meta) => meta.modified().unwrap_or_else(|_| SystemTime::now()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let history = history_dir(path);
    create_state_dir(&history).map_err(|e| io::Error::other(e.to_string()))?;
    let stem = path
        .file_stem()
        .map_or_else(|| "journal".to_owned(), |s| s.to_string_lossy().into_owned());
    // 2026-12-03T08:00:00.123456Z -> 20261203T080000.123456Z: names sort by time.
    let stamp: String = humantime::format_rfc3339_micros(modified)
        .to_string()
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    let mut target = history.join(format!("{stem}.{stamp}.jsonl"));
    let mut n = 1;
    while target.exists() {
        target = history.join(format!("{stem}.{stamp}~{n}.jsonl"));
        n += 1;
    }
    fs::rename(path, &target)?;
    prune_history(&history, &stem)?;
    Ok(Some(target))
}

/// The earlier runs of the journal `stem` in `history`, oldest first.
pub fn history_files(history: &Path, stem: &str) -> io::Result<Vec<PathBuf>> {
    let prefix = format!("{stem}.");
    let mut files: Vec<PathBuf> = match fs::read_dir(history) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".jsonl"))
            })
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    files.sort();
    Ok(files)
}

fn prune_history(history: &Path, stem: &str) -> io::Result<()> {
    let files = history_files(history, stem)?;
    let extra = files.len().saturating_sub(HISTORY_KEEP);
    for old in &files[..extra] {
        fs::remove_file(old)?;
    }
    Ok(())
}

/// Truncate the file after its last newline; returns the new length.
fn cut_torn_tail(file: &mut File) -> io::Result<u64> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(0);
    }
    // Records are short: look back in blocks until a newline turns up.
    let mut end = len;
    let mut block = vec![0u8; 4096];
    loop {
        let start = end.saturating_sub(block.len() as u64);
        let size = usize::try_from(end - start).unwrap_or(block.len());
        file.seek(SeekFrom::Start(start))?;
        io::Read::read_exact(file, &mut block[..size])?;
        if start + size as u64 == len && block[size - 1] == b'\n' {
            return Ok(len);
        }
        if let Some(pos) = block[..size].iter().rposition(|&b| b == b'\n') {
            let keep = start + pos as u64 + 1;
            file.set_len(keep)?;
            return Ok(keep);
        }
        if start == 0 {
            file.set_len(0)?;
            return Ok(0);
        }
        end = start;
    }
}

impl Reporter for Writer {
    /// The event's lines wait for [`Reporter::flush`]: the executor flushes once per turn of its
    /// loop, before any request of that turn leaves, so a row's before-state is on disk before
    /// its write is sent, at one write call per turn rather than per line.
    fn on_event(&mut self, plan: &Plan, event: &Event) -> io::Result<()> {
        self.batching = true;
        let recorded = self.record_event(plan, event);
        self.batching = false;
        recorded
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_batch().map_err(io::Error::other)
    }
}

impl Writer {
    fn record_event(&mut self, plan: &Plan, event: &Event) -> io::Result<()> {
        match event {
            Event::RowFinished {
                index,
                outcome,
                attempts,
                totals,
            } => {
                let Some(item) = plan.items.get(*index) else {
                    return Ok(());
                };
                let (outcome, error) = match outcome {
                    RowOutcome::Created => (RecordOutcome::Created, None),
                    RowOutcome::Updated => (RecordOutcome::Updated, None),
                    RowOutcome::Unchanged => (RecordOutcome::Unchanged, None),
                    RowOutcome::Deleted => (RecordOutcome::Deleted, None),
                    RowOutcome::Failed(error) => (RecordOutcome::Failed, Some(error.clone())),
                };
                let record = Record {
                    key: item.key.clone(),
                    line: item.line,
                    outcome,
                    attempts: *attempts,
                    error,
                    at: Some(crate::before::now_ms()),
                    writes: self.history.writes_until(totals.writes),
                    assignment_id: self.history.created.remove(index),
                    row: Some(RowLabel::of(item)),
                };
                self.append(&record).map_err(io::Error::other)
            }
            // Before the write is sent: what is there now, so nothing a crash leaves half done
            // is lost to an undo.
            Event::RowStarted { index } => {
                let Some(before) = plan
                    .items
                    .get(*index)
                    .and_then(|item| crate::before::AssignmentBefore::of(item, crate::before::now_ms()))
                else {
                    return Ok(());
                };
                let line = crate::before::BeforeLine {
                    before: crate::before::Before::Assignment(Box::new(before)),
                };
                self.begin().map_err(io::Error::other)?;
                self.write_json(&line).map_err(io::Error::other)
            }
            // A create found the assignment there: the roles it had, before the update.
            Event::RowFound {
                index,
                assignment_id,
                roles,
                new,
            } => {
                let Some(mut before) = plan
                    .items
                    .get(*index)
                    .and_then(|item| crate::before::AssignmentBefore::of(item, crate::before::now_ms()))
                else {
                    return Ok(());
                };
                before.change = crate::before::Change::Update;
                before.assignment_id = Some(assignment_id.clone());
                before.roles = Some(roles.clone());
                before.after = Some(new.clone());
                before.existing = true;
                let line = crate::before::BeforeLine {
                    before: crate::before::Before::Assignment(Box::new(before)),
                };
                self.begin().map_err(io::Error::other)?;
                self.write_json(&line).map_err(io::Error::other)
            }
            Event::RowCreated { index, assignment_id } => {
                self.history.created.insert(*index, assignment_id.clone());
                Ok(())
            }
            Event::RowRetrying {
                index,
                attempt,
                cause,
                ..
            } => {
                let retry = crate::before::Retry {
                    at: crate::before::now_ms(),
                    line: plan.items.get(*index).map_or(0, |item| item.line),
                    attempt: *attempt,
                    cause: cause.clone(),
                };
                self.begin().map_err(io::Error::other)?;
                self.write_json(&serde_json::json!({ "retry": retry }))
                    .map_err(io::Error::other)
            }
            Event::Throttled { resume_in, .. } => {
                let throttled = crate::before::Throttled {
                    at: crate::before::now_ms(),
                    resume_in_ms: u64::try_from(resume_in.as_millis()).unwrap_or(u64::MAX),
                };
                self.begin().map_err(io::Error::other)?;
                self.write_json(&serde_json::json!({ "throttled": throttled }))
                    .map_err(io::Error::other)
            }
            Event::Finished {
                totals,
                elapsed,
                interrupted,
            } => {
                // What this process's summary said, for the run's report; a new run that
                // recorded nothing leaves no file to say it in.
                if !matches!(self.pending, Some(Pending::New(_))) || !interrupted {
                    let line = crate::before::ProcessEnd {
                        at: crate::before::now_ms(),
                        elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                        interrupted: *interrupted,
                        totals: *totals,
                    };
                    self.begin().map_err(io::Error::other)?;
                    self.write_json(&serde_json::json!({ "finished": line }))
                        .map_err(io::Error::other)?;
                }
                // Every row reached an outcome: the next apply is a new run.
                if *interrupted {
                    Ok(())
                } else {
                    self.end().map_err(io::Error::other)
                }
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, outcome: RecordOutcome) -> Record {
        Record {
            key: RowKey(key.to_owned()),
            line: 1,
            outcome,
            attempts: 1,
            error: None,
            at: None,
            writes: 0,
            assignment_id: None,
            row: None,
        }
    }

    #[test]
    fn write_then_read_round_trip_and_last_record_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(&dir.path().join(".roster"), "prod");
        let mut w = Writer::open(&path, "prod", false).unwrap();
        w.append(&record("a", RecordOutcome::Failed)).unwrap();
        w.append(&record("b", RecordOutcome::Created)).unwrap();
        w.append(&record("a", RecordOutcome::Updated)).unwrap();
        w.append(&record("c", RecordOutcome::Failed)).unwrap();
        drop(w);
        let state = read(&path, "prod").unwrap();
        assert!(state.is_done(&RowKey("a".into())));
        assert!(state.is_done(&RowKey("b".into())));
        assert!(state.is_failed(&RowKey("c".into())));
        assert!(!state.is_done(&RowKey("d".into())));
        assert_eq!(state.records, 4);
        assert_eq!(state.keys(), 3);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let mode = fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
        }
    }

    #[test]
    fn a_missing_journal_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let state = read(&dir.path().join("nope.jsonl"), "prod").unwrap();
        assert_eq!(state.keys(), 0);
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_cut_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut w = Writer::open(&path, "prod", false).unwrap();
        w.append(&record("a", RecordOutcome::Created)).unwrap();
        drop(w);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"key":"b","line":2,"outco"#).unwrap();
        drop(f);
        let state = read(&path, "prod").unwrap();
        assert!(state.torn_tail);
        assert!(state.is_done(&RowKey("a".into())));
        assert_eq!(state.last(&RowKey("b".into())), None);

        let mut w = Writer::open(&path, "prod", false).unwrap();
        w.append(&record("b", RecordOutcome::Created)).unwrap();
        drop(w);
        let state = read(&path, "prod").unwrap();
        assert!(!state.torn_tail);
        assert!(state.is_done(&RowKey("b".into())));
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 4, "header, a, resumed, b: {text}");
    }

    #[test]
    fn a_last_record_missing_only_its_newline_is_torn_too() {
        // The crash came between the record and its newline. The writer cuts such a line off
        // when it reopens the file, so the reader must not count the row done either: otherwise
        // the resumed run skips the row and its record is gone for the run after.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut w = Writer::open(&path, "prod", false).unwrap();
        w.append(&record("a", RecordOutcome::Created)).unwrap();
        w.append(&record("b", RecordOutcome::Created)).unwrap();
        drop(w);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.trim_end()).unwrap();
        let state = read(&path, "prod").unwrap();
        assert!(state.torn_tail);
        assert!(state.is_done(&RowKey("a".into())));
        assert!(!state.is_done(&RowKey("b".into())));
        drop(Writer::open(&path, "prod", false).unwrap());
        let again = read(&path, "prod").unwrap();
        assert_eq!(again.records, state.records);
        assert!(!again.torn_tail);
    }

    #[test]
    fn a_corrupt_middle_line_is_an_error_naming_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut w = Writer::open(&path, "prod", false).unwrap();
        w.append(&record("a", RecordOutcome::Created)).unwrap();
        drop(w);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"garbage\n").unwrap();
        drop(f);
        let mut w = Writer::open(&path, "prod", false).unwrap();
        w.append(&record("b", RecordOutcome::Created)).unwrap();
        drop(w);
        let err = read(&path, "prod").unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Corrupt { line: 3, .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("j.jsonl") && text.contains("line 3"), "{text}");
    }

    #[test]
    fn header_mismatches_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut w = Writer::open(&path, "prod", false).unwrap();
        w.append(&record("a", RecordOutcome::Created)).unwrap();
        drop(w);
        let err = read(&path, "test").unwrap_err();
        assert!(err.to_string().contains("belongs to target"), "{err}");
        fs::write(
            &path,
            "{\"format\":\"roster-journal\",\"version\":99,\"target\":\"prod\"}\n",
        )
        .unwrap();
        let err = read(&path, "prod").unwrap_err();
        assert!(err.to_string().contains("newer"), "{err}");
        fs::write(&path, "hello\n{}\n").unwrap();
        assert!(read(&path, "prod").is_err());
    }

    #[test]
    fn fresh_starts_over_once_it_records_and_the_old_run_moves_to_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut w = Writer::open(&path, "prod", false).unwrap();
        w.append(&record("a", RecordOutcome::Created)).unwrap();
        drop(w);
        let before = fs::read_to_string(&path).unwrap();
        // Stopped before its first row: the journal is as it was, and no temporary file stays.
        drop(Writer::open(&path, "prod", true).unwrap());
        assert_eq!(fs::read_to_string(&path).unwrap(), before);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);

        let mut w = Writer::open(&path, "prod", true).unwrap();
        w.append(&record("b", RecordOutcome::Created)).unwrap();
        drop(w);
        let state = read(&path, "prod").unwrap();
        assert_eq!(state.keys(), 1);
        assert!(state.is_done(&RowKey("b".into())));
        let old = history_files(&history_dir(&path), "j").unwrap();
        assert_eq!(old.len(), 1);
        assert_eq!(fs::read_to_string(&old[0]).unwrap(), before);
    }

    #[test]
    fn a_new_run_removes_the_temporary_files_of_its_journal_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(dir.path(), "prod");
        fs::write(dir.path().join(".journal-prod~abc123.tmp"), "x").unwrap();
        fs::write(dir.path().join(".journal-prod-eu~abc123.tmp"), "x").unwrap();
        drop(Writer::open(&path, "prod", true).unwrap());
        let left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, [".journal-prod-eu~abc123.tmp"]);
    }

    #[test]
    fn a_listed_state_directory_gives_each_new_run_the_temporary_files_of_its_journal_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(dir.path(), "prod");
        fs::write(dir.path().join(".journal-prod~abc123.tmp"), "x").unwrap();
        fs::write(dir.path().join(".journal-prod-eu~abc123.tmp"), "x").unwrap();
        let stale = StaleTemps::list(dir.path());
        let mut w = Writer::open_run_listed(
            &path,
            "prod",
            Start::New(RunInfo::new(String::new(), Mode::Merge, false)),
            &stale,
        )
        .unwrap();
        w.end().unwrap();
        drop(w);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".journal-prod-eu~abc123.tmp", "journal-prod.jsonl"]);
        // The other journal's file goes when its own run starts.
        let eu = path_for(dir.path(), "prod-eu");
        drop(
            Writer::open_run_listed(
                &eu,
                "prod-eu",
                Start::New(RunInfo::new(String::new(), Mode::Merge, false)),
                &stale,
            )
            .unwrap(),
        );
        assert!(!dir.path().join(".journal-prod-eu~abc123.tmp").exists());
    }

    #[test]
    fn the_end_marker_and_resume_markers_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let run = RunInfo::new("digest".into(), Mode::Exact, true);
        let mut w = Writer::open_run(&path, "prod", Start::New(run.clone())).unwrap();
        w.append(&record("a", RecordOutcome::Failed)).unwrap();
        drop(w);
        let state = read(&path, "prod").unwrap();
        assert!(!state.ended);
        assert_eq!(state.run(), Some(&run));
        assert!(!state.is_legacy());

        let start = Start::Continue {
            run: run.clone(),
            write_end: true,
            only_failed: false,
        };
        let mut w = Writer::open_run(&path, "prod", start).unwrap();
        w.append(&record("a", RecordOutcome::Created)).unwrap();
        w.end().unwrap();
        w.end().unwrap();
        drop(w);
        let state = read(&path, "prod").unwrap();
        assert!(state.ended);
        assert!(state.is_done(&RowKey("a".into())));
        assert_eq!(state.records, 2);
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.lines().count(),
            5,
            "header, record, resumed, record, one end: {text}"
        );
        assert!(
            text.lines().nth(2).unwrap().starts_with("{\"resumed\":"),
            "{text}"
        );
    }

    #[test]
    fn a_run_cut_by_the_network_gets_no_end_and_one_told_not_to_end_neither() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let run = RunInfo::new("digest".into(), Mode::Merge, false);
        let mut w = Writer::open_run(&path, "prod", Start::New(run.clone())).unwrap();
        w.append(&record("a", RecordOutcome::Created)).unwrap();
        let mut lost = record("b", RecordOutcome::Failed);
        lost.error = Some(RowError {
            code: "connection".into(),
            http_status: None,
            message: "connection refused".into(),
            attempts: 4,
        });
        w.append(&lost).unwrap();
        w.end().unwrap();
        drop(w);
        assert!(!read(&path, "prod").unwrap().ended);

        let only_some = Start::Continue {
            run: run.clone(),
            write_end: false,
            only_failed: true,
        };
        let mut w = Writer::open_run(&path, "prod", only_some).unwrap();
        w.append(&record("b", RecordOutcome::Created)).unwrap();
        w.end().unwrap();
        drop(w);
        assert!(!read(&path, "prod").unwrap().ended);

        let resume = Start::Continue {
            run,
            write_end: true,
            only_failed: false,
        };
        let mut w = Writer::open_run(&path, "prod", resume).unwrap();
        w.append(&record("c", RecordOutcome::Failed)).unwrap();
        w.end().unwrap();
        drop(w);
        assert!(
            read(&path, "prod").unwrap().ended,
            "a failure the tenant answered ends the run"
        );
    }

    #[test]
    fn a_version_1_journal_is_a_legacy_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        fs::write(
            &path,
            "{\"format\":\"roster-journal\",\"version\":1,\"target\":\"prod\"}\n\
             {\"key\":\"a\",\"line\":2,\"outcome\":\"created\",\"attempts\":1}\n\
             {\"key\":\"b\",\"line\":3,\"outcome\":\"failed\",\"attempts\":3,\"error\":{\"code\":\"server\",\"http_status\":500,\"message\":\"m\",\"attempts\":3}}\n",
        )
        .unwrap();
        let state = read(&path, "prod").unwrap();
        assert!(state.is_legacy());
        assert_eq!(state.run(), None);
        assert!(!state.ended);
        assert!(state.is_done(&RowKey("a".into())));
        assert!(state.is_failed(&RowKey("b".into())));
        // A version-2 header must name its run.
        fs::write(
            &path,
            "{\"format\":\"roster-journal\",\"version\":2,\"target\":\"prod\"}\n",
        )
        .unwrap();
        let err = read(&path, "prod").unwrap_err();
        assert!(err.to_string().contains("no \"run\""), "{err}");
    }

    #[test]
    fn the_history_keeps_the_newest_runs_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(dir.path(), "prod");
        for i in 0..HISTORY_KEEP + 3 {
            let run = RunInfo::new(format!("{i}"), Mode::Merge, false);
            let mut w = Writer::open_run(&path, "prod", Start::New(run)).unwrap();
            w.append(&record(&format!("k{i}"), RecordOutcome::Created))
                .unwrap();
            w.end().unwrap();
        }
        let old = history_files(&history_dir(&path), "journal-prod").unwrap();
        assert_eq!(old.len(), HISTORY_KEEP);
        // The newest earlier run is the one before the current.
        let newest = fs::read_to_string(old.last().unwrap()).unwrap();
        assert!(newest.contains(&format!("\"k{}\"", HISTORY_KEEP + 1)), "{newest}");
        let oldest = fs::read_to_string(&old[0]).unwrap();
        assert!(oldest.contains("\"k2\""), "{oldest}");
        assert!(
            read(&path, "prod")
                .unwrap()
                .is_done(&RowKey(format!("k{}", HISTORY_KEEP + 2)))
        );
    }

    #[test]
    fn the_lock_is_one_holders_and_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(&dir.path().join("state"), "prod");
        let lock = RunLock::acquire(&path).unwrap();
        let err = RunLock::acquire(&path).unwrap_err();
        let ErrorKind::Busy { holder, .. } = err.kind() else {
            panic!("not busy: {err}");
        };
        assert_eq!(holder.as_ref().map(|h| h.pid), Some(std::process::id()));
        let text = err.to_string();
        assert!(
            text.contains("journal-prod.jsonl") && text.contains(&format!("process {}", std::process::id())),
            "{text}"
        );
        assert!(text.contains("--state-dir"), "{text}");
        drop(lock);
        drop(RunLock::acquire(&path).unwrap());
    }

    #[test]
    fn a_lock_file_left_with_a_longer_holder_names_only_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(dir.path(), "prod");
        let old = format!(
            "{{\"pid\":1,\"started\":\"2026-01-01T00:00:00Z\"}}{}\n",
            " ".repeat(200)
        );
        fs::write(lock_path(&path), old).unwrap();
        let _lock = RunLock::acquire(&path).unwrap();
        let holder: Holder = serde_json::from_slice(&fs::read(lock_path(&path)).unwrap()).unwrap();
        assert_eq!(holder.pid, std::process::id());
        assert!(fs::metadata(lock_path(&path)).unwrap().len() < 100);
    }

    #[test]
    fn the_roster_digest_ignores_order_but_not_content() {
        let keys = |names: &[&str]| names.iter().map(|n| RowKey((*n).to_owned())).collect::<Vec<_>>();
        let a = roster_digest(&keys(&["a", "b", "c"]));
        assert_eq!(a, roster_digest(&keys(&["c", "a", "b"])));
        assert_ne!(a, roster_digest(&keys(&["a", "b"])));
        assert_ne!(a, roster_digest(&keys(&["a", "b", "d"])));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        use proptest::prelude::*;
        proptest!(|(bytes in proptest::collection::vec(any::<u8>(), 0..512))| {
            let _ = read_from(&bytes[..], Path::new("j"), "prod");
        });
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        fn outcome() -> impl Strategy<Value = RecordOutcome> {
            prop_oneof![
                Just(RecordOutcome::Created),
                Just(RecordOutcome::Updated),
                Just(RecordOutcome::Unchanged),
                Just(RecordOutcome::Deleted),
                Just(RecordOutcome::Failed),
            ]
        }

        /// Records over a few keys (so keys repeat), with errors holding any text, quotes,
        /// newlines and non-ASCII included.
        fn records() -> impl Strategy<Value = Vec<Record>> {
            let record = (
                "[a-f0-9]{1,3}",
                any::<u64>(),
                outcome(),
                any::<u32>(),
                proptest::option::of((
                    ".{0,20}",
                    proptest::option::of(any::<u16>()),
                    "\\PC{0,40}\n?\\PC{0,5}",
                    any::<u32>(),
                )),
            )
                .prop_map(|(key, line, outcome, attempts, error)| Record {
                    key: RowKey(key),
                    line,
                    outcome,
                    attempts,
                    error: error.map(|(code, http_status, message, attempts)| RowError {
                        code,
                        http_status,
                        message,
                        attempts,
                    }),
                    at: None,
                    writes: 0,
                    assignment_id: None,
                    row: None,
                });
            proptest::collection::vec(record, 0..40)
        }

        /// What a reader must conclude from `records`: the last outcome of every key.
        fn expected(records: &[Record]) -> HashMap<RowKey, RecordOutcome> {
            records.iter().map(|r| (r.key.clone(), r.outcome)).collect()
        }

        fn written(records: &[Record]) -> (tempfile::TempDir, PathBuf) {
            let dir = tempfile::tempdir().unwrap();
            let path = path_for(dir.path(), "prod");
            let mut w = Writer::open(&path, "prod", false).unwrap();
            for r in records {
                w.append(r).unwrap();
            }
            w.end().unwrap();
            (dir, path)
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

            /// Whatever is written reads back: every record, the last outcome of every key, and
            /// each line is the record that was written.
            #[test]
            fn write_then_read_round_trips(records in records()) {
                let (_dir, path) = written(&records);
                let state = read(&path, "prod").unwrap();
                prop_assert_eq!(state.records, records.len() as u64);
                prop_assert!(!state.torn_tail);
                prop_assert_eq!(&state.last, &expected(&records));
                let text = fs::read_to_string(&path).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                prop_assert!(state.ended);
                prop_assert_eq!(lines.len(), records.len() + 2);
                for (line, record) in lines[1..].iter().zip(&records) {
                    let back: Record = serde_json::from_str(line).unwrap();
                    prop_assert_eq!(&back, record);
                }
            }

            /// A crash can cut the file anywhere: the reader then knows every record before the
            /// cut and never invents one, and reopening cuts the torn bytes so appends go on.
            #[test]
            fn a_file_cut_anywhere_reads_as_its_complete_records(records in records(), cut in any::<proptest::sample::Index>()) {
                let (_dir, path) = written(&records);
                let bytes = fs::read(&path).unwrap();
                let keep = cut.index(bytes.len() + 1);
                fs::write(&path, &bytes[..keep]).unwrap();
                let complete = bytes[..keep].iter().filter(|&&b| b == b'\n').count();
                let survivors = &records[..complete.saturating_sub(1).min(records.len())];
                let state = read(&path, "prod").unwrap();
                prop_assert_eq!(state.records, survivors.len() as u64);
                prop_assert_eq!(&state.last, &expected(survivors));

                let extra = Record {
                    key: RowKey("after".into()),
                    line: 1,
                    outcome: RecordOutcome::Created,
                    attempts: 1,
                    error: None,
                    at: None,
                    writes: 0,
                    assignment_id: None,
                    row: None,
                };
                let mut w = Writer::open(&path, "prod", false).unwrap();
                w.append(&extra).unwrap();
                drop(w);
                let state = read(&path, "prod").unwrap();
                prop_assert!(!state.torn_tail);
                prop_assert_eq!(state.records, survivors.len() as u64 + 1);
                prop_assert!(state.is_done(&extra.key));
            }

            /// Damage to any complete line but the last is an error naming the file and that
            /// line, never a silent skip.
            #[test]
            fn a_damaged_middle_line_is_a_located_error(records in records().prop_filter("two records", |r| r.len() >= 2), pick in any::<proptest::sample::Index>(), junk in "[^\\n]{0,20}") {
                let (_dir, path) = written(&records);
                let text = fs::read_to_string(&path).unwrap();
                let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
                // A record line that is not the last one (line numbers are 1-based; 1 is the header).
                let victim = 1 + pick.index(lines.len() - 2);
                lines[victim] = format!("{{{junk}");
                fs::write(&path, lines.join("\n") + "\n").unwrap();
                let error = read(&path, "prod").unwrap_err();
                let line = victim as u64 + 1;
                let is_located = matches!(error.kind(), ErrorKind::Corrupt { line: l, .. } if *l == line);
                prop_assert!(is_located, "{}", error);
                let message = error.to_string();
                prop_assert!(message.contains("journal-prod.jsonl") && message.contains(&format!("line {line}")), "{}", message);
            }
        }
    }
}
