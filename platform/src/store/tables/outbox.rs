//! The durable outbox of notification SMS: queued in the transaction that causes them, sent by the worker.

use crate::domain::ids::new_outbox_id;
use crate::store::{Store, StoreError};
use numbind_database::params;
use numbind_database::{Connection, Dialect, Row};
use numbind_wire::Msisdn;
use ring::rand::SystemRandom;

/// One queued or sent notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxSms {
    pub outbox_id: String,
    pub destination: Msisdn,
    pub text: String,
    pub sent: bool,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub smsc_message_id: Option<String>,
}

pub(in crate::store) fn enqueue_notification(
    connection: &Connection<'_>,
    destination: &Msisdn,
    text: &str,
    now: i64,
) -> Result<String, StoreError> {
    insert_notification(connection, destination, text, false, now)
}

/// Queues an SMS whose text holds a secret (a payment's confirmation number): once the SMS centre has taken it,
/// the stored text is replaced by [`REDACTED_TEXT`], so the database keeps no usable confirmation number.
pub(in crate::store) fn enqueue_secret_notification(
    connection: &Connection<'_>,
    destination: &Msisdn,
    text: &str,
    now: i64,
) -> Result<String, StoreError> {
    insert_notification(connection, destination, text, true, now)
}

/// Queues a payment's receipt SMS under `outbox_id` (`rcpt-<payment or refund ID>`, a re-sent one with a suffix):
/// the SMS centre keeps that client reference, so reconciliation finds the receipt of each charge and refund there.
pub(in crate::store) fn enqueue_receipt_notification(
    connection: &Connection<'_>,
    outbox_id: &str,
    destination: &Msisdn,
    text: &str,
    now: i64,
) -> Result<(), StoreError> {
    connection
        .prepare_cached(
            "INSERT INTO outbox_sms (outbox_id, destination, text, state, attempts, next_attempt_at, created_at)
             VALUES (?1, ?2, ?3, 'queued', 0, ?4, ?4)",
        )?
        .execute(params![outbox_id, destination.as_digits(), text, now])?;
    Ok(())
}

/// The receipts queued for a payment or refund (`rcpt-<record>` and its re-sends): outbox ID and the SMS centre's
/// message ID once it took the SMS.
pub(in crate::store) fn receipts_of_record(
    connection: &Connection<'_>,
    record_id: &str,
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    let first = format!("rcpt-{record_id}");
    // `?2` is the prefix of the later receipts' IDs: a GLOB pattern on SQLite, the prefix itself on PostgreSQL.
    let (sql, later) = match connection.dialect() {
        Dialect::Sqlite => (
            "SELECT outbox_id, smsc_message_id FROM outbox_sms WHERE outbox_id = ?1 OR outbox_id GLOB ?2
         ORDER BY created_at, outbox_id",
            format!("{first}-*"),
        ),
        Dialect::Postgres => (
            "SELECT outbox_id, smsc_message_id FROM outbox_sms WHERE outbox_id = ?1
         OR starts_with(outbox_id, ?2) ORDER BY created_at, outbox_id",
            format!("{first}-"),
        ),
    };
    let mut statement = connection.prepare_cached(sql)?;
    let rows = statement.query_map(params![first, later], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// What a delivered secret-bearing SMS's text becomes.
pub(crate) const REDACTED_TEXT: &str = "(delivered; its confirmation number is not kept)";

fn insert_notification(
    connection: &Connection<'_>,
    destination: &Msisdn,
    text: &str,
    redact_when_delivered: bool,
    now: i64,
) -> Result<String, StoreError> {
    let outbox_id = new_outbox_id(&SystemRandom::new()).map_err(|_| StoreError::RandomSourceFailed)?;
    connection
        .prepare_cached(
            "INSERT INTO outbox_sms (outbox_id, destination, text, state, attempts, next_attempt_at, created_at,
                 redact_when_delivered)
         VALUES (?1, ?2, ?3, 'queued', 0, ?4, ?4, ?5)",
        )?
        .execute(params![outbox_id, destination.as_digits(), text, now, redact_when_delivered])?;
    Ok(outbox_id)
}

const OUTBOX_COLUMNS: &str = "outbox_id, destination, text, state, attempts, next_attempt_at, smsc_message_id";

fn read_outbox_row(row: &Row<'_>) -> numbind_database::Result<Result<OutboxSms, StoreError>> {
    let destination: String = row.get(1)?;
    let state: String = row.get(3)?;
    let Ok(destination) = Msisdn::parse(&destination) else {
        return Ok(Err(StoreError::MalformedRow("outbox_sms.destination")));
    };
    Ok(Ok(OutboxSms {
        outbox_id: row.get(0)?,
        destination,
        text: row.get(2)?,
        sent: state == "sent",
        attempts: row.get(4)?,
        next_attempt_at: row.get(5)?,
        smsc_message_id: row.get(6)?,
    }))
}

fn query_outbox(
    connection: &Connection<'_>,
    sql: &str,
    parameters: impl numbind_database::Params,
) -> Result<Vec<OutboxSms>, StoreError> {
    let mut statement = connection.prepare_cached(sql)?;
    let rows = statement.query_map(parameters, read_outbox_row)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().collect()
}

impl Store {
    /// Queued notifications whose next attempt is due, oldest first.
    pub fn due_notifications(&self, now: i64, limit: usize) -> Result<Vec<OutboxSms>, StoreError> {
        self.read(|connection| {
            let sql = format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox_sms WHERE state = 'queued' AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at, created_at LIMIT ?2"
            );
            query_outbox(connection, &sql, params![now, limit as i64])
        })
    }

    /// The earliest next attempt of any queued notification.
    pub fn next_notification_due_at(&self) -> Result<Option<i64>, StoreError> {
        self.read(|connection| {
            Ok(connection
                .prepare_cached("SELECT min(next_attempt_at) FROM outbox_sms WHERE state = 'queued'")?
                .query_row([], |row| row.get(0))?)
        })
    }

    /// The SMS centre took these notifications (outbox ID, its message ID): all marked sent in one transaction.
    pub fn mark_notifications_delivered(&self, sent: &[(String, String)], now: i64) -> Result<(), StoreError> {
        self.in_transaction(|connection| {
            let mut statement = connection.prepare_cached(
                "UPDATE outbox_sms SET state = 'sent', smsc_message_id = ?2, sent_at = ?3, attempts = attempts + 1,
                     text = CASE WHEN redact_when_delivered = 1 THEN ?4 ELSE text END
                 WHERE outbox_id = ?1",
            )?;
            for (outbox_id, smsc_message_id) in sent {
                statement.execute(params![outbox_id, smsc_message_id, now, REDACTED_TEXT])?;
            }
            Ok(())
        })
    }

    pub fn reschedule_notification(&self, outbox_id: &str, next_attempt_at: i64) -> Result<(), StoreError> {
        self.in_transaction(|connection| {
            connection
                .prepare_cached(
                    "UPDATE outbox_sms SET attempts = attempts + 1, next_attempt_at = ?2 WHERE outbox_id = ?1",
                )?
                .execute(params![outbox_id, next_attempt_at])?;
            Ok(())
        })
    }

    /// Every notification to `destination`, queued or sent, oldest first.
    pub fn notifications_to(&self, destination: &Msisdn) -> Result<Vec<OutboxSms>, StoreError> {
        self.read(|connection| {
            let sql =
                format!("SELECT {OUTBOX_COLUMNS} FROM outbox_sms WHERE destination = ?1 ORDER BY created_at, rowid");
            query_outbox(connection, &sql, [destination.as_digits()])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_notification_is_due_until_sent_and_waits_when_rescheduled() {
        let store = Store::open_in_memory().unwrap();
        let msisdn = Msisdn::parse("13800138000").unwrap();
        let outbox_id =
            store.in_transaction(|connection| enqueue_notification(connection, &msisdn, "你好", 100)).unwrap();
        assert_eq!(store.due_notifications(100, 10).unwrap().len(), 1);
        store.reschedule_notification(&outbox_id, 130).unwrap();
        assert!(store.due_notifications(129, 10).unwrap().is_empty());
        assert_eq!(store.next_notification_due_at().unwrap(), Some(130));
        store.mark_notifications_delivered(&[(outbox_id, "smsc-1".to_owned())], 130).unwrap();
        assert!(store.due_notifications(200, 10).unwrap().is_empty());
        let sent = store.notifications_to(&msisdn).unwrap();
        assert!(sent[0].sent && sent[0].attempts == 2 && sent[0].smsc_message_id.as_deref() == Some("smsc-1"));
    }
}
