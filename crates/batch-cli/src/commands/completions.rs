//! `roster completions SHELL`: the completion script for a shell, on stdout.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::{CommandError, Outcome};
use crate::exit;

/// Writes the script for `shell` to stdout.
pub fn run(shell: Shell) -> Outcome {
    let mut stdout = std::io::stdout().lock();
    match write(shell, &mut stdout) {
        Ok(()) => Ok(exit::OK),
        // `roster completions bash | head`: the reader's choice, ended quietly.
        Err(error) if crate::pipe::is_closed_pipe(&error) => Ok(crate::pipe::CLOSED_PIPE_EXIT),
        Err(error) => Err(CommandError::new("failed to write the completion script").caused_by(error)),
    }
}

/// Writes the script for `shell` to `out`.
pub fn write(shell: Shell, out: &mut dyn Write) -> std::io::Result<()> {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    // clap_complete panics when its writer fails, so the script is made in memory first and
    // written here, where a closed pipe is an error like any other.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut script);
    out.write_all(&script)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_name_the_commands_and_flags() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut out = Vec::new();
            write(shell, &mut out).unwrap();
            let script = String::from_utf8(out).unwrap();
            for word in [
                "roster",
                "plan",
                "apply",
                "api-key-env",
                "only-failed",
                "state-dir",
            ] {
                assert!(script.contains(word), "{shell}: {word} missing");
            }
        }
    }
}
