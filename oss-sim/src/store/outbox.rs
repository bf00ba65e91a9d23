//! SQL of the `outbox_sms` table: replies queued with the state change that caused them, sent until acked.

use super::{Store, StoreError};
use numbind_wire::Msisdn;
use rusqlite::{params, Connection, OptionalExtension};

/// A reply SMS to queue.
#[derive(Debug, Clone)]
pub(crate) struct OutgoingReply {
    pub(crate) destination: Msisdn,
    pub(crate) text: String,
}

/// A queued reply, due to be sent.
#[derive(Debug, Clone)]
pub(crate) struct OutboxRow {
    pub(crate) outbox_id: i64,
    pub(crate) destination: Msisdn,
    pub(crate) text: String,
    pub(crate) attempts: u32,
}

impl OutboxRow {
    /// The SMPP client reference: the SMS centre answers a resubmission with the original message.
    pub(crate) fn client_reference(&self) -> String {
        format!("oss-out-{}", self.outbox_id)
    }
}

/// Queues `reply` in the caller's transaction, with the state change that caused it.
pub(super) fn enqueue_reply_in(
    transaction: &Connection,
    inbox_id: Option<i64>,
    reply: &OutgoingReply,
    now_ms: i64,
) -> Result<(), StoreError> {
    transaction
        .prepare_cached(
            "INSERT INTO outbox_sms (inbox_id, destination, text, state, next_attempt_at_ms, created_at_ms) \
         VALUES (?1, ?2, ?3, 'queued', ?4, ?4)",
        )?
        .execute(params![inbox_id, reply.destination.as_digits(), reply.text, now_ms])?;
    Ok(())
}

impl Store {
    /// The queued reply due first (at `now_ms` or before), if any.
    pub(crate) fn due_outbox_row(&self, now_ms: i64) -> Result<Option<OutboxRow>, StoreError> {
        self.read(|connection| {
            let raw = connection
                .prepare_cached(
                    "SELECT outbox_id, destination, text, attempts FROM outbox_sms \
                     WHERE state = 'queued' AND next_attempt_at_ms <= ?1 ORDER BY next_attempt_at_ms, outbox_id \
                     LIMIT 1",
                )?
                .query_row([now_ms], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, i64>(3)?,
                    ))
                })
                .optional()?;
            let Some((outbox_id, destination, text, attempts)) = raw else { return Ok(None) };
            Ok(Some(OutboxRow {
                outbox_id,
                destination: Msisdn::parse(&destination)
                    .map_err(|_| StoreError::Corrupt("outbox destination".into()))?,
                text,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            }))
        })
    }

    /// When the next queued reply is due, in Unix milliseconds.
    pub(crate) fn next_outbox_due_at(&self) -> Result<Option<i64>, StoreError> {
        self.read(|connection| {
            Ok(connection
                .prepare_cached("SELECT MIN(next_attempt_at_ms) FROM outbox_sms WHERE state = 'queued'")?
                .query_row([], |row| row.get(0))?)
        })
    }

    /// The SMS centre acknowledged the reply: it is never sent again.
    pub(crate) fn mark_outbox_delivered(
        &self,
        outbox_id: i64,
        smsc_message_id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.write(|connection| {
            connection
                .prepare_cached(
                    "UPDATE outbox_sms SET state = 'sent', smsc_message_id = ?2, sent_at_ms = ?3 WHERE outbox_id = ?1",
                )?
                .execute(params![outbox_id, smsc_message_id, now_ms])?;
            Ok(())
        })
    }

    /// The reply failed: one more attempt, due at `next_attempt_at_ms`.
    pub(crate) fn reschedule_outbox(
        &self,
        outbox_id: i64,
        next_attempt_at_ms: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        self.write(|connection| {
            connection
                .prepare_cached(
                    "UPDATE outbox_sms SET attempts = attempts + 1, next_attempt_at_ms = ?2, last_error = ?3 \
                     WHERE outbox_id = ?1",
                )?
                .execute(params![outbox_id, next_attempt_at_ms, error])?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_due_until_sent_and_waits_after_a_failure() {
        let store = Store::open_in_memory().unwrap();
        let reply = OutgoingReply { destination: Msisdn::parse("13800138000").unwrap(), text: "hi".into() };
        store.write(|transaction| enqueue_reply_in(transaction, None, &reply, 100)).unwrap();
        let row = store.due_outbox_row(100).unwrap().unwrap();
        assert_eq!(row.client_reference(), format!("oss-out-{}", row.outbox_id));
        store.reschedule_outbox(row.outbox_id, 500, "not bound").unwrap();
        assert!(store.due_outbox_row(499).unwrap().is_none());
        assert_eq!(store.next_outbox_due_at().unwrap(), Some(500));
        let again = store.due_outbox_row(500).unwrap().unwrap();
        assert_eq!(again.attempts, 1);
        store.mark_outbox_delivered(again.outbox_id, "smsc-1", 600).unwrap();
        assert!(store.due_outbox_row(10_000).unwrap().is_none());
        assert_eq!(store.next_outbox_due_at().unwrap(), None);
    }
}
