//! The `outbox_billing` table: charges and refunds the OSS must answer, queued in the transaction that decides
//! them, retried with backoff until the OSS answers (it is idempotent by payment and refund ID).

use crate::store::{Store, StoreError};
use numbind_database::params;
use numbind_database::Connection;

/// What a queued billing call asks of the OSS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingKind {
    Charge,
    Refund,
}

/// A queued billing call: the record it is for, how many attempts it had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedBilling {
    pub record_id: String,
    pub kind: BillingKind,
    pub attempts: i64,
}

/// Queues a billing call, due for the worker at `due_at` (queued at `now`).
pub(in crate::store) fn enqueue_billing(
    connection: &Connection<'_>,
    record_id: &str,
    kind: BillingKind,
    (now, due_at): (i64, i64),
) -> Result<(), StoreError> {
    let kind = match kind {
        BillingKind::Charge => "charge",
        BillingKind::Refund => "refund",
    };
    connection
        .prepare_cached(
            "INSERT INTO outbox_billing (record_id, kind, state, next_attempt_at, created_at)
             VALUES (?1, ?2, 'queued', ?3, ?4)",
        )?
        .execute(params![record_id, kind, due_at, now])?;
    Ok(())
}

/// Queues the billing call of `record_id` again (a reconciliation repair re-drives a charge or refund the OSS
/// lacks): a delivered row goes back to `queued`, due now; a missing one is inserted.
pub(in crate::store) fn requeue_billing(
    connection: &Connection<'_>,
    record_id: &str,
    kind: BillingKind,
    now: i64,
) -> Result<(), StoreError> {
    let kind = match kind {
        BillingKind::Charge => "charge",
        BillingKind::Refund => "refund",
    };
    connection
        .prepare_cached(
            "INSERT INTO outbox_billing (record_id, kind, state, next_attempt_at, created_at)
             VALUES (?1, ?2, 'queued', ?3, ?3)
             ON CONFLICT (record_id) DO UPDATE SET state = 'queued', next_attempt_at = ?3, last_error = NULL",
        )?
        .execute(params![record_id, kind, now])?;
    Ok(())
}

/// The OSS answered: the call is done (call it in the transaction that records the answer).
pub(in crate::store) fn mark_billing_delivered(
    connection: &Connection<'_>,
    record_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    connection
        .prepare_cached(
            "UPDATE outbox_billing SET state = 'delivered', delivered_at = ?2, attempts = attempts + 1,
             last_error = NULL WHERE record_id = ?1 AND state = 'queued'",
        )?
        .execute(params![record_id, now])?;
    Ok(())
}

impl Store {
    /// Queued billing calls due by `now`, oldest first.
    pub fn due_billing(&self, now: i64, limit: usize) -> Result<Vec<QueuedBilling>, StoreError> {
        self.read(|connection| {
            let mut statement = connection.prepare_cached(
                "SELECT record_id, kind, attempts FROM outbox_billing WHERE state = 'queued' AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at, created_at LIMIT ?2",
            )?;
            let rows = statement.query_map(params![now, limit as i64], |row| {
                let kind: String = row.get(1)?;
                let kind = if kind == "refund" { BillingKind::Refund } else { BillingKind::Charge };
                Ok(QueuedBilling { record_id: row.get(0)?, kind, attempts: row.get(2)? })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// An attempt failed (`error` says why, no numbers in it); try again at `next_attempt_at`.
    pub fn reschedule_billing(&self, record_id: &str, next_attempt_at: i64, error: &str) -> Result<(), StoreError> {
        self.in_transaction(|connection| {
            connection
                .prepare_cached(
                    "UPDATE outbox_billing SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3
                     WHERE record_id = ?1 AND state = 'queued'",
                )?
                .execute(params![record_id, next_attempt_at, error])?;
            Ok(())
        })
    }
}
