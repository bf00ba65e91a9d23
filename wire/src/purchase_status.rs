//! Purchase statuses: what the platform tells a box about the payment made from its intent, signed with the
//! platform's key and bound to the request it answers.
//!
//! A box shows "paid", "denied: …" or "reply Y from your phone" only after
//! `PinnedPlatformKeys::verify_purchase_status` has checked the signature (domain `NUMBIND-PURCHASE-STATUS-V1\n`),
//! the terminal, the intent and the nonce of the request it answers. Someone on the path between the box and the
//! platform therefore cannot make a box believe a purchase went through (or failed) when it did not, nor replay
//! an old status for a new purchase.

use crate::api::PurchaseStatus;
use crate::statement::{PinnedPlatformKeys, PlatformSigningKey, StatementError};
use crate::terminal_id::TerminalId;
use serde::{Deserialize, Serialize};

const PURCHASE_STATUS_DOMAIN: &[u8] = b"NUMBIND-PURCHASE-STATUS-V1\n";

/// What is signed: the status of one intent's payment, for one terminal, in reply to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseStatusStatement {
    pub terminal_id: TerminalId,
    /// The nonce of the purchase intent the payment was made from.
    pub intent_nonce: String,
    /// The nonce of the signed request this status answers.
    pub in_reply_to: String,
    pub issued_at_unix_seconds: i64,
    pub status: PurchaseStatus,
}

/// A status with its signature, as it travels in JSON: `GET /v1/terminals/{id}/purchases/{intent_nonce}` answers
/// `{"statement": SignedPurchaseStatus}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedPurchaseStatus {
    pub key_id: String,
    /// base64url of the statement's JSON bytes.
    pub payload: String,
    /// base64url Ed25519 signature over `NUMBIND-PURCHASE-STATUS-V1\n` and the payload bytes.
    pub signature: String,
}

/// The body of the purchase long-poll's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseStatusResponse {
    pub statement: SignedPurchaseStatus,
}

/// What a box expects of a status.
#[derive(Debug, Clone, Copy)]
pub struct PurchaseStatusExpectation<'a> {
    pub terminal_id: &'a TerminalId,
    pub intent_nonce: &'a str,
    /// The nonce of the request the box just sent.
    pub in_reply_to: &'a str,
}

impl PlatformSigningKey {
    /// Signs a purchase status for its terminal and request.
    pub fn sign_purchase_status(&self, statement: &PurchaseStatusStatement) -> SignedPurchaseStatus {
        // Serialising a struct of strings, integers, enums and parsed IDs cannot fail.
        let payload = serde_json::to_vec(statement).unwrap_or_default();
        SignedPurchaseStatus {
            key_id: self.key_id().to_owned(),
            payload: crate::encoding::base64url_encode(&payload),
            signature: self.sign_in_domain(PURCHASE_STATUS_DOMAIN, &payload),
        }
    }
}

impl PinnedPlatformKeys {
    /// Verifies the signature with the pinned key named by `key_id`, then the terminal, the intent and the request.
    pub fn verify_purchase_status(
        &self,
        signed: &SignedPurchaseStatus,
        expectation: PurchaseStatusExpectation<'_>,
    ) -> Result<PurchaseStatus, StatementError> {
        let payload =
            self.verify_in_domain(&signed.key_id, PURCHASE_STATUS_DOMAIN, &signed.payload, &signed.signature)?;
        let statement: PurchaseStatusStatement =
            serde_json::from_slice(&payload).map_err(|_| StatementError::Malformed)?;
        if &statement.terminal_id != expectation.terminal_id {
            return Err(StatementError::WrongTerminal);
        }
        if statement.intent_nonce != expectation.intent_nonce || statement.in_reply_to != expectation.in_reply_to {
            return Err(StatementError::WrongRequest);
        }
        Ok(statement.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PaymentState;
    use crate::record_ids::PaymentId;
    use ring::rand::SystemRandom;

    fn statement(terminal: &str, intent: &str, request: &str, state: PaymentState) -> PurchaseStatusStatement {
        PurchaseStatusStatement {
            terminal_id: TerminalId::parse(terminal).unwrap(),
            intent_nonce: intent.to_owned(),
            in_reply_to: request.to_owned(),
            issued_at_unix_seconds: 1_000,
            status: PurchaseStatus {
                payment_id: Some(PaymentId::parse("pay-1").unwrap()),
                state: Some(state),
                denial_reason: None,
                cancellation_reason: None,
                confirmation_expires_at_unix_seconds: None,
                poll_interval_seconds: 2,
            },
        }
    }

    #[test]
    fn a_genuine_status_verifies_for_its_terminal_intent_and_request_only() {
        let random = SystemRandom::new();
        let (key, _) = PlatformSigningKey::generate(&random).unwrap();
        let (forger, _) = PlatformSigningKey::generate(&random).unwrap();
        let pinned = PinnedPlatformKeys::new(vec![key.public_key()]);
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let expect =
            PurchaseStatusExpectation { terminal_id: &terminal_id, intent_nonce: "intent-1", in_reply_to: "req-1" };
        let genuine = key.sign_purchase_status(&statement("STB-000001", "intent-1", "req-1", PaymentState::Succeeded));
        assert_eq!(pinned.verify_purchase_status(&genuine, expect).unwrap().state, Some(PaymentState::Succeeded));
        let other_box =
            key.sign_purchase_status(&statement("STB-000002", "intent-1", "req-1", PaymentState::Succeeded));
        assert_eq!(pinned.verify_purchase_status(&other_box, expect), Err(StatementError::WrongTerminal));
        let replayed = key.sign_purchase_status(&statement("STB-000001", "intent-1", "req-0", PaymentState::Succeeded));
        assert_eq!(pinned.verify_purchase_status(&replayed, expect), Err(StatementError::WrongRequest));
        let other_intent =
            key.sign_purchase_status(&statement("STB-000001", "intent-2", "req-1", PaymentState::Succeeded));
        assert_eq!(pinned.verify_purchase_status(&other_intent, expect), Err(StatementError::WrongRequest));
        let forged = SignedPurchaseStatus {
            key_id: key.key_id().to_owned(),
            ..forger.sign_purchase_status(&statement("STB-000001", "intent-1", "req-1", PaymentState::Succeeded))
        };
        assert!(pinned.verify_purchase_status(&forged, expect).is_err());
    }

    #[test]
    fn an_activation_offer_signature_never_verifies_as_a_purchase_status() {
        let (key, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
        let pinned = PinnedPlatformKeys::new(vec![key.public_key()]);
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let payload =
            serde_json::to_vec(&statement("STB-000001", "intent-1", "req-1", PaymentState::Succeeded)).unwrap();
        let cross_domain = SignedPurchaseStatus {
            key_id: key.key_id().to_owned(),
            payload: crate::encoding::base64url_encode(&payload),
            signature: key.sign_in_domain(b"NUMBIND-ACTIVATION-OFFER-V1\n", &payload),
        };
        let expect =
            PurchaseStatusExpectation { terminal_id: &terminal_id, intent_nonce: "intent-1", in_reply_to: "req-1" };
        assert!(pinned.verify_purchase_status(&cross_domain, expect).is_err());
    }
}
