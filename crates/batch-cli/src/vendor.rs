//! Turns resolved [`TargetSettings`] into the client the engine drives, behind
//! [`core_api::target::Target`]. The only place that knows which vendor crate serves which kind.

use std::sync::Arc;

use core_api::target::{Target, TargetKind};
use core_api::{ClientConfig, Observer, Timeouts};

use crate::settings::TargetSettings;

/// Why a client could not be built. Nothing has been sent when this happens (exit code 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildTargetError {
    /// The client refused the settings (plain http to a remote host, a bad URL, ...).
    #[error("cannot use target \"{name}\": {source}{}", hint.as_ref().map(|h| format!("\nhint: {h}")).unwrap_or_default())]
    Client {
        /// The target's name.
        name: String,
        /// The client's reason.
        #[source]
        source: core_api::Error,
        /// What to do about it, when there is something to say.
        hint: Option<String>,
    },
}

/// The client settings for a target: server, credentials, limits, retries, timeouts, TLS.
pub fn client_config(settings: &TargetSettings, observer: Option<Arc<dyn Observer>>) -> ClientConfig {
    let mut config = ClientConfig::new(settings.server.clone(), settings.credentials.clone());
    config.limits = settings.limits;
    config.retry = settings.retry.clone();
    config.timeouts = Timeouts {
        request: settings.timeout,
        ..Timeouts::default()
    };
    config.insecure = settings.insecure;
    config.allow_http = settings.allow_http;
    config.observer = observer;
    config
}

/// Builds the client for a target: `qlik::Client`, or `alumio::Client` with the target's batch
/// size. Sends nothing; checks the server URL (https, or plain http to loopback unless
/// allowed) and the credentials' shape.
pub fn build_target(
    settings: &TargetSettings,
    observer: Option<Arc<dyn Observer>>,
) -> Result<Arc<dyn Target>, BuildTargetError> {
    match settings.kind {
        TargetKind::Qlik => {
            let client = qlik::Client::new(client_config(settings, observer))
                .map_err(|source| client_error(settings, source))?;
            Ok(Arc::new(client))
        }
        TargetKind::Alumio => {
            let config = alumio::Config::from_http(client_config(settings, observer))
                .with_batch_size(settings.batch_size);
            let client = alumio::Client::new(config).map_err(|source| client_error(settings, source))?;
            Ok(Arc::new(client))
        }
    }
}

fn client_error(settings: &TargetSettings, source: core_api::Error) -> BuildTargetError {
    BuildTargetError::Client {
        name: settings.name.clone(),
        hint: crate::hint::for_error(&source, settings),
        source,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use core_api::{Credentials, RateLimits, RetryPolicy, Url};

    use super::*;
    use crate::settings::TargetSource;

    fn settings(server: &str, kind: TargetKind) -> TargetSettings {
        TargetSettings {
            name: "t".into(),
            kind,
            server: Url::parse(server).unwrap(),
            credentials: Credentials::api_key("sk-target-test-991"),
            limits: RateLimits::per_minute(600, 60),
            timeout: Duration::from_secs(7),
            retry: RetryPolicy::fast_for_tests(),
            insecure: false,
            allow_http: false,
            concurrency: 8,
            batch_size: 50,
            source: TargetSource::CommandLine,
        }
    }

    #[tokio::test]
    async fn builds_a_qlik_client() {
        let target = build_target(&settings("http://127.0.0.1:9", TargetKind::Qlik), None).unwrap();
        assert_eq!(target.kind(), TargetKind::Qlik);
    }

    #[test]
    fn settings_reach_the_client_config() {
        let config = client_config(&settings("https://x.example", TargetKind::Qlik), None);
        assert_eq!(config.limits, RateLimits::per_minute(600, 60));
        assert_eq!(config.timeouts.request, Duration::from_secs(7));
        assert!(!format!("{config:?}").contains("sk-target-test-991"));
    }

    #[tokio::test]
    async fn plain_http_to_a_remote_host_is_refused() {
        let error = build_target(&settings("http://acme.eu.qlikcloud.com", TargetKind::Qlik), None)
            .err()
            .unwrap();
        assert!(error.to_string().contains("plain http"), "{error}");
        assert!(!error.to_string().contains("sk-target-test-991"));
        let mut allowed = settings("http://acme.eu.qlikcloud.com", TargetKind::Qlik);
        allowed.allow_http = true;
        assert!(build_target(&allowed, None).is_ok());
    }

    #[tokio::test]
    async fn builds_an_alumio_client() {
        let target = build_target(&settings("http://127.0.0.1:9/api/v1", TargetKind::Alumio), None).unwrap();
        assert_eq!(target.kind(), TargetKind::Alumio);
        let error = build_target(&settings("http://x.alumio.com/api/v1", TargetKind::Alumio), None)
            .err()
            .unwrap();
        assert!(error.to_string().contains("plain http"), "{error}");
    }
}
