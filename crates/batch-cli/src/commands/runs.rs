//! Which run an `apply` (or `migrate`) is: the interrupted run it resumes, the last run whose
//! failed rows it reruns, or a new run that plans every row against the tenant as it is now.
//! One place decides, from the journal and the settings; the journal module owns the format.

use std::io::{self, Write};
use std::path::Path;

use crate::error::CommandError;
use crate::settings::ApplySettings;
use engine::journal::{self, RunInfo, Start, State};
use engine::model::{ParsedRow, RowKey};

/// Which rows of the roster the run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Select {
    /// Every row, planned against the tenant.
    All,
    /// The rows the interrupted run has not finished.
    SkipDone,
    /// The rows whose last record in the last run is a failure.
    OnlyFailed,
}

/// What the journal and the settings make of this run.
#[derive(Debug)]
pub(crate) struct Decision {
    /// The journal's run as read (empty for a new run that ignores it).
    pub state: State,
    /// Which rows to do.
    pub select: Select,
    /// How the journal writer starts.
    pub start: Start,
}

/// The resume key of a roster row: its content's key, or for a row that could not be read, one
/// made of its line.
pub(crate) fn row_key(parsed: &ParsedRow, target: &str) -> RowKey {
    match &parsed.row {
        Ok(row) => row.key(target),
        Err(_) => engine::roster::invalid_row_key(target, parsed.line),
    }
}

/// Decide the run. `this` is the run this command would start. A journal that cannot be read, and
/// `--only-failed` with other settings than the last run's, are errors (exit code 2, nothing
/// sent). Says in one line when an interrupted run is not resumed, and why.
pub(crate) fn decide(
    settings: &ApplySettings,
    path: &Path,
    this: RunInfo,
    keys: &[RowKey],
) -> Result<Decision, CommandError> {
    let mut stderr = io::stderr();
    let target = &settings.plan.target.name;
    let history = journal::history_dir(path);
    let new = |state: State, select: Select| Decision {
        state,
        select,
        start: Start::New(this.clone()),
    };
    if settings.fresh {
        return Ok(new(State::default(), Select::All));
    }
    let state = journal::read(path, target).map_err(|error| CommandError::new(error.to_string()))?;
    let wanted = if settings.only_failed {
        Select::OnlyFailed
    } else {
        Select::All
    };
    if state.header.is_none() {
        return Ok(new(state, wanted));
    }
    let Some(last) = state.run().cloned() else {
        let _ = writeln!(
            stderr,
            "note: the journal {} was written by an earlier roster (format 1), which did not record its \
             run's roster and settings: this is a new run{} (the old journal moves to {})",
            path.display(),
            if settings.only_failed {
                ", of the rows it records as failed"
            } else {
                ", which checks every row against the tenant"
            },
            history.display()
        );
        return Ok(new(state, wanted));
    };
    if settings.only_failed {
        if last.mode != this.mode || last.prune != this.prune {
            let prune = |p: bool| if p { " --prune" } else { "" };
            return Err(CommandError::new(format!(
                "--only-failed reruns the failed rows of the last run in {}, which used --mode {}{}, \
                 not --mode {}{}; nothing was sent",
                path.display(),
                journal::mode_name(last.mode),
                prune(last.prune),
                journal::mode_name(this.mode),
                prune(this.prune),
            ))
            .hint("rerun with the last run's settings, or without --only-failed to start a new run"));
        }
        // Retrying the failures ends an interrupted run only when they are all it has left: every
        // row has a record (the deletes of a prune run are not known before planning, so never).
        let write_end = !state.ended && !this.prune && keys.iter().all(|k| state.last(k).is_some());
        return Ok(Decision {
            state,
            select: Select::OnlyFailed,
            start: Start::Continue {
                run: last,
                write_end,
                only_failed: true,
            },
        });
    }
    if state.ended {
        // The last run is over: this one plans against the tenant as it is now, so whatever
        // drifted since is written again.
        return Ok(new(state, Select::All));
    }
    if last.same_work(&this) {
        return Ok(Decision {
            state,
            select: Select::SkipDone,
            start: Start::Continue {
                run: last,
                write_end: true,
                only_failed: false,
            },
        });
    }
    let _ = writeln!(
        stderr,
        "starting a new run: the interrupted run in {} (started {}) was for {}; its records move to {}",
        path.display(),
        last.started,
        last.difference(&this),
        history.display()
    );
    Ok(new(State::default(), Select::All))
}

/// Whether a row with `key` is left out of the run, and whether because it is already done.
pub(crate) fn skip(select: Select, state: &State, key: &RowKey) -> (bool, bool) {
    match select {
        Select::All => (false, false),
        Select::SkipDone => {
            let done = state.is_done(key);
            (done, done)
        }
        Select::OnlyFailed => (!state.is_failed(key), false),
    }
}

/// The rows this run does (`keys` are theirs, in order), and how many the interrupted run it
/// continues already did.
pub(crate) fn select_rows(
    rows: Vec<ParsedRow>,
    keys: &[RowKey],
    state: &State,
    select: Select,
) -> (Vec<ParsedRow>, u64) {
    if select == Select::All {
        return (rows, 0);
    }
    let mut resumed = 0;
    let kept = rows
        .into_iter()
        .zip(keys)
        .filter_map(|(parsed, key)| {
            let (skip, done) = skip(select, state, key);
            resumed += u64::from(done);
            (!skip).then_some(parsed)
        })
        .collect();
    (kept, resumed)
}
