//! The `disputes` table: a number's dispute of one of its charges (`投诉 <receipt number>`), opened once per
//! payment, resolved once (`open` → `refunded` or `rejected`: every transition is an `UPDATE ... WHERE state =
//! 'open'`), and the queries on it. The number is stored whole (the user is told by SMS) and shown masked.

use crate::store::{parse_column, StoreError};
use numbind_database::{params, OptionalExtension};
use numbind_database::{Connection, Row};
use numbind_wire::api::{Dispute, DisputeState};
use numbind_wire::{Msisdn, PaymentId, RefundId};

/// The table and its indexes, a migration of the platform's schema.
pub(in crate::store) const DISPUTES_MIGRATION: &str = r#"
CREATE TABLE disputes (
    dispute_id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL UNIQUE,
    msisdn TEXT NOT NULL,
    sms_message_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'refunded', 'rejected')),
    opened_at INTEGER NOT NULL,
    resolved_at INTEGER,
    resolved_by TEXT,
    rejection_reason TEXT,
    refund_id TEXT
);
CREATE INDEX disputes_by_state ON disputes(state, opened_at);
"#;

const COLUMNS: &str = "dispute_id, payment_id, msisdn, state, opened_at, resolved_at, resolved_by, \
     rejection_reason, refund_id";

/// A dispute as stored: what the operator sees, and the number to tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::store) struct DisputeRecord {
    pub(in crate::store) dispute: Dispute,
    pub(in crate::store) msisdn: Msisdn,
}

fn read_dispute(row: &Row<'_>) -> numbind_database::Result<Result<DisputeRecord, StoreError>> {
    let texts: [String; 4] = [row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?];
    let refund_id: Option<String> = row.get(8)?;
    let (opened_at, resolved_at, resolved_by, rejection_reason) = (row.get(4)?, row.get(5)?, row.get(6)?, row.get(7)?);
    Ok((|| {
        let [dispute_id, payment_id, msisdn, state] = texts;
        let msisdn = parse_column(&msisdn, "disputes.msisdn", Msisdn::parse)?;
        let state = serde_json::from_value::<DisputeState>(serde_json::Value::String(state))
            .map_err(|_| StoreError::MalformedRow("disputes.state"))?;
        let refund_id = refund_id.map(|id| parse_column(&id, "disputes.refund_id", RefundId::parse)).transpose()?;
        let dispute = Dispute {
            dispute_id,
            payment_id: parse_column(&payment_id, "disputes.payment_id", PaymentId::parse)?,
            msisdn_masked: msisdn.masked(),
            state,
            opened_at_unix_seconds: opened_at,
            resolved_at_unix_seconds: resolved_at,
            resolved_by,
            rejection_reason,
            refund_id,
        };
        Ok(DisputeRecord { dispute, msisdn })
    })())
}

/// The dispute of a payment, if it was ever disputed.
pub(in crate::store) fn dispute_of_payment(
    connection: &Connection<'_>,
    payment_id: &PaymentId,
) -> Result<Option<DisputeRecord>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM disputes WHERE payment_id = ?1");
    connection.prepare_cached(&sql)?.query_row([payment_id.as_str()], read_dispute).optional()?.transpose()
}

pub(in crate::store) fn find_dispute(
    connection: &Connection<'_>,
    dispute_id: &str,
) -> Result<Option<DisputeRecord>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM disputes WHERE dispute_id = ?1");
    connection.prepare_cached(&sql)?.query_row([dispute_id], read_dispute).optional()?.transpose()
}

pub(in crate::store) fn insert_dispute(
    connection: &Connection<'_>,
    dispute_id: &str,
    payment_id: &PaymentId,
    msisdn: &Msisdn,
    sms_message_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    connection
        .prepare_cached(
            "INSERT INTO disputes (dispute_id, payment_id, msisdn, sms_message_id, state, opened_at) \
             VALUES (?1, ?2, ?3, ?4, 'open', ?5)",
        )?
        .execute(params![dispute_id, payment_id.as_str(), msisdn.as_digits(), sms_message_id, now])?;
    Ok(())
}

/// How an open dispute ends.
pub(in crate::store) struct Resolution<'a> {
    pub(in crate::store) state: DisputeState,
    pub(in crate::store) resolved_by: &'a str,
    pub(in crate::store) rejection_reason: Option<&'a str>,
    pub(in crate::store) refund_id: Option<&'a RefundId>,
}

/// Resolves the dispute if it is still open; false when it was not.
pub(in crate::store) fn resolve_dispute(
    connection: &Connection<'_>,
    dispute_id: &str,
    resolution: &Resolution<'_>,
    now: i64,
) -> Result<bool, StoreError> {
    let changed = connection
        .prepare_cached(
            "UPDATE disputes SET state = ?2, resolved_at = ?3, resolved_by = ?4, rejection_reason = ?5, \
             refund_id = ?6 WHERE dispute_id = ?1 AND state = 'open'",
        )?
        .execute(params![
            dispute_id,
            resolution.state.as_str(),
            now,
            resolution.resolved_by,
            resolution.rejection_reason,
            resolution.refund_id.map(RefundId::as_str)
        ])?;
    Ok(changed == 1)
}

/// Disputes in `state` (all with `None`), oldest first, after the keyset cursor `(opened_at, dispute_id)`, at most
/// `limit`.
pub(in crate::store) fn list_disputes(
    connection: &Connection<'_>,
    state: Option<DisputeState>,
    after: Option<&(i64, String)>,
    limit: usize,
) -> Result<Vec<DisputeRecord>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM disputes WHERE (?1 IS NULL OR state = ?1)          AND (?2 IS NULL OR (opened_at, dispute_id) > (?2, ?3)) ORDER BY opened_at, dispute_id LIMIT ?4"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let (after_at, after_id) = (after.map(|cursor| cursor.0), after.map(|cursor| cursor.1.as_str()));
    let mut statement = connection.prepare_cached(&sql)?;
    let rows =
        statement.query_map(params![state.map(DisputeState::as_str), after_at, after_id, limit], read_dispute)?;
    rows.map(|row| row?).collect()
}
