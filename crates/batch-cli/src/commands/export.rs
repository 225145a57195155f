//! `roster export`: every assignment of the selected spaces as a canonical roster, written space by
//! space as it is read. Sends only reads.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::plan::{print_warnings, runtime, usage_error};
use crate::cli::{ExportArgs, TargetArgs};
use crate::exit;
use crate::export::{self, CsvExport, People, Selection};
use crate::hint::with_hint;
use crate::report::{self, OutputMode, ResolveProgress};
use crate::settings::{ProcessEnvironment, SettingsError, TargetSettings, find_config, resolve_target};
use crate::target::build_target;

/// Resolve a named target (`migrate --from NAME`) the way `--to NAME` is resolved; hints name `flag`.
pub(crate) fn named_target(
    name: &str,
    flag: &str,
    config: Option<&Path>,
    warnings: &mut Vec<String>,
) -> Result<TargetSettings, SettingsError> {
    let env = ProcessEnvironment;
    let loaded = find_config(config, &env)?;
    let args = TargetArgs {
        to: Some(name.to_owned()),
        config: config.map(Path::to_path_buf),
        ..TargetArgs::default()
    };
    TargetSettings::resolve(&args, loaded.as_ref(), &env, warnings).map_err(|e| e.for_flag(flag))
}

/// Runs `roster export`; 0 when written, 2 for usage, configuration or tenant-access problems.
pub fn run(args: ExportArgs) -> u8 {
    if crate::fleet::wanted(&args.target, &args.fleet) {
        return crate::fleet::export(&args);
    }
    let mut stderr = io::stderr();
    let mut warnings = Vec::new();
    let settings = match resolve_target(&args.target, args.concurrency, &ProcessEnvironment, &mut warnings) {
        Ok(settings) => settings,
        // The same resolution as --to: its hint names --to, which export spells --from.
        Err(error) if error.message() == "no target given" => {
            return usage_error(
                &mut stderr,
                &format!(
                    "{}\nhint: name the source with --from NAME (a target in roster.toml), --from \
                     qlik:CONTEXT (a qlik-cli context) or --server URL",
                    error.message()
                ),
            );
        }
        Err(error) => return usage_error(&mut stderr, &error.for_flag("--from")),
    };
    print_warnings(&mut stderr, &warnings);
    let mode = OutputMode::detect(args.quiet, false);
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(export(&args, &settings, &mode))
}

async fn export(args: &ExportArgs, settings: &TargetSettings, mode: &OutputMode) -> u8 {
    let mut stderr = io::stderr();
    let source = match build_target(settings, None) {
        Ok(target) => target,
        Err(error) => return usage_error(&mut stderr, &error),
    };
    let selection = Selection {
        spaces: args.spaces.clone(),
        types: args.types.clone(),
    };
    let progress = ResolveProgress::new(mode, false);
    progress.phase("spaces", 0, 1);
    let (spaces, missing) = match export::select_spaces(source.as_ref(), &selection).await {
        Ok(found) => found,
        Err(error) => {
            progress.finish();
            let message = format!("failed to list the spaces of {}: {error}", settings.name);
            return usage_error(&mut stderr, &with_hint(message, &error, settings));
        }
    };
    progress.phase("spaces", 1, 1);
    if !missing.is_empty() {
        progress.finish();
        return usage_error(
            &mut stderr,
            &format!(
                "no space named or with id {} in {}",
                missing
                    .iter()
                    .map(|m| format!("{m:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                settings.name
            ),
        );
    }
    progress.phase("users and groups", 0, 1);
    let people = match People::read(source.as_ref()).await {
        Ok(people) => people,
        Err(error) => {
            progress.finish();
            let message = format!(
                "failed to list the users and groups of {}: {error}",
                settings.name
            );
            return usage_error(&mut stderr, &with_hint(message, &error, settings));
        }
    };
    progress.phase("users and groups", 1, 1);

    let output = match Output::open(&args.output) {
        Ok(output) => output,
        Err(error) => {
            progress.finish();
            return usage_error(
                &mut stderr,
                &format!("cannot write {}: {error}", output_name(&args.output)),
            );
        }
    };
    let mut csv = match CsvExport::new(BufWriter::new(output.writer)) {
        Ok(csv) => csv,
        Err(error) => {
            progress.finish();
            output.commit.abandon();
            return write_failed(&mut stderr, &settings.name, &error);
        }
    };
    let total = spaces.len() as u64;
    let mut done = 0;
    progress.phase("assignments", 0, total);
    let result = export::read_spaces(source.as_ref(), spaces, &people, settings.concurrency, |space| {
        csv.space(&space)?;
        done += 1;
        progress.phase("assignments", done, total);
        Ok(())
    })
    .await;
    progress.finish();
    let rows = csv.rows();
    let commit = output.commit;
    let written = match result {
        Ok(()) => csv
            .finish()
            .and_then(|writer| writer.into_inner().map_err(io::IntoInnerError::into_error)),
        Err(export::ExportError::Write(error)) => Err(error),
        Err(error) => {
            commit.abandon();
            let mut message = format!("failed to export {}: {error}", settings.name);
            if let Some(client) = crate::hint::in_export(&error) {
                message = with_hint(message, client, settings);
            }
            let _ = writeln!(stderr, "error: {message}");
            return exit::USAGE;
        }
    };
    let finished = match written {
        Ok(writer) => commit.complete(writer),
        Err(error) => {
            commit.abandon();
            Err(error)
        }
    };
    if let Err(error) = finished {
        return write_failed(&mut stderr, &settings.name, &error);
    }
    // The summary, with or without -q (which, as in apply, leaves only the summary).
    {
        let _ = writeln!(
            stderr,
            "exported {} assignments of {} spaces from {} to {}",
            report::format::count(rows),
            report::format::count(total),
            settings.name,
            output_name(&args.output)
        );
    }
    exit::OK
}

/// A write that failed: a closed standard output (`-o - | head`) ends the export quietly, as a
/// reader's choice; anything else is an error.
fn write_failed(stderr: &mut impl Write, name: &str, error: &io::Error) -> u8 {
    if crate::pipe::is_closed_pipe(error) {
        return crate::pipe::CLOSED_PIPE_EXIT;
    }
    let _ = writeln!(stderr, "error: failed to export {name}: {error}");
    exit::USAGE
}

/// How the user sees `-o PATH` in messages.
fn output_name(path: &Path) -> String {
    if is_stdout(path) {
        "standard output".to_owned()
    } else {
        path.display().to_string()
    }
}

/// `-o -` is standard output.
fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Where the export goes, and how it is made final.
struct Output {
    writer: Box<dyn Write>,
    commit: Commit,
}

/// What happens when the export is complete (or abandoned).
enum Commit {
    /// Standard output, a device, a FIFO, a socket: written in place; nothing to rename.
    Direct,
    /// A regular file (or none yet): the temporary file beside `target` is renamed over it.
    Rename {
        /// The temporary file.
        tmp: PathBuf,
        /// The file it replaces (a symbolic link's target, so the link stays).
        target: PathBuf,
    },
}

impl Output {
    /// Open `path` for the export. A regular file (or a path where nothing is yet) is written to
    /// a temporary file beside it and renamed over it once complete, so a failed export never
    /// leaves a half file where a roster is expected. Anything else is written directly:
    /// renaming over `/dev/stdout`, a FIFO or a device would replace it with a regular file.
    fn open(path: &Path) -> io::Result<Output> {
        if is_stdout(path) {
            return Ok(Output {
                writer: Box::new(io::stdout()),
                commit: Commit::Direct,
            });
        }
        // `metadata` follows symbolic links: a link to a FIFO is written as the FIFO.
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "it is a directory; name a file",
            )),
            Ok(meta) if !meta.is_file() => Ok(Output {
                writer: Box::new(std::fs::OpenOptions::new().write(true).open(path)?),
                commit: Commit::Direct,
            }),
            Ok(_) => {
                let target = std::fs::canonicalize(path)?;
                Output::temporary(target)
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => Output::temporary(path.to_path_buf()),
            Err(error) => Err(error),
        }
    }

    fn temporary(target: PathBuf) -> io::Result<Output> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "export.csv".to_owned());
        let tmp = target.with_file_name(format!(".{name}.tmp"));
        let file = File::create(&tmp)?;
        Ok(Output {
            writer: Box::new(file),
            commit: Commit::Rename { tmp, target },
        })
    }
}

impl Commit {
    /// Make the complete export final: flush, and for a file sync and rename it into place.
    fn complete(self, mut writer: Box<dyn Write>) -> io::Result<()> {
        let flushed = writer.flush();
        drop(writer);
        let result = flushed.and_then(|()| match &self {
            Commit::Direct => Ok(()),
            Commit::Rename { tmp, target } => File::open(tmp)
                .and_then(|file| file.sync_all())
                .and_then(|()| std::fs::rename(tmp, target)),
        });
        if result.is_err() {
            self.abandon();
        }
        result
    }

    /// Remove the temporary file of an export that will not complete.
    fn abandon(self) {
        if let Commit::Rename { tmp, .. } = self {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}
