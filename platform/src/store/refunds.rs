//! Use case, refunds: creating one within what remains refundable (charged minus refunds succeeded or still
//! processing), the refund the OSS is asked for, and recording its answer, each in one transaction.

use super::payment_effects::{audit_payment, record_settled_refund, Actor};
use super::tables::billing_outbox::{enqueue_billing, mark_billing_delivered, BillingKind};
use super::tables::idempotency_keys::{remember_key, remembered_key};
use super::tables::payments::{add_refunded, find_payment_in};
use super::tables::refunds::{find_refund_in, insert_refund, refunded_or_in_flight, settle_refund};
use super::{Store, StoreError};
use numbind_wire::api::{BillingRefundOutcome, BillingRefundRequest, PaymentState, Refund, RefundState};
use numbind_wire::{Amount, MerchantId, PaymentId, RefundId};

const REFUND_SCOPE: &str = "refund";

/// A refund to create.
#[derive(Debug, Clone)]
pub struct NewRefund {
    /// Who asks: `merchant:<id>` or `operator:<name>` (the idempotency keys' caller too).
    pub requested_by: String,
    /// A merchant may refund only its own payments; an operator any (`None`).
    pub merchant_id: Option<MerchantId>,
    pub idempotency_key: Option<String>,
    pub body_hash: [u8; 32],
    pub payment_id: PaymentId,
    /// `None`: all that remains.
    pub amount: Option<Amount>,
    pub reason: String,
    pub refund_id: RefundId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateRefundOutcome {
    Created(Refund),
    Repeated(Refund),
    KeyReused,
    PaymentNotFound,
    NotRefundable,
    ExceedsRemaining { remaining_minor_units: i64 },
}

impl Store {
    /// Creates a refund (processing) and queues it for the OSS, in one transaction.
    pub fn create_refund(&self, request: &NewRefund, now: i64) -> Result<CreateRefundOutcome, StoreError> {
        self.in_transaction(|transaction| {
            let key = request.idempotency_key.as_deref().map(|key| (request.requested_by.as_str(), REFUND_SCOPE, key));
            if let Some(remembered) = key.map(|key| remembered_key(transaction, key)).transpose()?.flatten() {
                if remembered.body_hash != request.body_hash {
                    return Ok(CreateRefundOutcome::KeyReused);
                }
                let refund_id = RefundId::parse(&remembered.record_id)
                    .map_err(|_| StoreError::MalformedRow("idempotency_keys.record_id"))?;
                let refund = find_refund_in(transaction, &refund_id)?.ok_or(StoreError::MalformedRow("refunds"))?;
                return Ok(CreateRefundOutcome::Repeated(refund));
            }
            let record = find_payment_in(transaction, &request.payment_id)?
                .filter(|record| request.merchant_id.as_ref().is_none_or(|own| own == &record.payment.merchant_id));
            let Some(record) = record else { return Ok(CreateRefundOutcome::PaymentNotFound) };
            if record.payment.state != PaymentState::Succeeded {
                return Ok(CreateRefundOutcome::NotRefundable);
            }
            let remaining =
                record.payment.amount.minor_units() - refunded_or_in_flight(transaction, &request.payment_id)?;
            let amount = request.amount.map_or(remaining, Amount::minor_units);
            let Ok(amount) = Amount::from_minor_units(amount).map_err(|_| ()).and_then(|amount| {
                if amount.minor_units() <= remaining {
                    Ok(amount)
                } else {
                    Err(())
                }
            }) else {
                return Ok(CreateRefundOutcome::ExceedsRemaining { remaining_minor_units: remaining.max(0) });
            };
            let refund = Refund {
                refund_id: request.refund_id.clone(),
                payment_id: request.payment_id.clone(),
                amount,
                currency: record.payment.currency,
                state: RefundState::Processing,
                reason: request.reason.trim().to_owned(),
                requested_by: request.requested_by.clone(),
                created_at_unix_seconds: now,
            };
            insert_refund(transaction, &refund)?;
            if let Some(key) = key {
                remember_key(transaction, key, &request.body_hash, refund.refund_id.as_str(), now)?;
            }
            enqueue_billing(transaction, refund.refund_id.as_str(), BillingKind::Refund, (now, now))?;
            let actor = Actor { audit_key: self.audit_key.as_ref(), name: &request.requested_by };
            let detail = format!("{} {}: {}", refund.refund_id, amount.minor_units(), refund.reason);
            audit_payment(transaction, actor, &record, "refund_created", Some(&detail), now)?;
            Ok(CreateRefundOutcome::Created(refund))
        })
    }

    /// The refund to send to the OSS, or `None` when it was denied. A succeeded refund is sent again only when an
    /// operator re-drove it (its billing row queued again by a reconciliation repair): the OSS is idempotent by
    /// refund ID, and a second answer changes nothing here.
    pub fn refund_to_send(&self, refund_id: &RefundId) -> Result<Option<BillingRefundRequest>, StoreError> {
        self.read(|connection| {
            let Some(refund) = find_refund_in(connection, refund_id)?
                .filter(|refund| matches!(refund.state, RefundState::Processing | RefundState::Succeeded))
            else {
                return Ok(None);
            };
            let Some(record) = find_payment_in(connection, &refund.payment_id)? else { return Ok(None) };
            Ok(record.msisdn.map(|msisdn| BillingRefundRequest {
                refund_id: refund.refund_id,
                payment_id: refund.payment_id,
                msisdn,
                amount: refund.amount,
                currency: refund.currency,
            }))
        })
    }

    /// Records the OSS's answer to a refund; a second answer for a settled refund changes nothing.
    pub fn record_refund_outcome(
        &self,
        refund_id: &RefundId,
        outcome: &BillingRefundOutcome,
        now: i64,
    ) -> Result<Option<Refund>, StoreError> {
        self.in_transaction(|transaction| {
            mark_billing_delivered(transaction, refund_id.as_str(), now)?;
            let (state, answer) = match outcome {
                BillingRefundOutcome::Refunded { bill_line_id, .. } => {
                    (RefundState::Succeeded, (Some(bill_line_id.as_str()), None))
                }
                BillingRefundOutcome::Declined { reason } => {
                    (RefundState::Denied, (None, Some(crate::store::enum_text(reason))))
                }
            };
            if !settle_refund(transaction, refund_id, state, (answer.0, answer.1.as_deref()), now)? {
                return Ok(None);
            }
            let refund = find_refund_in(transaction, refund_id)?.ok_or(StoreError::MalformedRow("refunds"))?;
            let record =
                find_payment_in(transaction, &refund.payment_id)?.ok_or(StoreError::MalformedRow("payments"))?;
            if state == RefundState::Succeeded {
                add_refunded(transaction, &refund.payment_id, refund.amount, now)?;
            }
            let actor = Actor { audit_key: self.audit_key.as_ref(), name: "oss" };
            record_settled_refund(transaction, actor, &record, &refund, now)?;
            Ok(Some(refund))
        })
    }
}
