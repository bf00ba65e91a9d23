//! Activation offers: the code a box shows, signed with the platform's key and bound to the request it answers.
//!
//! Everything the box puts on its screen (the code, the SMS to send, the short code, the QR payload, the expiry)
//! comes from an offer, and a box shows an offer only after `PinnedPlatformKeys::verify_offer` has checked the
//! signature (domain `NUMBIND-ACTIVATION-OFFER-V1\n`), the terminal, the nonce of the request it answers and its
//! expiry. Someone on the path between the box and the platform therefore cannot make a box show a code that
//! the platform did not issue to that box for that request; without this an attacker who swaps in the code of
//! their own box gets the victim's number bound to it.

use crate::record_ids::ActivationId;
use crate::statement::{PinnedPlatformKeys, PlatformSigningKey, StatementError};
use crate::terminal_id::TerminalId;
use crate::ShortCode;
use serde::{Deserialize, Serialize};

const OFFER_DOMAIN: &[u8] = b"NUMBIND-ACTIVATION-OFFER-V1\n";

/// What the platform offers a box to show. Signed as a whole; every field is covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivationOffer {
    pub terminal_id: TerminalId,
    pub activation_id: ActivationId,
    /// Grouped for the screen: `WDJB-MJHT`.
    pub code: String,
    pub short_code: ShortCode,
    /// The exact SMS to send: `BIND WDJBMJHT`.
    pub sms_text: String,
    /// What the QR code encodes: `SMSTO:10658000:BIND WDJBMJHT`.
    pub qr_payload: String,
    /// The nonce of the signed request this offer answers, so an offer made for another request (or another
    /// box) cannot be relayed.
    pub in_reply_to: String,
    pub issued_at_unix_seconds: i64,
    /// When the code stops working; the box shows a new one then.
    pub expires_at_unix_seconds: i64,
    /// Poll (long-poll) no more often than this.
    pub poll_interval_seconds: u32,
}

/// An offer with its signature, as it travels in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedActivationOffer {
    pub key_id: String,
    /// base64url of the offer's JSON bytes.
    pub payload: String,
    /// base64url Ed25519 signature over `NUMBIND-ACTIVATION-OFFER-V1\n` and the payload bytes.
    pub signature: String,
}

/// What a box expects of an offer.
#[derive(Debug, Clone, Copy)]
pub struct OfferExpectation<'a> {
    pub terminal_id: &'a TerminalId,
    /// The nonce of the request the box just sent.
    pub in_reply_to: &'a str,
    pub now_unix_seconds: i64,
}

impl PlatformSigningKey {
    /// Signs an offer for its terminal.
    pub fn sign_offer(&self, offer: &ActivationOffer) -> SignedActivationOffer {
        // Serialising a struct of strings, integers and parsed IDs cannot fail.
        let payload = serde_json::to_vec(offer).unwrap_or_default();
        SignedActivationOffer {
            key_id: self.key_id().to_owned(),
            payload: crate::encoding::base64url_encode(&payload),
            signature: self.sign_in_domain(OFFER_DOMAIN, &payload),
        }
    }
}

impl PinnedPlatformKeys {
    /// Verifies the signature with the pinned key named by `key_id`, then the terminal, the request and the expiry.
    pub fn verify_offer(
        &self,
        signed: &SignedActivationOffer,
        expectation: OfferExpectation<'_>,
    ) -> Result<ActivationOffer, StatementError> {
        let payload = self.verify_in_domain(&signed.key_id, OFFER_DOMAIN, &signed.payload, &signed.signature)?;
        let offer: ActivationOffer = serde_json::from_slice(&payload).map_err(|_| StatementError::Malformed)?;
        if &offer.terminal_id != expectation.terminal_id {
            return Err(StatementError::WrongTerminal);
        }
        if offer.in_reply_to != expectation.in_reply_to {
            return Err(StatementError::WrongRequest);
        }
        if offer.expires_at_unix_seconds < expectation.now_unix_seconds {
            return Err(StatementError::Expired);
        }
        Ok(offer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::{base64url_decode, base64url_encode};
    use crate::statement::BindingStatement;
    use ring::rand::SystemRandom;

    fn offer(terminal: &str, nonce: &str) -> ActivationOffer {
        ActivationOffer {
            terminal_id: TerminalId::parse(terminal).unwrap(),
            activation_id: ActivationId::parse("act-1").unwrap(),
            code: "WDJB-MJHT".into(),
            short_code: ShortCode::parse("10658000").unwrap(),
            sms_text: "BIND WDJBMJHT".into(),
            qr_payload: "SMSTO:10658000:BIND WDJBMJHT".into(),
            in_reply_to: nonce.into(),
            issued_at_unix_seconds: 1000,
            expires_at_unix_seconds: 1600,
            poll_interval_seconds: 2,
        }
    }

    fn expectation<'a>(terminal_id: &'a TerminalId, nonce: &'a str) -> OfferExpectation<'a> {
        OfferExpectation { terminal_id, in_reply_to: nonce, now_unix_seconds: 1500 }
    }

    #[test]
    fn a_genuine_offer_verifies_for_its_terminal_and_request() {
        let (key, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
        let pinned = PinnedPlatformKeys::new(vec![key.public_key()]);
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let signed = key.sign_offer(&offer("STB-000001", "nonce-1"));
        let verified = pinned.verify_offer(&signed, expectation(&terminal_id, "nonce-1")).unwrap();
        assert_eq!(verified, offer("STB-000001", "nonce-1"));
    }

    #[test]
    fn a_swapped_relayed_stale_forged_or_cross_domain_offer_is_refused() {
        let random = SystemRandom::new();
        let (key, _) = PlatformSigningKey::generate(&random).unwrap();
        let (forger, _) = PlatformSigningKey::generate(&random).unwrap();
        let pinned = PinnedPlatformKeys::new(vec![key.public_key()]);
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let expect = expectation(&terminal_id, "nonce-1");

        let mut swapped_code = key.sign_offer(&offer("STB-000001", "nonce-1"));
        let attackers = ActivationOffer { code: "BCDF-GHJK".into(), ..offer("STB-000001", "nonce-1") };
        swapped_code.payload = base64url_encode(&serde_json::to_vec(&attackers).unwrap());
        assert_eq!(pinned.verify_offer(&swapped_code, expect), Err(StatementError::BadSignature));

        let for_the_attackers_box = key.sign_offer(&offer("STB-000002", "nonce-1"));
        assert_eq!(pinned.verify_offer(&for_the_attackers_box, expect), Err(StatementError::WrongTerminal));

        let for_another_request = key.sign_offer(&offer("STB-000001", "nonce-0"));
        assert_eq!(pinned.verify_offer(&for_another_request, expect), Err(StatementError::WrongRequest));

        let genuine = key.sign_offer(&offer("STB-000001", "nonce-1"));
        let later = OfferExpectation { now_unix_seconds: 1601, ..expect };
        assert_eq!(pinned.verify_offer(&genuine, later), Err(StatementError::Expired));

        let forged = forger.sign_offer(&offer("STB-000001", "nonce-1"));
        assert!(matches!(pinned.verify_offer(&forged, expect), Err(StatementError::UnknownKey(_))));
    }

    #[test]
    fn a_binding_statement_signature_never_passes_for_an_offer() {
        let (key, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
        let pinned = PinnedPlatformKeys::new(vec![key.public_key()]);
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let statement = BindingStatement {
            terminal_id: terminal_id.clone(),
            state: crate::statement::BindingState::Pending,
            activation_id: None,
            binding_id: None,
            msisdn_masked: None,
            denial_reason: None,
            in_reply_to: Some("nonce-1".into()),
            issued_at_unix_seconds: 1000,
            expires_at_unix_seconds: 2000,
        };
        let signed_statement = key.sign(&statement);
        // The offer's payload under the statement's signature: the domains differ, so it cannot verify.
        let payload = base64url_encode(&serde_json::to_vec(&offer("STB-000001", "nonce-1")).unwrap());
        let mixed = SignedActivationOffer {
            key_id: signed_statement.key_id.clone(),
            payload,
            signature: signed_statement.signature.clone(),
        };
        assert_eq!(
            pinned.verify_offer(&mixed, expectation(&terminal_id, "nonce-1")),
            Err(StatementError::BadSignature)
        );
        let reused = SignedActivationOffer {
            key_id: signed_statement.key_id,
            payload: signed_statement.payload,
            signature: signed_statement.signature,
        };
        assert_eq!(
            pinned.verify_offer(&reused, expectation(&terminal_id, "nonce-1")),
            Err(StatementError::BadSignature)
        );
        assert!(base64url_decode(&key.sign_offer(&offer("STB-000001", "n")).payload).is_some());
    }
}
