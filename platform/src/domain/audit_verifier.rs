//! The audit chain verifier: walks the stored events in sequence order, names each break by its kind at the
//! sequence where it starts, and compares the chain with the signed checkpoints of its head.
//!
//! Hashes alone catch an edit, a deletion, a reordering or an event that links to nothing. An event spliced in with
//! the genuine events after it renumbered is told from an edit because a renumbered event still hashes under its
//! old sequence: the break is named once, where the splice is, not at every event after it. A rewrite whose hashes
//! were all recomputed is consistent in itself; only a signed checkpoint (which the writer cannot make without the
//! platform's key) shows it, and the verifier then names the checkpoint and the earliest event that may be forged.
//! With the platform's audit key, each event's MAC is checked too: an event the platform did not write is `forged`
//! at its own sequence, however well its hash links, checkpoint or not.

use super::audit_chain::{
    hash_to_hex, AuditProblem, AuditProblemKind, AuditVerifyReport, AuditWitnessSummary, StoredAuditEvent, GENESIS_HASH,
};
use super::audit_mac::{AuditChainKey, MacCheck};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Problems kept in memory and in the report; beyond, they are only counted.
const KEPT_PROBLEMS: usize = 1_000;
/// The renumberings tried on an event whose hash does not fit its sequence (splices of up to three events).
const RENUMBERING_SHIFTS: [i64; 6] = [1, -1, 2, -2, 3, -3];

/// A checkpoint whose signature verified: the chain must hold `head_hash` at `sequence`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignedHead {
    pub sequence: i64,
    pub head_hash: Vec<u8>,
    /// The OSS (the witness) holds a copy.
    pub held_by_oss: bool,
}

/// Walks the events in (sequence, row ID) order and collects every break it can name.
#[derive(Debug)]
pub(crate) struct AuditChainVerifier {
    /// Stored hash -> sequence of every event, to tell a moved link from a foreign one.
    known_hashes: HashMap<Vec<u8>, i64>,
    highest_known_sequence: i64,
    stored_rows: u64,
    /// The sequences of the signed checkpoints, and the stored hash found at each.
    hashes_at_checkpoints: BTreeMap<i64, Option<Vec<u8>>>,
    last_sequence: i64,
    running_hash: Vec<u8>,
    /// The `prev_hash` of the last chained event: a swapped pair's second event is what it links to.
    previous_link: Vec<u8>,
    last_at: i64,
    last_row_id: i64,
    /// Stored sequence minus the sequence the current event was hashed with (non-zero after a renumbering).
    shift: i64,
    reordered_at: BTreeSet<i64>,
    group: Vec<StoredAuditEvent>,
    event_count: u64,
    problems: BTreeSet<AuditProblem>,
    problems_not_kept: u64,
    /// The key the events' MACs are checked with; without it they are not checked.
    mac_key: Option<AuditChainKey>,
    /// An event with a MAC was seen: every later one must have a valid MAC too.
    keyed: bool,
    /// The last event of the unkeyed prefix (written before events were keyed); 0 when none.
    unkeyed_through: i64,
}

impl AuditChainVerifier {
    /// `known_hashes`: every stored hash and its sequence; `stored_rows`: the rows of the table (valid or not);
    /// `checkpoint_sequences`: where the signed checkpoints say what the hash is.
    pub(crate) fn new(known_hashes: HashMap<Vec<u8>, i64>, stored_rows: u64, checkpoint_sequences: &[i64]) -> Self {
        AuditChainVerifier {
            highest_known_sequence: known_hashes.values().copied().max().unwrap_or(0),
            known_hashes,
            stored_rows,
            hashes_at_checkpoints: checkpoint_sequences.iter().map(|sequence| (*sequence, None)).collect(),
            last_sequence: 0,
            running_hash: GENESIS_HASH.to_vec(),
            previous_link: Vec::new(),
            last_at: i64::MIN,
            last_row_id: i64::MIN,
            shift: 0,
            reordered_at: BTreeSet::new(),
            group: Vec::new(),
            event_count: 0,
            problems: BTreeSet::new(),
            problems_not_kept: 0,
            mac_key: None,
            keyed: false,
            unkeyed_through: 0,
        }
    }

    /// Checks every event's MAC with `mac_key` as well.
    pub(crate) fn with_mac_key(self, mac_key: AuditChainKey) -> Self {
        AuditChainVerifier { mac_key: Some(mac_key), ..self }
    }

    /// Feeds the next event; events must come ordered by sequence, then row ID.
    pub(crate) fn observe(&mut self, event: StoredAuditEvent) {
        self.event_count += 1;
        if self.group.first().is_some_and(|first| first.fields.sequence != event.fields.sequence) {
            self.settle_group();
        }
        self.group.push(event);
    }

    /// A row whose sequence is NULL or not an integer (`what` says which): it has no place in the chain.
    pub(crate) fn observe_invalid_sequence(&mut self, row_id: i64, what: &str) {
        self.event_count += 1;
        self.report(AuditProblemKind::SequenceInvalid, 0, format!("event row {row_id} has a {what} sequence"));
    }

    fn report(&mut self, kind: AuditProblemKind, sequence: i64, detail: String) {
        if self.problems.iter().any(|problem| problem.sequence == sequence && problem.kind == kind) {
            return;
        }
        if self.problems.len() >= KEPT_PROBLEMS {
            self.problems_not_kept += 1;
            return;
        }
        if kind == AuditProblemKind::Reordered {
            self.reordered_at.insert(sequence);
        }
        self.problems.insert(AuditProblem { sequence, kind, detail });
    }

    /// Checks the events sharing one sequence number: at most one of them belongs.
    fn settle_group(&mut self) {
        let group = std::mem::take(&mut self.group);
        let Some(sequence) = group.first().map(|event| event.fields.sequence) else { return };
        if sequence < 1 {
            let detail = format!("{} event(s) at sequence {sequence}, below the first (1)", group.len());
            return self.report(AuditProblemKind::SequenceInvalid, sequence, detail);
        }
        let missing = sequence - self.last_sequence - 1;
        if missing > 0 && missing.unsigned_abs() > self.stored_rows {
            let detail = format!(
                "{} event(s) at sequence {sequence}, after {}: beyond anything the {} stored events could leave",
                group.len(),
                self.last_sequence,
                self.stored_rows
            );
            return self.report(AuditProblemKind::SequenceOutOfRange, sequence, detail);
        }
        if missing > 0 {
            let detail = format!("sequences {} to {} are missing", self.last_sequence + 1, sequence - 1);
            self.report(AuditProblemKind::Deleted, self.last_sequence + 1, detail);
        }
        let genuine_index = group
            .iter()
            .position(|event| event.prev_hash == self.running_hash && event.hash_is_consistent())
            .or_else(|| group.iter().position(|event| event.prev_hash == self.running_hash))
            .unwrap_or(0);
        if group.len() > 1 {
            self.report(
                AuditProblemKind::Inserted,
                sequence,
                format!("{} events share sequence {sequence}", group.len()),
            );
        }
        let Some(event) = group.into_iter().nth(genuine_index) else { return };
        self.check_event(&event, missing > 0);
        self.check_mac(&event);
        if let Some(slot) = self.hashes_at_checkpoints.get_mut(&sequence) {
            *slot = Some(event.hash.clone());
        }
        self.last_sequence = sequence;
        self.running_hash = event.hash;
        self.previous_link = event.prev_hash;
        self.last_at = event.fields.at;
        self.last_row_id = event.row_id;
    }

    fn check_event(&mut self, event: &StoredAuditEvent, after_gap: bool) {
        let sequence = event.fields.sequence;
        if event.fields.at < self.last_at {
            let detail = "its time is earlier than its predecessor's".to_owned();
            self.report(AuditProblemKind::Reordered, sequence, detail);
        }
        self.check_hash_and_link(event, after_gap);
        let reordered_here = self.reordered_at.range(sequence - 1..=sequence).next().is_some();
        if event.row_id < self.last_row_id && sequence > 1 && !reordered_here {
            // Rows are numbered as they are written: the predecessor was written after this event, so it was put
            // in later (a splice leaves this mark even when every hash after it was recomputed).
            let detail = format!("it was written after the event at {sequence} (row order)");
            self.report(AuditProblemKind::Inserted, sequence - 1, detail);
        }
    }

    fn check_hash_and_link(&mut self, event: &StoredAuditEvent, after_gap: bool) {
        let sequence = event.fields.sequence;
        if event.hash_is_consistent() {
            self.shift = 0;
            if event.prev_hash != self.running_hash && !after_gap {
                self.check_broken_link(event, true);
            }
            return;
        }
        let tried = std::iter::once(self.shift).filter(|shift| *shift != 0).chain(RENUMBERING_SHIFTS);
        match tried.into_iter().find(|shift| event.hash_is_consistent_at(sequence - shift)) {
            Some(shift) => self.check_renumbered(event, shift),
            None => self.check_unexplained(event, after_gap),
        }
    }

    /// The event hashes under another sequence than it stands at: it was moved, or the events before it were.
    fn check_renumbered(&mut self, event: &StoredAuditEvent, shift: i64) {
        let sequence = event.fields.sequence;
        let written_as = sequence - shift;
        let continues_a_renumbering = std::mem::replace(&mut self.shift, shift) == shift;
        if continues_a_renumbering && event.prev_hash == self.running_hash {
            return;
        }
        let links_to = self.known_hashes.get(&event.prev_hash).copied();
        if links_to.is_some_and(|linked| linked > sequence) || event.hash == self.previous_link {
            let detail = format!("written as sequence {written_as}, it now stands at {sequence}");
            self.report(AuditProblemKind::Reordered, sequence, detail);
        } else if shift > 0 {
            let first = links_to.map_or(written_as, |linked| linked + 1).min(sequence - 1);
            let detail = format!(
                "sequences {first} to {} do not belong: the genuine events after them were renumbered by +{shift} \
                 (sequence {sequence} was written as {written_as})",
                sequence - 1
            );
            self.report(AuditProblemKind::Inserted, first, detail);
        } else {
            let detail = format!(
                "events written as {sequence} to {} were deleted and the events after them renumbered by {shift}",
                written_as - 1
            );
            self.report(AuditProblemKind::Deleted, sequence, detail);
        }
    }

    /// Events without a MAC may only start the chain (written before events were keyed); after the first keyed
    /// event, every event's MAC must verify.
    fn check_mac(&mut self, event: &StoredAuditEvent) {
        let Some(key) = &self.mac_key else { return };
        let sequence = event.fields.sequence;
        let detail = match &event.mac {
            None if !self.keyed => {
                self.unkeyed_through = sequence;
                return;
            }
            None => "MAC missing, though the events before it are keyed: not written by the platform".to_owned(),
            Some(mac) if key.verifies(&event.hash, mac) => {
                self.keyed = true;
                return;
            }
            Some(_) => "MAC does not verify: not written by the platform".to_owned(),
        };
        self.keyed = true;
        self.report(AuditProblemKind::Forged, sequence, detail);
    }

    /// The event's hash fits neither its sequence nor a renumbering: its content was changed.
    fn check_unexplained(&mut self, event: &StoredAuditEvent, after_gap: bool) {
        let sequence = event.fields.sequence;
        let link_fits = event.prev_hash == self.running_hash || after_gap;
        let links_elsewhere = self.known_hashes.get(&event.prev_hash).is_some_and(|known| *known != sequence);
        if link_fits || links_elsewhere {
            let detail = "its content does not hash to its stored hash".to_owned();
            self.report(AuditProblemKind::Edited, sequence, detail);
        }
        if !link_fits {
            self.check_broken_link(event, false);
        }
    }

    /// The event does not link to its predecessor's stored hash: say what it links to instead.
    fn check_broken_link(&mut self, event: &StoredAuditEvent, hash_is_consistent: bool) {
        let sequence = event.fields.sequence;
        match self.known_hashes.get(&event.prev_hash).copied().filter(|linked| *linked != sequence) {
            Some(linked) if self.reordered_at.contains(&linked) => {}
            Some(linked) => {
                let detail = format!("it links to the event at sequence {linked}, not to its predecessor");
                self.report(AuditProblemKind::Reordered, sequence, detail);
            }
            None if event.prev_hash.as_slice() == GENESIS_HASH => {
                let detail = "it links to the start of the chain".to_owned();
                self.report(AuditProblemKind::Reordered, sequence, detail);
            }
            None if hash_is_consistent && sequence > 1 && sequence < self.highest_known_sequence => {
                // The predecessor was edited and re-hashed: this event still links to its old hash.
                let detail = "edited and re-hashed: its successor still links to its old hash".to_owned();
                self.report(AuditProblemKind::Edited, sequence - 1, detail);
            }
            None => {
                let detail = "it links to no stored event".to_owned();
                self.report(AuditProblemKind::Inserted, sequence, detail);
            }
        }
    }

    /// The report, once every event was observed, with the chain compared to `signed_heads`.
    pub(crate) fn finish(mut self, signed_heads: &[SignedHead], oss_consulted: bool) -> AuditVerifyReport {
        self.settle_group();
        let witness = self.compare_with_checkpoints(signed_heads, oss_consulted);
        let mac_check = match self.mac_key {
            Some(_) => MacCheck::Checked { unkeyed_through: self.unkeyed_through },
            None => MacCheck::NotChecked { reason: "the platform's signing key was not read".to_owned() },
        };
        AuditVerifyReport {
            event_count: self.event_count,
            head_sequence: self.last_sequence,
            head_hash: hash_to_hex(&self.running_hash),
            problems: self.problems.into_iter().collect(),
            problems_not_kept: self.problems_not_kept,
            witness,
            mac_check,
        }
    }

    fn compare_with_checkpoints(&mut self, signed_heads: &[SignedHead], oss_consulted: bool) -> AuditWitnessSummary {
        let mut sorted: Vec<&SignedHead> = signed_heads.iter().collect();
        sorted.sort_by_key(|head| head.sequence);
        let (mut last_match, mut witnessed_through) = (0, 0);
        for head in sorted {
            let sequence = head.sequence;
            match self.hashes_at_checkpoints.get(&sequence).cloned().flatten() {
                Some(hash) if hash == head.head_hash => {
                    last_match = sequence;
                    if head.held_by_oss || !oss_consulted {
                        witnessed_through = sequence;
                    }
                }
                Some(_) => {
                    let detail = format!(
                        "the chain's hash at {sequence} is not the signed checkpoint's: events {} to {sequence} may \
                         be forged (the earliest that may be: {})",
                        last_match + 1,
                        last_match + 1
                    );
                    self.report(AuditProblemKind::DivergesFromCheckpoint, sequence, detail);
                }
                None => {
                    let detail = format!(
                        "a signed checkpoint covers sequence {sequence} but the chain holds no event there (head {}): \
                         events after {last_match} were deleted or may be forged (the earliest that may be: {})",
                        self.last_sequence,
                        last_match + 1
                    );
                    self.report(AuditProblemKind::DivergesFromCheckpoint, sequence, detail);
                }
            }
        }
        AuditWitnessSummary { checkpoints_checked: signed_heads.len(), oss_consulted, witnessed_through }
    }
}

#[cfg(test)]
#[path = "audit_verifier_tests.rs"]
mod tests;
