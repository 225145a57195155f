//! The flags that name a target again, for the rerun line of a summary. Only names of
//! environment variables and files: never a secret (`--api-key-stdin` is repeated as a flag, and
//! the key must be given again).

use super::TargetSource;
use crate::cli::TargetArgs;

/// The words after the roster that rerun a command against `args`' target: `--config`, `--to
/// NAME` (unless the target came from `--server` alone), `--server`, the key sources and the
/// rates, then the command's own `run` flags, then the switches (`--api-key-stdin`,
/// `--insecure`, `--allow-http`).
pub fn rerun_words(args: &TargetArgs, source: &TargetSource, run: Vec<String>) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut push = |flag: &str, value: Option<String>| {
        if let Some(value) = value {
            words.push(flag.to_owned());
            words.push(value);
        }
    };
    push("--config", args.config.as_ref().map(|p| p.display().to_string()));
    if !matches!(source, TargetSource::CommandLine) {
        push("--to", args.to.clone());
    }
    push("--server", args.server.clone());
    push("--kind", args.kind.map(|k| format!("{k:?}").to_lowercase()));
    push("--api-key-env", args.api_key_env.clone());
    push(
        "--api-key-file",
        args.api_key_file.as_ref().map(|p| p.display().to_string()),
    );
    push("--client-id", args.client_id.clone());
    push("--client-secret-env", args.client_secret_env.clone());
    push(
        "--client-secret-file",
        args.client_secret_file.as_ref().map(|p| p.display().to_string()),
    );
    push("--tier1-per-min", args.tier1_per_min.map(|n| n.to_string()));
    push("--tier2-per-min", args.tier2_per_min.map(|n| n.to_string()));
    words.extend(run);
    for (set, flag) in [
        (args.api_key_stdin, "--api-key-stdin"),
        (args.insecure, "--insecure"),
        (args.allow_http, "--allow-http"),
    ] {
        if set {
            words.push(flag.to_owned());
        }
    }
    words
}
