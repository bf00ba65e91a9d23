//! Reads the whole audit chain of a database file, read-only, for the verifier; with the platform key, also the
//! platform's signed checkpoints, and compares both with the OSS's copies when they are given; with the platform's
//! audit key, every event's MAC too.

use super::tables::audit_checkpoints::all_checkpoints;
use super::tables::audit_events::{read_audit_row, ReadAuditRow, RECORD_COLUMNS};
use super::StoreError;
use crate::domain::audit_chain::AuditVerifyReport;
use crate::domain::audit_mac::AuditChainKey;
use crate::domain::audit_verifier::AuditChainVerifier;
use crate::domain::audit_witness::{check_checkpoints, CheckedCheckpoints};
use numbind_wire::audit_checkpoint::SignedAuditCheckpoint;
use numbind_wire::statement::PinnedPlatformKeys;
use rusqlite::OpenFlags;
use std::collections::HashMap;
use std::path::Path;

/// Verifies the chain of the database file at `path` alone (no checkpoints); names every break it can find.
pub fn verify_audit_chain_file(path: &Path) -> Result<AuditVerifyReport, StoreError> {
    verify_audit_trail_file(path, None, None, None)
}

/// Verifies the chain at `path`, opened read-only; with `keys`, against the platform's signed checkpoints, with
/// `oss_checkpoints`, against the OSS's copies too, and with `audit_key`, every event's MAC.
pub fn verify_audit_trail_file(
    path: &Path,
    keys: Option<&PinnedPlatformKeys>,
    oss_checkpoints: Option<&[SignedAuditCheckpoint]>,
    audit_key: Option<&AuditChainKey>,
) -> Result<AuditVerifyReport, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = rusqlite::Connection::open_with_flags(path, flags)?;
    let transaction = connection.unchecked_transaction()?;
    let transaction = numbind_database::Connection::Sqlite(&transaction);
    let checked = match keys {
        Some(keys) => check_checkpoints(keys, &all_checkpoints(&transaction)?, oss_checkpoints),
        None => CheckedCheckpoints::default(),
    };
    let mut known_hashes = HashMap::new();
    let mut stored_rows = 0u64;
    {
        let mut statement = transaction.prepare_cached("SELECT hash, sequence FROM audit_events")?;
        let mut rows = statement.query(())?;
        while let Some(row) = rows.next()? {
            stored_rows += 1;
            if let (Some(hash), Ok(sequence)) = (row.get::<_, Option<Vec<u8>>>(0)?, row.get::<_, i64>(1)) {
                known_hashes.insert(hash, sequence);
            }
        }
    }
    let sequences: Vec<i64> = checked.signed_heads.iter().map(|head| head.sequence).collect();
    let mut verifier = AuditChainVerifier::new(known_hashes, stored_rows, &sequences);
    if let Some(audit_key) = audit_key {
        verifier = verifier.with_mac_key(audit_key.clone());
    }
    {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM audit_events ORDER BY sequence, event_id");
        let mut statement = transaction.prepare(&sql)?;
        let mut rows = statement.query(())?;
        while let Some(row) = rows.next()? {
            match read_audit_row(&row)? {
                ReadAuditRow::Chained(event) => verifier.observe(event),
                ReadAuditRow::WithoutSequence { row_id, what } => verifier.observe_invalid_sequence(row_id, what),
            }
        }
    }
    let mut report = verifier.finish(&checked.signed_heads, oss_checkpoints.is_some());
    report.problems.extend(checked.problems);
    report.problems.sort();
    Ok(report)
}
