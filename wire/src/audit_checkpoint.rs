//! Audit checkpoints: the platform signs the head of its audit hash chain, and the OSS keeps a copy as a witness.
//!
//! A checkpoint names a sequence number and the chain hash of the event at it. It is signed with the platform's
//! statement key in its own domain (`NUMBIND-AUDIT-CHECKPOINT-V1\n`), so a statement or a session grant can never
//! pass for one. Someone who can write the platform's database but does not hold its key cannot make one, and
//! cannot take back the copies the OSS holds: a chain rewritten before a checkpoint no longer matches it.

use crate::encoding::{base64url_decode, base64url_encode};
use crate::statement::{PinnedPlatformKeys, PlatformSigningKey, StatementError};
use serde::{Deserialize, Serialize};

const CHECKPOINT_DOMAIN: &[u8] = b"NUMBIND-AUDIT-CHECKPOINT-V1\n";

/// `POST` (platform → OSS, component HMAC): deliver one checkpoint.
pub const PLATFORM_AUDIT_CHECKPOINTS_PATH: &str = "/v1/platform/audit-checkpoints";
/// `GET ?after_sequence=N&limit=M` (OSS admin API): the checkpoints the OSS holds, in sequence order.
pub const OSS_AUDIT_CHECKPOINTS_PATH: &str = "/v1/audit-checkpoints";

/// What the platform signs: the chain's hash at `sequence`, when, and with which key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditCheckpoint {
    /// The sequence number of the event the checkpoint covers (every event up to it).
    pub sequence: i64,
    /// Lowercase hex of that event's chain hash.
    pub head_hash: String,
    pub made_at_unix_seconds: i64,
    /// The key ID of the signing key (also outside the payload, to find the key; the two must agree).
    pub key_id: String,
}

/// A checkpoint with the platform's signature, as it is stored and travels in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedAuditCheckpoint {
    pub key_id: String,
    /// base64url of the checkpoint's JSON bytes.
    pub payload: String,
    /// base64url Ed25519 signature over `NUMBIND-AUDIT-CHECKPOINT-V1\n` and the payload bytes.
    pub signature: String,
}

impl SignedAuditCheckpoint {
    /// The checkpoint as claimed, signature not checked: to file a copy by its sequence. Trust only
    /// [`PinnedPlatformKeys::verify_audit_checkpoint`].
    pub fn claimed(&self) -> Result<AuditCheckpoint, StatementError> {
        let payload = base64url_decode(&self.payload).ok_or(StatementError::Malformed)?;
        serde_json::from_slice(&payload).map_err(|_| StatementError::Malformed)
    }
}

/// The answer to a delivered checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditCheckpointOutcome {
    Stored,
    /// The same checkpoint was already held (a retried delivery).
    AlreadyStored,
}

/// `POST /v1/platform/audit-checkpoints` answers this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCheckpointReceipt {
    pub sequence: i64,
    pub outcome: AuditCheckpointOutcome,
}

/// `GET /v1/audit-checkpoints` answers this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCheckpointList {
    pub checkpoints: Vec<SignedAuditCheckpoint>,
}

impl PlatformSigningKey {
    /// Signs `checkpoint` (its `key_id` is set to this key's).
    pub fn sign_audit_checkpoint(&self, checkpoint: &AuditCheckpoint) -> SignedAuditCheckpoint {
        let checkpoint = AuditCheckpoint { key_id: self.key_id().to_owned(), ..checkpoint.clone() };
        // Serialising a struct of strings and integers cannot fail.
        let payload = serde_json::to_vec(&checkpoint).unwrap_or_default();
        SignedAuditCheckpoint {
            key_id: checkpoint.key_id,
            payload: base64url_encode(&payload),
            signature: self.sign_in_domain(CHECKPOINT_DOMAIN, &payload),
        }
    }
}

impl PinnedPlatformKeys {
    /// Verifies a checkpoint's signature with the pinned key it names; returns the checkpoint it covers.
    pub fn verify_audit_checkpoint(&self, signed: &SignedAuditCheckpoint) -> Result<AuditCheckpoint, StatementError> {
        let payload = self.verify_in_domain(&signed.key_id, CHECKPOINT_DOMAIN, &signed.payload, &signed.signature)?;
        let checkpoint: AuditCheckpoint = serde_json::from_slice(&payload).map_err(|_| StatementError::Malformed)?;
        if checkpoint.key_id != signed.key_id {
            return Err(StatementError::Malformed);
        }
        Ok(checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::BindingStatement;
    use ring::rand::SystemRandom;

    fn checkpoint() -> AuditCheckpoint {
        AuditCheckpoint {
            sequence: 42,
            head_hash: "ab".repeat(32),
            made_at_unix_seconds: 1_700_000_000,
            key_id: String::new(),
        }
    }

    #[test]
    fn a_checkpoint_verifies_with_the_pinned_key_and_any_change_breaks_it() {
        let (key, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
        let pinned = PinnedPlatformKeys::new(vec![key.public_key()]);
        let signed = key.sign_audit_checkpoint(&checkpoint());
        let verified = pinned.verify_audit_checkpoint(&signed).unwrap();
        assert_eq!((verified.sequence, verified.key_id.as_str()), (42, key.key_id()));
        assert_eq!(signed.claimed().unwrap(), verified);

        let moved = AuditCheckpoint { sequence: 43, ..verified.clone() };
        let forged =
            SignedAuditCheckpoint { payload: base64url_encode(&serde_json::to_vec(&moved).unwrap()), ..signed.clone() };
        assert_eq!(pinned.verify_audit_checkpoint(&forged), Err(StatementError::BadSignature));

        let (other, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
        let by_another_key = other.sign_audit_checkpoint(&checkpoint());
        assert!(matches!(pinned.verify_audit_checkpoint(&by_another_key), Err(StatementError::UnknownKey(_))));
    }

    #[test]
    fn a_statement_signature_never_passes_for_a_checkpoint() {
        let (key, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
        let pinned = PinnedPlatformKeys::new(vec![key.public_key()]);
        let statement: BindingStatement = serde_json::from_value(serde_json::json!({
            "terminal_id": "STB-000001", "state": "unbound", "activation_id": null, "binding_id": null,
            "msisdn_masked": null, "denial_reason": null, "in_reply_to": null,
            "issued_at_unix_seconds": 1, "expires_at_unix_seconds": 2
        }))
        .unwrap();
        let signed = key.sign(&statement);
        let posing =
            SignedAuditCheckpoint { key_id: signed.key_id, payload: signed.payload, signature: signed.signature };
        assert!(pinned.verify_audit_checkpoint(&posing).is_err());
    }
}
