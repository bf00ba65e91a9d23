//! One billing call: a queued charge or refund POSTed to the OSS of its queue's province (`/v1/platform/charges`,
//! `/v1/platform/refunds`, idempotent there by payment and refund ID), the answer recorded in one transaction. The
//! queues' workers (`billing_queues`) and the create handlers' one inline attempt both call it.
//!
//! The create handlers make one inline attempt through [`attempt_charge`] so that most payments answer final at
//! once; a failed inline attempt leaves the row queued for its province's worker. Both may send the same charge:
//! the OSS answers the second with the first's outcome, and recording an answer for a final payment changes
//! nothing. Both send it to the province the billing row recorded (its binding's), so one charge never reaches two
//! provinces' OSS.

use crate::clients::oss_client::{OssClient, OssDeliveryError};
use crate::state::AppState;
use crate::store::{ChargeToSend, PaymentRecord, StoreError};
use numbind_wire::api::{
    BillingRefundOutcome, ChargeOutcome, ChargeRequest, PaymentState, BILLING_REFUNDS_PATH, CHARGES_PATH,
};
use numbind_wire::{Msisdn, PaymentId, RefundId};
use serde::de::DeserializeOwned;
use serde::Serialize;

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
    let call = BillingCall { record_id: charge.payment_id.as_str(), kind: "charge", msisdn: &charge.msisdn };
    let outcome: ChargeOutcome = post_billing(state, client, call, CHARGES_PATH, &charge).await?;
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
    state.announce_billing();
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
    let call = BillingCall { record_id: refund_id.as_str(), kind: "refund", msisdn: &request.msisdn };
    let outcome: BillingRefundOutcome = post_billing(state, client, call, BILLING_REFUNDS_PATH, &request).await?;
    let (id, now) = (refund_id.clone(), state.now());
    if let Some(refund) = state.store.call_write(move |store| store.record_refund_outcome(&id, &outcome, now)).await? {
        tracing::info!(%refund_id, state = ?refund.state, "refund answered");
        state.outbox_changed.notify_one();
        state.merchant_events_changed.notify_one();
        state.metrics.count_refund(crate::store::enum_text(&refund.state).as_str());
    }
    Ok(())
}

/// One billing call: its record (a payment or refund ID), `charge` or `refund`, and the number it bills.
struct BillingCall<'a> {
    record_id: &'a str,
    kind: &'static str,
    msisdn: &'a Msisdn,
}

/// POSTs a billing call to the OSS of the province its billing row recorded (else the number's by the table),
/// counting the attempt by province, kind and result.
async fn post_billing<Request: Serialize, Answer: DeserializeOwned>(
    state: &AppState,
    client: &OssClient,
    call: BillingCall<'_>,
    path: &'static str,
    request: &Request,
) -> Result<Answer, BillingAttemptError> {
    let province = state.store.billing_province(call.record_id)?;
    let answer = client.post_for_number((province, call.msisdn), path, request).await;
    let result = match &answer {
        Ok(_) => "answered",
        Err(OssDeliveryError::Paused { .. }) => "paused",
        Err(_) => "failed",
    };
    state.metrics.count_billing_attempt(province, call.kind, result);
    Ok(answer?)
}
