//! Drains the platform→OSS outbox: POSTs each queued revocation to the OSS's `/v1/platform/revocations`
//! (component HMAC, client `platform`) until acknowledged, retrying with exponential backoff and full jitter.
//!
//! At a national hub each province's revocations (by the province their binding recorded) are drained by a
//! worker of their own, and those of bindings without a province by one more: a province whose OSS is down or
//! slow holds up only its own queue.

use super::retry::retry_delay_seconds;
use crate::clients::oss_client::OssClient;
use crate::config::Config;
use crate::domain::oss_revocation::QueuedOssRevocation;
use crate::state::AppState;
use numbind_routing::ProvinceCode;
use numbind_wire::api::{PlatformRevocationResponse, PLATFORM_REVOCATIONS_PATH};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

const BATCH_SIZE: usize = 20;
/// How often an idle worker looks for due revocations anyway (retries fall due without a signal).
const IDLE_RECHECK: Duration = Duration::from_secs(1);

/// Starts the worker when the OSS's URL is configured; otherwise revocations wait in `outbox_oss`.
pub(crate) fn spawn_oss_revocation_worker(
    background: &mut JoinSet<()>,
    config: &Config,
    state: &AppState,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    match OssClient::from_config(config, config.oss_request_timeout)? {
        Some(client) => {
            for province in client.worker_queues() {
                let worker = run_oss_revocation_worker(state.clone(), client.clone(), province, shutdown.clone());
                background.spawn(worker);
            }
        }
        None => tracing::warn!("no oss url configured: revocations for the oss stay queued in the outbox"),
    }
    Ok(())
}

/// Drains the revocations of `province` (`None`: of bindings without one) until `shutdown`.
pub(crate) async fn run_oss_revocation_worker(
    state: AppState,
    client: OssClient,
    province: Option<ProvinceCode>,
    shutdown: CancellationToken,
) {
    while !shutdown.is_cancelled() {
        let now = state.now();
        let due = move |store: &crate::store::Store| store.due_oss_revocations_of_province(province, now, BATCH_SIZE);
        match state.store.call(due).await {
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

async fn deliver_one(state: &AppState, client: &OssClient, revocation: QueuedOssRevocation) {
    let revocation_id = revocation.request.revocation_id.clone();
    let binding_id = revocation.request.binding_id.clone();
    let number = (revocation.province, &revocation.request.msisdn);
    let answer: Result<PlatformRevocationResponse, _> =
        client.post_for_number(number, PLATFORM_REVOCATIONS_PATH, &revocation.request).await;
    let result = if answer.is_ok() { "delivered" } else { "failed" };
    state.metrics.count_oss_revocation(revocation.province, result);
    match answer {
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
            let delay = retry_delay_seconds(revocation.attempts);
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
