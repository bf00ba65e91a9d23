//! Signed checkpoints of the audit chain's head (`audit_checkpoints`): each is made in one transaction with a
//! check of the events since the one before, then delivered to the OSS (the witness) until it acknowledges.
//!
//! The check covers only the events since the last checkpoint (whose signature and hash are checked too), so
//! it stays small however long the chain grows; the whole chain is `numbind audit verify`'s job. It checks each
//! event's MAC as well: a checkpoint is never signed over an event the platform did not write.

use super::tables::audit_checkpoints::{all_checkpoints, read_checkpoint, CHECKPOINT_COLUMNS};
use super::tables::audit_events::{chain_head, read_audit_row, ReadAuditRow, RECORD_COLUMNS};
use super::{Store, StoreError};
use crate::domain::audit_chain::{hash_to_hex, ChainHash, StoredAuditEvent, GENESIS_HASH};
use crate::domain::audit_mac::AuditChainKey;
use crate::domain::audit_witness::StoredCheckpoint;
use numbind_database::Connection;
use numbind_database::{params, OptionalExtension};
use numbind_wire::audit_checkpoint::{AuditCheckpoint, SignedAuditCheckpoint};
use numbind_wire::statement::{PinnedPlatformKeys, PlatformSigningKey};

/// A checkpoint waiting for the OSS's acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedCheckpoint {
    pub sequence: i64,
    pub signed: SignedAuditCheckpoint,
    pub attempts: i64,
}

fn broken(reason: String) -> StoreError {
    StoreError::AuditChainBroken(reason)
}

/// Where the walk since the last checkpoint starts: the sequence after it, the hash there and whether the event
/// there is keyed (the start of the chain without a checkpoint). The checkpoint must be signed by `keys`, within the
/// chain (`head_sequence`) and match the hash the chain holds at its sequence.
fn after_last_checkpoint(
    connection: &Connection<'_>,
    keys: &PinnedPlatformKeys,
    head_sequence: i64,
) -> Result<(i64, Vec<u8>, bool), StoreError> {
    let last = connection
        .prepare_cached(&format!("SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY sequence DESC LIMIT 1"))?
        .query_row([], read_checkpoint)
        .optional()?;
    let Some(last) = last else { return Ok((1, GENESIS_HASH.to_vec(), false)) };
    let signed_sequence = keys.verify_audit_checkpoint(&last.signed).map(|checkpoint| checkpoint.sequence);
    if signed_sequence.as_ref().ok() != Some(&last.sequence) {
        return Err(broken(format!("the last checkpoint ({}) is not signed by this platform's key", last.sequence)));
    }
    if head_sequence < last.sequence {
        return Err(broken(format!("the chain ends at {head_sequence} before the last checkpoint {}", last.sequence)));
    }
    let (hash_there, keyed_there): (Option<Vec<u8>>, bool) = connection
        .prepare_cached("SELECT hash, mac IS NOT NULL FROM audit_events WHERE sequence = ?1")?
        .query_row([last.sequence], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?
        .unwrap_or((None, false));
    if hash_there.as_deref() != Some(last.head_hash.as_slice()) {
        return Err(broken(format!("the chain diverges from the signed checkpoint at {}", last.sequence)));
    }
    Ok((last.sequence + 1, last.head_hash, keyed_there))
}

/// Checks the head against its predecessor and every event since the last checkpoint: each in its place,
/// linked, hashing to its stored hash and MAC'd with `audit_key` (or, before the first keyed event, without a MAC),
/// and the last checkpoint signed by `keys` and matching the chain. Returns the head's sequence and hash.
fn check_since_last_checkpoint(
    connection: &Connection<'_>,
    keys: &PinnedPlatformKeys,
    audit_key: &AuditChainKey,
) -> Result<(i64, ChainHash), StoreError> {
    let head = chain_head(connection, Some(audit_key))?;
    let (mut expected, mut running, mut keyed) = after_last_checkpoint(connection, keys, head.sequence)?;
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {RECORD_COLUMNS} FROM audit_events WHERE sequence >= ?1 OR sequence IS NULL ORDER BY sequence, event_id"
    ))?;
    let mut rows = statement.query([expected])?;
    while let Some(row) = rows.next()? {
        let event = match read_audit_row(&row)? {
            ReadAuditRow::Chained(event) => event,
            ReadAuditRow::WithoutSequence { row_id, what } => {
                return Err(broken(format!("event row {row_id} has a {what} sequence")))
            }
        };
        let sequence = event.fields.sequence;
        if sequence != expected || event.prev_hash != running || !event.hash_is_consistent() {
            return Err(broken(format!("the chain breaks at sequence {sequence} (expected {expected})")));
        }
        keyed = check_mac(audit_key, &event, keyed)?;
        (expected, running) = (sequence + 1, event.hash);
    }
    Ok((head.sequence, head.hash))
}

/// The event's MAC verifies, or it has none and no event before it had one; returns whether it is keyed.
fn check_mac(audit_key: &AuditChainKey, event: &StoredAuditEvent, keyed_before: bool) -> Result<bool, StoreError> {
    let sequence = event.fields.sequence;
    match &event.mac {
        Some(mac) if audit_key.verifies(&event.hash, mac) => Ok(true),
        None if !keyed_before => Ok(false),
        Some(_) => Err(broken(format!("the event at sequence {sequence} is forged: its MAC does not verify"))),
        None => Err(broken(format!("the event at sequence {sequence} is forged: it has no MAC after keyed events"))),
    }
}

impl Store {
    /// Checks the chain's head as `check_since_last_checkpoint` does (at start, before anything is appended).
    pub fn check_audit_head(&self, keys: &PinnedPlatformKeys) -> Result<i64, StoreError> {
        let audit_key = self.audit_key.as_ref().ok_or(StoreError::AuditKeyMissing)?;
        self.read(|connection| Ok(check_since_last_checkpoint(connection, keys, audit_key)?.0))
    }

    /// Signs a checkpoint of the head when it moved since the last one (after checking the events between, on a
    /// snapshot, so that writers do not wait for the walk) and queues it for the OSS; returns its sequence, or
    /// `None` when there was nothing new.
    pub fn record_audit_checkpoint(&self, now: i64, key: &PlatformSigningKey) -> Result<Option<i64>, StoreError> {
        let keys = PinnedPlatformKeys::new(vec![key.public_key()]);
        let audit_key = self.audit_key.as_ref().ok_or(StoreError::AuditKeyMissing)?;
        let (sequence, hash) = self.read(|connection| check_since_last_checkpoint(connection, &keys, audit_key))?;
        if sequence == 0 {
            return Ok(None);
        }
        self.in_transaction(|connection| {
            let already: bool = connection
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM audit_checkpoints WHERE sequence >= ?1)")?
                .query_row([sequence], |row| row.get(0))?;
            if already {
                return Ok(None);
            }
            let hash_now: Option<Vec<u8>> = connection
                .prepare_cached("SELECT hash FROM audit_events WHERE sequence = ?1")?
                .query_row([sequence], |row| row.get(0))
                .optional()?;
            if hash_now.as_deref() != Some(hash.as_slice()) {
                return Err(broken(format!("the event at {sequence} changed while it was checked")));
            }
            let checkpoint = AuditCheckpoint {
                sequence,
                head_hash: hash_to_hex(&hash),
                made_at_unix_seconds: now,
                key_id: key.key_id().to_owned(),
            };
            let signed = key.sign_audit_checkpoint(&checkpoint);
            connection
                .prepare_cached(
                    "INSERT INTO audit_checkpoints (sequence, head_hash, made_at, key_id, payload, signature, state,
                     attempts, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', 0, ?3)",
                )?
                .execute(params![sequence, hash.as_slice(), now, signed.key_id, signed.payload, signed.signature])?;
            Ok(Some(sequence))
        })
    }

    /// Every checkpoint the platform holds, in sequence order.
    pub fn audit_checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        self.read(all_checkpoints)
    }

    /// Checkpoints not yet acknowledged by the OSS whose next attempt is due, oldest first.
    pub fn due_audit_checkpoints(&self, now: i64, limit: usize) -> Result<Vec<QueuedCheckpoint>, StoreError> {
        self.read(|connection| {
            let mut statement = connection.prepare_cached(
                "SELECT sequence, key_id, payload, signature, attempts FROM audit_checkpoints
                 WHERE state = 'queued' AND next_attempt_at <= ?1 ORDER BY sequence LIMIT ?2",
            )?;
            let rows = statement.query_map(params![now, limit as i64], |row| {
                Ok(QueuedCheckpoint {
                    sequence: row.get(0)?,
                    signed: SignedAuditCheckpoint { key_id: row.get(1)?, payload: row.get(2)?, signature: row.get(3)? },
                    attempts: row.get(4)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// The OSS acknowledged the checkpoint at `sequence`.
    pub fn mark_audit_checkpoint_delivered(&self, sequence: i64, now: i64) -> Result<(), StoreError> {
        self.in_transaction(|connection| {
            connection
                .prepare_cached(
                    "UPDATE audit_checkpoints SET state = 'delivered', delivered_at = ?2, attempts = attempts + 1,
                     last_error = NULL WHERE sequence = ?1",
                )?
                .execute(params![sequence, now])?;
            Ok(())
        })
    }

    /// A delivery failed (`error` says why); try again at `next_attempt_at`.
    pub fn reschedule_audit_checkpoint(
        &self,
        sequence: i64,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        self.in_transaction(|connection| {
            connection
                .prepare_cached(
                    "UPDATE audit_checkpoints SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3
                     WHERE sequence = ?1",
                )?
                .execute(params![sequence, next_attempt_at, error])?;
            Ok(())
        })
    }
}

#[cfg(test)]
#[path = "audit_checkpoints_tests.rs"]
mod tests;
