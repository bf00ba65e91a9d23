//! The audit chain's key: every event's `mac = HMAC-SHA256(audit_key, hash)`, with the key derived from the
//! platform's signing key, so that only the platform (or whoever holds its key file) can write an event that
//! verifies.
//!
//! The MAC covers the event's stored chain hash rather than its encoding again: the hash is already
//! `SHA-256(prev_hash || canonical(event))`, so a MAC over it binds the event's content, its sequence and its link
//! at the cost of one HMAC of 32 bytes per append (no second encoding), and the verifier checks it from the stored
//! hash alone. A stored hash that does not fit its content is a separate break (`edited`), found by the hash check.
//! Events written before events were keyed have no MAC; they may only form the start of the chain (the first keyed
//! event ends that prefix), and only the signed checkpoints vouch for them.

use numbind_wire::statement::PlatformSigningKey;
use ring::hmac;

/// The HKDF label of the audit key (a change of label is a new, unrelated key: old MACs would not verify).
const AUDIT_KEY_LABEL: &str = "numbind audit chain v1";

/// The key that MACs the audit chain's events.
#[derive(Clone)]
pub struct AuditChainKey {
    key: hmac::Key,
}

impl AuditChainKey {
    /// The audit key of the platform's signing key.
    pub fn derive(signing_key: &PlatformSigningKey) -> Self {
        AuditChainKey::from_secret(&signing_key.derive_secret(AUDIT_KEY_LABEL))
    }

    /// A key from 32 secret bytes (tests use a random one).
    pub fn from_secret(secret: &[u8; 32]) -> Self {
        AuditChainKey { key: hmac::Key::new(hmac::HMAC_SHA256, secret) }
    }

    /// The MAC of an event whose stored chain hash is `hash`.
    pub fn mac(&self, hash: &[u8]) -> [u8; 32] {
        let mut mac = [0u8; 32];
        mac.copy_from_slice(hmac::sign(&self.key, hash).as_ref());
        mac
    }

    /// Whether `mac` is this key's MAC of `hash` (compared in constant time).
    pub fn verifies(&self, hash: &[u8], mac: &[u8]) -> bool {
        hmac::verify(&self.key, hash, mac).is_ok()
    }
}

impl std::fmt::Debug for AuditChainKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("AuditChainKey(..)")
    }
}

/// How far `numbind audit verify` checked the events' MACs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MacCheck {
    /// The platform's signing key was not read: no MAC was checked (`reason` says why).
    NotChecked { reason: String },
    /// Every MAC was checked; the events up to `unkeyed_through` (0 when none) were written before events were
    /// keyed and have no MAC.
    Checked { unkeyed_through: i64 },
}

impl std::fmt::Display for MacCheck {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MacCheck::NotChecked { reason } => write!(formatter, "MACs not checked: {reason}"),
            MacCheck::Checked { unkeyed_through: 0 } => write!(formatter, "every event's MAC checked"),
            MacCheck::Checked { unkeyed_through } => write!(
                formatter,
                "every event's MAC checked; events 1 to {unkeyed_through} are unkeyed (written before events were \
                 keyed: only the signed checkpoints vouch for them)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit_chain::{AuditEventFields, GENESIS_HASH};
    use ring::rand::SystemRandom;

    fn signing_key() -> PlatformSigningKey {
        PlatformSigningKey::generate(&SystemRandom::new()).unwrap().0
    }

    #[test]
    fn a_mac_verifies_only_with_the_key_and_the_hash_it_was_made_for() {
        let key = AuditChainKey::derive(&signing_key());
        let hash = AuditEventFields::default().chain_hash(&GENESIS_HASH);
        let mac = key.mac(&hash);
        assert!(key.verifies(&hash, &mac));
        let mut other_hash = hash;
        other_hash[0] ^= 1;
        assert!(!key.verifies(&other_hash, &mac), "a MAC does not carry over to another event");
        assert!(!AuditChainKey::derive(&signing_key()).verifies(&hash, &mac), "another platform's key");
        assert!(!key.verifies(&hash, &mac[..31]), "a truncated MAC");
        assert!(!key.verifies(&hash, &[]), "no MAC");
    }

    #[test]
    fn the_audit_key_is_stable_for_a_signing_key_and_unrelated_to_its_other_secrets() {
        let (signing_key, pkcs8) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
        let reloaded = PlatformSigningKey::from_pkcs8(&pkcs8).unwrap();
        let hash = [7u8; 32];
        let mac = AuditChainKey::derive(&signing_key).mac(&hash);
        assert!(AuditChainKey::derive(&reloaded).verifies(&hash, &mac), "the same key file, the same audit key");
        let ticket_secret = AuditChainKey::from_secret(&signing_key.derive_secret("numbind session tickets v1"));
        assert!(!ticket_secret.verifies(&hash, &mac), "the label separates the audit key from other secrets");
    }

    #[test]
    fn the_report_says_plainly_whether_macs_were_checked() {
        let not_checked = MacCheck::NotChecked { reason: "no key".into() }.to_string();
        assert_eq!(not_checked, "MACs not checked: no key");
        assert!(MacCheck::Checked { unkeyed_through: 4 }.to_string().contains("events 1 to 4 are unkeyed"));
    }
}
