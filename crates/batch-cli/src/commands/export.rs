//! `roster export`: every assignment of the selected spaces as a canonical roster, written space by
//! space as it is read. Sends only reads.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::steps::{print_warnings, read_failed, runtime, select_spaces};
use crate::cli::ExportArgs;
use crate::error::{CommandError, Outcome};
use crate::exit;
use crate::report::{self, OutputMode, ResolveProgress};
use crate::settings::{self, ProcessEnvironment, TargetSettings};
use crate::vendor::build_target;
use engine::export::{self, CsvExport, People};

/// Runs `roster export`: 0 when written, 2 for usage, configuration or tenant-access problems.
pub fn run(args: ExportArgs) -> Outcome {
    if super::fleet::wanted(&args.target, &args.fleet) {
        return super::fleet::export(&args);
    }
    let settings = settings::load(&args, &ProcessEnvironment)?;
    print_warnings(&settings.warnings);
    let mode = OutputMode::detect(args.quiet, false);
    let runtime = runtime()?;
    runtime.block_on(export(&args, &settings.source, &mode))
}

async fn export(args: &ExportArgs, settings: &TargetSettings, mode: &OutputMode) -> Outcome {
    let source = build_target(settings, None)?;
    let progress = ResolveProgress::new(mode, false);
    let finished = |error: CommandError| {
        progress.finish();
        error
    };
    let spaces = select_spaces(source.as_ref(), settings, &args.selection, &progress, "spaces")
        .await
        .map_err(finished)?;
    progress.phase("users and groups", 0, 1);
    let people = People::read(source.as_ref()).await.map_err(|error| {
        finished(read_failed(
            format!("failed to list the users and groups of {}", settings.name),
            &error,
            settings,
        ))
    })?;
    progress.phase("users and groups", 1, 1);

    let output = Output::open(&args.output).map_err(|error| {
        finished(CommandError::new(format!("cannot write {}", output_name(&args.output))).caused_by(error))
    })?;
    let mut csv = match CsvExport::new(BufWriter::new(output.writer)) {
        Ok(csv) => csv,
        Err(error) => {
            progress.finish();
            output.commit.abandon();
            return write_failed(&settings.name, error);
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
            let hint =
                crate::hint::in_export(&error).and_then(|client| crate::hint::for_error(client, settings));
            return Err(CommandError::new(format!("failed to export {}", settings.name))
                .caused_by(error)
                .maybe_hint(hint));
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
        return write_failed(&settings.name, error);
    }
    // The summary, with or without -q (which, as in apply, leaves only the summary).
    let _ = writeln!(
        io::stderr(),
        "exported {} assignments of {} spaces from {} to {}",
        report::format::count(rows),
        report::format::count(total),
        settings.name,
        output_name(&args.output)
    );
    Ok(exit::OK)
}

/// A write that failed: a closed standard output (`-o - | head`) ends the export quietly, as a
/// reader's choice; anything else is an error.
fn write_failed(name: &str, error: io::Error) -> Outcome {
    if crate::pipe::is_closed_pipe(&error) {
        return Ok(crate::pipe::CLOSED_PIPE_EXIT);
    }
    Err(CommandError::new(format!("failed to export {name}")).caused_by(error))
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
