//! Small formatting helpers shared by every human-readable output: counts, durations, rates,
//! role lists, shell quoting and optional colour.

use std::fmt::Write as _;
use std::time::Duration;

use console::Style;

/// `1234567` as `1,234,567`: rosters run to millions of rows, and bare digits are hard to read.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration as people read it: `0.4s`, `12s`, `1m 05s`, `2h 03m`.
pub fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 10 {
        // Tenths matter for short runs and short plans ("at least 2.4s").
        let tenths = d.as_millis().div_ceil(100);
        if tenths.is_multiple_of(10) {
            format!("{}s", tenths / 10)
        } else {
            format!("{}.{}s", tenths / 10, tenths % 10)
        }
    } else if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60)
    }
}

/// Seconds to wait, rounded up so that "resuming in 0s" never shows while still waiting.
pub fn countdown(d: Duration) -> String {
    let secs = d.as_millis().div_ceil(1000);
    format!("{secs}s")
}

/// A rate in writes per minute, rounded to a whole number.
pub fn per_min(rate: f64) -> String {
    if rate.is_finite() && rate >= 0.0 {
        // Rates are small positive numbers; rounding to u64 cannot overflow in practice.
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "rounded, non-negative, finite"
        )]
        let whole = rate.round() as u64;
        format!("{}/min", count(whole))
    } else {
        "-/min".to_owned()
    }
}

/// Roles as `consumer, producer`, or `(none)` for an empty list.
pub fn roles(roles: &[String]) -> String {
    if roles.is_empty() {
        "(none)".to_owned()
    } else {
        roles.join(", ")
    }
}

/// One argument quoted for a POSIX shell only when it needs it, so the printed rerun command
/// can be pasted as it is.
pub fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '_' | '-' | '.' | '/' | ':' | '@' | '%' | '+' | '=' | ',')
        });
    if plain {
        arg.to_owned()
    } else {
        let mut out = String::with_capacity(arg.len() + 2);
        out.push('\'');
        for c in arg.chars() {
            if c == '\'' {
                out.push_str("'\\''");
            } else {
                out.push(c);
            }
        }
        out.push('\'');
        out
    }
}

/// A command line from its words, each quoted as needed.
pub fn command_line<S: AsRef<str>>(words: &[S]) -> String {
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{}", shell_quote(w.as_ref()));
    }
    out
}

/// Colour that can be switched off in one place: with `NO_COLOR` or without a terminal every
/// method returns the text unchanged, so the meaning never depends on colour.
#[derive(Debug, Clone, Copy)]
pub struct Paint {
    on: bool,
}

impl Paint {
    /// Colour on or off.
    pub fn new(on: bool) -> Self {
        Self { on }
    }

    /// Whether colour is on.
    pub fn enabled(self) -> bool {
        self.on
    }

    fn apply(self, style: Style, text: &str) -> String {
        if self.on {
            style.force_styling(true).apply_to(text).to_string()
        } else {
            text.to_owned()
        }
    }

    /// Additions and success.
    pub fn green(self, text: &str) -> String {
        self.apply(Style::new().green(), text)
    }

    /// Deletions and failures.
    pub fn red(self, text: &str) -> String {
        self.apply(Style::new().red(), text)
    }

    /// Changes and warnings.
    pub fn yellow(self, text: &str) -> String {
        self.apply(Style::new().yellow(), text)
    }

    /// Things that need no attention.
    pub fn dim(self, text: &str) -> String {
        self.apply(Style::new().dim(), text)
    }

    /// Headings.
    pub fn bold(self, text: &str) -> String {
        self.apply(Style::new().bold(), text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(Duration::from_millis(0)), "0s");
        assert_eq!(duration(Duration::from_millis(2400)), "2.4s");
        assert_eq!(duration(Duration::from_millis(2401)), "2.5s");
        assert_eq!(duration(Duration::from_secs(12)), "12s");
        assert_eq!(duration(Duration::from_secs(65)), "1m 05s");
        assert_eq!(duration(Duration::from_secs(7380)), "2h 03m");
    }

    #[test]
    fn countdown_rounds_up() {
        assert_eq!(countdown(Duration::from_millis(12_100)), "13s");
        assert_eq!(countdown(Duration::from_millis(1)), "1s");
        assert_eq!(countdown(Duration::ZERO), "0s");
    }

    #[test]
    fn rates_are_whole_numbers() {
        assert_eq!(per_min(97.6), "98/min");
        assert_eq!(per_min(f64::NAN), "-/min");
        assert_eq!(per_min(-1.0), "-/min");
    }

    #[test]
    fn shell_quoting_only_when_needed() {
        assert_eq!(shell_quote("data/roster.failed.csv"), "data/roster.failed.csv");
        assert_eq!(shell_quote("my roster.csv"), "'my roster.csv'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(
            command_line(&["roster", "apply", "a b.csv", "--to", "prod"]),
            "roster apply 'a b.csv' --to prod"
        );
    }

    #[test]
    fn paint_off_leaves_text_alone() {
        assert_eq!(Paint::new(false).green("+"), "+");
        assert_ne!(Paint::new(true).green("+"), "+");
    }
}
