//! The `merchant_events` table: the durable outbox of a merchant's signed events (a payment's final state, a
//! refund's outcome), numbered per merchant so that they are delivered one at a time, in order.

use crate::store::{Store, StoreError};
use rusqlite::params;

/// A queued event: its JSON body and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMerchantEvent {
    pub event_id: String,
    pub merchant_id: String,
    pub body: String,
    pub attempts: i64,
}

/// Queues an event for `merchant_id` after its others (call it in the transaction of the change it reports).
pub(in crate::store) fn enqueue_merchant_event(
    connection: &rusqlite::Connection,
    merchant_id: &str,
    event_id: &str,
    body: &str,
    now: i64,
) -> Result<(), StoreError> {
    connection
        .prepare_cached(
            "INSERT INTO merchant_events (event_id, merchant_id, sequence, body, state, next_attempt_at, created_at)
             VALUES (?1, ?2, (SELECT coalesce(max(sequence), 0) + 1 FROM merchant_events WHERE merchant_id = ?2),
                     ?3, 'queued', ?4, ?4)",
        )?
        .execute(params![event_id, merchant_id, body, now])?;
    Ok(())
}

impl Store {
    /// For each merchant with a queued event, its oldest one when that is due: at most one in flight per merchant.
    pub fn due_merchant_events(&self, now: i64, limit: usize) -> Result<Vec<QueuedMerchantEvent>, StoreError> {
        self.read(|connection| {
            let mut statement = connection.prepare_cached(
                "SELECT event_id, merchant_id, body, attempts FROM merchant_events AS event
                 WHERE state = 'queued' AND next_attempt_at <= ?1 AND sequence =
                   (SELECT min(sequence) FROM merchant_events WHERE merchant_id = event.merchant_id AND state = 'queued')
                 ORDER BY next_attempt_at LIMIT ?2",
            )?;
            let rows = statement.query_map(params![now, limit as i64], |row| {
                Ok(QueuedMerchantEvent {
                    event_id: row.get(0)?,
                    merchant_id: row.get(1)?,
                    body: row.get(2)?,
                    attempts: row.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// The merchant acknowledged the event (2xx).
    pub fn mark_merchant_event_delivered(&self, event_id: &str, now: i64) -> Result<(), StoreError> {
        self.in_transaction(|connection| {
            connection
                .prepare_cached(
                    "UPDATE merchant_events SET state = 'delivered', delivered_at = ?2, attempts = attempts + 1,
                     last_error = NULL WHERE event_id = ?1",
                )?
                .execute(params![event_id, now])?;
            Ok(())
        })
    }

    /// Settles every event of `merchant_id` due by `now` (a merchant without a webhook, which polls instead): how
    /// many.
    pub fn settle_due_merchant_events(&self, merchant_id: &str, now: i64) -> Result<usize, StoreError> {
        self.in_transaction(|connection| {
            Ok(connection
                .prepare_cached(
                    "UPDATE merchant_events SET state = 'delivered', delivered_at = ?2, attempts = attempts + 1,
                     last_error = NULL WHERE merchant_id = ?1 AND state = 'queued' AND next_attempt_at <= ?2",
                )?
                .execute(params![merchant_id, now])?)
        })
    }

    /// A delivery failed; try again at `next_attempt_at`.
    pub fn reschedule_merchant_event(
        &self,
        event_id: &str,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        self.in_transaction(|connection| {
            connection
                .prepare_cached(
                    "UPDATE merchant_events SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3
                     WHERE event_id = ?1",
                )?
                .execute(params![event_id, next_attempt_at, error])?;
            Ok(())
        })
    }
}
