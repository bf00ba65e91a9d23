//! Use case, disputes: opening one for a number's own charge (an unknown receipt and another number's are refused
//! alike), listing them, and resolving each once, with its audit event and the user's SMS in the same transaction.

use super::payment_effects::{audit_payment, Actor};
use super::tables::disputes::{
    dispute_of_payment, find_dispute, insert_dispute, list_disputes, resolve_dispute, DisputeRecord, Resolution,
};
use super::tables::outbox::enqueue_notification;
use super::tables::payments::find_payment_in;
use super::{Store, StoreError};
use crate::domain::dispute_text;
use numbind_wire::api::{
    Dispute, DisputeState, OpenDisputeOutcome, OpenDisputeRequest, OpenDisputeResponse, PaymentState,
};
use numbind_wire::RefundId;

/// How an operator's resolution ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveDisputeOutcome {
    Resolved(Dispute),
    NotFound,
    /// Resolved before: a resolution never changes.
    AlreadyResolved(Dispute),
}

/// An operator's decision on an open dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisputeDecision {
    /// The refund made for it on the refund path.
    Refunded(RefundId),
    /// Kept, with the reason the user is told.
    Rejected(String),
}

impl Store {
    /// Opens a dispute on `request.payment_id` for `request.msisdn`, once per payment; a retried or repeated
    /// dispute answers the first one.
    pub fn open_dispute(
        &self,
        request: &OpenDisputeRequest,
        dispute_id: &str,
        now: i64,
    ) -> Result<OpenDisputeResponse, StoreError> {
        let refused = OpenDisputeResponse { outcome: OpenDisputeOutcome::ReceiptNotFound, dispute_id: None };
        self.in_transaction(|transaction| {
            if let Some(existing) = dispute_of_payment(transaction, &request.payment_id)? {
                if existing.msisdn != request.msisdn {
                    return Ok(refused);
                }
                let outcome = match existing.dispute.state {
                    DisputeState::Open => OpenDisputeOutcome::AlreadyOpen,
                    _ => OpenDisputeOutcome::AlreadyResolved,
                };
                return Ok(OpenDisputeResponse { outcome, dispute_id: Some(existing.dispute.dispute_id) });
            }
            let record = find_payment_in(transaction, &request.payment_id)?.filter(|record| {
                record.msisdn.as_ref() == Some(&request.msisdn) && record.payment.state == PaymentState::Succeeded
            });
            let Some(record) = record else { return Ok(refused) };
            insert_dispute(
                transaction,
                dispute_id,
                &request.payment_id,
                &request.msisdn,
                &request.sms_message_id,
                now,
            )?;
            let actor = Actor { audit_key: self.audit_key.as_ref(), name: "oss" };
            audit_payment(transaction, actor, &record, "dispute_opened", Some(dispute_id), now)?;
            Ok(OpenDisputeResponse { outcome: OpenDisputeOutcome::Opened, dispute_id: Some(dispute_id.to_owned()) })
        })
    }

    /// Disputes in `state` (all with `None`), oldest first, after the keyset cursor `(opened_at, dispute_id)`.
    pub fn disputes(
        &self,
        state: Option<DisputeState>,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<Dispute>, StoreError> {
        let records = self.read(|connection| list_disputes(connection, state, after, limit))?;
        Ok(records.into_iter().map(|record| record.dispute).collect())
    }

    pub fn dispute(&self, dispute_id: &str) -> Result<Option<Dispute>, StoreError> {
        Ok(self.read(|connection| find_dispute(connection, dispute_id))?.map(|record| record.dispute))
    }

    /// Resolves an open dispute as `operator` decided, audits it and queues the user's SMS, in one transaction.
    pub fn resolve_dispute(
        &self,
        dispute_id: &str,
        operator: &str,
        decision: &DisputeDecision,
        now: i64,
    ) -> Result<ResolveDisputeOutcome, StoreError> {
        self.in_transaction(|transaction| {
            let Some(DisputeRecord { dispute, msisdn }) = find_dispute(transaction, dispute_id)? else {
                return Ok(ResolveDisputeOutcome::NotFound);
            };
            if dispute.state != DisputeState::Open {
                return Ok(ResolveDisputeOutcome::AlreadyResolved(dispute));
            }
            let resolved_by = format!("operator:{operator}");
            let (resolution, text) = match decision {
                DisputeDecision::Refunded(refund_id) => (
                    Resolution {
                        state: DisputeState::Refunded,
                        resolved_by: &resolved_by,
                        rejection_reason: None,
                        refund_id: Some(refund_id),
                    },
                    dispute_text::refunded(dispute.payment_id.as_str()),
                ),
                DisputeDecision::Rejected(reason) => (
                    Resolution {
                        state: DisputeState::Rejected,
                        resolved_by: &resolved_by,
                        rejection_reason: Some(reason),
                        refund_id: None,
                    },
                    dispute_text::rejected(dispute.payment_id.as_str(), reason),
                ),
            };
            resolve_dispute(transaction, dispute_id, &resolution, now)?;
            let payment =
                find_payment_in(transaction, &dispute.payment_id)?.ok_or(StoreError::MalformedRow("disputes"))?;
            let actor = Actor { audit_key: self.audit_key.as_ref(), name: &resolved_by };
            let kind = format!("dispute_{}", resolution.state.as_str());
            audit_payment(transaction, actor, &payment, &kind, Some(dispute_id), now)?;
            enqueue_notification(transaction, &msisdn, &text, now)?;
            let dispute = find_dispute(transaction, dispute_id)?.ok_or(StoreError::MalformedRow("disputes"))?;
            Ok(ResolveDisputeOutcome::Resolved(dispute.dispute))
        })
    }
}
