//! The audit hash chain: canonical event encoding, SHA-256 links, and the report that names each break.
//!
//! `hash = SHA-256(prev_hash || canonical(event))`; the genesis `prev_hash` is 32 zero bytes. The canonical
//! encoding is a version tag, the sequence and time as big-endian `i64`, then every text field as a presence byte
//! and a big-endian `u32` length before its UTF-8 bytes: no field can bleed into the next. Each event also carries a
//! MAC of its hash under a key only the platform holds (`audit_mac`): the hash alone anyone can recompute.

use super::audit_mac::MacCheck;
use ring::digest::{digest, SHA256};

/// A SHA-256 hash of the chain.
pub type ChainHash = [u8; 32];

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: ChainHash = [0; 32];

const ENCODING_TAG: &[u8] = b"numbind-audit-v1";

/// Every hashed field of one event (the row ID is not part of it: the sequence is the event's place).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditEventFields {
    pub sequence: i64,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub terminal_id: Option<String>,
    pub msisdn_masked: Option<String>,
    pub activation_id: Option<String>,
    pub binding_id: Option<String>,
    pub message_id: Option<String>,
    pub detail: Option<String>,
}

fn push_text(encoding: &mut Vec<u8>, text: Option<&str>) {
    match text {
        None => encoding.push(0),
        Some(text) => {
            encoding.push(1);
            let length = u32::try_from(text.len()).unwrap_or(u32::MAX);
            encoding.extend_from_slice(&length.to_be_bytes());
            encoding.extend_from_slice(text.as_bytes());
        }
    }
}

impl AuditEventFields {
    /// The deterministic byte string the hash covers.
    pub fn canonical_encoding(&self) -> Vec<u8> {
        let mut encoding = Vec::with_capacity(128);
        encoding.extend_from_slice(ENCODING_TAG);
        encoding.extend_from_slice(&self.sequence.to_be_bytes());
        encoding.extend_from_slice(&self.at.to_be_bytes());
        for text in [
            Some(self.actor.as_str()),
            Some(self.kind.as_str()),
            self.terminal_id.as_deref(),
            self.msisdn_masked.as_deref(),
            self.activation_id.as_deref(),
            self.binding_id.as_deref(),
            self.message_id.as_deref(),
            self.detail.as_deref(),
        ] {
            push_text(&mut encoding, text);
        }
        encoding
    }

    /// This event's hash when it follows `prev_hash`.
    pub fn chain_hash(&self, prev_hash: &ChainHash) -> ChainHash {
        let mut input = Vec::with_capacity(160);
        input.extend_from_slice(prev_hash);
        input.extend_from_slice(&self.canonical_encoding());
        let mut hash = [0; 32];
        hash.copy_from_slice(digest(&SHA256, &input).as_ref());
        hash
    }
}

/// Lowercase hex of a hash.
pub fn hash_to_hex(hash: &[u8]) -> String {
    hash.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The hash written as 64 lowercase or uppercase hex digits, if it is one.
pub fn hash_from_hex(text: &str) -> Option<ChainHash> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 || !bytes.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut hash = [0u8; 32];
    for (index, pair) in bytes.chunks(2).enumerate() {
        let digits = std::str::from_utf8(pair).ok()?;
        hash[index] = u8::from_str_radix(digits, 16).ok()?;
    }
    Some(hash)
}

/// One stored event as the verifier reads it (hashes as stored, any length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAuditEvent {
    pub row_id: i64,
    pub fields: AuditEventFields,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    /// `HMAC-SHA256(audit_key, hash)`; `None` for an event written before events were keyed.
    pub mac: Option<Vec<u8>>,
}

impl StoredAuditEvent {
    /// Whether the stored hash is this event's hash after its stored `prev_hash`.
    pub fn hash_is_consistent(&self) -> bool {
        ChainHash::try_from(self.prev_hash.as_slice())
            .is_ok_and(|prev_hash| self.fields.chain_hash(&prev_hash).as_slice() == self.hash.as_slice())
    }

    /// Whether the stored hash is this event's hash had it been written at `sequence` (a renumbered event's is).
    pub fn hash_is_consistent_at(&self, sequence: i64) -> bool {
        let fields = AuditEventFields { sequence, ..self.fields.clone() };
        ChainHash::try_from(self.prev_hash.as_slice())
            .is_ok_and(|prev_hash| fields.chain_hash(&prev_hash).as_slice() == self.hash.as_slice())
    }
}

/// What kind of tampering a problem points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditProblemKind {
    /// The event's content does not hash to its stored hash (or was re-hashed and its successor's link broke).
    Edited,
    /// Events are missing: a gap in the sequence, or a renumbering that closed one.
    Deleted,
    /// An event that does not belong: a second one at a sequence, a link that fits no event, or an event spliced in
    /// (the genuine ones after it renumbered).
    Inserted,
    /// The event's MAC does not verify under the platform's audit key, or it has none though the events before it
    /// are keyed: it was not written by the platform, however well its hash links.
    Forged,
    /// Sequence, time or link order is broken.
    Reordered,
    /// A row whose sequence is NULL or not an integer: it has no place in the chain.
    SequenceInvalid,
    /// A sequence far beyond the events stored (more than a deletion could explain).
    SequenceOutOfRange,
    /// The chain's hash at a signed checkpoint's sequence is not the checkpoint's, or the chain ends before it:
    /// the events since the previous matching checkpoint may be forged, however well their hashes link.
    DivergesFromCheckpoint,
    /// A checkpoint copy is not signed by the platform key, disagrees with its other copy, or was lost by the
    /// platform while the OSS (the witness) still holds it.
    CheckpointTampered,
}

impl AuditProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditProblemKind::Edited => "edited",
            AuditProblemKind::Deleted => "deleted",
            AuditProblemKind::Inserted => "inserted",
            AuditProblemKind::Forged => "forged",
            AuditProblemKind::Reordered => "reordered",
            AuditProblemKind::SequenceInvalid => "invalid sequence",
            AuditProblemKind::SequenceOutOfRange => "sequence out of range",
            AuditProblemKind::DivergesFromCheckpoint => "diverges from a signed checkpoint",
            AuditProblemKind::CheckpointTampered => "checkpoint tampered",
        }
    }
}

/// One break of the chain, at an event sequence number (0 for a row without one), with what was seen.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct AuditProblem {
    pub sequence: i64,
    pub kind: AuditProblemKind,
    pub detail: String,
}

/// How far the signed checkpoints vouch for the chain.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct AuditWitnessSummary {
    /// Signed checkpoints compared with the chain (the platform's and the OSS's copies, once each).
    pub checkpoints_checked: usize,
    /// Whether the OSS's copies were read.
    pub oss_consulted: bool,
    /// The highest sequence covered by a checkpoint that matches the chain (held by the OSS when it was
    /// consulted); 0 when none.
    pub witnessed_through: i64,
}

/// How many problem lines the report prints before it says how many more there are.
const PRINTED_PROBLEMS: usize = 20;

/// The verdict on the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditVerifyReport {
    pub event_count: u64,
    pub head_sequence: i64,
    /// Lowercase hex of the last event's stored hash (genesis zeros when empty): anchor it elsewhere.
    pub head_hash: String,
    /// The problems in sequence order (the first is the first break); at most a bounded number are kept.
    pub problems: Vec<AuditProblem>,
    /// Problems found beyond those kept.
    pub problems_not_kept: u64,
    pub witness: AuditWitnessSummary,
    /// Whether the events' MACs were checked, and which events are unkeyed.
    pub mac_check: MacCheck,
}

impl AuditVerifyReport {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }

    /// Whether a problem of `kind` was found at `sequence`.
    pub fn names(&self, kind: AuditProblemKind, sequence: i64) -> bool {
        self.problems.iter().any(|problem| problem.kind == kind && problem.sequence == sequence)
    }

    /// The first break of the chain, if any.
    pub fn first_break(&self) -> Option<&AuditProblem> {
        self.problems.first()
    }

    /// The events after the last witnessed checkpoint, as `(first, last)`, when there are any.
    pub fn unwitnessed(&self) -> Option<(i64, i64)> {
        (self.head_sequence > self.witness.witnessed_through)
            .then_some((self.witness.witnessed_through + 1, self.head_sequence))
    }

    fn write_witness(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let witness = &self.witness;
        if witness.checkpoints_checked == 0 {
            return write!(formatter, "\nno signed checkpoint checked: no event is witnessed");
        }
        let by = if witness.oss_consulted { "the OSS" } else { "the platform's own checkpoints (OSS not consulted)" };
        write!(
            formatter,
            "
{} signed checkpoints checked; witnessed by {by} through sequence {}",
            witness.checkpoints_checked, witness.witnessed_through
        )?;
        match self.unwitnessed() {
            Some((first, last)) => write!(
                formatter,
                "
not yet witnessed: events {first} to {last}"
            ),
            None => write!(
                formatter,
                "
every event is witnessed"
            ),
        }
    }
}

impl std::fmt::Display for AuditVerifyReport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.first_break() {
            None => {
                write!(formatter, "audit chain ok: {} events, head sequence {}", self.event_count, self.head_sequence)?
            }
            Some(first) => {
                let total = self.problems.len() as u64 + self.problems_not_kept;
                write!(formatter, "audit chain BROKEN: {} events, {total} problems", self.event_count)?;
                write!(
                    formatter,
                    "
first break: {} at sequence {}: {}",
                    first.kind.as_str(),
                    first.sequence,
                    first.detail
                )?;
                for problem in self.problems.iter().take(PRINTED_PROBLEMS) {
                    write!(
                        formatter,
                        "
  {} at sequence {}: {}",
                        problem.kind.as_str(),
                        problem.sequence,
                        problem.detail
                    )?;
                }
                let more = total.saturating_sub(PRINTED_PROBLEMS as u64);
                if more > 0 {
                    write!(
                        formatter,
                        "
  and {more} more"
                    )?;
                }
            }
        }
        self.write_witness(formatter)?;
        write!(formatter, "\n{}", self.mac_check)?;
        write!(
            formatter,
            "
head hash {}",
            self.head_hash
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_boundaries_change_the_encoding() {
        let one = AuditEventFields { actor: "ab".into(), kind: "c".into(), ..AuditEventFields::default() };
        let two = AuditEventFields { actor: "a".into(), kind: "bc".into(), ..AuditEventFields::default() };
        assert_ne!(one.canonical_encoding(), two.canonical_encoding());
        let absent = AuditEventFields { detail: None, ..one.clone() };
        let empty = AuditEventFields { detail: Some(String::new()), ..one };
        assert_ne!(absent.chain_hash(&GENESIS_HASH), empty.chain_hash(&GENESIS_HASH));
    }

    #[test]
    fn a_hash_round_trips_through_hex_and_anything_else_is_refused() {
        let hash = AuditEventFields::default().chain_hash(&GENESIS_HASH);
        assert_eq!(hash_from_hex(&hash_to_hex(&hash)), Some(hash));
        assert_eq!(hash_from_hex("ab"), None);
        assert_eq!(hash_from_hex(&"zz".repeat(32)), None);
        assert_eq!(hash_from_hex(&"+1".repeat(32)), None);
    }
}
