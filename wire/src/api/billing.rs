//! Bodies between the platform and the operator's billing system (the OSS): charges and refunds of a bound
//! number. Every call carries component HMAC and is idempotent by the platform's ID (`payment_id`,
//! `refund_id`): a retried call answers the first call's outcome and never charges or refunds twice.
//!
//! | method and path (on the OSS) | body → answer |
//! |---|---|
//! | `POST /v1/platform/charge-checks` | `ChargeRequest` → `ChargeOutcome` (would it be charged? nothing is written) |
//! | `POST /v1/platform/charges` | `ChargeRequest` → `ChargeOutcome` |
//! | `POST /v1/platform/refunds` | `BillingRefundRequest` → `BillingRefundOutcome` |
//! | `GET /v1/platform/bill-lines?day=2026-12-07` | → the day's charge and refund records, for reconciliation |

use super::payments::PaymentDenialReason;
use crate::money::{Amount, Currency};
use crate::msisdn::Msisdn;
use crate::purchase_intent::{ItemDescription, MerchantId};
use crate::record_ids::{BindingId, PaymentId, RefundId};
use serde::{Deserialize, Serialize};

pub const CHARGE_CHECKS_PATH: &str = "/v1/platform/charge-checks";
pub const CHARGES_PATH: &str = "/v1/platform/charges";
pub const BILLING_REFUNDS_PATH: &str = "/v1/platform/refunds";
pub const PLATFORM_BILL_LINES_PATH: &str = "/v1/platform/bill-lines";

/// Charge `amount` to `msisdn` for the payment `payment_id` of the binding `binding_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChargeRequest {
    pub payment_id: PaymentId,
    pub binding_id: BindingId,
    pub msisdn: Msisdn,
    pub merchant_id: MerchantId,
    pub item_description: ItemDescription,
    pub amount: Amount,
    pub currency: Currency,
}

/// The billing system's answer; declines are answers, not errors, and are as final as charges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ChargeOutcome {
    /// Charged (or, for a check, would be): the bill line is the operator's reference for reconciliation.
    Charged {
        bill_line_id: String,
        charged_at_unix_seconds: i64,
    },
    Declined {
        reason: PaymentDenialReason,
    },
}

/// Return `amount` of the charge of `payment_id` to `msisdn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingRefundRequest {
    pub refund_id: RefundId,
    pub payment_id: PaymentId,
    pub msisdn: Msisdn,
    pub amount: Amount,
    pub currency: Currency,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RefundDenialReason {
    /// The billing system holds no charge for this payment.
    ChargeNotFound,
    /// More than was charged minus what was refunded already.
    ExceedsRefundable,
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum BillingRefundOutcome {
    Refunded { bill_line_id: String, refunded_at_unix_seconds: i64 },
    Declined { reason: RefundDenialReason },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_tagged_and_round_trip() {
        let charged = ChargeOutcome::Charged { bill_line_id: "BL-1".to_owned(), charged_at_unix_seconds: 7 };
        let text = serde_json::to_string(&charged).unwrap();
        assert_eq!(text, r#"{"outcome":"charged","bill_line_id":"BL-1","charged_at_unix_seconds":7}"#);
        assert_eq!(serde_json::from_str::<ChargeOutcome>(&text).unwrap(), charged);
        let declined: ChargeOutcome = serde_json::from_str(r#"{"outcome":"declined","reason":"daily_limit"}"#).unwrap();
        assert_eq!(declined, ChargeOutcome::Declined { reason: PaymentDenialReason::DailyLimit });
    }
}
