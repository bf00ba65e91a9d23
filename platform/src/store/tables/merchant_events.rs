//! The `merchant_events` table: the durable outbox of a merchant's signed events (a payment's final state, a
//! refund's outcome), numbered per merchant so that they are delivered one at a time, in order.

use crate::store::{Store, StoreError};
use numbind_database::params;
use numbind_database::Connection;

/// A queued event: its JSON body and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMerchantEvent {
    pub event_id: String,
    pub merchant_id: String,
    pub body: String,
    pub attempts: i64,
}

/// Each merchant's oldest queued event when it is due (the subquery searches the merchant's queued events only,
/// through `merchant_events_queued_in_order`).
const DUE_EVENTS: &str = "SELECT event_id, merchant_id, body, attempts FROM merchant_events AS event
     WHERE state = 'queued' AND next_attempt_at <= ?1 AND sequence =
       (SELECT min(sequence) FROM merchant_events WHERE merchant_id = event.merchant_id AND state = 'queued')
     ORDER BY next_attempt_at LIMIT ?2";

/// Every due event of one merchant, settled.
const SETTLE_DUE_EVENTS: &str = "UPDATE merchant_events SET state = 'delivered', delivered_at = ?2, \
     attempts = attempts + 1, last_error = NULL WHERE merchant_id = ?1 AND state = 'queued' AND next_attempt_at <= ?2";

/// Queues an event for `merchant_id` after its others (call it in the transaction of the change it reports).
pub(in crate::store) fn enqueue_merchant_event(
    connection: &Connection<'_>,
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
            let mut statement = connection.prepare_cached(DUE_EVENTS)?;
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
            Ok(connection.prepare_cached(SETTLE_DUE_EVENTS)?.execute(params![merchant_id, now])?)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(store: &Store, merchant_id: &str, event_id: &str, now: i64) {
        store
            .in_transaction(|connection| enqueue_merchant_event(connection, merchant_id, event_id, "{}", now))
            .unwrap();
    }

    #[test]
    fn a_polling_merchants_due_events_are_settled_together_and_no_one_elses() {
        let store = Store::open_in_memory().unwrap();
        for (event_id, now) in [("evt-a1", 100), ("evt-a2", 101), ("evt-a3", 102)] {
            queue(&store, "films", event_id, now);
        }
        queue(&store, "games", "evt-b1", 100);
        store.reschedule_merchant_event("evt-a3", 500, "the webhook answered 500").unwrap();
        assert_eq!(store.settle_due_merchant_events("films", 200).unwrap(), 2, "a1 and a2; a3 is not due");
        let due: Vec<String> = store.due_merchant_events(200, 10).unwrap().into_iter().map(|e| e.event_id).collect();
        assert_eq!(due, vec!["evt-b1".to_owned()], "films waits for a3 at 500");
        assert_eq!(store.due_merchant_events(500, 10).unwrap().len(), 2, "a3 is next for films once due");
        assert_eq!(store.settle_due_merchant_events("films", 200).unwrap(), 0, "settled once");
    }

    #[test]
    fn the_next_event_is_found_among_queued_events_only() {
        let store = Store::open_in_memory().unwrap();
        if !store.runs_on_sqlite() {
            return;
        }
        store
            .read(|connection| {
                let plan: Vec<String> = connection
                    .prepare(&format!("EXPLAIN QUERY PLAN {DUE_EVENTS}"))?
                    .query_map(params![0, 1], |row| row.get::<_, String>(3))?
                    .collect::<Result<_, _>>()?;
                assert!(plan.iter().any(|step| step.contains("merchant_events_queued_in_order")), "{plan:?}");
                for sql in [DUE_EVENTS, SETTLE_DUE_EVENTS] {
                    let scans = numbind_sqlite::query_plan::unbounded_scans(connection.as_sqlite().unwrap(), sql, &[])?;
                    assert_eq!(scans, Vec::<String>::new(), "{sql}");
                }
                Ok(())
            })
            .unwrap();
    }
}
