//! The audit hash chain: canonical event encoding, SHA-256 links, and the verifier that names each break.
//!
//! `hash = SHA-256(prev_hash || canonical(event))`; the genesis `prev_hash` is 32 zero bytes. The canonical
//! encoding is a version tag, the sequence and time as big-endian `i64`, then every text field as a presence byte
//! and a big-endian `u32` length before its UTF-8 bytes: no field can bleed into the next.

use ring::digest::{digest, SHA256};
use std::collections::{BTreeSet, HashMap};

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

/// One stored event as the verifier reads it (hashes as stored, any length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAuditEvent {
    pub row_id: i64,
    pub fields: AuditEventFields,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

impl StoredAuditEvent {
    fn hash_is_consistent(&self) -> bool {
        ChainHash::try_from(self.prev_hash.as_slice())
            .is_ok_and(|prev_hash| self.fields.chain_hash(&prev_hash).as_slice() == self.hash.as_slice())
    }
}

/// What kind of tampering a problem points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditProblemKind {
    /// The event's content does not hash to its stored hash (or was re-hashed and its successor's link broke).
    Edited,
    /// A sequence number is missing.
    Deleted,
    /// A sequence number appears twice, or an extra event's link fits no event.
    Inserted,
    /// Sequence, time or link order is broken.
    Reordered,
}

impl AuditProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditProblemKind::Edited => "edited",
            AuditProblemKind::Deleted => "deleted",
            AuditProblemKind::Inserted => "inserted",
            AuditProblemKind::Reordered => "reordered",
        }
    }
}

/// One break of the chain, at an event sequence number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct AuditProblem {
    pub sequence: i64,
    pub kind: AuditProblemKind,
}

/// The verdict on the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditVerifyReport {
    pub event_count: u64,
    pub head_sequence: i64,
    /// Lowercase hex of the last event's stored hash (genesis zeros when empty): anchor it elsewhere.
    pub head_hash: String,
    pub problems: Vec<AuditProblem>,
}

impl AuditVerifyReport {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }

    /// Whether a problem of `kind` was found at `sequence`.
    pub fn names(&self, kind: AuditProblemKind, sequence: i64) -> bool {
        self.problems.iter().any(|problem| problem.kind == kind && problem.sequence == sequence)
    }
}

impl std::fmt::Display for AuditVerifyReport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_intact() {
            write!(formatter, "audit chain ok: {} events, head sequence {}", self.event_count, self.head_sequence)?;
        } else {
            write!(formatter, "audit chain BROKEN: {} events, {} problems", self.event_count, self.problems.len())?;
            for problem in &self.problems {
                write!(formatter, "\n  {} at sequence {}", problem.kind.as_str(), problem.sequence)?;
            }
        }
        write!(formatter, "\nhead hash {}", self.head_hash)
    }
}

/// Walks the events in (sequence, row ID) order and collects every break it can name.
#[derive(Debug)]
pub struct AuditChainVerifier {
    /// Stored hash -> sequence of every event, to tell a moved link from a foreign one.
    known_hashes: HashMap<Vec<u8>, i64>,
    last_sequence: i64,
    running_hash: Vec<u8>,
    last_at: i64,
    last_row_id: i64,
    group: Vec<StoredAuditEvent>,
    event_count: u64,
    problems: BTreeSet<AuditProblem>,
}

impl AuditChainVerifier {
    pub fn new(known_hashes: HashMap<Vec<u8>, i64>) -> Self {
        AuditChainVerifier {
            known_hashes,
            last_sequence: 0,
            running_hash: GENESIS_HASH.to_vec(),
            last_at: i64::MIN,
            last_row_id: i64::MIN,
            group: Vec::new(),
            event_count: 0,
            problems: BTreeSet::new(),
        }
    }

    /// Feeds the next event; events must come ordered by sequence, then row ID.
    pub fn observe(&mut self, event: StoredAuditEvent) {
        self.event_count += 1;
        if self.group.first().is_some_and(|first| first.fields.sequence != event.fields.sequence) {
            self.settle_group();
        }
        self.group.push(event);
    }

    fn report(&mut self, kind: AuditProblemKind, sequence: i64) {
        self.problems.insert(AuditProblem { sequence, kind });
    }

    /// Checks the events sharing one sequence number: at most one of them belongs.
    fn settle_group(&mut self) {
        let group = std::mem::take(&mut self.group);
        let Some(sequence) = group.first().map(|event| event.fields.sequence) else { return };
        let after_gap = sequence != self.last_sequence + 1;
        for missing in (self.last_sequence + 1)..sequence.min(self.last_sequence.saturating_add(1_000_000)) {
            self.report(AuditProblemKind::Deleted, missing);
        }
        if sequence <= self.last_sequence {
            self.report(AuditProblemKind::Reordered, sequence);
        }
        let genuine_index = group
            .iter()
            .position(|event| event.prev_hash == self.running_hash && event.hash_is_consistent())
            .or_else(|| group.iter().position(|event| event.prev_hash == self.running_hash))
            .unwrap_or(0);
        if group.len() > 1 {
            self.report(AuditProblemKind::Inserted, sequence);
        }
        let Some(event) = group.into_iter().nth(genuine_index) else { return };
        self.check_event(&event, after_gap);
        self.last_sequence = self.last_sequence.max(sequence);
        self.running_hash = event.hash;
        self.last_at = event.fields.at;
        self.last_row_id = event.row_id;
    }

    fn check_event(&mut self, event: &StoredAuditEvent, after_gap: bool) {
        let sequence = event.fields.sequence;
        let link_fits = event.prev_hash == self.running_hash;
        if event.fields.at < self.last_at || event.row_id < self.last_row_id {
            self.report(AuditProblemKind::Reordered, sequence);
        }
        let links_to_another_event = self.known_hashes.get(&event.prev_hash).is_some_and(|known| *known != sequence);
        if !event.hash_is_consistent() && (link_fits || after_gap || links_to_another_event) {
            self.report(AuditProblemKind::Edited, sequence);
        }
        if link_fits || after_gap {
            return;
        }
        if links_to_another_event || event.prev_hash.as_slice() == GENESIS_HASH {
            self.report(AuditProblemKind::Reordered, sequence);
        } else if event.hash_is_consistent() && sequence > 1 && !self.is_tail(sequence) {
            // The predecessor was edited and re-hashed: this event still links to its old hash.
            self.report(AuditProblemKind::Edited, sequence - 1);
        } else {
            self.report(AuditProblemKind::Inserted, sequence);
        }
    }

    fn is_tail(&self, sequence: i64) -> bool {
        self.known_hashes.values().all(|known| *known <= sequence)
    }

    /// The report, once every event was observed.
    pub fn finish(mut self) -> AuditVerifyReport {
        self.settle_group();
        AuditVerifyReport {
            event_count: self.event_count,
            head_sequence: self.last_sequence,
            head_hash: hash_to_hex(&self.running_hash),
            problems: self.problems.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(count: i64) -> Vec<StoredAuditEvent> {
        let mut prev_hash = GENESIS_HASH;
        (1..=count)
            .map(|sequence| {
                let fields = AuditEventFields {
                    sequence,
                    at: 100 + sequence,
                    actor: "oss".into(),
                    kind: "binding_created".into(),
                    detail: Some(format!("event {sequence}")),
                    ..AuditEventFields::default()
                };
                let hash = fields.chain_hash(&prev_hash);
                let event =
                    StoredAuditEvent { row_id: sequence, fields, prev_hash: prev_hash.to_vec(), hash: hash.to_vec() };
                prev_hash = hash;
                event
            })
            .collect()
    }

    fn verify(events: Vec<StoredAuditEvent>) -> AuditVerifyReport {
        let known = events.iter().map(|event| (event.hash.clone(), event.fields.sequence)).collect();
        let mut verifier = AuditChainVerifier::new(known);
        let mut sorted = events;
        sorted.sort_by_key(|event| (event.fields.sequence, event.row_id));
        sorted.into_iter().for_each(|event| verifier.observe(event));
        verifier.finish()
    }

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
    fn an_intact_chain_reports_its_head() {
        let events = chain(5);
        let head = hash_to_hex(&events[4].hash);
        let report = verify(events);
        assert!(report.is_intact(), "{report}");
        assert_eq!((report.event_count, report.head_sequence, report.head_hash), (5, 5, head));
        assert_eq!(verify(Vec::new()).head_hash, hash_to_hex(&GENESIS_HASH));
    }

    #[test]
    fn each_kind_of_tampering_is_named_at_its_sequence() {
        let mut edited = chain(5);
        edited[2].fields.detail = Some("forged".into());
        let report = verify(edited);
        assert_eq!(report.problems, vec![AuditProblem { sequence: 3, kind: AuditProblemKind::Edited }]);

        let mut rehashed = chain(5);
        rehashed[2].fields.detail = Some("forged".into());
        rehashed[2].hash = rehashed[2].fields.chain_hash(&rehashed[1].hash.clone().try_into().unwrap()).to_vec();
        assert!(verify(rehashed).names(AuditProblemKind::Edited, 3));

        let mut deleted = chain(5);
        deleted.remove(1);
        assert_eq!(verify(deleted).problems, vec![AuditProblem { sequence: 2, kind: AuditProblemKind::Deleted }]);

        let mut duplicated = chain(5);
        let mut forged = duplicated[2].clone();
        forged.row_id = 9;
        forged.fields.detail = Some("forged".into());
        duplicated.push(forged);
        assert!(verify(duplicated).names(AuditProblemKind::Inserted, 3));

        let mut appended = chain(5);
        let mut extra = appended[4].clone();
        extra.row_id = 6;
        extra.fields.sequence = 6;
        extra.prev_hash = vec![7; 32];
        extra.hash = extra.fields.chain_hash(&[7; 32]).to_vec();
        appended.push(extra);
        assert_eq!(verify(appended).problems, vec![AuditProblem { sequence: 6, kind: AuditProblemKind::Inserted }]);

        let mut swapped = chain(5);
        swapped[1].fields.sequence = 3;
        swapped[2].fields.sequence = 2;
        let report = verify(swapped);
        assert!(report.names(AuditProblemKind::Reordered, 2), "{report}");
        assert!(report.names(AuditProblemKind::Reordered, 3), "{report}");
    }

    #[test]
    fn several_problems_are_all_reported() {
        let mut events = chain(8);
        events[1].fields.detail = Some("forged".into());
        events.remove(5);
        let report = verify(events);
        assert!(report.names(AuditProblemKind::Edited, 2));
        assert!(report.names(AuditProblemKind::Deleted, 6));
    }
}
