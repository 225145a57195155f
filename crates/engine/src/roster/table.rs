//! A roster read into memory: its rows, and what the failed-rows CSV needs to write them back.

use std::collections::HashMap;

use core_api::target::{AssigneeKind, TargetKind};

use super::header::{AssigneeCols, Layout, SpaceCol};
use crate::model::{AssigneeRef, ParsedRow, RosterRow, RowProblem, SpaceRef};

/// Message prefix of a row that names the same space and assignee as another row with other
/// roles; [`RowProblem::code`] recognises it.
pub(crate) const CONFLICT_PREFIX: &str = "conflicting duplicate";

/// A roster file read and checked. Rows keep file order; exact duplicates are merged away.
#[derive(Debug, Clone)]
pub struct Roster {
    /// The file as the user named it, for messages.
    pub file: String,
    /// The vendor whose role names were accepted.
    pub kind: TargetKind,
    /// The header as written (cells trimmed).
    pub header: Vec<String>,
    /// Columns the tool does not use, in file order; carried to the failed-rows CSV.
    pub extra_columns: Vec<String>,
    /// One entry per data record, valid or not, in file order.
    pub rows: Vec<ParsedRow>,
    /// Rows dropped because an earlier row said exactly the same.
    pub merged_duplicates: u64,
    pub(crate) layout: Layout,
    /// Extra cells per row, parallel to `rows`; empty when the file has no extra columns.
    pub(crate) extras: Vec<Box<[Box<str>]>>,
    /// The output cells of rows with a problem, by line: those rows have no [`RosterRow`] to
    /// rebuild them from, and the failed-rows CSV must show them as written.
    pub(crate) raw: HashMap<u64, Box<[Box<str>]>>,
}

impl Roster {
    /// The valid rows.
    pub fn valid_rows(&self) -> impl Iterator<Item = &RosterRow> {
        self.rows.iter().filter_map(|r| r.row.as_ref().ok())
    }

    /// The row-level problems, in file order.
    pub fn problems(&self) -> impl Iterator<Item = &RowProblem> {
        self.rows.iter().filter_map(|r| r.row.as_ref().err())
    }

    /// The index in [`Roster::rows`] of the record starting at `line`.
    pub fn index_of_line(&self, line: u64) -> Option<usize> {
        self.rows.binary_search_by_key(&line, |r| r.line).ok()
    }

    /// The cells of the extra columns of row `index`, in [`Roster::extra_columns`] order
    /// (empty when the file has none).
    pub fn extra_cells(&self, index: usize) -> &[Box<str>] {
        self.extras.get(index).map_or(&[], |cells| cells)
    }

    /// `file:line:column` for a row problem, the column being the 1-based field number.
    pub fn locate(&self, problem: &RowProblem) -> String {
        let column = problem
            .column
            .as_deref()
            .and_then(|name| self.header.iter().position(|h| h == name))
            .map(|i| format!(":{}", i + 1))
            .unwrap_or_default();
        format!("{}:{}{}", self.file, problem.line, column)
    }

    /// The header of a failed-rows CSV for this roster: the original columns, without the
    /// columns an earlier failed-rows CSV added (the writer appends fresh ones).
    pub fn output_header(&self) -> Vec<String> {
        self.header
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.layout.is_ignored(*i))
            .map(|(_, name)| name.clone())
            .collect()
    }

    /// The cells of row `index` under [`Roster::output_header`]: as written for rows with a
    /// problem; rebuilt from the normalised row otherwise (roles joined with `;`). Cells are
    /// not formula-escaped: the writer does that with [`super::escape_cell`].
    pub fn output_cells(&self, index: usize) -> Vec<String> {
        let Some(parsed) = self.rows.get(index) else {
            return Vec::new();
        };
        match &parsed.row {
            Ok(row) => rebuild(&self.layout, row, self.extra_cells(index)),
            Err(_) => match self.raw.get(&parsed.line) {
                Some(cells) => cells.iter().map(|c| c.to_string()).collect(),
                None => vec![String::new(); self.output_header().len()],
            },
        }
    }
}

/// The output cells of a valid row, placed under the original header.
pub(crate) fn rebuild(layout: &Layout, row: &RosterRow, extras: &[Box<str>]) -> Vec<String> {
    let mut cells = Vec::with_capacity(layout.width);
    let assignee_value = match &row.assignee {
        AssigneeRef::Email(v) | AssigneeRef::Name(v) | AssigneeRef::Id(v) => v.as_str(),
    };
    for i in 0..layout.width {
        if layout.is_ignored(i) {
            continue;
        }
        let cell = match (layout.space, layout.assignee) {
            (SpaceCol::Name(s) | SpaceCol::Id(s), _) if s == i => match &row.space {
                SpaceRef::Name(v) | SpaceRef::Id(v) => v.clone(),
            },
            _ if layout.kind == Some(i) => row.assignee_kind.to_string(),
            _ if layout.roles == i => row.roles.join(";"),
            (_, AssigneeCols::Generic { index, .. }) if index == i => assignee_value.to_owned(),
            (_, AssigneeCols::Split { user, .. }) if user == Some(i) => {
                if row.assignee_kind == AssigneeKind::User {
                    assignee_value.to_owned()
                } else {
                    String::new()
                }
            }
            (_, AssigneeCols::Split { group, .. }) if group == Some(i) => {
                if row.assignee_kind == AssigneeKind::Group {
                    assignee_value.to_owned()
                } else {
                    String::new()
                }
            }
            _ => layout
                .extras
                .iter()
                .position(|&e| e == i)
                .and_then(|p| extras.get(p))
                .map(|c| c.to_string())
                .unwrap_or_default(),
        };
        cells.push(cell);
    }
    cells
}

impl RowProblem {
    /// The machine code of the problem for the failed-rows CSV and the journal:
    /// `duplicate_conflict` for rows that contradict another row, `invalid_row` otherwise.
    pub fn code(&self) -> &'static str {
        if self.message.starts_with(CONFLICT_PREFIX) {
            "duplicate_conflict"
        } else {
            "invalid_row"
        }
    }
}
