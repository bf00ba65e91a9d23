//! Payments, the pure rules: the merchant's idempotency key and reference code, the intent's freshness, payment
//! and refund IDs, body hashes, and the confirmation number (six digits, stored only as an HMAC).

use ring::digest::{digest, SHA256};
use ring::hmac;
use ring::rand::SecureRandom;

/// How long before now an intent may have been signed.
pub(crate) const INTENT_MAX_AGE_SECONDS: i64 = 10 * 60;
/// How far after now an intent's clock may be (a box's clock drifts).
pub(crate) const INTENT_MAX_FUTURE_SECONDS: i64 = 60;
/// Wrong confirmation numbers a pending payment takes before it is cancelled.
pub(crate) const MAX_CONFIRMATION_ATTEMPTS: i64 = 3;

/// An `Idempotency-Key`: 8 to 64 printable ASCII characters.
pub(crate) fn check_idempotency_key(text: &str) -> Result<(), &'static str> {
    let well_formed = (8..=64).contains(&text.len()) && text.bytes().all(|byte| (0x21..=0x7e).contains(&byte));
    well_formed.then_some(()).ok_or("the Idempotency-Key header is required: 8 to 64 printable ASCII characters")
}

/// A merchant's `reference_code`: 1 to 64 printable ASCII characters.
pub(crate) fn check_reference_code(text: &str) -> Result<(), &'static str> {
    let well_formed = (1..=64).contains(&text.len()) && text.bytes().all(|byte| (0x20..=0x7e).contains(&byte));
    well_formed.then_some(()).ok_or("reference_code must be 1 to 64 printable ASCII characters")
}

/// A refund's reason: 1 to 200 characters, no control characters.
pub(crate) fn check_refund_reason(text: &str) -> Result<(), &'static str> {
    let length = text.trim().chars().count();
    let well_formed = (1..=200).contains(&length) && !text.chars().any(char::is_control);
    well_formed.then_some(()).ok_or("reason must be 1 to 200 characters with no control characters")
}

/// Was an intent signed at `signed_at` recently enough to charge now?
pub(crate) fn intent_is_fresh(signed_at: i64, now: i64) -> bool {
    signed_at >= now.saturating_sub(INTENT_MAX_AGE_SECONDS)
        && signed_at <= now.saturating_add(INTENT_MAX_FUTURE_SECONDS)
}

/// SHA-256 of a request body: what an idempotency key remembers.
pub(crate) fn body_hash(body: &[u8]) -> [u8; 32] {
    let mut hash = [0; 32];
    hash.copy_from_slice(digest(&SHA256, body).as_ref());
    hash
}

/// The random source failed; nothing was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the system random source failed")]
pub(crate) struct RandomFailed;

fn random_hex(random: &dyn SecureRandom, byte_count: usize) -> Result<String, RandomFailed> {
    let mut bytes = vec![0u8; byte_count];
    random.fill(&mut bytes).map_err(|_| RandomFailed)?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// `pay-` and 24 lowercase hex digits.
pub(crate) fn new_payment_id(random: &dyn SecureRandom) -> Result<numbind_wire::PaymentId, RandomFailed> {
    numbind_wire::PaymentId::parse(&format!("pay-{}", random_hex(random, 12)?)).map_err(|_| RandomFailed)
}

/// `ref-` and 24 lowercase hex digits.
pub(crate) fn new_refund_id(random: &dyn SecureRandom) -> Result<numbind_wire::RefundId, RandomFailed> {
    numbind_wire::RefundId::parse(&format!("ref-{}", random_hex(random, 12)?)).map_err(|_| RandomFailed)
}

/// A six-digit confirmation number, uniform over 000000..=999999.
pub(crate) fn new_confirmation_number(random: &dyn SecureRandom) -> Result<String, RandomFailed> {
    loop {
        let mut bytes = [0u8; 4];
        random.fill(&mut bytes).map_err(|_| RandomFailed)?;
        let value = u32::from_be_bytes(bytes);
        // Rejection sampling: no residue bias.
        if value < 4_294_000_000 {
            return Ok(format!("{:06}", value % 1_000_000));
        }
    }
}

/// The label of the secret derived from the platform key that MACs confirmation numbers.
pub(crate) const CONFIRMATION_KEY_LABEL: &str = "numbind payment confirmation numbers v1";

/// MACs a payment's confirmation number: the database holds the tag, never the number, so a copy of the file does
/// not let anyone confirm a payment from another phone (and the bound number's reply is still what counts).
#[derive(Clone)]
pub(crate) struct ConfirmationKey(hmac::Key);

impl std::fmt::Debug for ConfirmationKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ConfirmationKey(..)")
    }
}

impl ConfirmationKey {
    pub(crate) fn from_secret(secret: &[u8; 32]) -> Self {
        ConfirmationKey(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// The tag of `number` for `payment_id`.
    pub(crate) fn tag(&self, payment_id: &str, number: &str) -> Vec<u8> {
        hmac::sign(&self.0, format!("{payment_id}\n{number}").as_bytes()).as_ref().to_vec()
    }

    /// Does `number` match the stored tag (compared in constant time)?
    pub(crate) fn matches(&self, payment_id: &str, number: &str, tag: &[u8]) -> bool {
        hmac::verify(&self.0, format!("{payment_id}\n{number}").as_bytes(), tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn keys_references_and_freshness_are_checked() {
        assert!(check_idempotency_key("order-0001").is_ok());
        for refused in ["short", "has space-in-it", &"k".repeat(65), "ключ-ключ-ключ"] {
            assert!(check_idempotency_key(refused).is_err(), "{refused}");
        }
        assert!(check_reference_code("ORDER 42").is_ok() && check_reference_code("").is_err());
        assert!(check_reference_code("订单").is_err());
        assert!(intent_is_fresh(1000, 1000) && intent_is_fresh(400, 1000) && intent_is_fresh(1060, 1000));
        assert!(!intent_is_fresh(399, 1000) && !intent_is_fresh(1061, 1000) && !intent_is_fresh(i64::MIN, 1000));
    }

    #[test]
    fn ids_and_confirmation_numbers_have_their_shape_and_tags_verify() {
        let random = SystemRandom::new();
        let payment_id = new_payment_id(&random).unwrap();
        assert!(payment_id.as_str().starts_with("pay-") && payment_id.as_str().len() == 28);
        assert!(new_refund_id(&random).unwrap().as_str().starts_with("ref-"));
        let number = new_confirmation_number(&random).unwrap();
        assert!(number.len() == 6 && number.bytes().all(|byte| byte.is_ascii_digit()));
        let key = ConfirmationKey::from_secret(&[3; 32]);
        let tag = key.tag(payment_id.as_str(), &number);
        assert!(key.matches(payment_id.as_str(), &number, &tag));
        assert!(!key.matches("pay-other", &number, &tag));
        assert!(!ConfirmationKey::from_secret(&[4; 32]).matches(payment_id.as_str(), &number, &tag));
    }
}
