//! The audit checkpoint worker: every `audit_checkpoint_interval` (and at start) it signs the chain's head when it
//! moved, then POSTs each checkpoint the OSS has not acknowledged to its `/v1/platform/audit-checkpoints`
//! (component HMAC, client `platform`), retrying with exponential backoff and full jitter.
//!
//! A checkpoint is signed only after the events since the previous one were checked; when they do not verify,
//! none is signed (a forgery is never vouched for) and the break is logged at error level.

use super::retry::retry_delay_seconds;
use crate::clients::oss_client::OssClient;
use crate::config::Config;
use crate::state::AppState;
use crate::store::StoreError;
use numbind_wire::audit_checkpoint::{AuditCheckpointReceipt, PLATFORM_AUDIT_CHECKPOINTS_PATH};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

const BATCH_SIZE: usize = 20;

/// Starts the worker; without an OSS URL checkpoints are still signed and wait in `audit_checkpoints`.
pub(crate) fn spawn_audit_checkpoint_worker(
    background: &mut JoinSet<()>,
    config: &Config,
    state: &AppState,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let client = OssClient::from_config(config, config.oss_request_timeout)?;
    background.spawn(run_audit_checkpoint_worker(
        state.clone(),
        client,
        config.audit_checkpoint_interval,
        shutdown.clone(),
    ));
    Ok(())
}

/// Runs until `shutdown`.
pub(crate) async fn run_audit_checkpoint_worker(
    state: AppState,
    client: Option<OssClient>,
    interval: Duration,
    shutdown: CancellationToken,
) {
    while !shutdown.is_cancelled() {
        make_checkpoint(&state).await;
        if let Some(client) = &client {
            deliver_due(&state, client).await;
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = shutdown.cancelled() => {}
        }
    }
}

async fn make_checkpoint(state: &AppState) {
    let (now, key) = (state.now(), state.signing_key.clone());
    match state.store.call(move |store| store.record_audit_checkpoint(now, &key)).await {
        Ok(Some(sequence)) => tracing::info!(sequence, "signed an audit checkpoint"),
        Ok(None) => {}
        Err(error @ StoreError::AuditChainBroken(_)) => {
            tracing::error!(error = %error, "the audit chain does not verify: no checkpoint signed; run `numbind audit verify`")
        }
        Err(error) => tracing::error!(error = %error, "cannot make an audit checkpoint"),
    }
}

async fn deliver_due(state: &AppState, client: &OssClient) {
    let now = state.now();
    let due = match state.store.call(move |store| store.due_audit_checkpoints(now, BATCH_SIZE)).await {
        Ok(due) => due,
        Err(error) => return tracing::error!(error = %error, "cannot read the audit checkpoints to deliver"),
    };
    for checkpoint in due {
        let sequence = checkpoint.sequence;
        let outcome = match client
            .post_to_witness::<_, AuditCheckpointReceipt>(PLATFORM_AUDIT_CHECKPOINTS_PATH, &checkpoint.signed)
            .await
        {
            Ok(receipt) => {
                tracing::info!(sequence, outcome = ?receipt.outcome, "the oss holds an audit checkpoint");
                let now = state.now();
                state.store.call(move |store| store.mark_audit_checkpoint_delivered(sequence, now)).await
            }
            Err(error) => {
                let delay = retry_delay_seconds(checkpoint.attempts);
                tracing::warn!(sequence, retry_in_seconds = delay, error = %error, "audit checkpoint not delivered to the oss");
                let (next_attempt_at, cause) = (state.now() + delay, error.to_string());
                state
                    .store
                    .call(move |store| store.reschedule_audit_checkpoint(sequence, next_attempt_at, &cause))
                    .await
            }
        };
        if let Err(error) = outcome {
            tracing::error!(sequence, error = %error, "cannot record an audit checkpoint's delivery");
        }
    }
}
