//! Use case, settling payments: the OSS's answer to a charge, the merchant's cancellation, the expiry of a
//! confirmation window. Each is one transaction and idempotent: a payment already final is left as it is.

use super::payment_effects::{settle_payment, Actor, Settlement};
use super::tables::billing_outbox::mark_billing_delivered;
use super::tables::payments::{find_payment_in, overdue_confirmations, PaymentRecord};
use super::{Store, StoreError};
use numbind_wire::api::{CancellationReason, ChargeOutcome, PaymentState};
use numbind_wire::{MerchantId, PaymentId};

/// A payment after an answer: as it is now, and whether this answer changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedPayment {
    pub record: PaymentRecord,
    pub changed: bool,
}

/// What a merchant's cancellation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MerchantCancellation {
    Cancelled(Box<PaymentRecord>),
    NotFound,
    NotCancellable,
}

impl Store {
    /// Records the OSS's answer to the charge of `payment_id`: succeeded with its bill line, or denied with the
    /// reason; the billing call is done. A second answer for a final payment changes nothing.
    pub fn record_charge_outcome(
        &self,
        payment_id: &PaymentId,
        outcome: &ChargeOutcome,
        now: i64,
    ) -> Result<Option<RecordedPayment>, StoreError> {
        self.in_transaction(|transaction| {
            mark_billing_delivered(transaction, payment_id.as_str(), now)?;
            let settlement = match outcome {
                ChargeOutcome::Charged { bill_line_id, .. } => Settlement::Succeeded { bill_line_id },
                ChargeOutcome::Declined { reason } => Settlement::Denied(*reason),
            };
            let actor = Actor { audit_key: self.audit_key.as_ref(), name: "oss" };
            let from = [PaymentState::Processing];
            if let Some(record) = settle_payment(transaction, actor, payment_id, &from, settlement, now)? {
                return Ok(Some(RecordedPayment { record, changed: true }));
            }
            Ok(find_payment_in(transaction, payment_id)?.map(|record| RecordedPayment { record, changed: false }))
        })
    }

    /// The merchant cancels its payment while it waits for confirmation.
    pub fn cancel_payment_by_merchant(
        &self,
        merchant_id: &MerchantId,
        payment_id: &PaymentId,
        now: i64,
    ) -> Result<MerchantCancellation, StoreError> {
        self.in_transaction(|transaction| {
            let own =
                find_payment_in(transaction, payment_id)?.filter(|record| &record.payment.merchant_id == merchant_id);
            if own.is_none() {
                return Ok(MerchantCancellation::NotFound);
            }
            let actor = Actor { audit_key: self.audit_key.as_ref(), name: "merchant" };
            let settlement = Settlement::Cancelled(CancellationReason::CancelledByMerchant);
            let from = [PaymentState::PendingConfirmation];
            Ok(match settle_payment(transaction, actor, payment_id, &from, settlement, now)? {
                Some(record) => MerchantCancellation::Cancelled(Box::new(record)),
                None => MerchantCancellation::NotCancellable,
            })
        })
    }

    /// Expires up to `limit` payments whose confirmation window closed; returns them.
    pub fn expire_overdue_confirmations(&self, now: i64, limit: usize) -> Result<Vec<PaymentRecord>, StoreError> {
        self.in_transaction(|transaction| {
            let actor = Actor { audit_key: self.audit_key.as_ref(), name: "platform" };
            let mut expired = Vec::new();
            for record in overdue_confirmations(transaction, now, limit)? {
                let from = [PaymentState::PendingConfirmation];
                let payment_id = &record.payment.payment_id;
                expired.extend(settle_payment(transaction, actor, payment_id, &from, Settlement::Expired, now)?);
            }
            Ok(expired)
        })
    }
}
