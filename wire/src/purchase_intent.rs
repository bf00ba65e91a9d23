//! Purchase intents: what a box signs, with its terminal key, before any merchant may charge its bound number.
//!
//! A billed service on the box (a film, a game, a channel pack) asks the agent to sign an intent naming the
//! merchant, the item, the amount and currency, a fresh nonce and the time. The merchant's backend submits the
//! signed intent to the platform; the platform verifies it with the key the terminal registered and charges at
//! most once per intent. So a merchant can never charge a box on its own, raise the amount after signing, or
//! charge one consent twice; and a box is never charged for something it did not sign. The signature is Ed25519
//! over `NUMBIND-PURCHASE-INTENT-V1\n` and the payload bytes: no request signature or other signed message of
//! the terminal verifies as an intent.

use crate::encoding::{base64url_decode, base64url_encode};
use crate::money::{Amount, Currency};
use crate::request_signing::{TerminalKeyPair, TerminalPublicKey};
use crate::terminal_id::TerminalId;
use serde::{Deserialize, Serialize};
use std::fmt;

const INTENT_DOMAIN: &[u8] = b"NUMBIND-PURCHASE-INTENT-V1\n";

/// What the box consents to pay. Signed as a whole; every field is covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseIntent {
    pub terminal_id: TerminalId,
    pub merchant_id: MerchantId,
    pub item_id: ItemId,
    /// What the user reads in the confirmation SMS and on the receipt: `《流浪地球》高清`.
    pub item_description: ItemDescription,
    pub amount: Amount,
    pub currency: Currency,
    /// 16 random bytes, base64url: one intent, one charge at most.
    pub nonce: String,
    pub signed_at_unix_seconds: i64,
}

/// An intent with its signature, as the box hands it to the merchant and the merchant to the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedPurchaseIntent {
    /// base64url of the intent's JSON bytes.
    pub payload: String,
    /// base64url Ed25519 signature over `NUMBIND-PURCHASE-INTENT-V1\n` and the payload bytes.
    pub signature: String,
}

/// Why a signed intent is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PurchaseIntentError {
    #[error("the signed intent is not base64url JSON of a purchase intent: {0}")]
    Malformed(String),
    #[error("the intent's signature does not verify with the terminal's key")]
    BadSignature,
    #[error("the intent's nonce must be 16 to 64 characters of base64url")]
    MalformedNonce,
}

impl TerminalKeyPair {
    /// Signs an intent (the agent does this when a billed service asks to buy).
    pub fn sign_purchase_intent(&self, intent: &PurchaseIntent) -> SignedPurchaseIntent {
        // Serialising a struct of parsed values, strings and integers cannot fail.
        let payload = serde_json::to_vec(intent).unwrap_or_default();
        SignedPurchaseIntent {
            payload: base64url_encode(&payload),
            signature: self.sign_in_domain(INTENT_DOMAIN, &payload),
        }
    }
}

impl SignedPurchaseIntent {
    /// The intent as claimed, before its signature is checked: the platform reads the terminal from it to find
    /// the key to verify with, and acts on nothing else until [`SignedPurchaseIntent::verify`] succeeds.
    pub fn claimed_intent(&self) -> Result<PurchaseIntent, PurchaseIntentError> {
        let payload = base64url_decode(&self.payload)
            .ok_or_else(|| PurchaseIntentError::Malformed("payload is not base64url".to_owned()))?;
        parse_intent(&payload)
    }

    /// Checks the signature with the terminal's registered key and returns the intent it covers.
    pub fn verify(&self, terminal_key: &TerminalPublicKey) -> Result<PurchaseIntent, PurchaseIntentError> {
        let payload = base64url_decode(&self.payload)
            .ok_or_else(|| PurchaseIntentError::Malformed("payload is not base64url".to_owned()))?;
        let signature = base64url_decode(&self.signature).ok_or(PurchaseIntentError::BadSignature)?;
        if !terminal_key.verify_in_domain(INTENT_DOMAIN, &payload, &signature) {
            return Err(PurchaseIntentError::BadSignature);
        }
        parse_intent(&payload)
    }
}

fn parse_intent(payload: &[u8]) -> Result<PurchaseIntent, PurchaseIntentError> {
    let intent: PurchaseIntent =
        serde_json::from_slice(payload).map_err(|error| PurchaseIntentError::Malformed(error.to_string()))?;
    let nonce_is_well_formed = (16..=64).contains(&intent.nonce.len())
        && intent.nonce.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if !nonce_is_well_formed {
        return Err(PurchaseIntentError::MalformedNonce);
    }
    Ok(intent)
}

/// Why a text is not a merchant ID, an item ID or an item description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueTextError {
    #[error("a merchant id is 3 to 32 characters of a-z, 0-9 and -, starting with a letter")]
    MalformedMerchantId,
    #[error("an item id is 1 to 64 characters of A-Z, a-z, 0-9 and . _ : -")]
    MalformedItemId,
    #[error("an item description is 1 to 40 characters with no control characters")]
    MalformedItemDescription,
}

/// The merchant's name in numbind: `demo-films`. Chosen by the operator who creates the merchant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MerchantId(String);

impl MerchantId {
    pub fn parse(text: &str) -> Result<Self, CatalogueTextError> {
        let well_formed = (3..=32).contains(&text.len())
            && text.starts_with(|character: char| character.is_ascii_lowercase())
            && text.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
        well_formed.then(|| MerchantId(text.to_owned())).ok_or(CatalogueTextError::MalformedMerchantId)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The merchant's own identifier of what is sold: `film-4412`, `pack:sports:2026-12`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ItemId(String);

impl ItemId {
    pub fn parse(text: &str) -> Result<Self, CatalogueTextError> {
        let well_formed = (1..=64).contains(&text.len())
            && text.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b':' | b'-'));
        well_formed.then(|| ItemId(text.to_owned())).ok_or(CatalogueTextError::MalformedItemId)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A short human description of the item (1 to 40 characters, Chinese welcome), as an SMS shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ItemDescription(String);

impl ItemDescription {
    pub fn parse(text: &str) -> Result<Self, CatalogueTextError> {
        let text = text.trim();
        let length = text.chars().count();
        let well_formed = (1..=40).contains(&length) && !text.chars().any(char::is_control);
        well_formed.then(|| ItemDescription(text.to_owned())).ok_or(CatalogueTextError::MalformedItemDescription)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_conversions {
    ($($name:ident),*) => {$(
        impl TryFrom<String> for $name {
            type Error = CatalogueTextError;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                $name::parse(&text)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }
    )*};
}

string_conversions!(MerchantId, ItemId, ItemDescription);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request_signing::new_nonce;
    use ring::rand::SystemRandom;

    fn intent_for(key_pair: &TerminalKeyPair, amount_fen: i64) -> PurchaseIntent {
        PurchaseIntent {
            terminal_id: TerminalId::from_public_key(key_pair.public_key().as_bytes()),
            merchant_id: MerchantId::parse("demo-films").unwrap(),
            item_id: ItemId::parse("film-4412").unwrap(),
            item_description: ItemDescription::parse("《流浪地球》高清").unwrap(),
            amount: Amount::from_minor_units(amount_fen).unwrap(),
            currency: Currency::Cny,
            nonce: new_nonce(&SystemRandom::new()).unwrap(),
            signed_at_unix_seconds: 1_796_000_000,
        }
    }

    #[test]
    fn a_signed_intent_verifies_with_the_terminals_key_only() {
        let random = SystemRandom::new();
        let (box_key, _) = TerminalKeyPair::generate(&random).unwrap();
        let (other_key, _) = TerminalKeyPair::generate(&random).unwrap();
        let intent = intent_for(&box_key, 500);
        let signed = box_key.sign_purchase_intent(&intent);
        assert_eq!(signed.verify(&box_key.public_key()).unwrap(), intent);
        assert_eq!(signed.claimed_intent().unwrap(), intent);
        assert_eq!(signed.verify(&other_key.public_key()), Err(PurchaseIntentError::BadSignature));
    }

    #[test]
    fn raising_the_amount_after_signing_breaks_the_signature() {
        let (box_key, _) = TerminalKeyPair::generate(&SystemRandom::new()).unwrap();
        let signed = box_key.sign_purchase_intent(&intent_for(&box_key, 500));
        let raised = intent_for(&box_key, 50_000);
        let tampered = SignedPurchaseIntent {
            payload: base64url_encode(&serde_json::to_vec(&raised).unwrap()),
            signature: signed.signature.clone(),
        };
        assert_eq!(tampered.verify(&box_key.public_key()), Err(PurchaseIntentError::BadSignature));
    }

    #[test]
    fn a_request_signature_never_verifies_as_an_intent() {
        let (box_key, _) = TerminalKeyPair::generate(&SystemRandom::new()).unwrap();
        let intent = intent_for(&box_key, 500);
        let payload = serde_json::to_vec(&intent).unwrap();
        let other_domain = box_key.sign_in_domain(b"NUMBIND-ACTIVATION-OFFER-V1\n", &payload);
        let forged = SignedPurchaseIntent { payload: base64url_encode(&payload), signature: other_domain };
        assert_eq!(forged.verify(&box_key.public_key()), Err(PurchaseIntentError::BadSignature));
    }

    #[test]
    fn garbage_and_unknown_fields_are_malformed() {
        let (box_key, _) = TerminalKeyPair::generate(&SystemRandom::new()).unwrap();
        let garbage = SignedPurchaseIntent { payload: "%%%".to_owned(), signature: String::new() };
        assert!(matches!(garbage.claimed_intent(), Err(PurchaseIntentError::Malformed(_))));
        let mut value = serde_json::to_value(intent_for(&box_key, 500)).unwrap();
        value["amount"] = serde_json::json!(-5);
        let payload = serde_json::to_vec(&value).unwrap();
        let negative = SignedPurchaseIntent {
            payload: base64url_encode(&payload),
            signature: box_key.sign_in_domain(INTENT_DOMAIN, &payload),
        };
        assert!(matches!(negative.verify(&box_key.public_key()), Err(PurchaseIntentError::Malformed(_))));
    }

    #[test]
    fn catalogue_texts_parse_or_refuse() {
        assert!(MerchantId::parse("demo-films").is_ok());
        for bad in ["", "ab", "Demo", "1films", "films!", &"a".repeat(33)] {
            assert!(MerchantId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(ItemId::parse("pack:sports:2026-12").is_ok());
        assert!(ItemId::parse("a b").is_err());
        assert!(ItemDescription::parse("体育频道包 12月").is_ok());
        assert!(ItemDescription::parse(&"长".repeat(41)).is_err());
        assert!(ItemDescription::parse("line\nbreak").is_err());
    }
}
