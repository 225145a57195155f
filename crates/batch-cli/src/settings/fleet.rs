//! Which tenants a `--to` names: a comma list of target names, `qlik:` contexts, globs over
//! both (`cust-*`, `qlik:cust-*`) and fleets (`[fleets.NAME]`, read by [`crate::config::fleet`]),
//! resolved to one [`TargetSettings`] each, then cut to this process's `--shard`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::cli::TargetArgs;
use crate::config::{LoadedConfig, QlikCliContexts, Warning};
use crate::settings::{
    Environment, QLIK_CLI_PREFIX, SettingsError, TargetSettings, env as vars, find_config,
};

use crate::config::fleet::read_fleet;
use engine::fleet::{Shard, glob_match};

/// One tenant of a fleet run, with its resolved target settings.
pub type Member = engine::fleet::Member<TargetSettings>;

/// Whether `--to` names more than one tenant, or may: a comma list, a glob, or a fleet's name.
pub fn is_fleet(to: Option<&str>, config: Option<&LoadedConfig>) -> bool {
    let Some(to) = to else {
        return false;
    };
    to.contains(',') || has_glob(to) || config.is_some_and(|c| c.file.fleets.contains_key(to.trim()))
}

fn has_glob(text: &str) -> bool {
    text.contains(['*', '?'])
}

/// The tenants `args.to` names, in the order given (each once), cut to `shard`. Warnings (file
/// permissions) are added to `warnings`. An error here is a usage error: nothing was sent.
pub fn members(
    args: &TargetArgs,
    shard: Option<Shard>,
    env: &dyn Environment,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Member>, SettingsError> {
    if args.server.is_some() {
        return Err(SettingsError::plain(
            "--server names one tenant, and a fleet run names its tenants with --to",
        )
        .with_hint("set the servers in a fleet in roster.toml (see `[fleets.NAME]` in the README)"));
    }
    let config = find_config(args.config.as_deref(), env)?;
    if let Some(config) = &config {
        warnings.extend(config.warnings.iter().cloned());
    }
    // `--shard` or `--tenants-in-flight` alone work on the config's default target.
    let to = args
        .to
        .clone()
        .or_else(|| config.as_ref().and_then(|c| c.file.default_target.clone()))
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    let mut members = Vec::new();
    let mut push = |name: String, resolve: &dyn Fn() -> Result<TargetSettings, String>| {
        if seen.insert(name.clone()) {
            members.push(Member {
                target: resolve(),
                name,
            });
        }
    };
    let mut contexts: Option<QlikCliContexts> = None;
    for item in to.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        if let Some(pattern) = item.strip_prefix(QLIK_CLI_PREFIX) {
            let names: Vec<String> = if has_glob(pattern) {
                if contexts.is_none() {
                    contexts = Some(load_contexts(env)?);
                }
                let all = contexts
                    .as_ref()
                    .map(|c| c.contexts.as_slice())
                    .unwrap_or_default();
                let found: Vec<String> = all
                    .iter()
                    .filter(|c| glob_match(pattern, &c.name))
                    .map(|c| c.name.clone())
                    .collect();
                if found.is_empty() {
                    let known: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
                    return Err(
                        SettingsError::plain(format!("no qlik-cli context matches {item:?}"))
                            .with_hint(format!("contexts: {}", known.join(", "))),
                    );
                }
                found
            } else {
                vec![pattern.to_owned()]
            };
            for context in names {
                let name = format!("{QLIK_CLI_PREFIX}{context}");
                let one = single(args, &name);
                push(name, &|| resolve_one(&one, config.as_ref(), env));
            }
            continue;
        }
        let fleets = config.as_ref().map(|c| &c.file.fleets);
        if let (Some(config), true) = (&config, fleets.is_some_and(|f| f.contains_key(item))) {
            let tenants = read_fleet(config, item).map_err(SettingsError::plain)?;
            for tenant in tenants {
                let mut synthetic = config.clone();
                synthetic.file.targets.clear();
                synthetic.file.fleets.clear();
                synthetic
                    .file
                    .targets
                    .insert(tenant.name.clone(), tenant.table.clone());
                synthetic.warnings.clear();
                let one = single(args, &tenant.name);
                push(tenant.name.clone(), &|| resolve_one(&one, Some(&synthetic), env));
            }
            continue;
        }
        if has_glob(item) {
            let Some(config) = &config else {
                return Err(SettingsError::plain(format!(
                    "--to {item:?} is a pattern over roster.toml's targets, and there is no roster.toml"
                ))
                .with_hint("create roster.toml, or pass --config PATH"));
            };
            let found: Vec<&String> = config
                .file
                .targets
                .keys()
                .filter(|name| glob_match(item, name))
                .collect();
            if found.is_empty() {
                let known: Vec<&str> = config
                    .file
                    .targets
                    .keys()
                    .chain(config.file.fleets.keys())
                    .map(String::as_str)
                    .collect();
                return Err(SettingsError::plain(format!(
                    "no target in {} matches {item:?}",
                    config.path.display()
                ))
                .with_hint(format!(
                    "targets and fleets: {}; for qlik-cli contexts use --to 'qlik:{item}'",
                    known.join(", ")
                )));
            }
            for name in found {
                let one = single(args, name);
                push(name.clone(), &|| resolve_one(&one, Some(config), env));
            }
            continue;
        }
        // A plain name must exist: a typo is a usage error before anything is sent.
        let known = config.as_ref().is_some_and(|c| c.file.targets.contains_key(item));
        if !known {
            let one = single(args, item);
            TargetSettings::resolve(&one, config.as_ref(), env, &mut Vec::new())?;
        }
        let one = single(args, item);
        push(item.to_owned(), &|| resolve_one(&one, config.as_ref(), env));
    }
    if members.is_empty() {
        return Err(SettingsError::plain("no target given").with_hint(
            "name the tenants with --to: a comma list, a glob such as 'cust-*' or 'qlik:cust-*', or a fleet's name",
        ));
    }
    if let Some(shard) = shard {
        members.retain(|m| shard.holds(&m.name));
    }
    Ok(members)
}

/// The target flags for one tenant: `--to NAME` and every other flag as given.
fn single(args: &TargetArgs, name: &str) -> TargetArgs {
    TargetArgs {
        to: Some(name.to_owned()),
        ..args.clone()
    }
}

fn resolve_one(
    args: &TargetArgs,
    config: Option<&LoadedConfig>,
    env: &dyn Environment,
) -> Result<TargetSettings, String> {
    TargetSettings::resolve(args, config, env, &mut Vec::new()).map_err(|e| e.to_string())
}

fn load_contexts(env: &dyn Environment) -> Result<QlikCliContexts, SettingsError> {
    let home_override = env
        .var(vars::QLIK_CLI_USER_HOME_DIR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let candidates = QlikCliContexts::candidates(home_override.as_deref(), env.home_dir().as_deref());
    let Some(path) = candidates.iter().find(|p| p.is_file()) else {
        return Err(SettingsError::plain("no qlik-cli contexts file found")
            .with_hint("create contexts with `qlik context create NAME --server URL --api-key KEY`"));
    };
    QlikCliContexts::load(path).map_err(SettingsError::plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleets_are_recognised() {
        assert!(is_fleet(Some("a,b"), None));
        assert!(is_fleet(Some("cust-*"), None));
        assert!(!is_fleet(Some("prod"), None));
        assert!(!is_fleet(None, None));
    }
}
