//! The OSS's billing ledger as operators read it: one line per charge or refund, applied or declined.

use serde::{Deserialize, Serialize};

/// One line of the OSS's ledger: a charge or a refund, applied or declined, as billing recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeRecord {
    /// `charge` or `refund`.
    pub kind: String,
    pub payment_id: String,
    /// Refunds only.
    pub refund_id: Option<String>,
    pub msisdn: String,
    /// Charges only (a refund's merchant is its charge's).
    pub merchant_id: Option<String>,
    pub item_description: Option<String>,
    pub amount_fen: i64,
    pub currency: String,
    /// `charged`, `refunded` or `declined`.
    pub outcome: String,
    pub decline_reason: Option<String>,
    pub bill_line_id: Option<String>,
    /// The operator's local month (UTC+8) the record falls in.
    pub local_month: String,
    pub created_at_unix_ms: i64,
}
