//! The peer baseline: what admins run today, one `curl` per call, through GNU parallel or a
//! plain loop. The scripts do the lookups a script has to do (the space's id by name, the
//! user's id by email) and print the create's HTTP status per row, with no retries, as such
//! scripts usually are.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

/// One row: look up, then create. Prints the create's status, or `lookup-failed`.
const ROW_SCRIPT: &str = r#"#!/usr/bin/env bash
# usage: row.sh SPACE TYPE ASSIGNEE ROLE  (QLIK_SERVER and QLIK_API_KEY from the environment)
space="$1"; type="$2"; assignee="$3"; role="$4"
auth="Authorization: Bearer $QLIK_API_KEY"
first_id() { grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4; }
sid=$(curl -s -G "$QLIK_SERVER/api/v1/spaces" --data-urlencode "name=$space" -H "$auth" | first_id)
uid=$(curl -s -G "$QLIK_SERVER/api/v1/users" --data-urlencode "filter=email eq \"$assignee\"" -H "$auth" | first_id)
if [ -z "$sid" ] || [ -z "$uid" ]; then echo "lookup-failed"; exit 0; fi
curl -s -o /dev/null -w '%{http_code}\n' -X POST "$QLIK_SERVER/api/v1/spaces/$sid/assignments" \
  -H "$auth" -H 'Content-Type: application/json' \
  --data "{\"type\":\"$type\",\"assigneeId\":\"$uid\",\"roles\":[\"$role\"]}"
"#;

/// The scripts for one roster.
pub struct Scripts {
    /// GNU parallel, 16 jobs.
    pub parallel: PathBuf,
    /// A `while read` loop.
    pub sequential: PathBuf,
}

/// The tool that is missing, if `parallel` (GNU's) or `curl` is.
pub fn missing_tools() -> Option<&'static str> {
    let runs = |program: &str| {
        Command::new(program)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let curl = runs("curl").is_some();
    // moreutils also has a `parallel`, which takes other arguments.
    let parallel = runs("parallel").is_some_and(|v| v.contains("GNU parallel"));
    match (parallel, curl) {
        (true, true) => None,
        (false, true) => Some("GNU parallel"),
        (true, false) => Some("curl"),
        (false, false) => Some("GNU parallel and curl"),
    }
}

/// Write `row.sh`, the roster's rows without the header, and the two drivers.
pub fn write_scripts(dir: &Path, roster: &Path) -> Result<Scripts> {
    let row = dir.join("row.sh");
    std::fs::write(&row, ROW_SCRIPT)?;
    let text = std::fs::read_to_string(roster).with_context(|| format!("read {}", roster.display()))?;
    let body = dir.join("peer-rows.csv");
    let rows: Vec<&str> = text.lines().skip(1).collect();
    std::fs::write(&body, rows.join("\n") + "\n")?;
    let (row, body) = (row.display(), body.display());
    let parallel = dir.join("peer-parallel.sh");
    std::fs::write(
        &parallel,
        format!("parallel --will-cite -j16 --colsep , bash {row} {{1}} {{2}} {{3}} {{4}} :::: {body}\n"),
    )?;
    let sequential = dir.join("peer-sequential.sh");
    std::fs::write(
        &sequential,
        format!("while IFS=, read -r s t a r; do bash {row} \"$s\" \"$t\" \"$a\" \"$r\"; done < {body}\n"),
    )?;
    Ok(Scripts { parallel, sequential })
}
