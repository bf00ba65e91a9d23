//! The payments API: merchants charge a box's bound number with the box's signed intent; boxes follow their
//! purchases. Amounts are integer minor units with an ISO 4217 currency; a final state never changes.
//!
//! | method and path | caller | body → answer |
//! |---|---|---|
//! | `POST /v1/payments` | merchant (bearer), `Idempotency-Key` | `CreatePaymentRequest` → 201 `Payment` |
//! | `GET /v1/payments/{payment_id}` | merchant | → `Payment` |
//! | `GET /v1/payments?state=&reference_code=&created_from=&created_to=&after=&limit=` | merchant | → `PaymentPage` |
//! | `POST /v1/payments/{payment_id}/cancel` | merchant | `{}` → `Payment` |
//! | `POST /v1/payments/{payment_id}/refunds` | merchant (bearer), `Idempotency-Key` | `CreateRefundRequest` → 201 `Refund` |
//! | `GET /v1/payments/{payment_id}/refunds` | merchant | → `RefundList` |
//! | `GET /v1/payments/{payment_id}/refunds/remaining-amount` | merchant | → `RemainingRefundableAmount` |
//! | `GET /v1/payments/{payment_id}/refunds/{refund_id}` | merchant | → `Refund` |
//! | `GET /v1/terminals/{id}/purchases/{intent_nonce}?wait_seconds=N` | agent (signed) | → `PurchaseStatusResponse`: a `PurchaseStatus` signed by the platform (`purchase_status`), long-poll |

use crate::money::{Amount, Currency};
use crate::purchase_intent::{ItemDescription, ItemId, MerchantId, SignedPurchaseIntent};
use crate::record_ids::{PaymentId, RefundId};
use crate::terminal_id::TerminalId;
use serde::{Deserialize, Serialize};

/// The header that makes a create or refund call idempotent: the same key with the same body answers the
/// original result, with another body `idempotency_key_reused`.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// A merchant asks to charge what a box signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePaymentRequest {
    pub signed_intent: SignedPurchaseIntent,
    /// The merchant's own reference for this sale (its order number), for disputes; 1 to 64 printable ASCII.
    pub reference_code: String,
}

/// Where a payment is. `succeeded`, `denied`, `cancelled` and `expired` are final and never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Accepted; the operator's billing is being asked (retried until it answers).
    Processing,
    /// Above the confirmation threshold: waiting for the bound number's `Y <number>` reply by SMS.
    PendingConfirmation,
    Succeeded,
    Denied,
    Cancelled,
    Expired,
}

impl PaymentState {
    pub fn is_final(self) -> bool {
        matches!(self, PaymentState::Succeeded | PaymentState::Denied | PaymentState::Cancelled | PaymentState::Expired)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Processing => "processing",
            PaymentState::PendingConfirmation => "pending_confirmation",
            PaymentState::Succeeded => "succeeded",
            PaymentState::Denied => "denied",
            PaymentState::Cancelled => "cancelled",
            PaymentState::Expired => "expired",
        }
    }
}

/// Why a payment was denied. Each has its own code, and the box shows it in words ([`PaymentDenialReason::words`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PaymentDenialReason {
    /// The box has no active binding: nothing pays for it.
    NotBound,
    SubscriberSuspended,
    /// The number owes the operator money.
    SubscriberInArrears,
    Blacklisted,
    /// The number has not subscribed to paying for other services (代付).
    BillingNotAllowed,
    /// Prepaid: the balance is below the amount.
    InsufficientBalance,
    /// Postpaid: the bill would pass the credit limit.
    CreditLimitExceeded,
    SingleChargeLimit,
    DailyLimit,
    MonthlyLimit,
    /// Too soon after the previous charge on this binding.
    TooSoon,
    /// The operator does not bill in this currency.
    CurrencyNotSupported,
    /// The user paused charging on their boxes.
    ChargingPaused,
    /// The month's charges would pass the cap the number's owner set by SMS (`限额 100`).
    OwnMonthlyLimit,
    /// The national hub refused the bound number: it is on the national blacklist (no province was asked).
    BlacklistedNationally,
    /// The national hub refused the bound number: not a mobile number of a known operator's network prefix.
    NumberNotMobile,
    #[serde(other)]
    Other,
}

impl PaymentDenialReason {
    /// What the box's screen says.
    pub fn words(self) -> &'static str {
        match self {
            PaymentDenialReason::NotBound => "this box is not bound to a phone number: bind it first",
            PaymentDenialReason::SubscriberSuspended => "the bound number is suspended",
            PaymentDenialReason::SubscriberInArrears => "the bound number has unpaid bills",
            PaymentDenialReason::Blacklisted => "the bound number may not pay for services",
            PaymentDenialReason::BillingNotAllowed => "the bound number has not enabled paying for this box",
            PaymentDenialReason::InsufficientBalance => "the bound number's balance is too low: top up and retry",
            PaymentDenialReason::CreditLimitExceeded => "the bound number's credit limit is reached",
            PaymentDenialReason::SingleChargeLimit => "the amount is over the limit for one purchase",
            PaymentDenialReason::DailyLimit => "today's spending limit for this box is reached",
            PaymentDenialReason::MonthlyLimit => "this month's spending limit for this box is reached",
            PaymentDenialReason::TooSoon => "too soon after the previous purchase: wait a moment",
            PaymentDenialReason::CurrencyNotSupported => "the operator does not bill in this currency",
            PaymentDenialReason::ChargingPaused => "the number's owner paused purchases on this box",
            PaymentDenialReason::OwnMonthlyLimit => "the monthly limit the number's owner set is reached",
            PaymentDenialReason::BlacklistedNationally => "the bound number may not pay for services nationwide",
            PaymentDenialReason::NumberNotMobile => "the bound number is not a mobile number this operator serves",
            PaymentDenialReason::Other => "the operator refused the purchase",
        }
    }
}

/// Why a payment was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CancellationReason {
    /// The bound number replied `N`.
    DeclinedByUser,
    /// Three replies with the wrong confirmation number.
    ConfirmationAttemptsExhausted,
    /// The box was unbound while the payment waited.
    Unbound,
    /// The merchant cancelled before confirmation.
    CancelledByMerchant,
    #[serde(other)]
    Other,
}

/// A payment as the merchant (and the operator) see it. Never names the number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub payment_id: PaymentId,
    pub merchant_id: MerchantId,
    pub reference_code: String,
    /// The operator's bill line for this charge, for reconciliation (once succeeded).
    pub server_reference_code: Option<String>,
    pub terminal_id: TerminalId,
    pub item_id: ItemId,
    pub item_description: ItemDescription,
    pub amount: Amount,
    pub currency: Currency,
    pub state: PaymentState,
    pub denial_reason: Option<PaymentDenialReason>,
    pub cancellation_reason: Option<CancellationReason>,
    /// Until when the bound number may confirm (`pending_confirmation` only).
    pub confirmation_expires_at_unix_seconds: Option<i64>,
    pub created_at_unix_seconds: i64,
    pub finalized_at_unix_seconds: Option<i64>,
    /// Succeeded refunds so far, in minor units.
    pub refunded_minor_units: i64,
}

/// One page of a merchant's payments, newest first; `next_after` continues it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentPage {
    pub payments: Vec<Payment>,
    pub next_after: Option<String>,
}

/// A refund of all (no `amount`) or part of what is still refundable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRefundRequest {
    pub amount: Option<Amount>,
    /// Why, for the user's receipt and the audit trail: 1 to 200 characters.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundState {
    Processing,
    Succeeded,
    Denied,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub refund_id: RefundId,
    pub payment_id: PaymentId,
    pub amount: Amount,
    pub currency: Currency,
    pub state: RefundState,
    pub reason: String,
    /// Who asked: `merchant:<id>` or `operator:<name>`.
    pub requested_by: String,
    pub created_at_unix_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundList {
    pub refunds: Vec<Refund>,
}

/// Charged minus refunds succeeded or still processing: what one more refund may return at most.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemainingRefundableAmount {
    pub minor_units: i64,
    pub currency: Currency,
}

/// What a box learns about its own purchase (by the intent's nonce), long-polled like an activation; it travels
/// signed (`purchase_status::PurchaseStatusStatement`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseStatus {
    /// `None` while no merchant has submitted the intent yet.
    pub payment_id: Option<PaymentId>,
    pub state: Option<PaymentState>,
    pub denial_reason: Option<PaymentDenialReason>,
    pub cancellation_reason: Option<CancellationReason>,
    pub confirmation_expires_at_unix_seconds: Option<i64>,
    pub poll_interval_seconds: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_four_settled_states_are_final() {
        let finals: Vec<_> = [
            PaymentState::Processing,
            PaymentState::PendingConfirmation,
            PaymentState::Succeeded,
            PaymentState::Denied,
            PaymentState::Cancelled,
            PaymentState::Expired,
        ]
        .into_iter()
        .filter(|state| state.is_final())
        .map(PaymentState::as_str)
        .collect();
        assert_eq!(finals, ["succeeded", "denied", "cancelled", "expired"]);
    }

    #[test]
    fn denial_reasons_travel_as_snake_case_and_unknown_ones_are_other() {
        assert_eq!(serde_json::to_string(&PaymentDenialReason::SingleChargeLimit).unwrap(), "\"single_charge_limit\"");
        assert_eq!(serde_json::from_str::<PaymentDenialReason>("\"new_rule\"").unwrap(), PaymentDenialReason::Other);
        assert!(PaymentDenialReason::TooSoon.words().contains("too soon"));
    }
}
