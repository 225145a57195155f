//! Regex filters that make this module's output stable in snapshot tests: elapsed times, ETAs,
//! rates, loopback ports and temporary paths change from run to run; the words around them do
//! not. Plain `(regex, replacement)` pairs, so any test harness can apply them.

/// The filters, most specific first.
pub fn snapshot_filters() -> Vec<(&'static str, &'static str)> {
    vec![
        // Loopback URLs carry a port picked at run time.
        (r"(127\.0\.0\.1|localhost|\[::1\]):\d+", "$1:[PORT]"),
        // Temporary directories differ per run and per OS.
        (
            r"(/private)?/(tmp|var/folders)/[^\s'\x22]*?/?(\.tmp|roster-demo-)[A-Za-z0-9_]+",
            "[TEMP]",
        ),
        // Durations: 0.4s, 12s, 1m 05s, 2h 03m.
        (r"\b\d+h \d{2}m\b", "[TIME]"),
        (r"\b\d+m \d{2}s\b", "[TIME]"),
        (r"\b\d+(\.\d)?s\b", "[TIME]"),
        // Achieved rates; limits are configuration and stay.
        (r"\b[\d,]+/min of\b", "[RATE]/min of"),
        (r"\bat [\d,]+/min\b", "at [RATE]/min"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_hide_what_changes() {
        let text = "done: 2,000 rows in 1m 05s\nwrites: 1,900 at 1,754/min (limit 2,700/min); 429 responses: 3\n\
                    [12s] 5/8 rows; writes 98/min of 120/min; eta 0.4s\nserver http://127.0.0.1:40123/api\n\
                    failed rows: /tmp/roster-demo-Ab12cD/demo-roster.failed.csv\n";
        insta::with_settings!({filters => snapshot_filters()}, {
            insta::assert_snapshot!(text);
        });
    }
}
