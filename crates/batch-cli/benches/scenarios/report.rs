//! Scenario results: the table people read and the JSON machines read.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

/// A number with its unit.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Figure {
    /// The value.
    pub value: f64,
    /// `s`, `µs/row`, `MB`, ...
    pub unit: &'static str,
}

impl Figure {
    /// Seconds.
    pub fn secs(value: f64) -> Figure {
        Figure { value, unit: "s" }
    }

    fn show(self) -> String {
        let digits = match self.unit {
            "s" if self.value >= 100.0 => 1,
            "s" => 2,
            "MB" => 0,
            _ => 1,
        };
        format!("{:.*} {}", digits, self.value, self.unit)
    }
}

/// A scenario's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every bar met.
    Pass,
    /// Some bar missed.
    Fail,
    /// Figures only, no bar (the peer baseline).
    Info,
    /// Not run (a tool is missing); the note says why.
    Skipped,
    /// The scenario could not be run to the end; the note says why.
    Error,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::Info => "info",
            Status::Skipped => "skipped",
            Status::Error => "ERROR",
        }
    }
}

/// One bar and whether it was met.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What is checked.
    pub name: String,
    /// The measured value, as shown.
    pub value: String,
    /// The bar, as shown (`>= 0.95`).
    pub bar: String,
    /// Met or not.
    pub pass: bool,
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Scenario number, as in the README.
    pub id: u8,
    /// Short name.
    pub name: &'static str,
    /// Verdict.
    pub status: Status,
    /// The measured figure.
    pub measured: Option<Figure>,
    /// What it is compared with.
    pub ideal: Option<Figure>,
    /// `ideal` (the best possible) or `bar` (a budget).
    pub reference: &'static str,
    /// The ratio of the two.
    pub ratio: Option<f64>,
    /// How the ratio is formed (`achieved/ideal`, `measured/bar`, ...).
    pub ratio_is: &'static str,
    /// The bars.
    pub checks: Vec<Check>,
    /// Further figures (requests, CPU, memory, time split, ...).
    pub details: BTreeMap<String, serde_json::Value>,
    /// Lines for people: what else was seen, or why the scenario was skipped.
    pub notes: Vec<String>,
}

impl Outcome {
    /// An outcome with no figures yet.
    pub fn new(id: u8, name: &'static str) -> Outcome {
        Outcome {
            id,
            name,
            status: Status::Info,
            measured: None,
            ideal: None,
            reference: "ideal",
            ratio: None,
            ratio_is: "",
            checks: Vec::new(),
            details: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    /// Add a bar.
    pub fn check(&mut self, name: &str, value: String, bar: &str, pass: bool) {
        self.checks.push(Check {
            name: name.to_owned(),
            value,
            bar: bar.to_owned(),
            pass,
        });
    }

    /// Add a figure for the JSON output.
    pub fn detail(&mut self, name: &str, value: impl Into<serde_json::Value>) {
        self.details.insert(name.to_owned(), value.into());
    }

    /// Add a line for people.
    pub fn note(&mut self, line: String) {
        self.notes.push(line);
    }

    /// Set the verdict from the checks.
    pub fn settle(mut self) -> Outcome {
        if self.status == Status::Info && !self.checks.is_empty() {
            self.status = if self.checks.iter().all(|c| c.pass) {
                Status::Pass
            } else {
                Status::Fail
            };
        }
        self
    }
}

/// The whole run, for `--json`.
#[derive(Debug, Serialize)]
pub struct Suite<'a> {
    /// Format version of this document.
    pub format_version: u32,
    /// `roster --version`.
    pub roster: String,
    /// CPUs the machine has.
    pub cpus: usize,
    /// Scaled-down sizes.
    pub quick: bool,
    /// The scenarios run.
    pub scenarios: &'a [Outcome],
}

/// The table.
pub fn table(out: &mut impl Write, header: &str, outcomes: &[Outcome]) -> io::Result<()> {
    writeln!(out, "{header}")?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<2} {:<14} {:>15} {:>17} {:>7}  {:<19} result",
        "#", "scenario", "measured", "ideal or bar", "ratio", "ratio is"
    )?;
    for o in outcomes {
        let measured = o.measured.map(Figure::show).unwrap_or_default();
        let ideal = o
            .ideal
            .map(|f| {
                if o.reference == "bar" {
                    format!("< {}", f.show())
                } else {
                    f.show()
                }
            })
            .unwrap_or_default();
        let ratio = o.ratio.map(|r| format!("{r:.3}")).unwrap_or_default();
        writeln!(
            out,
            "{:<2} {:<14} {:>15} {:>17} {:>7}  {:<19} {}",
            o.id,
            o.name,
            measured,
            ideal,
            ratio,
            o.ratio_is,
            o.status.word()
        )?;
        for c in &o.checks {
            writeln!(
                out,
                "     {:<4} {}: {} (bar {})",
                if c.pass { "ok" } else { "MISS" },
                c.name,
                c.value,
                c.bar
            )?;
        }
        for line in &o.notes {
            writeln!(out, "          {line}")?;
        }
    }
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Fail | Status::Error))
        .map(|o| o.id.to_string())
        .collect();
    writeln!(out)?;
    if failed.is_empty() {
        writeln!(out, "every bar met")?;
    } else {
        writeln!(out, "bars missed in scenario {}", failed.join(", "))?;
    }
    Ok(())
}
