//! Drains the platform→OSS outbox: POSTs each queued revocation to the OSS's `/v1/platform/revocations`
//! (component HMAC, client `platform`) until acknowledged, retrying with exponential backoff and full jitter.

use super::notification_worker::retry_delay_seconds;
use crate::config::Config;
use crate::domain::oss_revocation::QueuedOssRevocation;
use crate::state::AppState;
use numbind_wire::api::{PlatformRevocationResponse, PLATFORM_REVOCATIONS_PATH};
use numbind_wire::component_auth::ComponentRequest;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The client name the platform authenticates as at the OSS.
pub const PLATFORM_CLIENT_NAME: &str = "platform";
const BATCH_SIZE: usize = 20;
/// How often an idle worker looks for due revocations anyway (retries fall due without a signal).
const IDLE_RECHECK: Duration = Duration::from_secs(1);

/// Why one delivery attempt failed (no numbers in these messages).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OssDeliveryError {
    #[error("the oss is unreachable")]
    Transport(#[source] reqwest::Error),
    #[error("the oss answered {status}")]
    Refused { status: u16 },
    #[error("the oss answered with an unreadable body")]
    UnreadableAnswer(#[source] reqwest::Error),
    #[error("cannot encode the revocation")]
    Encoding(#[from] serde_json::Error),
}

/// The OSS's revocation endpoint.
#[derive(Debug, Clone)]
pub struct OssRevocationClient {
    endpoint: String,
    http: reqwest::Client,
}

impl OssRevocationClient {
    /// A client of the OSS at `oss_base_url`; over `https://` it trusts only `trusted_authorities`.
    pub fn new(
        oss_base_url: &str,
        timeout: Duration,
        trusted_authorities: Option<&std::path::Path>,
    ) -> anyhow::Result<Self> {
        let http = numbind_process::tls::http_client_builder(trusted_authorities)?.timeout(timeout).build()?;
        Ok(OssRevocationClient {
            endpoint: format!("{}{PLATFORM_REVOCATIONS_PATH}", oss_base_url.trim_end_matches('/')),
            http,
        })
    }

    /// Sends one revocation, authenticated with the shared secret; Ok once the OSS acknowledged it.
    pub async fn deliver(
        &self,
        state: &AppState,
        revocation: &QueuedOssRevocation,
    ) -> Result<PlatformRevocationResponse, OssDeliveryError> {
        let body = serde_json::to_vec(&revocation.request)?;
        let request = ComponentRequest {
            client: PLATFORM_CLIENT_NAME,
            method: "POST",
            path_and_query: PLATFORM_REVOCATIONS_PATH,
            timestamp_unix_seconds: state.now(),
            body: &body,
        };
        let authorization = request.authorization(&state.settings.oss_secret);
        let response = self
            .http
            .post(&self.endpoint)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(OssDeliveryError::Transport)?;
        if !response.status().is_success() {
            return Err(OssDeliveryError::Refused { status: response.status().as_u16() });
        }
        response.json().await.map_err(OssDeliveryError::UnreadableAnswer)
    }
}

/// Starts the worker when the OSS's URL is configured; otherwise revocations wait in `outbox_oss`.
pub fn spawn_oss_revocation_worker(
    background: &mut JoinSet<()>,
    config: &Config,
    state: &AppState,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    match &config.oss_url {
        Some(url) => {
            let client =
                OssRevocationClient::new(url, config.oss_request_timeout, config.trusted_authorities.as_deref())?;
            background.spawn(run_oss_revocation_worker(state.clone(), client, shutdown.clone()));
        }
        None => tracing::warn!("no oss url configured: revocations for the oss stay queued in the outbox"),
    }
    Ok(())
}

/// Runs until `shutdown`.
pub async fn run_oss_revocation_worker(state: AppState, client: OssRevocationClient, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let now = state.now();
        match state.store.call(move |store| store.due_oss_revocations(now, BATCH_SIZE)).await {
            Ok(batch) if !batch.is_empty() => {
                for revocation in batch {
                    deliver_one(&state, &client, revocation).await;
                }
                continue;
            }
            Ok(_) => {}
            Err(error) => tracing::error!(error = %error, "cannot read the oss outbox"),
        }
        tokio::select! {
            () = state.oss_outbox_changed.notified() => {}
            () = tokio::time::sleep(IDLE_RECHECK) => {}
            () = shutdown.cancelled() => {}
        }
    }
}

async fn deliver_one(state: &AppState, client: &OssRevocationClient, revocation: QueuedOssRevocation) {
    let revocation_id = revocation.request.revocation_id.clone();
    let binding_id = revocation.request.binding_id.clone();
    match client.deliver(state, &revocation).await {
        Ok(answer) => {
            let (id, now) = (revocation_id.clone(), state.now());
            match state.store.call(move |store| store.mark_oss_revocation_delivered(&id, now)).await {
                Ok(()) => {
                    tracing::info!(%revocation_id, %binding_id, outcome = ?answer.outcome, "oss acknowledged a revocation")
                }
                Err(error) => tracing::error!(%revocation_id, error = %error, "cannot mark a revocation delivered"),
            }
        }
        Err(error) => {
            let delay = retry_delay_seconds(revocation.attempts, &state.random);
            let (id, next_attempt_at, cause) = (revocation_id.clone(), state.now() + delay, error.to_string());
            tracing::warn!(%revocation_id, %binding_id, attempts = revocation.attempts + 1, retry_in_seconds = delay, error = %error, "revocation not delivered to the oss");
            let rescheduled =
                state.store.call(move |store| store.reschedule_oss_revocation(&id, next_attempt_at, &cause)).await;
            if let Err(error) = rescheduled {
                tracing::error!(%revocation_id, error = %error, "cannot reschedule a revocation");
            }
        }
    }
}
