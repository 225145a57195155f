//! Credentials: where the API key or OAuth client secret is read from (flag, config table,
//! qlik-cli context, environment, file or standard input), and reading it.

use std::path::{Path, PathBuf};

use core_api::{Credentials, Secret};

use super::{Environment, SettingsError};
use crate::cli::TargetArgs;
use crate::config::{TargetConfig, Warning, permission_warning};

/// Where a secret is to be read from.
pub(super) enum SecretSource {
    Env(String),
    File(PathBuf),
    Stdin,
    Inline(Secret),
}

/// Credentials before their secret is read.
pub(super) enum CredentialSource {
    ApiKey(SecretSource),
    OAuth {
        client_id: String,
        secret: SecretSource,
        scope: Option<String>,
    },
}

pub(super) fn credentials_from_table(
    name: &str,
    t: &TargetConfig,
    path: &Path,
) -> Result<Option<CredentialSource>, SettingsError> {
    let mut named = Vec::new();
    if t.api_key_env.is_some() {
        named.push("api_key_env");
    }
    if t.api_key_file.is_some() {
        named.push("api_key_file");
    }
    if t.api_key.is_some() {
        named.push("api_key");
    }
    if t.client_id.is_some() {
        named.push("client_id");
    }
    if named.len() > 1 {
        return Err(SettingsError::new(format!(
            "target \"{name}\" in {} sets {}: keep one credential",
            path.display(),
            named.join(" and ")
        )));
    }
    let secret_sources = [
        t.client_secret_env.is_some(),
        t.client_secret_file.is_some(),
        t.client_secret.is_some(),
    ]
    .into_iter()
    .filter(|s| *s)
    .count();
    if let Some(client_id) = &t.client_id {
        let secret = if let Some(var) = &t.client_secret_env {
            SecretSource::Env(var.clone())
        } else if let Some(file) = &t.client_secret_file {
            SecretSource::File(file.clone())
        } else if let Some(secret) = &t.client_secret {
            SecretSource::Inline(secret.clone())
        } else {
            return Err(SettingsError::new(format!(
                "target \"{name}\" in {} has client_id but no client secret",
                path.display()
            ))
            .hint("add client_secret_env = \"VAR\" or client_secret_file = \"PATH\""));
        };
        if secret_sources > 1 {
            return Err(SettingsError::new(format!(
                "target \"{name}\" in {} sets more than one of client_secret_env, client_secret_file, client_secret",
                path.display()
            )));
        }
        return Ok(Some(CredentialSource::OAuth {
            client_id: client_id.clone(),
            secret,
            scope: t.scope.clone(),
        }));
    }
    if secret_sources > 0 {
        return Err(SettingsError::new(format!(
            "target \"{name}\" in {} has a client secret but no client_id",
            path.display()
        )));
    }
    Ok(if let Some(var) = &t.api_key_env {
        Some(CredentialSource::ApiKey(SecretSource::Env(var.clone())))
    } else if let Some(file) = &t.api_key_file {
        Some(CredentialSource::ApiKey(SecretSource::File(file.clone())))
    } else {
        t.api_key
            .clone()
            .map(|k| CredentialSource::ApiKey(SecretSource::Inline(k)))
    })
}

pub(super) fn credentials_from_flags(args: &TargetArgs) -> Result<Option<CredentialSource>, SettingsError> {
    if let Some(client_id) = &args.client_id {
        let secret = if let Some(var) = &args.client_secret_env {
            SecretSource::Env(var.clone())
        } else if let Some(file) = &args.client_secret_file {
            SecretSource::File(file.clone())
        } else {
            return Err(SettingsError::new(
                "--client-id needs --client-secret-env VAR or --client-secret-file PATH",
            ));
        };
        return Ok(Some(CredentialSource::OAuth {
            client_id: client_id.clone(),
            secret,
            scope: None,
        }));
    }
    Ok(if args.api_key_stdin {
        Some(CredentialSource::ApiKey(SecretSource::Stdin))
    } else if let Some(file) = &args.api_key_file {
        Some(CredentialSource::ApiKey(SecretSource::File(file.clone())))
    } else {
        args.api_key_env
            .as_ref()
            .map(|var| CredentialSource::ApiKey(SecretSource::Env(var.clone())))
    })
}

pub(super) fn read_credentials(
    source: CredentialSource,
    target: &str,
    base_dir: Option<&Path>,
    env: &dyn Environment,
    warnings: &mut Vec<Warning>,
) -> Result<Credentials, SettingsError> {
    Ok(match source {
        CredentialSource::ApiKey(secret) => {
            Credentials::ApiKey(read_secret(secret, "API key", target, base_dir, env, warnings)?)
        }
        CredentialSource::OAuth {
            client_id,
            secret,
            scope,
        } => {
            let client_secret = read_secret(secret, "OAuth client secret", target, base_dir, env, warnings)?;
            Credentials::OAuth {
                client_id,
                client_secret,
                scope,
            }
        }
    })
}

fn read_secret(
    source: SecretSource,
    what: &str,
    target: &str,
    base_dir: Option<&Path>,
    env: &dyn Environment,
    warnings: &mut Vec<Warning>,
) -> Result<Secret, SettingsError> {
    let value = match source {
        SecretSource::Inline(secret) => {
            if secret.is_empty() {
                return Err(SettingsError::new(format!(
                    "the {what} of target \"{target}\" is empty"
                )));
            }
            return Ok(secret);
        }
        SecretSource::Env(var) => match env.var(&var) {
            Some(value) if !value.trim().is_empty() => value,
            Some(_) => {
                return Err(SettingsError::new(format!(
                    "environment variable {var} is empty (it should hold the {what} for target \"{target}\")"
                )));
            }
            None => {
                return Err(SettingsError::new(format!(
                    "environment variable {var} is not set (it should hold the {what} for target \"{target}\")"
                ))
                .hint(format!(
                    "export {var}=..., or name another variable with --api-key-env, or use --api-key-file / --api-key-stdin"
                )));
            }
        },
        SecretSource::File(path) => {
            let path = expand_path(&path, base_dir, env);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                SettingsError::new(format!("cannot read the {what} file {}: {e}", path.display()))
            })?;
            if let Some(warning) = permission_warning(&path, &format!("the {what} of target \"{target}\"")) {
                warnings.push(warning);
            }
            text
        }
        SecretSource::Stdin => env
            .read_stdin()
            .map_err(|e| SettingsError::new(format!("cannot read the {what} from standard input: {e}")))?,
    };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(SettingsError::new(format!(
            "the {what} for target \"{target}\" is empty"
        )));
    }
    Ok(Secret::new(trimmed))
}

/// `~/x` from the home directory; relative paths from the config file's directory.
fn expand_path(path: &Path, base_dir: Option<&Path>, env: &dyn Environment) -> PathBuf {
    if let Ok(rest) = path.strip_prefix("~")
        && let Some(home) = env.home_dir()
    {
        return home.join(rest);
    }
    match base_dir {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_path_buf(),
    }
}
