//! The bodies of disputes. The OSS opens one for the number that texted `投诉 <receipt number>`
//! (`POST /v1/oss/disputes`, HMAC-signed, idempotent by the SMS's message ID); the platform opens it only on a
//! payment charged to that number's binding. An operator lists them (`GET /v1/operator/disputes`) and resolves
//! each once (`POST /v1/operator/disputes/{dispute_id}/resolution`): refund, or reject with a reason.
//!
//! States: `open` → `refunded` (a refund of what remains is created on the refund path) or `open` → `rejected`;
//! a resolved dispute never changes again.

use crate::record_ids::{PaymentId, RefundId};
use crate::Msisdn;
use serde::{Deserialize, Serialize};

/// The OSS's route on the platform.
pub const OSS_DISPUTES_PATH: &str = "/v1/oss/disputes";

/// `msisdn` disputes the charge with receipt number `payment_id`, in SMS `sms_message_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenDisputeRequest {
    pub msisdn: Msisdn,
    pub payment_id: PaymentId,
    pub sms_message_id: String,
}

/// What the platform did with a dispute, so that the OSS can tell the user by SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OpenDisputeOutcome {
    /// A new dispute is open.
    Opened,
    /// The charge was disputed before and the dispute is still open.
    AlreadyOpen,
    /// The charge was disputed before and an operator resolved it.
    AlreadyResolved,
    /// No charge of this number has this receipt number: unknown and someone else's are answered alike.
    ReceiptNotFound,
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenDisputeResponse {
    pub outcome: OpenDisputeOutcome,
    /// The dispute, when there is one.
    pub dispute_id: Option<String>,
}

/// Where a dispute is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeState {
    Open,
    Refunded,
    Rejected,
}

impl DisputeState {
    pub fn as_str(self) -> &'static str {
        match self {
            DisputeState::Open => "open",
            DisputeState::Refunded => "refunded",
            DisputeState::Rejected => "rejected",
        }
    }
}

/// A dispute as an operator sees it: the number masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispute {
    pub dispute_id: String,
    pub payment_id: PaymentId,
    pub msisdn_masked: String,
    pub state: DisputeState,
    pub opened_at_unix_seconds: i64,
    pub resolved_at_unix_seconds: Option<i64>,
    /// `operator:<name>`.
    pub resolved_by: Option<String>,
    pub rejection_reason: Option<String>,
    pub refund_id: Option<RefundId>,
}

/// `GET /v1/operator/disputes?state=open`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeList {
    pub disputes: Vec<Dispute>,
}

/// How an operator resolves a dispute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ResolveDisputeRequest {
    /// Refund what remains of the charge.
    Refund,
    /// Keep the charge; the reason is sent to the user.
    Reject { reason: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resolution_names_its_action() {
        let refund: ResolveDisputeRequest = serde_json::from_str(r#"{"action":"refund"}"#).unwrap();
        assert_eq!(refund, ResolveDisputeRequest::Refund);
        let reject: ResolveDisputeRequest =
            serde_json::from_str(r#"{"action":"reject","reason":"the film was watched"}"#).unwrap();
        assert_eq!(reject, ResolveDisputeRequest::Reject { reason: "the film was watched".into() });
        assert!(serde_json::from_str::<ResolveDisputeRequest>(r#"{"action":"delete"}"#).is_err());
    }
}
