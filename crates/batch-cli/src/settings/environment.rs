//! What settings resolution may read from the process, behind a trait so tests can substitute a
//! made-up environment: variables, directories and standard input.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::PathBuf;

/// What settings resolution may read from the process: environment variables, directories,
/// standard input. Tests substitute [`FixedEnvironment`].
pub trait Environment {
    /// An environment variable (`None` when unset or not unicode).
    fn var(&self, name: &str) -> Option<String>;
    /// The working directory.
    fn current_dir(&self) -> Option<PathBuf>;
    /// The user's home directory.
    fn home_dir(&self) -> Option<PathBuf>;
    /// The user's config directory (`~/.config` on Linux).
    fn config_dir(&self) -> Option<PathBuf>;
    /// All of standard input (for `--api-key-stdin`).
    fn read_stdin(&self) -> std::io::Result<String>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
    fn current_dir(&self) -> Option<PathBuf> {
        std::env::current_dir().ok()
    }
    fn home_dir(&self) -> Option<PathBuf> {
        dirs::home_dir()
    }
    fn config_dir(&self) -> Option<PathBuf> {
        dirs::config_dir()
    }
    fn read_stdin(&self) -> std::io::Result<String> {
        let mut text = String::new();
        std::io::stdin().lock().read_to_string(&mut text)?;
        Ok(text)
    }
}

/// A made-up environment for tests: only what is set here exists.
#[derive(Clone, Default)]
pub struct FixedEnvironment {
    /// Variables.
    pub vars: HashMap<String, String>,
    /// Working directory.
    pub current_dir: Option<PathBuf>,
    /// Home directory.
    pub home_dir: Option<PathBuf>,
    /// Config directory.
    pub config_dir: Option<PathBuf>,
    /// What standard input holds.
    pub stdin: Option<String>,
}

impl FixedEnvironment {
    /// Sets a variable.
    pub fn with_var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }
}

impl fmt::Debug for FixedEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Variables may hold keys: only their names are shown.
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("FixedEnvironment")
            .field("vars", &names)
            .field("current_dir", &self.current_dir)
            .field("home_dir", &self.home_dir)
            .field("config_dir", &self.config_dir)
            .field("stdin", &self.stdin.as_ref().map(|_| "[set]"))
            .finish()
    }
}

impl Environment for FixedEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }
    fn current_dir(&self) -> Option<PathBuf> {
        self.current_dir.clone()
    }
    fn home_dir(&self) -> Option<PathBuf> {
        self.home_dir.clone()
    }
    fn config_dir(&self) -> Option<PathBuf> {
        self.config_dir.clone()
    }
    fn read_stdin(&self) -> std::io::Result<String> {
        self.stdin
            .clone()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no input"))
    }
}
