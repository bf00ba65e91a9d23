//! The platform's client of the OSS: JSON POSTs to the OSS's `/v1/platform/*` endpoints (and GETs of its bill
//! lines), authenticated with the component HMAC (client `platform`), over HTTPS trusting only the configured
//! authorities. The revocation, audit-checkpoint and billing workers deliver through it; reconciliation reads.

use numbind_process::clock::Clock;
use numbind_process::component_client::{signed_get, signed_json_post};
use numbind_wire::component_auth::ComponentSecret;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// The client name the platform authenticates as at the OSS.
pub(crate) const PLATFORM_CLIENT_NAME: &str = "platform";

/// Why one delivery attempt (or one read) failed (no numbers in these messages).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum OssDeliveryError {
    #[error("the oss is unreachable")]
    Transport(#[source] reqwest::Error),
    #[error("the oss answered {status}")]
    Refused { status: u16 },
    #[error("the oss answered with an unreadable body")]
    UnreadableAnswer(#[source] reqwest::Error),
    #[error("cannot encode the request")]
    Encoding(#[from] serde_json::Error),
}

/// The OSS at one base URL, with the shared secret its requests are signed with and the clock that stamps them.
#[derive(Clone)]
pub(crate) struct OssClient {
    base_url: String,
    http: reqwest::Client,
    secret: ComponentSecret,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for OssClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("OssClient").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

impl OssClient {
    /// A client of the OSS at `config.oss_url` (none without one); over `https://` it trusts only the configured
    /// authorities.
    pub(crate) fn from_config(config: &crate::config::Config, timeout: Duration) -> anyhow::Result<Option<Self>> {
        let Some(oss_base_url) = &config.oss_url else {
            return Ok(None);
        };
        let http = numbind_process::tls::http_client_builder(config.trusted_authorities.as_deref())?
            .timeout(timeout)
            .build()?;
        Ok(Some(OssClient {
            base_url: oss_base_url.trim_end_matches('/').to_owned(),
            http,
            secret: config.oss_secret.clone(),
            clock: config.clock.clone(),
        }))
    }

    /// POSTs `request` to `path`, signed with the shared secret; the OSS's answer once it acknowledged.
    pub(crate) async fn post<Request, Answer>(
        &self,
        path: &'static str,
        request: &Request,
    ) -> Result<Answer, OssDeliveryError>
    where
        Request: Serialize,
        Answer: DeserializeOwned,
    {
        let body = serde_json::to_vec(request)?;
        let caller = (PLATFORM_CLIENT_NAME, &self.secret);
        let now = self.clock.now_unix_seconds();
        let response = signed_json_post(&self.http, &self.base_url, path, caller, now, body)
            .await
            .map_err(OssDeliveryError::Transport)?;
        if !response.status().is_success() {
            return Err(OssDeliveryError::Refused { status: response.status().as_u16() });
        }
        response.json().await.map_err(OssDeliveryError::UnreadableAnswer)
    }

    /// GETs `path_and_query`, signed with the shared secret; the OSS's answer.
    pub(crate) async fn get<Answer: DeserializeOwned>(&self, path_and_query: &str) -> Result<Answer, OssDeliveryError> {
        let caller = (PLATFORM_CLIENT_NAME, &self.secret);
        let now = self.clock.now_unix_seconds();
        let response = signed_get(&self.http, &self.base_url, path_and_query, caller, now)
            .await
            .map_err(OssDeliveryError::Transport)?;
        if !response.status().is_success() {
            return Err(OssDeliveryError::Refused { status: response.status().as_u16() });
        }
        response.json().await.map_err(OssDeliveryError::UnreadableAnswer)
    }
}
