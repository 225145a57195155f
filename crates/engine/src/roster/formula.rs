//! Spreadsheet formula escaping. A cell that starts with `=`, `+`, `-`, `@`, tab or carriage
//! return is run as a formula when a CSV is opened in a spreadsheet, so the failed-rows CSV
//! prefixes such cells with `'`; the reader strips that prefix again, so the file is still a
//! roster that reruns exactly its rows. Cells starting with `#` get the same guard, so that a
//! space named `#general` in the first column does not turn its row into a comment line.

use std::borrow::Cow;

/// The characters a spreadsheet starts a formula with, plus `#`: a line whose first cell starts
/// with `#` would read back as a comment, so that cell is guarded the same way.
fn triggers(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r' | '#')
}

/// The cell as written to a CSV a person may open in a spreadsheet.
pub fn escape_cell(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some(c) if triggers(c) => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// The cell as the roster means it: one leading `'` removed when a formula character follows.
///
/// So a value can never start with `'` and a formula character; [`escape_cell`] of any value the
/// reader yields reads back as that value.
pub fn unescape_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.chars().next().is_some_and(triggers) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for cell in [
            "=cmd|' /C calc'!A0",
            "+1",
            "-x",
            "@sum",
            "\tx",
            "\rx",
            "#general",
            "''=x",
            "plain",
            "",
            "'",
            "'plain",
        ] {
            assert_eq!(unescape_cell(&escape_cell(cell)), cell, "{cell:?}");
        }
        assert_eq!(escape_cell("=1+1"), "'=1+1");
        assert_eq!(escape_cell("a=1"), "a=1");
        assert_eq!(unescape_cell("'@x"), "@x");
        assert_eq!(unescape_cell("'x"), "'x");
    }

    #[test]
    fn escaped_cells_never_start_with_a_formula_character() {
        for cell in ["=x", "+x", "-x", "@x", "\tx", "\rx", "#x"] {
            let escaped = escape_cell(cell);
            assert!(!escaped.starts_with(triggers), "{escaped:?}");
        }
    }
}
