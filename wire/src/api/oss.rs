//! Bodies exchanged between the operator's OSS and the platform. Every request carries component HMAC.
//!
//! Both calls are idempotent: a redemption is keyed by the SMS centre's message ID (a redelivered SMS redeems
//! nothing twice), a confirmation by its activation ID (a retried confirmation changes nothing twice).

use crate::activation_code::ActivationCode;
use crate::msisdn::Msisdn;
use crate::record_ids::{ActivationId, BindingId};
use crate::statement::DenialReason;
use crate::terminal_id::TerminalId;
use serde::{Deserialize, Serialize};

/// The OSS received `BIND <code>` from `msisdn` in SMS `sms_message_id` and claims the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemCodeRequest {
    pub code: ActivationCode,
    pub msisdn: Msisdn,
    pub sms_message_id: String,
}

/// The code named a live activation, which is now claimed for this SMS and awaits the OSS's confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedeemCodeResponse {
    pub activation_id: ActivationId,
    pub terminal_id: TerminalId,
    pub device_model: String,
    /// The number the terminal is bound to now, if any (a new binding will replace it).
    pub currently_bound_msisdn: Option<Msisdn>,
    /// Set when this number sent this code before, within its life, and the OSS refused the binding for the
    /// subscriber's state: nothing is claimed (the activation stays denied) and the OSS tells that reason again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_before: Option<crate::statement::DenialReason>,
}

/// The OSS's verdict on a claimed activation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum BindingOutcome {
    /// The OSS recorded the binding under this ID; billing charges the number from now on.
    Bound { binding_id: BindingId },
    /// The OSS refused; the terminal shows the reason and the OSS has told the user by SMS.
    Denied { reason: DenialReason },
}

/// (`deny_unknown_fields` does not combine with `flatten`; unknown fields are ignored here.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmBindingRequest {
    pub activation_id: ActivationId,
    pub msisdn: Msisdn,
    #[serde(flatten)]
    pub outcome: BindingOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmBindingResponse {
    pub terminal_id: TerminalId,
    /// The binding this confirmation replaced, if the terminal was bound to another number.
    pub replaced_msisdn: Option<Msisdn>,
}

/// The user sent `UNBIND` from `msisdn`: unbind every terminal it pays for (or just `terminal_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OssUnbindRequest {
    pub msisdn: Msisdn,
    pub terminal_id: Option<TerminalId>,
    /// The SMS or operator action that asked for it: the idempotency key.
    pub request_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnboundTerminal {
    pub terminal_id: TerminalId,
    pub device_model: String,
    pub binding_id: BindingId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OssUnbindResponse {
    pub unbound: Vec<UnboundTerminal>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confirmation_reads_as_flat_json() {
        let request: ConfirmBindingRequest = serde_json::from_str(
            r#"{"activation_id":"act-1","msisdn":"13800138000","outcome":"denied","reason":"device_limit_reached"}"#,
        )
        .unwrap();
        assert_eq!(request.outcome, BindingOutcome::Denied { reason: DenialReason::DeviceLimitReached });
        let bound = ConfirmBindingRequest {
            outcome: BindingOutcome::Bound { binding_id: BindingId::parse("bnd-1").unwrap() },
            ..request
        };
        let text = serde_json::to_string(&bound).unwrap();
        assert!(text.contains(r#""outcome":"bound""#) && text.contains(r#""binding_id":"bnd-1""#), "{text}");
    }

    #[test]
    fn a_redemption_with_a_malformed_number_or_code_does_not_parse() {
        let bad_number = r#"{"code":"WDJBMJHT","msisdn":"12345","sms_message_id":"m1"}"#;
        assert!(serde_json::from_str::<RedeemCodeRequest>(bad_number).is_err());
        let bad_code = r#"{"code":"WDJB","msisdn":"13800138000","sms_message_id":"m1"}"#;
        assert!(serde_json::from_str::<RedeemCodeRequest>(bad_code).is_err());
    }
}
