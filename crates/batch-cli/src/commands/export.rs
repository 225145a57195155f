//! `roster export`: every assignment of the selected spaces as a canonical roster, written space by
//! space as it is read. Sends only reads.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::plan::{print_warnings, runtime, usage_error};
use crate::cli::{ExportArgs, TargetArgs};
use crate::exit;
use crate::export::{self, CsvExport, People, Selection};
use crate::report::{self, OutputMode, ResolveProgress};
use crate::settings::{ProcessEnvironment, SettingsError, TargetSettings, find_config, resolve_target};
use crate::target::build_target;

/// Resolve a named target (`migrate --from NAME`) the way `--to NAME` is resolved.
pub(crate) fn named_target(
    name: &str,
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
    TargetSettings::resolve(&args, loaded.as_ref(), &env, warnings)
}

/// Runs `roster export`; 0 when written, 2 for usage, configuration or tenant-access problems.
pub fn run(args: ExportArgs) -> u8 {
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
        Err(error) => return usage_error(&mut stderr, &error),
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
            return usage_error(
                &mut stderr,
                &format!("failed to list the spaces of {}: {error}", settings.name),
            );
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
            return usage_error(
                &mut stderr,
                &format!(
                    "failed to list the users and groups of {}: {error}",
                    settings.name
                ),
            );
        }
    };
    progress.phase("users and groups", 1, 1);

    let (file, tmp) = match create_output(&args.output) {
        Ok(pair) => pair,
        Err(error) => {
            progress.finish();
            return usage_error(
                &mut stderr,
                &format!("cannot write {}: {error}", args.output.display()),
            );
        }
    };
    let mut csv = match CsvExport::new(BufWriter::new(file)) {
        Ok(csv) => csv,
        Err(error) => {
            progress.finish();
            let _ = std::fs::remove_file(&tmp);
            return usage_error(&mut stderr, &format!("cannot write {}: {error}", tmp.display()));
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
    let finished = result.map_err(|e| e.to_string()).and_then(|()| {
        let mut writer = csv.finish().map_err(|e| e.to_string())?;
        writer.flush().map_err(|e| e.to_string())?;
        let file = writer.into_inner().map_err(|e| e.to_string())?;
        file.sync_all().map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, &args.output).map_err(|e| e.to_string())
    });
    if let Err(error) = finished {
        let _ = std::fs::remove_file(&tmp);
        let _ = writeln!(stderr, "error: failed to export {}: {error}", settings.name);
        return exit::USAGE;
    }
    // The summary, with or without -q (which, as in apply, leaves only the summary).
    {
        let _ = writeln!(
            stderr,
            "exported {} assignments of {} spaces from {} to {}",
            report::format::count(rows),
            report::format::count(total),
            settings.name,
            args.output.display()
        );
    }
    exit::OK
}

/// A temporary file beside `out`, renamed over it once complete, so a failed export never leaves
/// a half file where a roster is expected.
fn create_output(out: &Path) -> io::Result<(File, PathBuf)> {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export.csv".to_owned());
    let tmp = out.with_file_name(format!(".{name}.tmp"));
    let file = File::create(&tmp)?;
    Ok((file, tmp))
}
