//! The audit chain's key: every event's `mac = HMAC-SHA256(audit_key, hash)`, with a key of its own
//! (`platform-audit.key` beside the database, see `audit_key`), so that only the platform (or whoever holds that
//! file) can write an event that verifies, and the statement-signing key rotates without re-keying the chain.
//!
//! The MAC covers the event's stored chain hash rather than its encoding again: the hash is already
//! `SHA-256(prev_hash || canonical(event))`, so a MAC over it binds the event's content, its sequence and its link
//! at the cost of one HMAC of 32 bytes per append (no second encoding), and the verifier checks it from the stored
//! hash alone. A stored hash that does not fit its content is a separate break (`edited`), found by the hash check.
//! Events written before events were keyed have no MAC; they may only form the start of the chain (the first keyed
//! event ends that prefix), and only the signed checkpoints vouch for them.

use ring::hmac;

/// The key that MACs the audit chain's events.
#[derive(Clone)]
pub struct AuditChainKey {
    key: hmac::Key,
}

impl AuditChainKey {
    /// A key from 32 secret bytes (the platform's are random, kept in `platform-audit.key`).
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
    use ring::rand::{SecureRandom, SystemRandom};

    fn random_key() -> AuditChainKey {
        let mut secret = [0u8; 32];
        SystemRandom::new().fill(&mut secret).unwrap();
        AuditChainKey::from_secret(&secret)
    }

    #[test]
    fn a_mac_verifies_only_with_the_key_and_the_hash_it_was_made_for() {
        let key = random_key();
        let hash = AuditEventFields::default().chain_hash(&GENESIS_HASH);
        let mac = key.mac(&hash);
        assert!(key.verifies(&hash, &mac));
        let mut other_hash = hash;
        other_hash[0] ^= 1;
        assert!(!key.verifies(&other_hash, &mac), "a MAC does not carry over to another event");
        assert!(!random_key().verifies(&hash, &mac), "another platform's key");
        assert!(!key.verifies(&hash, &mac[..31]), "a truncated MAC");
        assert!(!key.verifies(&hash, &[]), "no MAC");
    }

    #[test]
    fn the_report_says_plainly_whether_macs_were_checked() {
        let not_checked = MacCheck::NotChecked { reason: "no key".into() }.to_string();
        assert_eq!(not_checked, "MACs not checked: no key");
        assert!(MacCheck::Checked { unkeyed_through: 4 }.to_string().contains("events 1 to 4 are unkeyed"));
    }
}
