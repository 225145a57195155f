//! The exit codes, documented in `--help` and the README. One place decides them.

/// Every row ended ok.
pub const OK: u8 = 0;
/// Some rows failed; the failed-rows CSV was written.
pub const ROWS_FAILED: u8 = 1;
/// Usage, configuration or input error; nothing was sent.
pub const USAGE: u8 = 2;
/// `plan --check`: applying the roster would change the tenant.
pub const CHANGES: u8 = 3;
/// Interrupted; rerun the same command to resume.
pub const INTERRUPTED: u8 = 130;
