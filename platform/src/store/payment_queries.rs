//! Payment reads: a merchant's payment (another merchant's is not found), pages of payments with filters and
//! keyset paging, refunds and what remains refundable, and a box's purchase by its intent's nonce.

use super::tables::payments::{find_payment_in, payment_of_intent_in, query_payments, PaymentRecord, PAYMENT_COLUMNS};
use super::tables::refunds::{find_refund_in, refunded_or_in_flight, refunds_of_payment_in};
use super::{Store, StoreError};
use numbind_database::params;
use numbind_wire::api::{PaymentState, Refund};
use numbind_wire::{MerchantId, PaymentId, RefundId, TerminalId};

/// What a page of payments is filtered by (every filter optional); `merchant_id` `None` is an operator's search.
#[derive(Debug, Clone, Default)]
pub struct PaymentFilter {
    pub merchant_id: Option<MerchantId>,
    pub state: Option<PaymentState>,
    pub reference_code: Option<String>,
    pub terminal_id: Option<TerminalId>,
    pub payment_id: Option<PaymentId>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    /// Only payments changed after this time (polling for final states), oldest change first.
    pub updated_after: Option<i64>,
    /// Keyset: continue after this `created_at:payment_id` (newest first).
    pub after: Option<(i64, String)>,
    pub limit: usize,
}

impl Store {
    /// A merchant's own payment; another merchant's is `None`, as an unknown one.
    pub fn payment_of_merchant(
        &self,
        merchant_id: &MerchantId,
        payment_id: &PaymentId,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        self.read(|connection| {
            Ok(find_payment_in(connection, payment_id)?.filter(|record| &record.payment.merchant_id == merchant_id))
        })
    }

    pub fn find_payment(&self, payment_id: &PaymentId) -> Result<Option<PaymentRecord>, StoreError> {
        self.read(|connection| find_payment_in(connection, payment_id))
    }

    /// The payment made from a box's intent, if any.
    pub fn payment_of_intent(
        &self,
        terminal_id: &TerminalId,
        intent_nonce: &str,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        self.read(|connection| payment_of_intent_in(connection, terminal_id, intent_nonce))
    }

    /// A page of payments matching `filter`: newest first, or by change time with `updated_after`.
    pub fn search_payments(&self, filter: &PaymentFilter) -> Result<Vec<PaymentRecord>, StoreError> {
        let order = if filter.updated_after.is_some() {
            "ORDER BY updated_at, payment_id"
        } else {
            "ORDER BY created_at DESC, payment_id DESC"
        };
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE (?1 IS NULL OR merchant_id = ?1) AND (?2 IS NULL OR state = ?2)
             AND (?3 IS NULL OR reference_code = ?3) AND (?4 IS NULL OR terminal_id = ?4)
             AND (?5 IS NULL OR payment_id = ?5) AND (?6 IS NULL OR created_at >= ?6) AND (?7 IS NULL OR created_at <= ?7)
             AND (?8 IS NULL OR updated_at > ?8)
             AND (?9 IS NULL OR created_at < ?9 OR (created_at = ?9 AND payment_id < ?10)) {order} LIMIT ?11"
        );
        let (after_time, after_id) = filter.after.clone().unzip();
        self.read(|connection| {
            query_payments(
                connection,
                &sql,
                params![
                    filter.merchant_id.as_ref().map(MerchantId::as_str),
                    filter.state.map(PaymentState::as_str),
                    filter.reference_code,
                    filter.terminal_id.as_ref().map(TerminalId::as_str),
                    filter.payment_id.as_ref().map(PaymentId::as_str),
                    filter.created_from,
                    filter.created_to,
                    filter.updated_after,
                    after_time,
                    after_id,
                    filter.limit as i64
                ],
            )
        })
    }

    /// A payment's refunds, oldest first.
    pub fn refunds_of_payment(&self, payment_id: &PaymentId) -> Result<Vec<Refund>, StoreError> {
        self.read(|connection| refunds_of_payment_in(connection, payment_id))
    }

    /// One refund of a payment; a refund of another payment is `None`, as an unknown one.
    pub fn refund_of_payment(
        &self,
        payment_id: &PaymentId,
        refund_id: &RefundId,
    ) -> Result<Option<Refund>, StoreError> {
        let refund = self.read(|connection| find_refund_in(connection, refund_id))?;
        Ok(refund.filter(|refund| &refund.payment_id == payment_id))
    }

    /// Charged minus refunds succeeded or processing (0 for a payment that did not succeed).
    pub fn remaining_refundable(&self, record: &PaymentRecord) -> Result<i64, StoreError> {
        if record.payment.state != PaymentState::Succeeded {
            return Ok(0);
        }
        let taken = self.read(|connection| refunded_or_in_flight(connection, &record.payment.payment_id))?;
        Ok((record.payment.amount.minor_units() - taken).max(0))
    }
}
