//! Settings resolution: the one step that merges what the user typed (clap structs in
//! [`crate::cli`]), the config file ([`crate::config`]) and the environment into the plain
//! structs the engine uses. Flags override the config file, the config file overrides the
//! defaults; nothing downstream reads a flag, a file or an environment variable again.
//!
//! Every command resolves its settings through [`resolve`] (or [`load`], which finds the config
//! file first). By concern: [`env`] names the environment variables, [`environment`] is what may
//! be read from the process, [`target`] resolves one target, [`credentials`] reads its secret,
//! [`error`] is the error every step returns, and [`rerun`] gives back the flags that name a
//! target again.

mod credentials;
pub mod env;
mod environment;
mod error;
pub mod fleet;
mod rerun;
mod target;

use std::path::{Path, PathBuf};
use std::time::Duration;

use core_api::target::TargetKind;

pub use environment::{Environment, FixedEnvironment, ProcessEnvironment};
pub use error::SettingsError;
pub use rerun::rerun_words;
pub use target::{TargetRole, TargetSettings, TargetSource};

use crate::cli::{ApplyArgs, ExportArgs, MigrateArgs, OutputArgs, PlanArgs, TargetArgs, WriteArgs};
use crate::config::{CONFIG_FILE_NAME, LoadedConfig, Warning};
use engine::migrate::mapping::Options;
use engine::migrate::{IdentityMap, RoleMap, SpaceRename};
use engine::model::Mode;
use target::{checked_batch_size, checked_concurrency};

/// Rows in flight at once when neither flag nor config says.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// Rows per bulk write when neither flag nor config says.
pub const DEFAULT_BATCH_SIZE: usize = 50;
/// Request timeout when neither flag nor config says.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest `--concurrency` accepted.
pub const MAX_CONCURRENCY: usize = 256;
/// The largest `--batch-size` accepted.
pub const MAX_BATCH_SIZE: usize = 1000;
/// `--to qlik:NAME` picks a qlik-cli context.
pub const QLIK_CLI_PREFIX: &str = "qlik:";
/// The state directory's name beside the roster.
pub const STATE_DIR_NAME: &str = ".roster";

/// How output looks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputSettings {
    /// JSON on stdout.
    pub json: bool,
    /// Only the summary.
    pub quiet: bool,
    /// 0 normal, 1 `-v`, 2 `-vv`.
    pub verbose: u8,
}

impl From<OutputArgs> for OutputSettings {
    fn from(args: OutputArgs) -> Self {
        OutputSettings {
            json: args.json,
            quiet: args.quiet,
            verbose: args.verbose,
        }
    }
}

/// `roster plan`, resolved.
#[derive(Debug, Clone)]
pub struct PlanSettings {
    /// The roster file.
    pub roster: PathBuf,
    /// The tenant.
    pub target: TargetSettings,
    /// Merge or exact.
    pub mode: Mode,
    /// Output.
    pub output: OutputSettings,
    /// Warnings for the user (config permissions, `--insecure`); the caller prints them.
    pub warnings: Vec<Warning>,
}

/// `roster apply`, resolved.
#[derive(Debug, Clone)]
pub struct ApplySettings {
    /// Everything a plan needs (apply plans first).
    pub plan: PlanSettings,
    /// The journal's directory.
    pub state_dir: PathBuf,
    /// Ignore the journal.
    pub fresh: bool,
    /// Only the rows the journal marks failed.
    pub only_failed: bool,
    /// No confirmation prompt.
    pub yes: bool,
}

/// Finds the config file: `--config`, else `$ROSTER_CONFIG`, else `./roster.toml`, else
/// `<config dir>/roster/roster.toml`. `Ok(None)` when there is none (an explicitly named file
/// that does not exist is an error).
pub fn find_config(
    explicit: Option<&Path>,
    env: &dyn Environment,
) -> Result<Option<LoadedConfig>, SettingsError> {
    let named = explicit.map(|p| (p.to_path_buf(), "--config")).or_else(|| {
        env.var(env::ROSTER_CONFIG)
            .filter(|v| !v.is_empty())
            .map(|v| (PathBuf::from(v), env::ROSTER_CONFIG))
    });
    if let Some((path, from)) = named {
        if !path.is_file() {
            return Err(SettingsError::new(format!(
                "config file {} (from {from}) does not exist",
                path.display()
            )));
        }
        return LoadedConfig::load(&path).map(Some).map_err(SettingsError::new);
    }
    for path in config_candidates(env) {
        if path.is_file() {
            return LoadedConfig::load(&path).map(Some).map_err(SettingsError::new);
        }
    }
    Ok(None)
}

/// Where a config file is looked for when none is named.
pub fn config_candidates(env: &dyn Environment) -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = env.current_dir() {
        candidates.push(dir.join(CONFIG_FILE_NAME));
    }
    if let Some(dir) = env.config_dir() {
        candidates.push(dir.join("roster").join(CONFIG_FILE_NAME));
    }
    candidates
}

/// The flags of a command whose settings [`resolve`] makes.
pub trait CommandArgs {
    /// The command's settings, resolved.
    type Settings;
    /// The target flags (with `--config`).
    fn target(&self) -> &TargetArgs;
    /// Flags over `file` over defaults.
    fn resolve(
        &self,
        file: Option<&LoadedConfig>,
        env: &dyn Environment,
    ) -> Result<Self::Settings, SettingsError>;
}

/// A command's settings from its flags, the config `file` and the environment: the one entry
/// every command resolves through.
pub fn resolve<A: CommandArgs>(
    args: &A,
    file: Option<&LoadedConfig>,
    env: &dyn Environment,
) -> Result<A::Settings, SettingsError> {
    args.resolve(file, env)
}

/// Finds the config file ([`find_config`]) and [`resolve`]s.
pub fn load<A: CommandArgs>(args: &A, env: &dyn Environment) -> Result<A::Settings, SettingsError> {
    let file = find_config(args.target().config.as_deref(), env)?;
    resolve(args, file.as_ref(), env)
}

impl CommandArgs for PlanArgs {
    type Settings = PlanSettings;
    fn target(&self) -> &TargetArgs {
        &self.target
    }
    fn resolve(
        &self,
        file: Option<&LoadedConfig>,
        env: &dyn Environment,
    ) -> Result<PlanSettings, SettingsError> {
        resolve_run(
            &self.roster,
            &self.target,
            self.run,
            self.batch_size,
            self.output,
            file,
            env,
        )
    }
}

impl CommandArgs for ApplyArgs {
    type Settings = ApplySettings;
    fn target(&self) -> &TargetArgs {
        &self.target
    }
    fn resolve(
        &self,
        file: Option<&LoadedConfig>,
        env: &dyn Environment,
    ) -> Result<ApplySettings, SettingsError> {
        let plan = resolve_run(
            &self.roster,
            &self.target,
            self.run,
            self.batch_size,
            self.output,
            file,
            env,
        )?;
        let state_dir = self
            .state_dir
            .clone()
            .unwrap_or_else(|| default_state_dir(&self.roster));
        Ok(ApplySettings {
            plan,
            state_dir,
            fresh: self.fresh,
            only_failed: self.only_failed,
            yes: self.yes,
        })
    }
}

/// `roster export`, resolved.
#[derive(Debug, Clone)]
pub struct ExportSettings {
    /// The source, named with `--from` (or `--server`); `concurrency` is export's `--concurrency`.
    pub source: TargetSettings,
    /// Warnings for the user; the caller prints them.
    pub warnings: Vec<Warning>,
}

impl CommandArgs for ExportArgs {
    type Settings = ExportSettings;
    fn target(&self) -> &TargetArgs {
        &self.target
    }
    fn resolve(
        &self,
        file: Option<&LoadedConfig>,
        env: &dyn Environment,
    ) -> Result<ExportSettings, SettingsError> {
        let mut warnings = Vec::new();
        let source = target_with(
            &self.target,
            TargetRole::Source,
            self.concurrency,
            file,
            env,
            &mut warnings,
        )?;
        Ok(ExportSettings { source, warnings })
    }
}

/// `roster migrate`, resolved.
#[derive(Debug)]
pub struct MigrateSettings {
    /// The source (`--from`), with its own settings from roster.toml or qlik-cli.
    pub from: TargetSettings,
    /// The destination (`--to` or `--server`, and the target flags).
    pub to: TargetSettings,
    /// How source assignments map onto the destination.
    pub options: Options,
    /// The mapped roster, in the state directory.
    pub generated: PathBuf,
    /// The apply run against the destination.
    pub apply: ApplySettings,
    /// Warnings for the user; the caller prints them.
    pub warnings: Vec<Warning>,
}

impl CommandArgs for MigrateArgs {
    type Settings = MigrateSettings;
    fn target(&self) -> &TargetArgs {
        &self.target
    }
    fn resolve(
        &self,
        file: Option<&LoadedConfig>,
        env: &dyn Environment,
    ) -> Result<MigrateSettings, SettingsError> {
        let mut warnings = Vec::new();
        let named = TargetArgs {
            to: Some(self.from.clone()),
            config: self.target.config.clone(),
            ..TargetArgs::default()
        };
        let from = TargetSettings::resolve_as(&named, TargetRole::Source, file, env, &mut warnings)?;
        // The destination: the same flags, resolution and checks as plan's and apply's target.
        let to = target_with(
            &self.target,
            TargetRole::Target,
            self.run.concurrency,
            file,
            env,
            &mut warnings,
        )?;
        if from.name == to.name {
            return Err(SettingsError::new(format!(
                "--from and --to name the same target ({}); migrate copies between two tenants",
                to.name
            )));
        }
        let identities = match &self.identity_map {
            Some(path) => IdentityMap::load(path).map_err(SettingsError::new)?,
            None => IdentityMap::default(),
        };
        let file_roles = match &self.role_map {
            Some(path) => RoleMap::load(path).map_err(SettingsError::new)?,
            None => RoleMap::default(),
        };
        let roles = if to.kind == TargetKind::Alumio && from.kind == TargetKind::Qlik {
            RoleMap::qlik_to_alumio().overridden_by(file_roles)
        } else {
            file_roles
        };
        let rename = self
            .space_rename
            .as_deref()
            .map(SpaceRename::parse)
            .transpose()
            .map_err(SettingsError::new)?;
        let state_dir = self
            .state_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(STATE_DIR_NAME));
        let generated = state_dir.join(format!(
            "migrate-{}-to-{}.csv",
            file_safe(&from.name),
            file_safe(&to.name)
        ));
        let apply = ApplySettings {
            plan: PlanSettings {
                roster: generated.clone(),
                target: to.clone(),
                mode: self.run.mode.unwrap_or_default(),
                output: OutputSettings::from(self.output),
                warnings: Vec::new(),
            },
            state_dir,
            fresh: self.fresh,
            only_failed: false,
            yes: self.yes,
        };
        Ok(MigrateSettings {
            from,
            to,
            options: Options {
                identities,
                roles,
                rename,
                create_spaces: self.create_missing_spaces,
                create_groups: self.create_missing_groups,
            },
            generated,
            apply,
            warnings,
        })
    }
}

/// A target name as a file name part: anything but letters, digits, `-` and `_` becomes `_`.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl PlanSettings {
    /// Finds the config file and resolves.
    pub fn from_args(args: &PlanArgs, env: &dyn Environment) -> Result<PlanSettings, SettingsError> {
        load(args, env)
    }

    /// Flags over config over defaults.
    pub fn resolve(
        args: &PlanArgs,
        config: Option<&LoadedConfig>,
        env: &dyn Environment,
    ) -> Result<PlanSettings, SettingsError> {
        resolve(args, config, env)
    }
}

impl ApplySettings {
    /// Finds the config file and resolves.
    pub fn from_args(args: &ApplyArgs, env: &dyn Environment) -> Result<ApplySettings, SettingsError> {
        load(args, env)
    }

    /// Flags over config over defaults.
    pub fn resolve(
        args: &ApplyArgs,
        config: Option<&LoadedConfig>,
        env: &dyn Environment,
    ) -> Result<ApplySettings, SettingsError> {
        resolve(args, config, env)
    }
}

/// `.roster/` in the roster's directory.
pub fn default_state_dir(roster: &Path) -> PathBuf {
    match roster.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(STATE_DIR_NAME),
        _ => PathBuf::from(STATE_DIR_NAME),
    }
}

/// `--batch-size` over a target's own, checked as for one target: a fleet's tenants take it
/// as a single run does.
pub(crate) fn set_batch_size(target: &mut TargetSettings, n: Option<usize>) -> Result<(), SettingsError> {
    if let Some(n) = n {
        target.batch_size = checked_batch_size(n)?;
    }
    Ok(())
}

/// The part plan and apply share: the target (with `--concurrency` and `--batch-size`), the
/// mode and the output.
fn resolve_run(
    roster: &Path,
    target: &TargetArgs,
    run: WriteArgs,
    batch_size: Option<usize>,
    output: OutputArgs,
    config: Option<&LoadedConfig>,
    env: &dyn Environment,
) -> Result<PlanSettings, SettingsError> {
    let mut warnings = Vec::new();
    let mut target = target_with(
        target,
        TargetRole::Target,
        run.concurrency,
        config,
        env,
        &mut warnings,
    )?;
    if let Some(n) = batch_size {
        target.batch_size = checked_batch_size(n)?;
    }
    Ok(PlanSettings {
        roster: roster.to_path_buf(),
        target,
        mode: run.mode.unwrap_or_default(),
        output: OutputSettings::from(output),
        warnings,
    })
}

/// A target in `role`, with the command's `--concurrency` over the target's: checked alike in
/// every command (out of range is refused, never clamped).
fn target_with(
    args: &TargetArgs,
    role: TargetRole,
    concurrency: Option<usize>,
    file: Option<&LoadedConfig>,
    env: &dyn Environment,
    warnings: &mut Vec<Warning>,
) -> Result<TargetSettings, SettingsError> {
    let mut target = TargetSettings::resolve_as(args, role, file, env, warnings)?;
    if let Some(n) = concurrency {
        target.concurrency = checked_concurrency(n)?;
    }
    Ok(target)
}

#[cfg(test)]
mod tests;
