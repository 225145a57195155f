//! Hints for failures to reach a tenant. The client says what would fix a failure
//! ([`core_api::Remedy`]); this module words it with the flags and config keys of the command
//! line, so every command gives the same advice for the same failure.

use core_api::target::TargetKind;
use core_api::{Credentials, Remedy};

use crate::settings::TargetSettings;
use engine::export::ExportError;
use engine::plan::{PlanError, PlanErrorKind};

/// What to do about `error` from `target`, when there is something to say.
pub fn for_error(error: &core_api::Error, target: &TargetSettings) -> Option<String> {
    let server = &target.server;
    let host = server.host_str().unwrap_or_default();
    let address = match server.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let hint = match error.remedy()? {
        Remedy::TrustCertificate => format!(
            "the certificate of {address} is not signed by an authority this machine trusts (a \
             self-signed certificate?): add its issuer to the system's trust store, or, for a test \
             tenant only, pass --insecure (`insecure = true` in the target's table)"
        ),
        Remedy::UsePlainHttp => format!(
            "{address} did not answer in TLS; roster uses https:// when the server URL has no \
             scheme: if the server speaks plain http, give --server http://{address} (or \
             `server = \"http://{address}\"` in the target's table; --allow-http for a host other \
             than loopback)"
        ),
        Remedy::AllowPlainHttp => "use an https:// server URL, or pass --allow-http (`allow_http = \
             true` in the target's table) if the credentials may cross this network unencrypted"
            .to_owned(),
        Remedy::CheckAddress => format!(
            "nothing listens at {address}: check the server URL and its port (--server, or \
             `server` in the target's table) and that the tenant is running"
        ),
        Remedy::CheckHostName => format!(
            "{host} did not resolve to an address: check the server URL's spelling (--server, or \
             `server` in the target's table; a Qlik Cloud tenant is NAME.REGION.qlikcloud.com) \
             and that this machine can resolve names (DNS, a proxy)"
        ),
        Remedy::CheckCredential => match &target.credentials {
            Credentials::OAuth { .. } => format!(
                "{host} refused the OAuth client: check --client-id and its secret \
                 (--client-secret-env or --client-secret-file), and that the client is allowed to \
                 use the API"
            ),
            _ => format!(
                "{host} refused the API key: check that the key is current and was made on this \
                 tenant; it is read from --api-key-env VAR, --api-key-file or --api-key-stdin, \
                 else the target's `api_key_env`, else {}",
                match target.kind {
                    TargetKind::Qlik => crate::settings::env::QLIK_API_KEY,
                    TargetKind::Alumio => crate::settings::env::ALUMIO_API_KEY,
                }
            ),
        },
        _ => return None,
    };
    Some(hint)
}

/// The client error under a planning error.
pub fn in_plan(error: &PlanError) -> &core_api::Error {
    match error.kind() {
        PlanErrorKind::Resolve { source, .. } => source,
    }
}

/// The client error under an export error, if it is one.
pub fn in_export(error: &ExportError) -> Option<&core_api::Error> {
    match error {
        ExportError::Read { source, .. } => Some(source),
        ExportError::Write(_) => None,
    }
}
