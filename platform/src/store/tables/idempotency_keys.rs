//! The `idempotency_keys` table: what a caller's `Idempotency-Key` was first used for (the body's SHA-256 and the
//! record it created), so that a retried call answers the same record and another body under the key is refused.

use crate::store::StoreError;
use numbind_database::Connection;
use numbind_database::{params, OptionalExtension};

/// A key seen before: the hash of its first body and the record that body created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::store) struct RememberedKey {
    pub body_hash: Vec<u8>,
    pub record_id: String,
}

pub(in crate::store) fn remembered_key(
    connection: &Connection<'_>,
    (caller, scope, key): (&str, &str, &str),
) -> Result<Option<RememberedKey>, StoreError> {
    Ok(connection
        .prepare_cached(
            "SELECT body_hash, record_id FROM idempotency_keys WHERE caller = ?1 AND scope = ?2 AND idempotency_key = ?3",
        )?
        .query_row(params![caller, scope, key], |row| {
            Ok(RememberedKey { body_hash: row.get(0)?, record_id: row.get(1)? })
        })
        .optional()?)
}

/// Forgets keys first used before `cutoff`; answers how many.
pub(in crate::store) fn forget_keys_before(connection: &Connection<'_>, cutoff: i64) -> Result<usize, StoreError> {
    Ok(connection.prepare_cached("DELETE FROM idempotency_keys WHERE created_at < ?1")?.execute([cutoff])?)
}

pub(in crate::store) fn remember_key(
    connection: &Connection<'_>,
    (caller, scope, key): (&str, &str, &str),
    body_hash: &[u8; 32],
    record_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    connection
        .prepare_cached(
            "INSERT INTO idempotency_keys (caller, scope, idempotency_key, body_hash, record_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![caller, scope, key, body_hash.as_slice(), record_id, now])?;
    Ok(())
}
