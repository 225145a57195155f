//! The failed-rows CSV: `<roster>.failed.csv` beside the roster, holding every row that failed,
//! with its original columns and cells plus why it failed.
//!
//! The file is itself a valid roster (the reader ignores the five error columns and strips the
//! `'` that guards formula-like cells), so `roster apply x.failed.csv --to T` reruns exactly those
//! rows. It is written whole and atomically (temp file + rename) when the run ends, readable by
//! the user only.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use core_api::target::TargetKind;

use crate::model::{Event, Plan, Reporter, RowError, RowOutcome};
use crate::roster::{self, FAILED_CSV_COLUMNS, escape_cell};

/// Where the failed rows of `roster` go: `dir/x.csv` gives `dir/x.failed.csv`.
pub fn path_for(roster: &Path) -> PathBuf {
    let name = roster
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = match name.len().checked_sub(4) {
        Some(cut) if name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(".csv") => &name[..cut],
        _ => name.as_str(),
    };
    roster.with_file_name(format!("{stem}.failed.csv"))
}

/// Collects failed rows from the executor's events and writes the CSV when the run finishes.
#[derive(Debug)]
pub struct FailedRows {
    roster: PathBuf,
    kind: TargetKind,
    out: PathBuf,
    failures: Vec<(u64, RowError)>,
    written: bool,
}

impl FailedRows {
    /// Failed rows of `roster` (read with `kind`'s role names), written to `out` (usually
    /// [`path_for`]).
    pub fn new(roster: &Path, kind: TargetKind, out: &Path) -> FailedRows {
        FailedRows {
            roster: roster.to_path_buf(),
            kind,
            out: out.to_path_buf(),
            failures: Vec::new(),
            written: false,
        }
    }

    /// Where the file goes.
    pub fn path(&self) -> &Path {
        &self.out
    }

    /// Rows failed so far.
    pub fn count(&self) -> usize {
        self.failures.len()
    }

    /// Whether the file was written by [`FailedRows::finish`].
    pub fn written(&self) -> bool {
        self.written
    }

    /// Record a failure by roster line.
    pub fn push(&mut self, line: u64, error: RowError) {
        self.failures.push((line, error));
    }

    /// Write the file when rows failed. When none failed and the run completed, a file left by an
    /// earlier run is removed: its rows have been done since, and a stale file would mislead.
    pub fn finish(&mut self, interrupted: bool) -> io::Result<()> {
        if self.failures.is_empty() {
            if !interrupted {
                match fs::remove_file(&self.out) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            return Ok(());
        }
        self.failures.sort_by_key(|(line, _)| *line);
        write_file(&self.roster, self.kind, &self.out, &self.failures)?;
        self.written = true;
        Ok(())
    }
}

impl Reporter for FailedRows {
    fn on_event(&mut self, plan: &Plan, event: &Event) -> io::Result<()> {
        match event {
            Event::RowFinished {
                index,
                outcome: RowOutcome::Failed(error),
                ..
            } => {
                let line = plan.items.get(*index).map_or(0, |item| item.line);
                self.push(line, error.clone());
                Ok(())
            }
            Event::Finished { interrupted, .. } => self.finish(*interrupted),
            _ => Ok(()),
        }
    }
}

/// Re-read the roster with the reader itself, so lines, header and cells match what it reported,
/// then write the original columns of the failed rows plus the error columns.
///
/// Reading again at the end keeps the run from holding a second copy of every row for the few
/// that fail.
fn write_file(roster: &Path, kind: TargetKind, out: &Path, failures: &[(u64, RowError)]) -> io::Result<()> {
    // The file was valid when the run began; if it has become unreadable since, the error
    // columns alone still say which lines failed and why.
    let table = roster::read_roster(roster, kind).ok();
    let header = table
        .as_ref()
        .map(roster::Roster::output_header)
        .unwrap_or_default();
    let mut body = Vec::new();
    {
        let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(&mut body);
        let mut out_row: Vec<String> = header.iter().map(|h| escape_cell(h).into_owned()).collect();
        out_row.extend(FAILED_CSV_COLUMNS.iter().map(|c| (*c).to_owned()));
        writer.write_record(&out_row).map_err(io::Error::other)?;
        let mut seen: HashMap<u64, ()> = HashMap::new();
        for (line, error) in failures {
            out_row.clear();
            let cells = table
                .as_ref()
                .filter(|_| *line > 0)
                .and_then(|t| t.index_of_line(*line).map(|i| t.output_cells(i)))
                .unwrap_or_else(|| vec![String::new(); header.len()]);
            // A line listed twice (a row failed, then its retry too) is written once.
            if *line > 0 && seen.insert(*line, ()).is_some() {
                continue;
            }
            out_row.extend(cells.iter().map(|c| escape_cell(c).into_owned()));
            out_row.push(escape_cell(&error.code).into_owned());
            out_row.push(error.http_status.map(|s| s.to_string()).unwrap_or_default());
            out_row.push(escape_cell(&error.message).into_owned());
            out_row.push(error.attempts.to_string());
            out_row.push(line.to_string());
            writer.write_record(&out_row).map_err(io::Error::other)?;
        }
        writer.flush()?;
    }
    write_atomically(out, &body)
}

/// Write a whole file via a temp file in the same directory and a rename, user-readable only.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file: File = options.open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str, message: &str) -> RowError {
        RowError {
            code: code.into(),
            http_status: Some(404),
            message: message.into(),
            attempts: 2,
        }
    }

    #[test]
    fn path_beside_the_roster() {
        assert_eq!(
            path_for(Path::new("a/b/roster.csv")),
            Path::new("a/b/roster.failed.csv")
        );
        assert_eq!(path_for(Path::new("roster.CSV")), Path::new("roster.failed.csv"));
        assert_eq!(
            path_for(Path::new("x.failed.csv")),
            Path::new("x.failed.failed.csv")
        );
        assert_eq!(path_for(Path::new("list.txt")), Path::new("list.txt.failed.csv"));
    }

    #[test]
    fn keeps_original_columns_and_drops_old_error_columns() {
        let dir = tempfile::tempdir().unwrap();
        let roster = dir.path().join("r.csv");
        fs::write(
            &roster,
            "\u{feff}# comment\nspace,type,assignee,roles,note,error_code,message\n\
             S,user,a@x.io,consumer,keep me,old,old message\n\
             \n\
             Multi Line,user,b@x.io,Can fly,\"=HYPERLINK(1)\",,\n\
             T,group,G,consumer,,,\n",
        )
        .unwrap();
        let out = path_for(&roster);
        let mut failed = FailedRows::new(&roster, TargetKind::Qlik, &out);
        failed.push(5, err("invalid_row", "unknown role \"Can fly\""));
        failed.push(3, err("server", "=oops"));
        failed.finish(false).unwrap();
        let text = fs::read_to_string(&out).unwrap();
        let expected = "space,type,assignee,roles,note,error_code,http_status,message,attempts,line\n\
             S,user,a@x.io,consumer,keep me,server,404,'=oops,2,3\n\
             Multi Line,user,b@x.io,Can fly,'=HYPERLINK(1),invalid_row,404,\"unknown role \"\"Can fly\"\"\",2,5\n";
        assert_eq!(text, expected);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn no_failures_removes_a_stale_file_unless_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let roster = dir.path().join("r.csv");
        fs::write(&roster, "space,type,assignee,roles\n").unwrap();
        let out = path_for(&roster);
        fs::write(&out, "old").unwrap();
        FailedRows::new(&roster, TargetKind::Qlik, &out)
            .finish(true)
            .unwrap();
        assert!(out.exists());
        FailedRows::new(&roster, TargetKind::Qlik, &out)
            .finish(false)
            .unwrap();
        assert!(!out.exists());
    }
}
