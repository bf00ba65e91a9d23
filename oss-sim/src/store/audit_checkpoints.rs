//! The platform's signed audit checkpoints, as the OSS keeps them (`audit_checkpoints`): the witness's copy.
//!
//! One per sequence, the first kept: a retried delivery of the same head is acknowledged again, and another
//! head at a sequence already held is refused, so whoever rewrites the platform's chain cannot rewrite this copy.

use super::{Store, StoreError};
use numbind_wire::audit_checkpoint::SignedAuditCheckpoint;
use rusqlite::{params, OptionalExtension};

/// What storing a checkpoint did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CheckpointInsert {
    Stored,
    /// The same head was already held at this sequence.
    AlreadyStored,
    /// Another head is held at this sequence; it is kept.
    Conflict,
}

impl Store {
    /// Keeps `signed` (whose payload says `sequence` and `head_hash`), unless this sequence is already held.
    pub(crate) fn store_audit_checkpoint(
        &self,
        sequence: i64,
        head_hash: &str,
        signed: &SignedAuditCheckpoint,
        now_ms: i64,
    ) -> Result<CheckpointInsert, StoreError> {
        self.write(|connection| {
            let held: Option<String> = connection
                .prepare_cached("SELECT head_hash FROM audit_checkpoints WHERE sequence = ?1")?
                .query_row([sequence], |row| row.get(0))
                .optional()?;
            match held {
                Some(held) if held == head_hash => Ok(CheckpointInsert::AlreadyStored),
                Some(_) => Ok(CheckpointInsert::Conflict),
                None => {
                    connection
                        .prepare_cached(
                            "INSERT INTO audit_checkpoints (sequence, head_hash, key_id, payload, signature,
                             received_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        )?
                        .execute(params![
                            sequence,
                            head_hash,
                            signed.key_id,
                            signed.payload,
                            signed.signature,
                            now_ms
                        ])?;
                    Ok(CheckpointInsert::Stored)
                }
            }
        })
    }

    /// Up to `limit` checkpoints with a sequence above `after_sequence`, in order (keyset pages).
    pub(crate) fn audit_checkpoints_after(
        &self,
        after_sequence: i64,
        limit: i64,
    ) -> Result<Vec<SignedAuditCheckpoint>, StoreError> {
        self.read(|connection| {
            let mut statement = connection.prepare_cached(
                "SELECT key_id, payload, signature FROM audit_checkpoints WHERE sequence > ?1 ORDER BY sequence LIMIT ?2",
            )?;
            let rows = statement.query_map(params![after_sequence, limit], |row| {
                Ok(SignedAuditCheckpoint { key_id: row.get(0)?, payload: row.get(1)?, signature: row.get(2)? })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(tag: &str) -> SignedAuditCheckpoint {
        SignedAuditCheckpoint { key_id: "pk-1".into(), payload: tag.into(), signature: "sig".into() }
    }

    #[test]
    fn the_first_checkpoint_at_a_sequence_is_kept_and_another_head_there_is_a_conflict() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.store_audit_checkpoint(5, "aa", &signed("first"), 1).unwrap(), CheckpointInsert::Stored);
        assert_eq!(
            store.store_audit_checkpoint(5, "aa", &signed("again"), 2).unwrap(),
            CheckpointInsert::AlreadyStored
        );
        assert_eq!(store.store_audit_checkpoint(5, "bb", &signed("other"), 3).unwrap(), CheckpointInsert::Conflict);
        store.store_audit_checkpoint(2, "cc", &signed("earlier"), 4).unwrap();
        let held = store.audit_checkpoints_after(0, 10).unwrap();
        assert_eq!(held.iter().map(|checkpoint| checkpoint.payload.as_str()).collect::<Vec<_>>(), ["earlier", "first"]);
        assert_eq!(store.audit_checkpoints_after(2, 10).unwrap().len(), 1);
    }
}
