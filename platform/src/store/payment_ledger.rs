//! Use case, the platform's ledger of one billing day: every charge and refund that succeeded in a span of time
//! (a China Standard Time day), with the bill line the OSS gave it and the receipts queued for it (their outbox IDs
//! and the SMS centre's message IDs), and the operators' adjustments of that day. What settlement files and
//! payment reconciliation read, in a deterministic order (time, then record ID). Also the refunds export's pages.

use super::tables::outbox::receipts_of_record;
use super::tables::payment_adjustments::{adjustments_of_day, PaymentAdjustment};
use super::{Store, StoreError};
use numbind_database::params;
use numbind_wire::Msisdn;

/// One receipt SMS of a charge or refund.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LedgerReceipt {
    pub outbox_id: String,
    pub smsc_message_id: Option<String>,
}

/// One settled charge or refund.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LedgerEntry {
    /// `charge` or `refund`.
    pub kind: &'static str,
    /// The payment ID of a charge, the refund ID of a refund.
    pub record_id: String,
    pub payment_id: String,
    pub merchant_id: String,
    pub reference_code: String,
    /// The OSS's bill line of this charge or refund.
    pub bill_line_id: Option<String>,
    pub terminal_id: String,
    pub msisdn_masked: Option<String>,
    pub amount_fen: i64,
    pub currency: String,
    pub settled_at_unix_seconds: i64,
    pub receipts: Vec<LedgerReceipt>,
}

/// The ledger of one day.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PaymentLedger {
    pub entries: Vec<LedgerEntry>,
    pub adjustments: Vec<PaymentAdjustment>,
}

const SETTLED_RECORDS: &str = "SELECT * FROM (
    SELECT 'charge' AS kind, payment_id AS record_id, payment_id, merchant_id, reference_code,
           server_reference_code, terminal_id, msisdn, amount, currency, finalized_at
    FROM payments WHERE state = 'succeeded' AND finalized_at >= ?1 AND finalized_at < ?2
    UNION ALL
    SELECT 'refund', r.refund_id, r.payment_id, p.merchant_id, p.reference_code, r.server_reference_code,
           p.terminal_id, p.msisdn, r.amount, r.currency, r.finalized_at
    FROM refunds r JOIN payments p ON p.payment_id = r.payment_id
    WHERE r.state = 'succeeded' AND r.finalized_at >= ?1 AND r.finalized_at < ?2
) ORDER BY finalized_at, record_id";

fn masked(digits: Option<String>) -> Option<String> {
    digits.map(|digits| Msisdn::parse(&digits).map_or_else(|_| "(malformed)".to_owned(), |msisdn| msisdn.masked()))
}

/// One refund as the export lists it (its payment's merchant and masked number joined).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RefundExportRow {
    pub refund_id: String,
    pub payment_id: String,
    pub merchant_id: String,
    pub msisdn_masked: Option<String>,
    pub amount_fen: i64,
    pub currency: String,
    pub state: String,
    pub reason: String,
    pub requested_by: String,
    pub bill_line_id: Option<String>,
    pub created_at_unix_seconds: i64,
    pub finalized_at_unix_seconds: Option<i64>,
}

const REFUNDS_AFTER: &str = "SELECT r.refund_id, r.payment_id, p.merchant_id, p.msisdn, r.amount, r.currency, r.state,
    r.reason, r.requested_by, r.server_reference_code, r.created_at, r.finalized_at
    FROM refunds r JOIN payments p ON p.payment_id = r.payment_id
    WHERE (r.created_at, r.refund_id) > (?1, ?2) ORDER BY r.created_at, r.refund_id LIMIT ?3";

impl Store {
    /// Up to `limit` refunds after the keyset cursor `(created_at, refund_id)`, oldest first.
    pub fn refunds_after(&self, after: (i64, &str), limit: i64) -> Result<Vec<RefundExportRow>, StoreError> {
        self.read(|connection| {
            let mut statement = connection.prepare_cached(REFUNDS_AFTER)?;
            let rows = statement.query_map(params![after.0, after.1, limit], |row| {
                Ok(RefundExportRow {
                    refund_id: row.get(0)?,
                    payment_id: row.get(1)?,
                    merchant_id: row.get(2)?,
                    msisdn_masked: masked(row.get(3)?),
                    amount_fen: row.get(4)?,
                    currency: row.get(5)?,
                    state: row.get(6)?,
                    reason: row.get(7)?,
                    requested_by: row.get(8)?,
                    bill_line_id: row.get(9)?,
                    created_at_unix_seconds: row.get(10)?,
                    finalized_at_unix_seconds: row.get(11)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Charges and refunds that succeeded from `start` (inclusive) to `end` (exclusive), and the adjustments of
    /// the reconciliation day `day` (`2026-12-07`).
    pub fn payment_ledger(&self, start: i64, end: i64, day: &str) -> Result<PaymentLedger, StoreError> {
        self.read(|connection| {
            let mut statement = connection.prepare_cached(SETTLED_RECORDS)?;
            let rows = statement.query_map(params![start, end], |row| {
                let kind: String = row.get(0)?;
                Ok(LedgerEntry {
                    kind: if kind == "refund" { "refund" } else { "charge" },
                    record_id: row.get(1)?,
                    payment_id: row.get(2)?,
                    merchant_id: row.get(3)?,
                    reference_code: row.get(4)?,
                    bill_line_id: row.get(5)?,
                    terminal_id: row.get(6)?,
                    msisdn_masked: masked(row.get(7)?),
                    amount_fen: row.get(8)?,
                    currency: row.get(9)?,
                    settled_at_unix_seconds: row.get(10)?,
                    receipts: Vec::new(),
                })
            })?;
            let mut entries = rows.collect::<Result<Vec<_>, _>>()?;
            for entry in &mut entries {
                entry.receipts = receipts_of_record(connection, &entry.record_id)?
                    .into_iter()
                    .map(|(outbox_id, smsc_message_id)| LedgerReceipt { outbox_id, smsc_message_id })
                    .collect();
            }
            Ok(PaymentLedger { entries, adjustments: adjustments_of_day(connection, day)? })
        })
    }
}
