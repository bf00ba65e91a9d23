//! The OSS forwards the bound number's answer to a payment confirmation SMS (`Y 123456`, `N 123456`):
//! `POST /v1/oss/payment-confirmations` on the platform, component HMAC with client `oss`, idempotent by the SMS
//! centre's message ID (a redelivered SMS answers the same outcome and changes nothing twice).

use crate::msisdn::Msisdn;
use crate::record_ids::PaymentId;
use serde::{Deserialize, Serialize};

pub const OSS_PAYMENT_CONFIRMATIONS_PATH: &str = "/v1/oss/payment-confirmations";

/// `msisdn` answered `approve` (Y) or not (N) with `confirmation_number` in SMS `sms_message_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentConfirmationRequest {
    pub msisdn: Msisdn,
    pub approve: bool,
    /// The six digits the user typed.
    pub confirmation_number: String,
    pub sms_message_id: String,
}

/// What the answer did, so that the OSS can tell the user by SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentConfirmationOutcome {
    /// The payment goes ahead; the platform sends the receipt once the charge is made.
    Confirmed,
    /// The user refused: the payment is cancelled.
    Declined,
    /// No payment waiting for this number has this confirmation number (a wrong try was counted).
    WrongNumber,
    /// No payment is waiting for this number's confirmation.
    NothingPending,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentConfirmationResponse {
    pub outcome: PaymentConfirmationOutcome,
    /// The payment the answer settled (`confirmed`, `declined`).
    pub payment_id: Option<PaymentId>,
    /// `wrong_number`: how many tries the payments waiting for this number have left (the fewest).
    pub attempts_left: Option<u32>,
}
