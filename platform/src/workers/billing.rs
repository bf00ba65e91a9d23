//! Drains the billing outbox: each queued charge or refund is POSTed to the OSS (`/v1/platform/charges`,
//! `/v1/platform/refunds`, idempotent there by payment and refund ID) until the OSS answers, with the shared
//! backoff; the answer is recorded in one transaction. Also expires payments whose confirmation window closed.
//!
//! The create handlers make one inline attempt through [`attempt_charge`] so that most payments answer final at
//! once; a failed inline attempt leaves the row queued for this worker. Both may send the same charge: the OSS
//! answers the second with the first's outcome, and recording an answer for a final payment changes nothing.

use super::retry::retry_delay_seconds;
use crate::clients::oss_client::{OssClient, OssDeliveryError};
use crate::config::Config;
use crate::state::AppState;
use crate::store::{BillingKind, ChargeToSend, PaymentRecord, QueuedBilling, StoreError};
use numbind_wire::api::{
    BillingRefundOutcome, ChargeOutcome, ChargeRequest, PaymentState, BILLING_REFUNDS_PATH, CHARGES_PATH,
};
use numbind_wire::{PaymentId, RefundId};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

const BATCH_SIZE: usize = 32;
const IDLE_RECHECK: Duration = Duration::from_secs(1);

/// Why one billing attempt did not get an answer recorded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BillingAttemptError {
    #[error(transparent)]
    Oss(#[from] OssDeliveryError),
    #[error("the store failed")]
    Store(#[from] StoreError),
    #[error("the record is malformed")]
    MalformedId,
}

/// The waiter key of a box's purchase (its intent's nonce).
pub(crate) fn purchase_waiter_key(record: &PaymentRecord) -> String {
    format!("purchase:{}:{}", record.payment.terminal_id, record.intent_nonce)
}

/// Tells whoever waits that a payment changed: the box's long-poll, and the SMS and merchant event workers when
/// the change queued something for them (a processing payment has queued only its charge).
pub(crate) fn announce_payment_change(state: &AppState, record: &PaymentRecord) {
    state.waiters.wake(&purchase_waiter_key(record));
    if record.payment.state != PaymentState::Processing {
        state.outbox_changed.notify_one();
        state.merchant_events_changed.notify_one();
    }
    let payment = &record.payment;
    let reason = payment
        .denial_reason
        .map(|reason| crate::store::enum_text(&reason))
        .or_else(|| payment.cancellation_reason.map(|reason| crate::store::enum_text(&reason)));
    state.metrics.count_payment(payment.state.as_str(), reason.as_deref());
}

/// Sends a processing payment's charge once and records the answer.
pub(crate) async fn attempt_charge(
    state: &AppState,
    client: &OssClient,
    payment_id: &PaymentId,
) -> Result<Option<PaymentRecord>, BillingAttemptError> {
    let id = payment_id.clone();
    let charge = match state.store.call(move |store| store.ready_charge(&id)).await? {
        Some(charge) => charge,
        None => {
            let (id, now) = (payment_id.clone(), state.now());
            match state.store.call_write(move |store| store.charge_to_send(&id, now)).await? {
                ChargeToSend::Charge(charge) => charge,
                ChargeToSend::DeniedNotBound(record) => {
                    announce_payment_change(state, &record);
                    return Ok(Some(*record));
                }
                ChargeToSend::Nothing => return Ok(None),
            }
        }
    };
    send_charge(state, client, charge).await
}

/// Sends `charge` (a processing payment's, as committed) once and records the answer. The create handler calls it
/// with the charge of the payment it has just committed, without reading it back: an unbinding that commits in
/// between is caught by the OSS, which charges only a binding it holds active.
pub(crate) async fn send_charge(
    state: &AppState,
    client: &OssClient,
    charge: ChargeRequest,
) -> Result<Option<PaymentRecord>, BillingAttemptError> {
    let outcome: ChargeOutcome = client.post_for_number((None, &charge.msisdn), CHARGES_PATH, &charge).await?;
    let (payment_id, now) = (charge.payment_id, state.now());
    let id = payment_id.clone();
    let recorded = state.store.call_write(move |store| store.record_charge_outcome(&id, &outcome, now)).await?;
    if let Some(recorded) = recorded.as_ref().filter(|recorded| recorded.changed) {
        tracing::info!(%payment_id, state = recorded.record.payment.state.as_str(), "charge answered");
        announce_payment_change(state, &recorded.record);
    }
    Ok(recorded.map(|recorded| recorded.record))
}

/// An inline attempt failed: the billing worker takes the call at once instead of after the grace it was queued
/// with (the attempt counts, and `error` is kept as the call's last error).
pub(crate) async fn hand_to_billing_worker(state: &AppState, record_id: &str, error: &BillingAttemptError) {
    let (id, now, cause) = (record_id.to_owned(), state.now(), error.to_string());
    if let Err(error) = state.store.call_write(move |store| store.reschedule_billing(&id, now, &cause)).await {
        tracing::error!(error = %error, "cannot reschedule a billing call");
    }
    state.billing_outbox_changed.notify_one();
}

/// Sends a processing refund once and records the answer.
pub(crate) async fn attempt_refund(
    state: &AppState,
    client: &OssClient,
    refund_id: &RefundId,
) -> Result<(), BillingAttemptError> {
    let id = refund_id.clone();
    let Some(request) = state.store.call(move |store| store.refund_to_send(&id)).await? else {
        return Ok(());
    };
    let number = (None, &request.msisdn);
    let outcome: BillingRefundOutcome = client.post_for_number(number, BILLING_REFUNDS_PATH, &request).await?;
    let (id, now) = (refund_id.clone(), state.now());
    if let Some(refund) = state.store.call_write(move |store| store.record_refund_outcome(&id, &outcome, now)).await? {
        tracing::info!(%refund_id, state = ?refund.state, "refund answered");
        state.outbox_changed.notify_one();
        state.merchant_events_changed.notify_one();
        state.metrics.count_refund(crate::store::enum_text(&refund.state).as_str());
    }
    Ok(())
}

/// Starts the billing worker when the OSS's URL is configured (else charges wait in `outbox_billing`), and the
/// confirmation expiry loop always.
pub(crate) fn spawn_billing_workers(
    background: &mut JoinSet<()>,
    config: &Config,
    state: &AppState,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    background.spawn(run_confirmation_expiry(state.clone(), shutdown.clone()));
    match OssClient::from_config(config, config.oss_request_timeout)? {
        Some(client) => {
            background.spawn(run_billing_worker(state.clone(), client, shutdown.clone()));
        }
        None => tracing::warn!("no oss url configured: charges and refunds stay queued in the billing outbox"),
    }
    Ok(())
}

async fn run_billing_worker(state: AppState, client: OssClient, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let now = state.now();
        match state.store.call(move |store| store.due_billing(now, BATCH_SIZE)).await {
            Ok(batch) if !batch.is_empty() => {
                let attempts = batch.into_iter().map(|queued| deliver_one(&state, &client, queued));
                futures_util::future::join_all(attempts).await;
                continue;
            }
            Ok(_) => {}
            Err(error) => tracing::error!(error = %error, "cannot read the billing outbox"),
        }
        tokio::select! {
            () = state.billing_outbox_changed.notified() => {}
            () = tokio::time::sleep(IDLE_RECHECK) => {}
            () = shutdown.cancelled() => {}
        }
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
        tracing::warn!(record_id = %queued.record_id, attempts = queued.attempts + 1, retry_in_seconds = delay, error = %error, "billing call not answered");
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
