//! A run's report as one self-contained HTML file (`roster runs show RUN --html FILE`): the
//! outcome counts and write figures its summary printed, a chart of writes per minute over
//! time against the limit with the 429 pauses marked, the retries, a table per space, and the
//! failed rows with their reasons. No script, no font or style sheet from the network: it opens
//! from disk in any browser.
//!
//! The page is a typed template (maud, which escapes every value it is given); the chart is
//! drawn by plotters as inline SVG.

use std::collections::BTreeMap;
use std::time::Duration;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use plotters::prelude::*;

use super::format;
use engine::history::RunRecord;
use engine::journal::RecordOutcome;
use engine::model::Totals;

const STYLE: &str = "
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 70em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.failed { color: #a00; } .meta td:first-child { color: #555; }
";

/// The figures a run's summaries printed, added up over the processes that ran it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Rows of the run.
    pub rows: u64,
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
    /// Write calls sent.
    pub writes: u64,
    /// 429 responses.
    pub throttled: u64,
    /// Retries.
    pub retries: u64,
    /// Execution time.
    pub elapsed: Duration,
}

/// The run's figures: each row's last outcome, and the writes, 429s and time its processes
/// reported (from the records when no process reported, as after a kill).
pub fn figures(run: &RunRecord) -> Figures {
    let counts = run.counts();
    let mut f = Figures {
        rows: counts.created + counts.updated + counts.unchanged + counts.deleted + counts.failed,
        created: counts.created,
        updated: counts.updated,
        unchanged: counts.unchanged,
        deleted: counts.deleted,
        failed: counts.failed,
        retries: run.retries.len() as u64,
        ..Figures::default()
    };
    if let Some(last) = run.processes.last() {
        // The last process's totals count the rows an earlier one did as resumed.
        let t: &Totals = &last.totals;
        f.rows = f.rows.max(t.total);
    }
    if run.processes.is_empty() {
        f.writes = run.writes();
        f.throttled = run.throttles.len() as u64;
    } else {
        for p in &run.processes {
            f.writes += p.totals.writes;
            f.throttled += p.totals.throttled;
            f.elapsed += Duration::from_millis(p.elapsed_ms);
        }
    }
    f
}

/// The whole page.
pub fn render(run: &RunRecord) -> String {
    let f = figures(run);
    let info = run.run();
    let limit = info.and_then(|r| r.about.write_limit_per_min).filter(|l| *l > 0);
    let title = format!("roster run {} against {}", run.id(), run.header.target);
    let page: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (title) }
                table.meta {
                    tr { td { "command" } td { (info.and_then(|r| r.about.command.clone()).unwrap_or_else(|| "-".to_owned())) } }
                    @if let Some(undoes) = info.and_then(|r| r.about.undoes.as_ref()) {
                        tr { td { "undoes" } td { (undoes) } }
                    }
                    tr { td { "file" } td { (info.and_then(|r| r.about.file.clone()).unwrap_or_else(|| "-".to_owned())) } }
                    tr { td { "file sha256" } td { code { (info.and_then(|r| r.about.file_digest.clone()).unwrap_or_else(|| "-".to_owned())) } } }
                    tr { td { "mode" } td { (info.map_or("-", |r| engine::journal::mode_name(r.mode))) (if info.is_some_and(|r| r.prune) { " (prune)" } else { "" }) } }
                    tr { td { "started" } td { (info.map_or("-", |r| r.started.as_str())) } }
                    tr { td { "state" } td { (if run.ended() { "ended" } else { "interrupted" }) } }
                    tr { td { "processes" } td { (1 + run.resumes) } }
                }
                h2 { "Outcomes" }
                table id="outcomes" {
                    tr { th { "rows" } td.n { (format::count(f.rows)) } }
                    tr { th { "created" } td.n { (format::count(f.created)) } }
                    tr { th { "updated" } td.n { (format::count(f.updated)) } }
                    tr { th { "unchanged" } td.n { (format::count(f.unchanged)) } }
                    tr { th { "deleted" } td.n { (format::count(f.deleted)) } }
                    tr.failed { th { "failed" } td.n { (format::count(f.failed)) } }
                    tr { th { "writes" } td.n { (format::count(f.writes)) } }
                    tr { th { "429 responses" } td.n { (format::count(f.throttled)) } }
                    tr { th { "retries" } td.n { (format::count(f.retries)) } }
                    tr { th { "time" } td.n { (format::duration(f.elapsed)) } }
                    tr { th { "write limit" } td.n { (limit.map_or_else(|| "none".to_owned(), |l| format::per_min(f64::from(l)))) } }
                }
                h2 { "Writes per minute" }
                p { "Writes sent, per minute, over the run; the grey line is the limit, red lines mark the 429 pauses (" (run.throttles.len()) ")." }
                div id="chart" { (PreEscaped(chart(run, limit))) }
                h2 { "Per space" }
                (per_space(run))
                h2 { "Retries" }
                @if run.retries.is_empty() {
                    p { "none" }
                } @else {
                    table id="retries" {
                        tr { th { "line" } th { "attempt" } th { "why" } }
                        @for r in run.retries.iter().take(500) {
                            tr { td.n { (r.line) } td.n { (r.attempt) } td { (r.cause) } }
                        }
                    }
                }
                h2 { "Failed rows" }
                (failed_rows(run))
            }
        }
    };
    page.into_string()
}

fn per_space(run: &RunRecord) -> Markup {
    let mut spaces: BTreeMap<&str, [u64; 5]> = BTreeMap::new();
    for r in run.final_records() {
        let space = r.row.as_ref().map_or("-", |l| l.space.as_str());
        let slot = match r.outcome {
            RecordOutcome::Created => 0,
            RecordOutcome::Updated => 1,
            RecordOutcome::Unchanged => 2,
            RecordOutcome::Deleted => 3,
            RecordOutcome::Failed => 4,
        };
        spaces.entry(space).or_default()[slot] += 1;
    }
    html! {
        table id="spaces" {
            tr { th { "space" } th { "created" } th { "updated" } th { "unchanged" } th { "deleted" } th { "failed" } }
            @for (space, n) in &spaces {
                tr {
                    td { (space) }
                    @for v in n { td.n { (format::count(*v)) } }
                }
            }
        }
    }
}

fn failed_rows(run: &RunRecord) -> Markup {
    let failed: Vec<_> = run
        .final_records()
        .into_iter()
        .filter(|r| r.outcome == RecordOutcome::Failed)
        .collect();
    html! {
        @if failed.is_empty() {
            p { "none" }
        } @else {
            table id="failed" {
                tr { th { "line" } th { "space" } th { "assignee" } th { "code" } th { "reason" } th { "attempts" } }
                @for r in &failed {
                    tr {
                        td.n { (r.line) }
                        td { (r.row.as_ref().map_or("-", |l| l.space.as_str())) }
                        td { (r.row.as_ref().map_or("-", |l| l.assignee.as_str())) }
                        td { (r.error.as_ref().map_or("-", |e| e.code.as_str())) }
                        td { (r.error.as_ref().map_or("-", |e| e.message.as_str())) }
                        td.n { (r.attempts) }
                    }
                }
            }
        }
    }
}

/// Writes per minute over the run, binned so the chart has at most 60 points, as SVG.
fn chart(run: &RunRecord, limit: Option<u32>) -> String {
    let times: Vec<(u64, u64)> = run
        .records
        .iter()
        .filter_map(|r| r.at.map(|at| (at, r.writes)))
        .collect();
    let start = run
        .started_ms()
        .into_iter()
        .chain(times.iter().map(|t| t.0))
        .min()
        .unwrap_or(0);
    let end = run.last_ms.unwrap_or(start).max(start + 1000);
    let span = end - start;
    let bin = (span.div_ceil(60)).max(1000);
    let bins = usize::try_from(span.div_ceil(bin)).unwrap_or(60).clamp(1, 60);
    let mut writes = vec![0u64; bins];
    for (at, n) in &times {
        let i = usize::try_from(at.saturating_sub(start) / bin)
            .unwrap_or(0)
            .min(bins - 1);
        writes[i] += n;
    }
    #[expect(clippy::cast_precision_loss, reason = "times and counts far below 2^52")]
    let points: Vec<(f64, f64)> = writes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            (
                (i as u64 * bin) as f64 / 1000.0,
                *n as f64 * 60_000.0 / bin as f64,
            )
        })
        .collect();
    #[expect(clippy::cast_precision_loss, reason = "times far below 2^52")]
    let x_max = (bins as u64 * bin) as f64 / 1000.0;
    let y_max = points
        .iter()
        .map(|p| p.1)
        .chain(limit.map(f64::from))
        .fold(1.0f64, f64::max)
        * 1.15;
    let mut svg = String::new();
    let drawn = draw(&mut svg, &points, x_max, y_max, limit, run, start);
    match drawn {
        Ok(()) => svg,
        Err(error) => html! { p { "the chart could not be drawn: " (error) } }.into_string(),
    }
}

fn draw(
    svg: &mut String,
    points: &[(f64, f64)],
    x_max: f64,
    y_max: f64,
    limit: Option<u32>,
    run: &RunRecord,
    start: u64,
) -> Result<(), String> {
    let root = SVGBackend::with_string(svg, (900, 320)).into_drawing_area();
    let e = |e: &dyn std::fmt::Display| e.to_string();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .x_desc("seconds since the start")
        .y_desc("writes per minute")
        .draw()
        .map_err(|x| e(&x))?;
    if let Some(limit) = limit {
        let l = f64::from(limit);
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, l), (x_max, l)],
                RGBColor(150, 150, 150).stroke_width(2),
            ))
            .map_err(|x| e(&x))?;
    }
    #[expect(clippy::cast_precision_loss, reason = "times far below 2^52")]
    for pause in &run.throttles {
        let x = pause.at.saturating_sub(start) as f64 / 1000.0;
        chart
            .draw_series(LineSeries::new(vec![(x, 0.0), (x, y_max)], RED.stroke_width(2)))
            .map_err(|x| e(&x))?;
    }
    chart
        .draw_series(LineSeries::new(points.iter().copied(), BLUE.stroke_width(2)))
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))?;
    Ok(())
}
