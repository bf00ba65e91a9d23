//! The `audit_checkpoints` table: its columns and reading the checkpoints the platform holds.

use crate::domain::audit_witness::StoredCheckpoint;
use crate::store::StoreError;
use numbind_database::{Connection, Row};
use numbind_wire::audit_checkpoint::SignedAuditCheckpoint;

pub(in crate::store) const CHECKPOINT_COLUMNS: &str = "sequence, head_hash, key_id, payload, signature";

pub(in crate::store) fn read_checkpoint(row: &Row<'_>) -> numbind_database::Result<StoredCheckpoint> {
    Ok(StoredCheckpoint {
        sequence: row.get(0)?,
        head_hash: row.get(1)?,
        signed: SignedAuditCheckpoint { key_id: row.get(2)?, payload: row.get(3)?, signature: row.get(4)? },
    })
}

/// Every checkpoint the platform holds, in sequence order.
pub(in crate::store) fn all_checkpoints(connection: &Connection<'_>) -> Result<Vec<StoredCheckpoint>, StoreError> {
    let mut statement =
        connection.prepare(&format!("SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY sequence"))?;
    let rows = statement.query_map([], read_checkpoint)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
