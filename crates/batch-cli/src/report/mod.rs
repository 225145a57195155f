//! Everything the user sees: the output mode, the plan's diff and JSON, resolve progress, the
//! apply displays (bar, plain lines, quiet), the `--json` event stream and the summary.
//!
//! The engine never prints; it emits [`engine::model::Event`]s and these reporters turn them into
//! output. [`mode::resolve`] is the one place that decides how output looks.
//!
//! Where output goes: the plan (text or JSON) and the `--json` events are data, on stdout;
//! progress, notices and the apply summary are for the person watching, on stderr.
//!
//! ```ignore
//! let mode = report::OutputMode::detect(args.quiet, args.json);
//! let mut display = report::display_reporter(&mode, report::RunContext::new(&roster, &target));
//! // the executor feeds `display` (with the journal and failed-rows reporters) every event;
//! // the summary is printed when `Event::Finished` arrives.
//! ```

pub mod bar;
pub mod diff;
pub mod filters;
pub mod fleet;
pub mod fleet_table;
pub mod format;
pub mod html;
pub mod json;
pub mod lines;
pub mod mode;
pub mod requests;
pub mod resolve;
pub mod status;
pub mod summary;

#[cfg(test)]
mod testing;

pub use mode::{Display, Environment, OutputMode};
pub use resolve::ResolveProgress;
pub use summary::RunContext;

use engine::model::{Event, Plan, Reporter};

/// Several reporters fed the same events in order; the first error stops the run.
pub struct Fanout(pub Vec<Box<dyn Reporter>>);

impl Reporter for Fanout {
    fn on_event(&mut self, plan: &Plan, event: &Event) -> std::io::Result<()> {
        self.0.iter_mut().try_for_each(|r| r.on_event(plan, event))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.iter_mut().try_for_each(|r| r.flush())
    }
}

/// The reporters that show a run to the user, as `mode` says: the stderr display (bar, plain
/// lines or summary only, always ending with the summary) and, with `--json`, the JSON event
/// lines on stdout.
pub fn display_reporter(mode: &OutputMode, context: RunContext) -> Box<dyn Reporter> {
    let display: Box<dyn Reporter> = match mode.display {
        Display::Bar => Box::new(bar::BarReporter::stderr(context, mode.color_stderr)),
        Display::Lines => Box::new(lines::LinesReporter::new(
            Box::new(std::io::stderr()),
            context,
            mode.color_stderr,
        )),
        Display::Quiet => Box::new(lines::LinesReporter::quiet(
            Box::new(std::io::stderr()),
            context,
            mode.color_stderr,
        )),
    };
    if mode.json {
        Box::new(Fanout(vec![Box::new(json::JsonReporter::stdout()), display]))
    } else {
        display
    }
}
