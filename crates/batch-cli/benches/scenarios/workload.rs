//! The tenants and rosters the scenarios need, generated deterministically into the work
//! directory: the tenant is a `grid` preset of `roster sim` (spaces × users, optionally all
//! assigned), the roster a CSV that names the grid's spaces and users.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sim::generate::{grid_email, grid_space};

/// Which (space, user) row `r` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Row `r` gives user `r` a role in space `r % spaces`: every row a different user, the way
    /// an onboarding roster looks.
    Spread,
    /// Row `r` gives user `r / spaces` a role in space `r % spaces`: every user in every space.
    Grid,
}

/// A tenant and a roster over it.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// Roster rows.
    pub rows: usize,
    /// Spaces in the tenant (all named by the roster).
    pub spaces: usize,
    /// How rows map to spaces and users.
    pub layout: Layout,
    /// Whether the tenant already has every row's assignment.
    pub assigned: bool,
}

impl Workload {
    /// Users the tenant needs.
    pub fn users(&self) -> usize {
        match self.layout {
            Layout::Spread => self.rows,
            Layout::Grid => self.rows.div_ceil(self.spaces.max(1)),
        }
    }

    /// Write `NAME.tenant.json` and `NAME.csv` into `dir`; returns (tenant, roster).
    pub fn write(&self, dir: &Path, name: &str) -> Result<(PathBuf, PathBuf)> {
        let tenant = dir.join(format!("{name}.tenant.json"));
        let spec = serde_json::json!({
            "version": 1,
            "generate": {
                "preset": "grid",
                "spaces": self.spaces,
                "users": self.users(),
                "assigned": self.assigned,
            }
        });
        std::fs::write(&tenant, serde_json::to_vec_pretty(&spec)?)
            .with_context(|| format!("write {}", tenant.display()))?;
        let roster = dir.join(format!("{name}.csv"));
        self.write_roster(&roster)?;
        Ok((tenant, roster))
    }

    fn write_roster(&self, path: &Path) -> Result<()> {
        let mut out = csv::Writer::from_path(path).with_context(|| format!("create {}", path.display()))?;
        out.write_record(["space", "type", "assignee", "roles"])?;
        let spaces = self.spaces.max(1);
        for r in 0..self.rows {
            let user = match self.layout {
                Layout::Spread => r,
                Layout::Grid => r / spaces,
            };
            out.write_record([
                grid_space(r % spaces).as_str(),
                "user",
                grid_email(user).as_str(),
                "consumer",
            ])?;
        }
        out.flush()?;
        Ok(())
    }
}
