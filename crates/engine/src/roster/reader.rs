//! The streaming reader: one record at a time from a buffered file, checked as it goes, so a
//! 1,000,000-row roster costs only its rows and every problem in the file is found in one pass.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use core_api::target::{AssigneeKind, TargetKind};
use csv::ByteRecord;

use super::check;
use super::error::{FileProblem, RosterFileError};
use super::formula::unescape_cell;
use super::header::{self, AssigneeCols, Layout, SpaceCol};
use super::roles;
use super::table::{CONFLICT_PREFIX, Roster, rebuild};
use crate::model::{AssigneeRef, ParsedRow, RosterRow, RowProblem, RowSaid, SpaceRef};

/// More fields than this in one record is not a roster.
pub const MAX_COLUMNS: usize = 1024;

/// The largest field accepted, in bytes. Names are at most a few hundred characters; anything
/// far larger is a broken export or hostile input.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;

/// How many file-level problems an error keeps (the rest are counted).
pub const MAX_REPORTED_PROBLEMS: usize = 500;

const BUFFER: usize = 64 * 1024;

/// Reads and checks a roster file. See [`read_roster_from`].
pub fn read_roster(path: &Path, kind: TargetKind) -> Result<Roster, RosterFileError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| RosterFileError::open(&name, e))?;
    read_roster_from(file, &name, kind)
}

/// Reads and checks a roster from any byte source; `name` is used in messages.
///
/// A file-level problem (encoding, quoting, header, field counts, sizes) makes the whole file
/// an error listing every such problem; a row-level problem (unknown role, bad email, ...)
/// fails only its row. Rows naming the same space and assignee with different roles all fail;
/// exact repeats are merged.
pub fn read_roster_from<R: Read>(input: R, name: &str, kind: TargetKind) -> Result<Roster, RosterFileError> {
    let mut buffered = BufReader::with_capacity(BUFFER, input);
    let start = loop {
        match buffered.fill_buf() {
            Ok(bytes) => break bytes,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(RosterFileError::read(name, e)),
        }
    };
    if start.starts_with(&[0xFF, 0xFE]) || start.starts_with(&[0xFE, 0xFF]) {
        return Err(RosterFileError::invalid(
            name,
            vec![FileProblem {
                line: 0,
                column: None,
                message: "the file is utf-16 encoded; save it as utf-8 (in excel: \"csv utf-8\")".to_owned(),
            }],
            0,
        ));
    }
    // UTF-16 without a byte order mark, or a binary file: one clear message instead of one
    // per field. A stray NUL in a text file is left to the per-record check, which locates it.
    let nuls = start.iter().filter(|&&b| b == 0).count();
    if nuls * 10 > start.len() {
        return Err(RosterFileError::invalid(
            name,
            vec![FileProblem {
                line: 0,
                column: None,
                message: "the file is full of NUL bytes: it looks like utf-16 or a binary file, not a text \
                          csv; save it as utf-8"
                    .to_owned(),
            }],
            0,
        ));
    }
    let bom = if start.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let (delimiter, sep_line) = sniff_delimiter(&start[bom..]);
    buffered.consume(bom);

    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .delimiter(delimiter)
        .buffer_capacity(BUFFER)
        .from_reader(QuoteScan::new(buffered));
    let mut state = State::new(name, kind);
    let mut record = ByteRecord::new();
    let mut skip_sep_line = sep_line;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let source = match e.into_kind() {
                    csv::ErrorKind::Io(e) => e,
                    other => io::Error::other(format!("{other:?}")),
                };
                return Err(RosterFileError::read(name, source));
            }
        }
        // The parser's record positions point before any comment and blank lines it skipped,
        // so locate the record from its end instead: the line of its last byte, less the line
        // breaks inside quoted fields. (After a CRLF the parser stops between CR and LF, after
        // an LF past it: one byte back is inside the record's last line either way.)
        let end = csv.position().byte().saturating_sub(1);
        let mut inner_breaks = record.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
        // A quote left open runs the last field to the end of the file, where its final line
        // break is that byte itself rather than a break before it.
        let scan = csv.get_ref();
        if scan.odd && scan.offset == csv.position().byte() && record.as_slice().ends_with(b"\n") {
            inner_breaks = inner_breaks.saturating_sub(1);
        }
        let line = csv.get_mut().line_of(end).saturating_sub(inner_breaks).max(1);
        if skip_sep_line {
            skip_sep_line = false;
            continue;
        }
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        if state.on_record(&record, line).is_break() {
            break;
        }
    }
    let scan = csv.get_ref();
    if scan.odd && !state.problems.iter().any(|p| p.line == scan.opened_at) {
        state.problem(
            scan.opened_at,
            None,
            "unbalanced quote: a quote opened here is never closed (a field containing \" must be \
             quoted, with the quote doubled)"
                .to_owned(),
        );
    }
    state.finish()
}

/// Picks `,`, `;` or tab from the first line that is not blank or a comment, since spreadsheets
/// in many locales save with `;`. Honours Excel's `sep=X` first line (and says to skip it).
fn sniff_delimiter(bytes: &[u8]) -> (u8, bool) {
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) || line.first() == Some(&b'#') {
            continue;
        }
        if let [b's', b'e', b'p', b'=', d] = line
            && [b',', b';', b'\t', b'|'].contains(d)
        {
            return (*d, true);
        }
        let mut quoted = false;
        let (mut commas, mut semis, mut tabs) = (0, 0, 0);
        for &b in line {
            match b {
                b'"' => quoted = !quoted,
                b',' if !quoted => commas += 1,
                b';' if !quoted => semis += 1,
                b'\t' if !quoted => tabs += 1,
                _ => {}
            }
        }
        return match (commas, semis, tabs) {
            (0, s, _) if s > 0 => (b';', false),
            (0, 0, t) if t > 0 => (b'\t', false),
            _ => (b',', false),
        };
    }
    (b',', false)
}

/// Counts quotes as the bytes stream past, outside `#` comment lines, so that a quote left open
/// at the end of the file is found: the csv parser would silently take the rest of the file as
/// one field.
struct QuoteScan<R> {
    inner: R,
    /// Bytes passed so far.
    offset: u64,
    /// Offsets of newlines read ahead of the record being parsed.
    pending_newlines: VecDeque<u64>,
    /// Newlines before the last record asked about.
    lines_before: u64,
    odd: bool,
    newlines: u64,
    opened_at: u64,
    line_start: bool,
    comment: bool,
}

impl<R> QuoteScan<R> {
    fn new(inner: R) -> Self {
        QuoteScan {
            inner,
            offset: 0,
            pending_newlines: VecDeque::new(),
            lines_before: 0,
            odd: false,
            newlines: 0,
            opened_at: 0,
            line_start: true,
            comment: false,
        }
    }

    /// The 1-based line of the byte at `offset`. Offsets must not decrease between calls,
    /// which holds for the starts of successive records.
    fn line_of(&mut self, offset: u64) -> u64 {
        while self.pending_newlines.front().is_some_and(|&at| at < offset) {
            self.pending_newlines.pop_front();
            self.lines_before += 1;
        }
        self.lines_before + 1
    }
}

impl<R: Read> Read for QuoteScan<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in buf.get(..n).unwrap_or_default() {
            if b == b'\n' {
                self.pending_newlines.push_back(self.offset);
            }
            self.offset += 1;
            if self.comment {
                if b == b'\n' {
                    self.comment = false;
                    self.line_start = true;
                    self.newlines += 1;
                }
                continue;
            }
            match b {
                b'#' if self.line_start && !self.odd => self.comment = true,
                b'"' => {
                    self.odd = !self.odd;
                    if self.odd {
                        self.opened_at = self.newlines + 1;
                    }
                }
                b'\n' => {
                    self.newlines += 1;
                    self.line_start = true;
                    continue;
                }
                _ => {}
            }
            self.line_start = false;
        }
        Ok(n)
    }
}

/// What the reader has found so far.
struct State<'a> {
    name: &'a str,
    kind: TargetKind,
    header: Option<Vec<String>>,
    layout: Option<Layout>,
    rows: Vec<ParsedRow>,
    extras: Vec<Box<[Box<str>]>>,
    raw: HashMap<u64, Box<[Box<str>]>>,
    data_records: u64,
    problems: Vec<FileProblem>,
    omitted: u64,
}

impl<'a> State<'a> {
    fn new(name: &'a str, kind: TargetKind) -> Self {
        State {
            name,
            kind,
            header: None,
            layout: None,
            rows: Vec::new(),
            extras: Vec::new(),
            raw: HashMap::new(),
            data_records: 0,
            problems: Vec::new(),
            omitted: 0,
        }
    }

    fn problem(&mut self, line: u64, column: Option<usize>, message: String) {
        if self.problems.len() < MAX_REPORTED_PROBLEMS {
            self.problems.push(FileProblem {
                line,
                column,
                message,
            });
        } else {
            self.omitted += 1;
        }
    }

    /// Takes one non-blank record; `Break` stops reading (the rest would only repeat the
    /// same problem, e.g. a utf-16 file).
    fn on_record(&mut self, record: &ByteRecord, line: u64) -> std::ops::ControlFlow<()> {
        let Some(header) = &self.header else {
            if record.as_slice().contains(&0) {
                self.problem(
                    line,
                    None,
                    "the header contains NUL bytes: the file looks like utf-16 or binary; save it as utf-8"
                        .to_owned(),
                );
                self.header = Some(Vec::new());
                return std::ops::ControlFlow::Break(());
            }
            let ok = self.check_fields(record, line, None);
            let header: Vec<String> = record
                .iter()
                .map(|f| String::from_utf8_lossy(f).trim().to_owned())
                .collect();
            if ok {
                match header::detect(&header) {
                    Ok(layout) => self.layout = Some(layout),
                    Err(problems) => {
                        for (column, message) in problems {
                            self.problem(line, column, message);
                        }
                    }
                }
            }
            self.header = Some(header);
            return std::ops::ControlFlow::Continue(());
        };
        self.data_records += 1;
        let width = header.len();
        // Unnamed columns at the end of the header (a trailing comma) may be left out of rows.
        let needed = header
            .iter()
            .rposition(|name| !name.is_empty())
            .map_or(0, |i| i + 1);
        let layout = self.layout.take();
        let mut ok = self.check_fields(record, line, layout.as_ref());
        if ok && record.len() < needed {
            ok = false;
            self.problem(
                line,
                None,
                format!(
                    "expected {needed} fields as in the header, found {}",
                    record.len()
                ),
            );
        }
        if ok
            && record.len() > width
            && record
                .iter()
                .skip(width)
                .any(|f| !f.iter().all(u8::is_ascii_whitespace))
        {
            ok = false;
            self.problem(
                line,
                Some(width + 1),
                format!("found {} fields, but the header has {width}", record.len()),
            );
        }
        // Once the file is known to be unusable, rows are only checked, not kept.
        if ok
            && self.problems.is_empty()
            && let Some(layout) = &layout
        {
            self.push_row(layout, record, line);
        }
        self.layout = layout;
        std::ops::ControlFlow::Continue(())
    }

    /// The file-level checks of every field; false when one failed.
    fn check_fields(&mut self, record: &ByteRecord, line: u64, layout: Option<&Layout>) -> bool {
        if record.len() > MAX_COLUMNS {
            self.problem(
                line,
                None,
                format!("{} fields; the limit is {MAX_COLUMNS}", record.len()),
            );
            return false;
        }
        if let Some(column) = record.iter().position(|f| f.contains(&0)) {
            self.problem(
                line,
                Some(column + 1),
                "contains a NUL byte (is the file utf-16 or binary? save it as utf-8)".to_owned(),
            );
            return false;
        }
        let mut ok = true;
        for (i, field) in record.iter().enumerate() {
            let column = Some(i + 1);
            if field.len() > MAX_FIELD_BYTES {
                self.problem(
                    line,
                    column,
                    format!(
                        "field is {} bytes long; the limit is {MAX_FIELD_BYTES}",
                        field.len()
                    ),
                );
                ok = false;
                continue;
            }
            if !layout.is_some_and(|l| l.is_ignored(i)) && field.iter().any(|&b| b == b'\n' || b == b'\r') {
                let lines = field.iter().filter(|&&b| b == b'\n').count() + 1;
                self.problem(
                    line,
                    column,
                    format!("field runs over {lines} lines; a quote is probably not closed"),
                );
                ok = false;
                continue;
            }
            if let Err(e) = std::str::from_utf8(field) {
                let at = e.valid_up_to();
                let byte = field.get(at).copied().unwrap_or_default();
                self.problem(
                    line,
                    column,
                    format!(
                        "invalid utf-8 (byte 0x{byte:02x} at offset {at} of the field); save the file as utf-8"
                    ),
                );
                ok = false;
            }
        }
        ok
    }

    fn push_row(&mut self, layout: &Layout, record: &ByteRecord, line: u64) {
        let result = parse_row(
            layout,
            self.header.as_deref().unwrap_or_default(),
            self.kind,
            record,
            line,
        );
        if !layout.extras.is_empty() {
            let extras: Box<[Box<str>]> = if result.is_ok() {
                layout
                    .extras
                    .iter()
                    .map(|&i| Box::from(cell(record, i)))
                    .collect()
            } else {
                Box::default()
            };
            self.extras.push(extras);
        }
        if result.is_err() {
            let cells: Box<[Box<str>]> = (0..layout.width)
                .filter(|i| !layout.is_ignored(*i))
                .map(|i| Box::from(cell(record, i)))
                .collect();
            self.raw.insert(line, cells);
        }
        self.rows.push(ParsedRow { line, row: result });
    }

    fn finish(mut self) -> Result<Roster, RosterFileError> {
        match &self.header {
            None => self.problem(
                0,
                None,
                "the file is empty; the first line must be a header such as space,type,assignee,roles"
                    .to_owned(),
            ),
            Some(_) if self.data_records == 0 && self.problems.is_empty() => {
                self.problem(0, None, "the file has a header but no rows".to_owned());
            }
            Some(_) => {}
        }
        let (Some(header), Some(layout), true) = (self.header, self.layout, self.problems.is_empty()) else {
            return Err(RosterFileError::invalid(self.name, self.problems, self.omitted));
        };
        let extra_columns = layout.extras.iter().map(|&i| header[i].clone()).collect();
        let mut roster = Roster {
            file: self.name.to_owned(),
            kind: self.kind,
            header,
            extra_columns,
            rows: self.rows,
            merged_duplicates: 0,
            layout,
            extras: self.extras,
            raw: self.raw,
        };
        dedupe(&mut roster);
        Ok(roster)
    }
}

/// Field `i`, trimmed and with a failed-rows CSV's formula escape removed; empty when absent.
/// Only called on records whose fields were all checked to be utf-8.
fn cell(record: &ByteRecord, i: usize) -> &str {
    let raw = record
        .get(i)
        .and_then(|f| std::str::from_utf8(f).ok())
        .unwrap_or_default();
    unescape_cell(raw.trim())
}

/// Collects a row's problems; the first names the column.
struct Problems<'h> {
    header: &'h [String],
    first_column: Option<usize>,
    messages: Vec<String>,
    /// The row, to say what it gives once it is found invalid (valid rows never pay for it).
    layout: &'h Layout,
    record: &'h ByteRecord,
}

/// The row's space, type and assignee cells as written, for a row that turns out invalid.
fn said(layout: &Layout, record: &ByteRecord) -> RowSaid {
    let space = match layout.space {
        SpaceCol::Name(i) | SpaceCol::Id(i) => cell(record, i).to_owned(),
    };
    let mut kind = layout
        .kind
        .map(|i| cell(record, i).to_owned())
        .unwrap_or_default();
    let assignee = match layout.assignee {
        AssigneeCols::Generic { index, .. } => cell(record, index).to_owned(),
        AssigneeCols::Split { user, group } => {
            let filled = |col: Option<usize>| col.map(|i| cell(record, i)).filter(|v| !v.is_empty());
            match (filled(user), filled(group)) {
                (Some(email), _) => {
                    if kind.is_empty() {
                        kind = "user".to_owned();
                    }
                    email.to_owned()
                }
                (None, Some(name)) => {
                    if kind.is_empty() {
                        kind = "group".to_owned();
                    }
                    name.to_owned()
                }
                (None, None) => String::new(),
            }
        }
    };
    RowSaid {
        space,
        kind,
        assignee,
    }
}

impl Problems<'_> {
    fn add(&mut self, column: usize, message: String) {
        if self.messages.is_empty() {
            self.first_column = Some(column);
        }
        self.messages.push(message);
    }
}

fn parse_row(
    layout: &Layout,
    header: &[String],
    kind: TargetKind,
    record: &ByteRecord,
    line: u64,
) -> Result<RosterRow, RowProblem> {
    let mut problems = Problems {
        header,
        first_column: None,
        messages: Vec::new(),
        layout,
        record,
    };

    let space = match layout.space {
        SpaceCol::Name(i) | SpaceCol::Id(i) if cell(record, i).is_empty() => {
            problems.add(i, "missing space".to_owned());
            None
        }
        SpaceCol::Name(i) => {
            let value = cell(record, i);
            match check::space_name(value, kind) {
                Ok(()) => Some(SpaceRef::Name(value.to_owned())),
                Err(message) => {
                    problems.add(i, message);
                    None
                }
            }
        }
        SpaceCol::Id(i) => {
            let value = cell(record, i);
            match check::space_id(value, kind) {
                Ok(()) => Some(SpaceRef::Id(value.to_owned())),
                Err(message) => {
                    problems.add(i, message);
                    None
                }
            }
        }
    };

    let stated_kind = match layout.kind {
        Some(i) => {
            let value = cell(record, i);
            if value.is_empty() {
                None
            } else if value.eq_ignore_ascii_case("user") {
                Some(AssigneeKind::User)
            } else if value.eq_ignore_ascii_case("group") {
                Some(AssigneeKind::Group)
            } else {
                problems.add(
                    i,
                    format!("unknown type {} (expected user or group)", check::shown(value)),
                );
                return Err(problems.into_problem(line));
            }
        }
        None => None,
    };

    let assignee = match layout.assignee {
        AssigneeCols::Generic { index, by_id } => {
            let value = cell(record, index);
            match stated_kind {
                None => {
                    let i = layout.kind.unwrap_or(index);
                    problems.add(i, "missing type (user or group)".to_owned());
                    None
                }
                Some(_) if value.is_empty() => {
                    problems.add(index, "missing assignee".to_owned());
                    None
                }
                Some(k) if by_id => match check::id(value, "assignee id") {
                    Ok(()) => Some((k, AssigneeRef::Id(value.to_owned()))),
                    Err(message) => {
                        problems.add(index, message);
                        None
                    }
                },
                // A user known by subject alone (no email) is exported with its id beside it.
                Some(AssigneeKind::User) if !value.contains('@') => {
                    match layout.assignee_id_fallback.map(|i| cell(record, i)) {
                        Some(id) if !id.is_empty() => match check::id(id, "assignee id") {
                            Ok(()) => Some((AssigneeKind::User, AssigneeRef::Id(id.to_owned()))),
                            Err(message) => {
                                problems.add(index, message);
                                None
                            }
                        },
                        _ => assignee_by_name(AssigneeKind::User, value, index, &mut problems),
                    }
                }
                Some(k) => assignee_by_name(k, value, index, &mut problems),
            }
        }
        AssigneeCols::Split { user, group } => {
            let user_value = user.map(|i| (i, cell(record, i))).filter(|(_, v)| !v.is_empty());
            let group_value = group.map(|i| (i, cell(record, i))).filter(|(_, v)| !v.is_empty());
            match (user_value, group_value) {
                (Some(_), Some((g, _))) => {
                    problems.add(
                        g,
                        "fill either the email or the group column, not both".to_owned(),
                    );
                    None
                }
                (None, None) => {
                    let i = user.or(group).unwrap_or_default();
                    problems.add(
                        i,
                        "missing assignee: fill the email or the group column".to_owned(),
                    );
                    None
                }
                (Some((i, value)), None) | (None, Some((i, value))) => {
                    let implied = if user == Some(i) {
                        AssigneeKind::User
                    } else {
                        AssigneeKind::Group
                    };
                    match stated_kind {
                        Some(stated) if stated != implied => {
                            problems.add(
                                layout.kind.unwrap_or(i),
                                format!("type {stated} does not match the filled {implied} column"),
                            );
                            None
                        }
                        _ => assignee_by_name(implied, value, i, &mut problems),
                    }
                }
            }
        }
    };

    let roles =
        parse_roles(cell(record, layout.roles), kind).map_err(|message| problems.add(layout.roles, message));

    match (space, assignee, roles) {
        (Some(space), Some((assignee_kind, assignee)), Ok(roles)) if problems.messages.is_empty() => {
            Ok(RosterRow {
                line,
                space,
                assignee_kind,
                assignee,
                roles,
            })
        }
        _ => Err(problems.into_problem(line)),
    }
}

impl Problems<'_> {
    fn into_problem(self, line: u64) -> RowProblem {
        RowProblem {
            line,
            column: self.first_column.and_then(|i| self.header.get(i)).cloned(),
            message: self.messages.join("; "),
            said: Box::new(said(self.layout, self.record)),
        }
    }
}

fn assignee_by_name(
    kind: AssigneeKind,
    value: &str,
    column: usize,
    problems: &mut Problems<'_>,
) -> Option<(AssigneeKind, AssigneeRef)> {
    let checked = match kind {
        AssigneeKind::User => check::email(value).map(AssigneeRef::Email),
        AssigneeKind::Group => check::group_name(value).map(|()| AssigneeRef::Name(value.to_owned())),
    };
    match checked {
        Ok(assignee) => Some((kind, assignee)),
        Err(message) => {
            problems.add(column, message);
            None
        }
    }
}

/// Splits on `;` or `|`, maps every word to its API name, sorts and removes repeats.
fn parse_roles(value: &str, kind: TargetKind) -> Result<Vec<String>, String> {
    let mut roles: Vec<&'static str> = Vec::with_capacity(2);
    let mut unknown = Vec::new();
    for word in value.split([';', '|']).map(str::trim).filter(|w| !w.is_empty()) {
        match roles::normalise(word, kind) {
            Some(api) => roles.push(api),
            None => unknown.push(check::shown(word)),
        }
    }
    if !unknown.is_empty() {
        let noun = if unknown.len() == 1 { "role" } else { "roles" };
        return Err(format!(
            "unknown {noun} {} (expected one of: {})",
            unknown.join(", "),
            roles::expected(kind)
        ));
    }
    if roles.is_empty() {
        return Err("no roles given".to_owned());
    }
    roles.sort_unstable();
    roles.dedup();
    Ok(roles.into_iter().map(str::to_owned).collect())
}

/// Indices of valid rows that name the same (space, type, assignee), in groups of two or more,
/// each group in file order.
///
/// Sorting 16-byte (hash, index) pairs instead of a hash map of borrowed keys keeps a
/// million-row roster to 16 MB and one cache-friendly sort; rows whose hashes collide are told
/// apart by comparing them.
fn duplicate_groups(rows: &[ParsedRow]) -> Vec<Vec<usize>> {
    let identity = |index: usize| {
        rows.get(index)
            .and_then(|r| r.row.as_ref().ok())
            .map(|row| (&row.space, row.assignee_kind, &row.assignee))
    };
    let mut keys: Vec<(u64, usize)> = rows
        .iter()
        .enumerate()
        .filter_map(|(index, parsed)| {
            let row = parsed.row.as_ref().ok()?;
            let mut hasher = std::hash::DefaultHasher::new();
            (&row.space, row.assignee_kind, &row.assignee).hash(&mut hasher);
            Some((hasher.finish(), index))
        })
        .collect();
    keys.sort_unstable();
    let mut groups = Vec::new();
    for run in keys.chunk_by(|a, b| a.0 == b.0).filter(|run| run.len() > 1) {
        let mut members: Vec<usize> = run.iter().map(|(_, index)| *index).collect();
        while let Some(&first) = members.first() {
            let (same, rest): (Vec<usize>, Vec<usize>) =
                members.into_iter().partition(|&i| identity(i) == identity(first));
            if same.len() > 1 {
                groups.push(same);
            }
            members = rest;
        }
    }
    // File order of the first row, so problems come out in a stable order.
    groups.sort_unstable_by_key(|group| group.first().copied());
    groups
}

/// Merges exact repeats and fails rows that contradict each other (same space, type and
/// assignee, different roles), naming every line involved.
fn dedupe(roster: &mut Roster) {
    let groups = duplicate_groups(&roster.rows);
    if groups.is_empty() {
        return;
    }
    let mut remove = vec![false; roster.rows.len()];
    let mut conflicts: Vec<(usize, String)> = Vec::new();
    for group in &groups {
        // The first row of each distinct role set; later rows with the same roles are merged.
        let mut distinct: Vec<(usize, &Vec<String>)> = Vec::new();
        for &index in group {
            let Ok(row) = &roster.rows[index].row else {
                continue;
            };
            if distinct.iter().any(|(_, roles)| **roles == row.roles) {
                remove[index] = true;
                roster.merged_duplicates += 1;
            } else {
                distinct.push((index, &row.roles));
            }
        }
        if distinct.len() < 2 {
            continue;
        }
        for &(index, roles) in &distinct {
            let others: Vec<String> = distinct
                .iter()
                .filter(|(other, _)| *other != index)
                .map(|(other, roles)| format!("line {} gives {}", roster.rows[*other].line, roles.join(";")))
                .collect();
            conflicts.push((
                index,
                format!(
                    "{CONFLICT_PREFIX}: this line gives roles {}, {} (same space and assignee); keep one row",
                    roles.join(";"),
                    others.join(", ")
                ),
            ));
        }
    }
    for (index, message) in conflicts {
        let parsed = &mut roster.rows[index];
        if let Ok(row) = &parsed.row {
            let cells = rebuild(&roster.layout, row, roster.extras.get(index).map_or(&[], |c| c));
            roster
                .raw
                .insert(parsed.line, cells.into_iter().map(Box::from).collect());
        }
        let said = match &parsed.row {
            Ok(row) => Box::new(RowSaid {
                space: match &row.space {
                    SpaceRef::Name(v) | SpaceRef::Id(v) => v.clone(),
                },
                kind: row.assignee_kind.to_string(),
                assignee: match &row.assignee {
                    AssigneeRef::Email(v) | AssigneeRef::Name(v) | AssigneeRef::Id(v) => v.clone(),
                },
            }),
            Err(problem) => problem.said.clone(),
        };
        parsed.row = Err(RowProblem {
            line: parsed.line,
            column: None,
            message,
            said,
        });
    }
    let mut index = 0;
    roster.rows.retain(|_| {
        index += 1;
        !remove[index - 1]
    });
    if !roster.extras.is_empty() {
        let mut index = 0;
        roster.extras.retain(|_| {
            index += 1;
            !remove[index - 1]
        });
    }
}
