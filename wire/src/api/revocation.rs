//! Bodies of the platform's calls to the OSS: revocations the platform decided (operator, factory reset).
//!
//! `POST /v1/platform/revocations` (component HMAC, client `platform`): the OSS revokes its binding record.
//! Idempotent: a binding already revoked, or unknown to the OSS, is answered 200 so the platform's outbox drains.

use crate::msisdn::Msisdn;
use crate::record_ids::BindingId;
use crate::terminal_id::TerminalId;
use serde::{Deserialize, Serialize};

/// The path of the OSS endpoint that takes a `PlatformRevocationRequest`.
pub const PLATFORM_REVOCATIONS_PATH: &str = "/v1/platform/revocations";

/// Why the platform revoked a binding without the OSS asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RevocationReason {
    /// An operator unbound the terminal (with a stated reason, audited on the platform).
    Operator,
    /// The terminal was factory reset (a signed request from the box).
    FactoryReset,
}

impl RevocationReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationReason::Operator => "operator",
            RevocationReason::FactoryReset => "factory_reset",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "operator" => Some(RevocationReason::Operator),
            "factory_reset" => Some(RevocationReason::FactoryReset),
            _ => None,
        }
    }
}

/// The platform revoked `binding_id` (terminal `terminal_id`, paid by `msisdn`); `revocation_id` is the
/// idempotency key of this message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformRevocationRequest {
    pub revocation_id: String,
    pub binding_id: BindingId,
    pub terminal_id: TerminalId,
    pub msisdn: Msisdn,
    pub reason: RevocationReason,
}

/// What the OSS did with a revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RevocationOutcome {
    /// The record was active and is revoked now.
    Revoked,
    /// The record was revoked before (a retried message, or revoked by another path).
    AlreadyRevoked,
    /// The OSS has no record of this binding for this terminal.
    UnknownBinding,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformRevocationResponse {
    pub revocation_id: String,
    pub binding_id: BindingId,
    pub outcome: RevocationOutcome,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_reads_from_json_and_refuses_an_unknown_reason() {
        let text = r#"{"revocation_id":"rev-1","binding_id":"bnd-1","terminal_id":"STB-000001","msisdn":"13800138000","reason":"factory_reset"}"#;
        let request: PlatformRevocationRequest = serde_json::from_str(text).unwrap();
        assert_eq!(request.reason, RevocationReason::FactoryReset);
        assert!(serde_json::from_str::<PlatformRevocationRequest>(&text.replace("factory_reset", "whim")).is_err());
        for reason in [RevocationReason::Operator, RevocationReason::FactoryReset] {
            assert_eq!(RevocationReason::parse(reason.as_str()), Some(reason));
        }
    }
}
