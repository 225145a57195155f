//! Configuration files: `roster.toml` with named targets, and qlik-cli's `contexts.yml`.
//!
//! This module only reads and checks files; merging them with flags and the environment is
//! [`crate::settings`]' job.

mod file;
pub mod fleet;
mod qlik_cli;

pub use file::{CONFIG_FILE_NAME, ConfigFile, EXAMPLE, FleetTable, LoadedConfig, TargetConfig};
pub use qlik_cli::{QlikCliContext, QlikCliContexts};

/// A warning to show the user, e.g. a config file others can read.
pub type Warning = String;

/// Whether a file can be read by users other than its owner (unix mode & 0o077), and its mode.
#[cfg(unix)]
pub(crate) fn readable_by_others(path: &std::path::Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

/// Permissions are not checked where there are no unix modes.
#[cfg(not(unix))]
pub(crate) fn readable_by_others(_path: &std::path::Path) -> Option<u32> {
    None
}

/// The warning for a secret-holding file that others can read.
pub(crate) fn permission_warning(path: &std::path::Path, what: &str) -> Option<Warning> {
    readable_by_others(path).map(|mode| {
        format!(
            "{} holds {what} and can be read by other users (mode {mode:o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        )
    })
}
