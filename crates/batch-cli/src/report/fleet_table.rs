//! The end of a fleet run: a table with one line per tenant (outcome counts, writes, 429s, time,
//! the failed-rows CSV or why it failed), then the fleet's totals; and the exit code.
//!
//! ```text
//! tenant       result       created  updated  unchanged  failed  writes  429s  time    file / why
//! cust-01      ok               200        0          0       0     200     0  20.1s
//! cust-02      rows failed      198        0          0       2     200     0  20.3s   roster.failed/cust-02.csv
//! cust-03      failed             -        -          -       -       -     -   0.1s   failed to plan: ... (HTTP 401)
//! total        18 ok, 1 rows failed, 1 failed
//!                              3,798        0          0       2   3,800     0  20.4s
//! ```
//!
//! With `--json`, each tenant's line is a `tenant_finished` event and the totals a
//! `fleet_finished` event, both with `"fleet_format_version": 1`.

use std::io::Write;
use std::time::Duration;

use super::format::{self, Paint};
use crate::exit;
use engine::fleet::{Status, TenantReport};
use engine::model::Totals;

/// The version of the fleet events (`tenant_finished`, `fleet_finished`).
pub const FLEET_JSON_VERSION: u32 = 1;

/// What a fleet command reports in its table and decides its exit code from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `apply`: rows done.
    Apply,
    /// `plan`: rows to create, update, delete; errors.
    Plan {
        /// `--check`: exit 3 when some tenant would change.
        check: bool,
    },
    /// `export`: files written.
    Export,
}

/// One tenant as a `tenant_finished` JSON object.
pub fn report_json(report: &TenantReport) -> serde_json::Value {
    serde_json::json!({
        "event": "tenant_finished",
        "fleet_format_version": FLEET_JSON_VERSION,
        "target": report.name,
        "status": report.status,
        "elapsed_ms": report.elapsed.as_millis() as u64,
        "totals": totals_json(&report.totals),
        "file": report.file.as_ref().map(|p| p.display().to_string()),
        "error": report.note,
    })
}

fn totals_json(t: &Totals) -> serde_json::Value {
    serde_json::json!({
        "total": t.total, "done": t.done, "resumed": t.resumed, "created": t.created,
        "updated": t.updated, "unchanged": t.unchanged, "deleted": t.deleted, "failed": t.failed,
        "writes": t.writes, "throttled": t.throttled,
    })
}

/// The line printed as a tenant finishes (without a terminal, or above the bars).
pub fn one_line(report: &TenantReport, paint: Paint) -> String {
    let t = &report.totals;
    let status = match report.status {
        Status::Ok => paint.green("ok"),
        Status::Changes => paint.yellow("changes"),
        Status::Failed | Status::RowsFailed => paint.red(report.status.word()),
        other => paint.yellow(other.word()),
    };
    let mut line = format!(
        "{}: {status} in {}",
        report.name,
        format::duration(report.elapsed)
    );
    if report.status != Status::Failed {
        line.push_str(&format!(
            " ({} rows: {} created, {} updated, {} unchanged, {} failed; {} writes, {} 429s)",
            format::count(t.total),
            format::count(t.created),
            format::count(t.updated),
            format::count(t.unchanged),
            format::count(t.failed),
            format::count(t.writes),
            format::count(t.throttled)
        ));
    }
    if let Some(note) = &report.note {
        line.push_str(&format!(": {}", first_line(note)));
    }
    line
}

fn first_line(text: &str) -> String {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default().to_owned();
    match lines.find_map(|l| l.strip_prefix("hint: ")) {
        Some(hint) => format!("{first} (hint: {hint})"),
        None => first,
    }
}

/// Print the table and the totals to `out`.
pub fn print(out: &mut dyn Write, reports: &[TenantReport], kind: Kind, elapsed: Duration, paint: Paint) {
    let width = reports
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(6)
        .clamp(6, 40);
    let (a, b, c) = match kind {
        Kind::Apply => ("created", "updated", "unchanged"),
        Kind::Plan { .. } => ("create", "update", "unchanged"),
        Kind::Export => ("rows", "", ""),
    };
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<width$}  {:<12} {:>9} {:>9} {:>9} {:>7} {:>7} {:>5} {:>8}  file / why",
        "tenant", "result", a, b, c, "failed", "writes", "429s", "time"
    );
    let mut sum = Totals::default();
    for r in reports {
        let t = &r.totals;
        add(&mut sum, t);
        let status = format!("{:<12}", r.status.word());
        let status = match r.status {
            Status::Ok => paint.green(&status),
            Status::Failed | Status::RowsFailed => paint.red(&status),
            _ => paint.yellow(&status),
        };
        let counted = !matches!(r.status, Status::Failed | Status::NotStarted);
        let n = |v: u64| if counted { format::count(v) } else { "-".to_owned() };
        let (x, y, z) = match kind {
            Kind::Export => (n(t.total), String::new(), String::new()),
            _ => (n(t.created), n(t.updated), n(t.unchanged)),
        };
        let why = match (&r.file, &r.note) {
            (_, Some(note)) if r.status == Status::Failed => first_line(note),
            (Some(file), _) => file.display().to_string(),
            (None, Some(note)) => first_line(note),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            out,
            "{:<width$}  {status} {x:>9} {y:>9} {z:>9} {:>7} {:>7} {:>5} {:>8}  {why}",
            shorten(&r.name, width),
            n(t.failed),
            n(t.writes),
            n(t.throttled),
            format::duration(r.elapsed),
        );
    }
    let mut counts: Vec<String> = Vec::new();
    for status in [
        Status::Ok,
        Status::Changes,
        Status::RowsFailed,
        Status::Failed,
        Status::Interrupted,
        Status::NotStarted,
    ] {
        let n = reports.iter().filter(|r| r.status == status).count();
        if n > 0 {
            counts.push(format!("{n} {}", status.word()));
        }
    }
    let (x, y, z) = match kind {
        Kind::Export => (format::count(sum.total), String::new(), String::new()),
        _ => (
            format::count(sum.created),
            format::count(sum.updated),
            format::count(sum.unchanged),
        ),
    };
    let _ = writeln!(
        out,
        "{:<width$}  {:<12} {x:>9} {y:>9} {z:>9} {:>7} {:>7} {:>5} {:>8}  {} tenants: {}",
        "total",
        "",
        format::count(sum.failed),
        format::count(sum.writes),
        format::count(sum.throttled),
        format::duration(elapsed),
        reports.len(),
        counts.join(", ")
    );
    let failed: Vec<&TenantReport> = reports.iter().filter(|r| r.status == Status::Failed).collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "\n{} tenants failed:", failed.len());
        for r in failed {
            let _ = writeln!(
                out,
                "  {}: {}",
                r.name,
                r.note.as_deref().unwrap_or("failed").replace('\n', "\n    ")
            );
        }
    }
    if reports
        .iter()
        .any(|r| matches!(r.status, Status::Interrupted | Status::NotStarted))
    {
        let _ = writeln!(
            out,
            "interrupted: rerun the same command to resume (finished tenants are planned anew and send nothing where nothing changed)"
        );
    }
}

/// The fleet's totals as a `fleet_finished` JSON object.
pub fn summary_json(reports: &[TenantReport], elapsed: Duration, code: u8) -> serde_json::Value {
    let mut sum = Totals::default();
    for r in reports {
        add(&mut sum, &r.totals);
    }
    let count = |s: Status| reports.iter().filter(|r| r.status == s).count();
    serde_json::json!({
        "event": "fleet_finished",
        "fleet_format_version": FLEET_JSON_VERSION,
        "tenants": reports.len(),
        "ok": count(Status::Ok),
        "changes": count(Status::Changes),
        "rows_failed": count(Status::RowsFailed),
        "failed": count(Status::Failed),
        "interrupted": count(Status::Interrupted) + count(Status::NotStarted),
        "failed_tenants": reports.iter().filter(|r| r.status == Status::Failed).map(|r| &r.name).collect::<Vec<_>>(),
        "elapsed_ms": elapsed.as_millis() as u64,
        "totals": totals_json(&sum),
        "exit_code": code,
    })
}

/// 130 when interrupted; else 1 when a tenant failed or has failed rows (for `plan --check`, 3
/// first when some tenant would change); else 0.
pub fn exit_code(reports: &[TenantReport], kind: Kind) -> u8 {
    let any = |s: Status| reports.iter().any(|r| r.status == s);
    if any(Status::Interrupted) || any(Status::NotStarted) {
        return exit::INTERRUPTED;
    }
    if kind == (Kind::Plan { check: true }) && any(Status::Changes) {
        return exit::CHANGES;
    }
    if any(Status::Failed) || any(Status::RowsFailed) {
        return exit::ROWS_FAILED;
    }
    exit::OK
}

fn add(sum: &mut Totals, t: &Totals) {
    sum.total += t.total;
    sum.done += t.done;
    sum.resumed += t.resumed;
    sum.created += t.created;
    sum.updated += t.updated;
    sum.unchanged += t.unchanged;
    sum.deleted += t.deleted;
    sum.failed += t.failed;
    sum.writes += t.writes;
    sum.throttled += t.throttled;
}

fn shorten(name: &str, width: usize) -> String {
    if name.chars().count() <= width {
        return name.to_owned();
    }
    let kept: String = name.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(name: &str, status: Status, failed: u64) -> TenantReport {
        let mut report = TenantReport::new(name, status);
        report.totals.total = 10;
        report.totals.done = 10;
        report.totals.created = 10 - failed;
        report.totals.failed = failed;
        report.totals.writes = 10 - failed;
        report.elapsed = Duration::from_secs(2);
        report
    }

    #[test]
    fn exit_codes() {
        let ok = report("a", Status::Ok, 0);
        let rows = report("b", Status::RowsFailed, 2);
        let failed = TenantReport::failed("c", "failed to plan: HTTP 401");
        let changes = report("d", Status::Changes, 0);
        let stopped = report("e", Status::Interrupted, 0);
        assert_eq!(exit_code(std::slice::from_ref(&ok), Kind::Apply), exit::OK);
        assert_eq!(
            exit_code(&[ok.clone(), rows.clone()], Kind::Apply),
            exit::ROWS_FAILED
        );
        assert_eq!(
            exit_code(&[ok.clone(), failed.clone()], Kind::Apply),
            exit::ROWS_FAILED
        );
        assert_eq!(
            exit_code(&[failed.clone(), stopped], Kind::Apply),
            exit::INTERRUPTED
        );
        let check = Kind::Plan { check: true };
        assert_eq!(
            exit_code(&[changes.clone(), failed.clone()], check),
            exit::CHANGES
        );
        assert_eq!(exit_code(&[changes, ok], Kind::Plan { check: false }), exit::OK);
        assert_eq!(exit_code(&[failed], check), exit::ROWS_FAILED);
    }

    #[test]
    fn the_table_names_each_tenant_and_why_it_failed() {
        let mut rows = report("cust-02", Status::RowsFailed, 2);
        rows.file = Some("roster.failed/cust-02.csv".into());
        let reports = [
            report("cust-01", Status::Ok, 0),
            rows,
            TenantReport::failed("cust-03", "failed to plan: HTTP 401\nhint: check the key"),
        ];
        let mut out = Vec::new();
        print(
            &mut out,
            &reports,
            Kind::Apply,
            Duration::from_secs(3),
            Paint::new(false),
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("roster.failed/cust-02.csv"), "{text}");
        assert!(
            text.contains("3 tenants: 1 ok, 1 rows failed, 1 failed"),
            "{text}"
        );
        assert!(
            text.contains("1 tenants failed:\n  cust-03: failed to plan: HTTP 401\n    hint: check the key"),
            "{text}"
        );
        let line = text.lines().find(|l| l.starts_with("total")).unwrap();
        assert!(line.contains("18"), "{line}");
        let json = summary_json(&reports, Duration::from_secs(3), 1);
        assert_eq!(json["failed_tenants"], serde_json::json!(["cust-03"]));
        assert_eq!(json["totals"]["failed"], 2);
    }
}
