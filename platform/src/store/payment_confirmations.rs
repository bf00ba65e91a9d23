//! Use case, the bound number's answer to a confirmation SMS (`Y 123456` / `N 123456`), forwarded by the OSS:
//! only payments waiting for THAT number are considered; idempotent by the SMS's message ID.

use super::payment_effects::{audit_payment, settle_payment, Actor, Settlement};
use super::tables::billing_outbox::{enqueue_billing, BillingKind};
use super::tables::payment_confirmation_answers::{earlier_answer, remember_answer};
use super::tables::payments::{
    count_wrong_confirmation, pending_payments_of_number, transition_payment, PaymentRecord, Transition,
};
use super::{Store, StoreError};
use crate::domain::payment::{ConfirmationKey, MAX_CONFIRMATION_ATTEMPTS};
use numbind_database::Connection;
use numbind_wire::api::{
    CancellationReason, PaymentConfirmationOutcome, PaymentConfirmationRequest, PaymentConfirmationResponse,
    PaymentState,
};

/// What an answer did: the response for the OSS, and the payments it changed (to wake their boxes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmationAnswer {
    pub response: PaymentConfirmationResponse,
    pub changed: Vec<PaymentRecord>,
    /// Confirmed now: its charge is queued (and may be tried inline).
    pub to_charge: Option<PaymentRecord>,
}

fn response(outcome: PaymentConfirmationOutcome, record: Option<&PaymentRecord>) -> PaymentConfirmationResponse {
    PaymentConfirmationResponse {
        outcome,
        payment_id: record.map(|record| record.payment.payment_id.clone()),
        attempts_left: None,
    }
}

impl Store {
    /// Applies `msisdn`'s answer; a redelivered SMS gets the first answer and changes nothing.
    pub(crate) fn answer_payment_confirmation(
        &self,
        request: &PaymentConfirmationRequest,
        key: &ConfirmationKey,
        now: i64,
    ) -> Result<ConfirmationAnswer, StoreError> {
        self.in_transaction(|transaction| {
            if let Some(response) = earlier_answer(transaction, &request.sms_message_id)? {
                return Ok(ConfirmationAnswer { response, changed: Vec::new(), to_charge: None });
            }
            let actor = Actor { audit_key: self.audit_key.as_ref(), name: "oss" };
            let mut changed = Vec::new();
            let pending = open_payments_of_number(transaction, actor, request, &mut changed, now)?;
            let matching = pending.iter().find(|record| {
                let tag = record.confirmation_tag.as_deref().unwrap_or_default();
                key.matches(record.payment.payment_id.as_str(), &request.confirmation_number, tag)
            });
            let mut to_charge = None;
            let answer = match matching {
                _ if pending.is_empty() => response(PaymentConfirmationOutcome::NothingPending, None),
                Some(record) if request.approve => {
                    let confirmed = confirm(transaction, actor, record, now)?;
                    changed.push(confirmed.clone());
                    to_charge = Some(confirmed);
                    response(PaymentConfirmationOutcome::Confirmed, Some(record))
                }
                Some(record) => {
                    let from = [PaymentState::PendingConfirmation];
                    let declined = Settlement::Cancelled(CancellationReason::DeclinedByUser);
                    changed.extend(settle_payment(
                        transaction,
                        actor,
                        &record.payment.payment_id,
                        &from,
                        declined,
                        now,
                    )?);
                    response(PaymentConfirmationOutcome::Declined, Some(record))
                }
                None => count_wrong_answer(transaction, actor, &pending, &mut changed, now)?,
            };
            remember_answer(transaction, &request.sms_message_id, &answer, now)?;
            Ok(ConfirmationAnswer { response: answer, changed, to_charge })
        })
    }
}

/// The payments waiting for this number whose window is open; those whose window closed are expired now.
fn open_payments_of_number(
    transaction: &Connection<'_>,
    actor: Actor<'_>,
    request: &PaymentConfirmationRequest,
    changed: &mut Vec<PaymentRecord>,
    now: i64,
) -> Result<Vec<PaymentRecord>, StoreError> {
    let mut open = Vec::new();
    for record in pending_payments_of_number(transaction, &request.msisdn)? {
        if record.payment.confirmation_expires_at_unix_seconds.is_some_and(|deadline| deadline > now) {
            open.push(record);
            continue;
        }
        let from = [PaymentState::PendingConfirmation];
        changed.extend(settle_payment(
            transaction,
            actor,
            &record.payment.payment_id,
            &from,
            Settlement::Expired,
            now,
        )?);
    }
    Ok(open)
}

/// The number confirmed: the payment is processing and its charge queued.
fn confirm(
    transaction: &Connection<'_>,
    actor: Actor<'_>,
    record: &PaymentRecord,
    now: i64,
) -> Result<PaymentRecord, StoreError> {
    let transition = Transition {
        from: &[PaymentState::PendingConfirmation],
        to: PaymentState::Processing,
        denial_reason: None,
        cancellation_reason: None,
        server_reference_code: None,
    };
    let payment_id = &record.payment.payment_id;
    transition_payment(transaction, payment_id, &transition, now)?;
    enqueue_billing(transaction, payment_id.as_str(), BillingKind::Charge, (now, now))?;
    audit_payment(transaction, actor, record, "payment_confirmed", None, now)?;
    let mut confirmed = record.clone();
    confirmed.payment.state = PaymentState::Processing;
    Ok(confirmed)
}

/// A wrong number counts against every payment waiting for this number; three wrong ones cancel a payment.
fn count_wrong_answer(
    transaction: &Connection<'_>,
    actor: Actor<'_>,
    pending: &[PaymentRecord],
    changed: &mut Vec<PaymentRecord>,
    now: i64,
) -> Result<PaymentConfirmationResponse, StoreError> {
    let mut fewest_left: Option<u32> = None;
    for record in pending {
        let payment_id = &record.payment.payment_id;
        let attempts = count_wrong_confirmation(transaction, payment_id)?;
        let left = (MAX_CONFIRMATION_ATTEMPTS - attempts).max(0);
        fewest_left = Some(fewest_left.map_or(left as u32, |fewest| fewest.min(left as u32)));
        if left == 0 {
            let from = [PaymentState::PendingConfirmation];
            let exhausted = Settlement::Cancelled(CancellationReason::ConfirmationAttemptsExhausted);
            changed.extend(settle_payment(transaction, actor, payment_id, &from, exhausted, now)?);
        }
    }
    Ok(PaymentConfirmationResponse {
        outcome: PaymentConfirmationOutcome::WrongNumber,
        payment_id: None,
        attempts_left: fewest_left,
    })
}
