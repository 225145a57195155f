//! The one place that decides how output looks.
//!
//! [`resolve`] is a pure function of the environment and the flags, so every combination is
//! unit-tested here instead of being discovered in someone's CI log. The rules:
//!
//! - Data goes to stdout (the plan, `--json` events); progress, logs and the apply summary go to
//!   stderr.
//! - `--quiet`: nothing on stderr but the summary (and errors).
//! - `--json`: JSON on stdout. A person watching a terminal still gets the progress bar on stderr;
//!   without a terminal (or in CI) stderr carries only the summary, because whoever reads the
//!   JSON does not need status lines as well.
//! - A progress bar only on a real terminal that is not CI: some CI environments pretend to be
//!   terminals, and a redrawn bar turns their logs into noise. Otherwise plain status lines.
//! - `TERM=dumb` cannot redraw lines either: plain status lines.
//! - Colour only on a terminal, never with `NO_COLOR` (any non-empty value) or `TERM=dumb`, and
//!   never in JSON.

use std::io::IsTerminal as _;

/// Disables colour when set to any non-empty value (<https://no-color.org>).
pub const NO_COLOR_ENV: &str = "NO_COLOR";
/// Set by CI services (GitHub Actions, GitLab, CircleCI, ...); any value but `false` or `0`.
pub const CI_ENV: &str = "CI";
/// `dumb` means the terminal cannot move the cursor.
pub const TERM_ENV: &str = "TERM";

/// What stderr shows while work runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// indicatif bars, redrawn in place.
    Bar,
    /// A plain status line every few seconds, plus notable events, one per line.
    Lines,
    /// Only the summary at the end (and errors).
    Quiet,
}

/// How output looks for this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputMode {
    /// What stderr shows while work runs.
    pub display: Display,
    /// JSON on stdout: the plan as one document, or apply's events as JSON lines.
    pub json: bool,
    /// Whether stderr may carry colour.
    pub color_stderr: bool,
    /// Whether stdout may carry colour (the plan's text diff).
    pub color_stdout: bool,
}

/// The facts about the process's surroundings that output depends on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Environment {
    /// stderr is a terminal.
    pub stderr_is_terminal: bool,
    /// stdout is a terminal.
    pub stdout_is_terminal: bool,
    /// Running under CI (`CI` is set).
    pub ci: bool,
    /// `NO_COLOR` is set to a non-empty value.
    pub no_color: bool,
    /// `TERM=dumb`.
    pub dumb_terminal: bool,
}

impl Environment {
    /// Read the real process's environment.
    pub fn detect() -> Self {
        Self::from_vars(
            std::io::stderr().is_terminal(),
            std::io::stdout().is_terminal(),
            |name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()),
        )
    }

    /// Build from terminal facts and an environment lookup, so tests need not touch the real
    /// process environment.
    pub fn from_vars(
        stderr_is_terminal: bool,
        stdout_is_terminal: bool,
        var: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let ci = var(CI_ENV).is_some_and(|v| {
            let v = v.trim();
            !(v.eq_ignore_ascii_case("false") || v == "0")
        });
        let no_color = var(NO_COLOR_ENV).is_some_and(|v| !v.is_empty());
        let dumb_terminal = var(TERM_ENV).is_some_and(|v| v == "dumb");
        Self {
            stderr_is_terminal,
            stdout_is_terminal,
            ci,
            no_color,
            dumb_terminal,
        }
    }
}

/// Decide the output mode. Pure: everything it depends on is in its arguments.
pub fn resolve(env: &Environment, quiet: bool, json: bool) -> OutputMode {
    let live_terminal = env.stderr_is_terminal && !env.ci && !env.dumb_terminal;
    let display = if quiet || (json && !live_terminal) {
        Display::Quiet
    } else if live_terminal {
        Display::Bar
    } else {
        Display::Lines
    };
    let colour_allowed = !env.no_color && !env.dumb_terminal;
    OutputMode {
        display,
        json,
        color_stderr: colour_allowed && env.stderr_is_terminal,
        color_stdout: colour_allowed && env.stdout_is_terminal && !json,
    }
}

impl OutputMode {
    /// The mode for this process, from its real environment and the flags.
    pub fn detect(quiet: bool, json: bool) -> Self {
        resolve(&Environment::detect(), quiet, json)
    }

    /// The mode when every request is logged (`-vv`): plain lines instead of a bar, since a bar
    /// redrawn in place and log lines on the same stderr garble each other.
    #[must_use]
    pub fn for_verbosity(mut self, verbose: u8) -> Self {
        if verbose >= super::requests::LOG_REQUESTS_FROM && self.display == Display::Bar {
            self.display = Display::Lines;
        }
        self
    }

    /// Plain lines without colour and JSON off: what tests and pipes see.
    pub fn plain() -> Self {
        Self {
            display: Display::Lines,
            json: false,
            color_stderr: false,
            color_stdout: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(stderr_tty: bool, ci: bool) -> Environment {
        Environment {
            stderr_is_terminal: stderr_tty,
            stdout_is_terminal: stderr_tty,
            ci,
            ..Default::default()
        }
    }

    #[test]
    fn terminal_gets_a_bar_and_colour() {
        let m = resolve(&env(true, false), false, false);
        assert_eq!(m.display, Display::Bar);
        assert!(m.color_stderr);
        assert!(m.color_stdout);
        assert!(!m.json);
    }

    #[test]
    fn pipe_gets_plain_lines_without_colour() {
        let m = resolve(&env(false, false), false, false);
        assert_eq!(m.display, Display::Lines);
        assert!(!m.color_stderr);
        assert!(!m.color_stdout);
    }

    #[test]
    fn ci_pretending_to_be_a_terminal_gets_plain_lines() {
        let m = resolve(&env(true, true), false, false);
        assert_eq!(m.display, Display::Lines);
    }

    #[test]
    fn dumb_terminal_gets_plain_lines_without_colour() {
        let e = Environment {
            dumb_terminal: true,
            ..env(true, false)
        };
        let m = resolve(&e, false, false);
        assert_eq!(m.display, Display::Lines);
        assert!(!m.color_stderr);
    }

    #[test]
    fn quiet_wins_everywhere() {
        for tty in [true, false] {
            for ci in [true, false] {
                for json in [true, false] {
                    assert_eq!(resolve(&env(tty, ci), true, json).display, Display::Quiet);
                }
            }
        }
    }

    #[test]
    fn json_keeps_the_bar_for_a_person_and_silences_lines_for_machines() {
        let on_tty = resolve(&env(true, false), false, true);
        assert_eq!(on_tty.display, Display::Bar);
        assert!(on_tty.json);
        assert!(!on_tty.color_stdout, "JSON is never coloured");
        assert_eq!(resolve(&env(false, false), false, true).display, Display::Quiet);
        assert_eq!(resolve(&env(true, true), false, true).display, Display::Quiet);
    }

    #[test]
    fn no_color_turns_colour_off_but_keeps_the_bar() {
        let e = Environment {
            no_color: true,
            ..env(true, false)
        };
        let m = resolve(&e, false, false);
        assert_eq!(m.display, Display::Bar);
        assert!(!m.color_stderr);
        assert!(!m.color_stdout);
    }

    #[test]
    fn colour_follows_each_stream() {
        let e = Environment {
            stderr_is_terminal: true,
            stdout_is_terminal: false,
            ..Default::default()
        };
        let m = resolve(&e, false, false);
        assert!(m.color_stderr);
        assert!(!m.color_stdout, "a plan redirected to a file has no escape codes");
    }

    #[test]
    fn environment_variables_are_read_as_documented() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert!(Environment::from_vars(true, true, vars(&[("CI", "true")])).ci);
        assert!(Environment::from_vars(true, true, vars(&[("CI", "1")])).ci);
        assert!(!Environment::from_vars(true, true, vars(&[("CI", "false")])).ci);
        assert!(!Environment::from_vars(true, true, vars(&[("CI", "0")])).ci);
        assert!(!Environment::from_vars(true, true, vars(&[])).ci);
        assert!(Environment::from_vars(true, true, vars(&[("NO_COLOR", "1")])).no_color);
        assert!(!Environment::from_vars(true, true, vars(&[("NO_COLOR", "")])).no_color);
        assert!(Environment::from_vars(true, true, vars(&[("TERM", "dumb")])).dumb_terminal);
        assert!(!Environment::from_vars(true, true, vars(&[("TERM", "xterm-256color")])).dumb_terminal);
    }
}
