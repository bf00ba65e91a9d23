//! Drains the billing outbox, one worker per province: each queued charge or refund is sent (`billing`) until its
//! province's OSS answers, with the shared backoff, its retry state (attempts, next attempt) on its own row. Also
//! expires payments whose confirmation window closed.
//!
//! At a national hub each province's calls (by the province of the binding they are charged to) are drained by a
//! worker of their own, and those of bindings without a province by one more: a province whose OSS is down or slow
//! holds up only its own queue (its batch waits out its calls, its breaker pauses them), and
//! `billing_attempts_total{province}` and `billing_outbox_depth{province}` show each queue on its own line.

use super::billing::{announce_payment_change, attempt_charge, attempt_refund, BillingAttemptError};
use super::retry::retry_delay_seconds;
use crate::clients::oss_client::OssClient;
use crate::config::Config;
use crate::state::AppState;
use crate::store::{BillingKind, QueuedBilling};
use numbind_routing::ProvinceCode;
use numbind_wire::{PaymentId, RefundId};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

const BATCH_SIZE: usize = 32;
const IDLE_RECHECK: Duration = Duration::from_secs(1);

/// Starts a billing worker per province (and one for bindings without a province) when an OSS is configured (else
/// charges wait in `outbox_billing`), and the confirmation expiry loop always.
pub(crate) fn spawn_billing_workers(
    background: &mut JoinSet<()>,
    config: &Config,
    state: &AppState,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    background.spawn(run_confirmation_expiry(state.clone(), shutdown.clone()));
    match OssClient::from_config(config, config.oss_request_timeout)? {
        Some(client) => {
            for province in client.worker_queues() {
                background.spawn(run_billing_worker(state.clone(), client.clone(), province, shutdown.clone()));
            }
        }
        None => tracing::warn!("no oss url configured: charges and refunds stay queued in the billing outbox"),
    }
    Ok(())
}

/// Drains the calls of `province` (`None`: of bindings without one) until `shutdown`.
async fn run_billing_worker(
    state: AppState,
    client: OssClient,
    province: Option<ProvinceCode>,
    shutdown: CancellationToken,
) {
    while !shutdown.is_cancelled() {
        let now = state.now();
        let due = move |store: &crate::store::Store| store.due_billing_of_province(province, now, BATCH_SIZE);
        let batch = state.store.call(due).await;
        show_depth(&state, province);
        match batch {
            Ok(batch) if !batch.is_empty() => {
                let attempts = batch.into_iter().map(|queued| deliver_one(&state, &client, queued));
                futures_util::future::join_all(attempts).await;
                continue;
            }
            Ok(_) => {}
            Err(error) => {
                tracing::error!(error = %error, province = province_name(province), "cannot read the billing outbox")
            }
        }
        tokio::select! {
            () = state.billing_outbox_changed.notified() => {}
            () = tokio::time::sleep(IDLE_RECHECK) => {}
            () = shutdown.cancelled() => {}
        }
    }
}

fn province_name(province: Option<ProvinceCode>) -> &'static str {
    province.map_or("-", ProvinceCode::as_str)
}

/// Sets the province's `billing_outbox_depth` gauge from its queued rows.
fn show_depth(state: &AppState, province: Option<ProvinceCode>) {
    match state.store.queued_billing_of_province(province) {
        Ok(depth) => state.metrics.set_billing_outbox_depth(province, depth),
        Err(error) => tracing::warn!(error = %error, "cannot count the billing outbox"),
    }
}

async fn deliver_one(state: &AppState, client: &OssClient, queued: QueuedBilling) {
    let attempt = match queued.kind {
        BillingKind::Charge => match PaymentId::parse(&queued.record_id) {
            Ok(payment_id) => attempt_charge(state, client, &payment_id).await.map(drop),
            Err(_) => Err(BillingAttemptError::MalformedId),
        },
        BillingKind::Refund => match RefundId::parse(&queued.record_id) {
            Ok(refund_id) => attempt_refund(state, client, &refund_id).await,
            Err(_) => Err(BillingAttemptError::MalformedId),
        },
    };
    if let Err(error) = attempt {
        let delay = retry_delay_seconds(queued.attempts);
        let (id, next_attempt_at, cause) = (queued.record_id.clone(), state.now() + delay, error.to_string());
        let province = province_name(queued.province);
        tracing::warn!(record_id = %queued.record_id, province, attempts = queued.attempts + 1, retry_in_seconds = delay, error = %error, "billing call not answered");
        if let Err(error) = state.store.call(move |store| store.reschedule_billing(&id, next_attempt_at, &cause)).await
        {
            tracing::error!(error = %error, "cannot reschedule a billing call");
        }
    }
}

/// Expires pending payments past their confirmation window, about once a second.
async fn run_confirmation_expiry(state: AppState, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(IDLE_RECHECK) => {}
            () = shutdown.cancelled() => return,
        }
        let now = state.now();
        match state.store.call_write(move |store| store.expire_overdue_confirmations(now, BATCH_SIZE)).await {
            Ok(expired) => expired.iter().for_each(|record| announce_payment_change(&state, record)),
            Err(error) => tracing::error!(error = %error, "cannot expire payments waiting for confirmation"),
        }
    }
}
