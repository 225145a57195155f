//! The run journal: an append-only JSONL file with one record per finished row, which makes every
//! run resumable.
//!
//! # Format (`roster-journal`, version 1)
//! The first line is a header, every further line one record:
//! ```text
//! {"format":"roster-journal","version":1,"target":"prod"}
//! {"key":"3f2a...","line":2,"outcome":"created","attempts":1}
//! {"key":"9b01...","line":3,"outcome":"failed","attempts":3,"error":{"code":"server",...}}
//! ```
//! Rows are keyed by [`RowKey`] (`RosterRow::key`), a hash of their content, not by line number, so a re-sorted or
//! edited roster still resumes. The last record of a key wins. Each record is written with one
//! `write` call, so a crash can only cut the last line; such a torn line is dropped (that row is
//! simply done again), while an unreadable line anywhere else is an error naming the file and
//! line, because silently skipping it could send a write twice or hide a failure.
//!
//! Nothing secret goes in: keys are hashes and error messages name only methods and paths.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{Event, Plan, Reporter, RowError, RowKey, RowOutcome};

/// The `format` value of the header line.
pub const FORMAT: &str = "roster-journal";
/// The current format version. Readers refuse newer versions rather than guess.
pub const VERSION: u32 = 1;

/// The key of a row the reader could not use. Such rows can never be done; the key only has to be
/// stable so `--only-failed` finds them again.
pub fn invalid_row_key(target: &str, line: u64) -> RowKey {
    let mut hash = Sha256::new();
    hash.update(b"roster-invalid-row\x001\x00");
    hash.update(target.as_bytes());
    hash.update(b"\x00");
    hash.update(line.to_le_bytes());
    RowKey(hex::encode(&hash.finalize()[..16]))
}

/// The journal file for a target inside a state directory.
pub fn path_for(state_dir: &Path, target: &str) -> PathBuf {
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
    state_dir.join(format!("journal-{safe}.jsonl"))
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

/// One line after the header.
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
}

/// What an existing journal says: the last outcome of every key.
#[derive(Debug, Clone, Default)]
pub struct State {
    last: HashMap<RowKey, RecordOutcome>,
    /// Records read (not counting the header).
    pub records: u64,
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
}

/// Read a journal. A missing file is an empty state. `target` must match the header's.
pub fn read(path: &Path, target: &str) -> Result<State, Error> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(State::default()),
        Err(source) => return Err(io_error("read", path, source)),
    };
    read_from(BufReader::new(file), path, target)
}

/// Read a journal from any reader; `path` is only used in messages.
pub fn read_from(mut reader: impl BufRead, path: &Path, target: &str) -> Result<State, Error> {
    let mut state = State::default();
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    // A line is held back until the next one arrives, because only the very last line may be torn.
    let mut pending: Option<(u64, Vec<u8>, bool)> = None;
    let mut header_seen = false;
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
        if let Some((no, text, _)) = pending.take() {
            apply_line(&mut state, &mut header_seen, path, target, no, &text, false)?;
        }
        pending = Some((line_no, std::mem::take(&mut buf), complete));
    }
    if let Some((no, text, complete)) = pending {
        apply_line(&mut state, &mut header_seen, path, target, no, &text, !complete)?;
    }
    Ok(state)
}

fn apply_line(
    state: &mut State,
    header_seen: &mut bool,
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
    if !*header_seen {
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
        *header_seen = true;
        return Ok(());
    }
    match serde_json::from_slice::<Record>(text) {
        Ok(record) => {
            state.records += 1;
            state.last.insert(record.key, record.outcome);
            Ok(())
        }
        Err(e) => Err(ErrorKind::Corrupt {
            path: path.to_path_buf(),
            line,
            message: e.to_string(),
        }
        .into()),
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

/// An open journal, appending one record per finished row. It is a [`Reporter`].
#[derive(Debug)]
pub struct Writer {
    file: File,
    path: PathBuf,
    line: Vec<u8>,
}

impl Writer {
    /// Open the journal for appending, creating it (with a header) when it is missing, or starting
    /// over when `fresh` is set. A torn last line left by a crash is cut off first, so that the
    /// next record starts on a line of its own.
    pub fn open(path: &Path, target: &str, fresh: bool) -> Result<Writer, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_state_dir(dir)?;
        }
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
        if fresh {
            file.set_len(0)
                .map_err(|source| io_error("truncate", path, source))?;
        }
        let len = cut_torn_tail(&mut file).map_err(|source| io_error("repair", path, source))?;
        file.seek(SeekFrom::End(0))
            .map_err(|source| io_error("open", path, source))?;
        let mut writer = Writer {
            file,
            path: path.to_path_buf(),
            line: Vec::with_capacity(256),
        };
        if len == 0 {
            let header = Header {
                format: FORMAT.to_owned(),
                version: VERSION,
                target: target.to_owned(),
            };
            writer.write_json(&header)?;
        }
        Ok(writer)
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record with a single write.
    pub fn append(&mut self, record: &Record) -> Result<(), Error> {
        self.write_json(record)
    }

    fn write_json(&mut self, value: &impl Serialize) -> Result<(), Error> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, value)
            .map_err(|e| io_error("write", &self.path, io::Error::other(e)))?;
        self.line.push(b'\n');
        // One write call per record: a crash can cut a record, never interleave two.
        self.file
            .write_all(&self.line)
            .map_err(|source| io_error("write", &self.path, source))?;
        self.file
            .flush()
            .map_err(|source| io_error("write", &self.path, source))
    }
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
    fn on_event(&mut self, plan: &Plan, event: &Event) -> io::Result<()> {
        let Event::RowFinished {
            index,
            outcome,
            attempts,
            ..
        } = event
        else {
            return Ok(());
        };
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
        };
        self.append(&record).map_err(io::Error::other)
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
        assert_eq!(text.lines().count(), 3, "{text}");
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
        drop(Writer::open(&path, "prod", false).unwrap());
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
    fn fresh_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut w = Writer::open(&path, "prod", false).unwrap();
        w.append(&record("a", RecordOutcome::Created)).unwrap();
        drop(w);
        drop(Writer::open(&path, "prod", true).unwrap());
        let state = read(&path, "prod").unwrap();
        assert_eq!(state.keys(), 0);
        assert_eq!(fs::read_to_string(&path).unwrap().lines().count(), 1);
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
                prop_assert_eq!(lines.len(), records.len() + 1);
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
