//! Queries on the `messages` table: MO queue, MT inbox, delivery receipts, status.

use super::{Store, StoreError};
use crate::domain::message::{Direction, MessageId, MessageState};
use crate::domain::receipt::FinalState;
use rusqlite::{params, Connection, OptionalExtension};

pub(crate) struct NewMobileOriginated {
    pub(crate) message_id: MessageId,
    pub(crate) source_msisdn: String,
    pub(crate) destination_short_code: String,
    pub(crate) text: String,
    pub(crate) account: String,
    pub(crate) now_ms: i64,
}

pub(crate) struct NewMobileTerminated {
    pub(crate) message_id: MessageId,
    pub(crate) source: String,
    pub(crate) destination_msisdn: String,
    pub(crate) text: String,
    pub(crate) account: String,
    pub(crate) client_reference: Option<String>,
    /// A delivery receipt to queue for the account in the same transaction: (receipt ID, receipt text).
    pub(crate) receipt: Option<(MessageId, String)>,
    pub(crate) now_ms: i64,
}

/// An MO or a receipt waiting for an ESME.
#[derive(Debug, Clone)]
pub(crate) struct QueuedDelivery {
    pub(crate) message_id: MessageId,
    pub(crate) direction: Direction,
    pub(crate) source: String,
    pub(crate) destination: String,
    pub(crate) text: String,
    pub(crate) account: String,
    pub(crate) receipted_message_id: Option<String>,
    /// What a receipt reports.
    pub(crate) receipt_state: FinalState,
    pub(crate) attempts: u32,
}

/// A delivery receipt to queue for the ESME that submitted `receipted_message_id`.
pub(crate) struct NewReceipt<'a> {
    pub(crate) receipt_id: &'a MessageId,
    /// The phone the MT went to: the receipt's source.
    pub(crate) phone: &'a str,
    /// The MT's source (the ESME's address): the receipt's destination.
    pub(crate) esme_address: &'a str,
    pub(crate) text: &'a str,
    pub(crate) account: &'a str,
    pub(crate) receipted_message_id: &'a str,
    pub(crate) state: FinalState,
    pub(crate) now_ms: i64,
}

/// Where a message an ESME submitted is, for `query_sm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubmittedState {
    pub(crate) state: MessageState,
    /// When it reached its final state.
    pub(crate) done_at_ms: Option<i64>,
}

#[derive(Debug, Clone)]
pub(crate) struct InboxEntry {
    pub(crate) message_id: String,
    pub(crate) from: String,
    pub(crate) text: String,
    pub(crate) received_at_unix_ms: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct MessageStatus {
    pub(crate) message_id: String,
    pub(crate) direction: Direction,
    pub(crate) state: MessageState,
    pub(crate) attempts: u32,
}

/// How many MO and receipts of one account are queued: counted in `messages_queued_by_account`.
const QUEUE_DEPTH: &str = "SELECT COUNT(*) FROM messages WHERE state = 'queued' AND account = ?1";

/// The MT row, and its receipt row if any, inside the caller's transaction; see `insert_mobile_terminated`.
pub(super) fn insert_mobile_terminated_rows(
    transaction: &Connection,
    message: &NewMobileTerminated,
) -> Result<(String, bool), StoreError> {
    if let Some(reference) = &message.client_reference {
        let existing: Option<String> = transaction
            .prepare_cached("SELECT message_id FROM messages WHERE account = ?1 AND client_reference = ?2")?
            .query_row(params![message.account, reference], |row| row.get(0))
            .optional()?;
        if let Some(existing) = existing {
            return Ok((existing, false));
        }
    }
    transaction
        .prepare_cached(
            "INSERT INTO messages (message_id, direction, source, destination, text, account, client_reference,
                                   state, attempts, next_attempt_at_ms, created_at_ms, delivered_at_ms)
             VALUES (?1, 'mt', ?2, ?3, ?4, ?5, ?6, 'delivered', 1, ?7, ?7, ?7)",
        )?
        .execute(params![
            message.message_id.as_str(),
            message.source,
            message.destination_msisdn,
            message.text,
            message.account,
            message.client_reference,
            message.now_ms
        ])?;
    if let Some((receipt_id, text)) = &message.receipt {
        let receipt = NewReceipt {
            receipt_id,
            phone: &message.destination_msisdn,
            esme_address: &message.source,
            text,
            account: &message.account,
            receipted_message_id: message.message_id.as_str(),
            state: FinalState::Delivered,
            now_ms: message.now_ms,
        };
        insert_receipt_row(transaction, &receipt)?;
    }
    Ok((message.message_id.as_str().to_owned(), true))
}

/// Queues a receipt inside the caller's transaction.
pub(super) fn insert_receipt_row(transaction: &Connection, receipt: &NewReceipt<'_>) -> Result<(), StoreError> {
    transaction
        .prepare_cached(
            "INSERT INTO messages (message_id, direction, source, destination, text, account,
                                   receipted_message_id, receipt_state, state, next_attempt_at_ms, created_at_ms)
             VALUES (?1, 'receipt', ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8, ?8)",
        )?
        .execute(params![
            receipt.receipt_id.as_str(),
            receipt.phone,
            receipt.esme_address,
            receipt.text,
            receipt.account,
            receipt.receipted_message_id,
            receipt.state.message_state(),
            receipt.now_ms
        ])?;
    Ok(())
}

impl Store {
    /// Queues an MO for its account, unless the account's queue is full.
    pub(crate) fn insert_mobile_originated(
        &self,
        message: &NewMobileOriginated,
        max_queue: usize,
    ) -> Result<(), StoreError> {
        self.write(|transaction| {
            let queued: i64 =
                transaction.prepare_cached(QUEUE_DEPTH)?.query_row([&message.account], |row| row.get(0))?;
            if queued as usize >= max_queue {
                return Err(StoreError::QueueFull { system_id: message.account.clone() });
            }
            transaction
                .prepare_cached(
                    "INSERT INTO messages (message_id, direction, source, destination, text, account, state, \
                     next_attempt_at_ms, created_at_ms)
                 VALUES (?1, 'mo', ?2, ?3, ?4, ?5, 'queued', ?6, ?6)",
                )?
                .execute(params![
                    message.message_id.as_str(),
                    message.source_msisdn,
                    message.destination_short_code,
                    message.text,
                    message.account,
                    message.now_ms
                ])?;
            Ok(())
        })
    }

    /// Stores an MT (delivered to the inbox on commit) and its receipt; a resubmission with a known
    /// (account, client_reference) stores nothing and returns the original ID. Returns (ID, newly stored).
    /// The SMPP session stores whole windows with `insert_submits` instead; the SMS centre's own answers (a
    /// refused MO) come here.
    pub(crate) fn insert_mobile_terminated(&self, message: &NewMobileTerminated) -> Result<(String, bool), StoreError> {
        self.write(|transaction| {
            let outcome = insert_mobile_terminated_rows(transaction, message)?;
            Ok(outcome)
        })
    }

    /// Queued MO and receipts whose next attempt is due, oldest first.
    pub(crate) fn due_deliveries(&self, now_ms: i64, limit: usize) -> Result<Vec<QueuedDelivery>, StoreError> {
        self.read(|connection| {
            let mut statement = connection.prepare_cached(
                "SELECT message_id, direction, source, destination, text, account, receipted_message_id, attempts,
                        receipt_state
                 FROM messages WHERE state = 'queued' AND next_attempt_at_ms <= ?1
                 ORDER BY created_at_ms, message_id LIMIT ?2",
            )?;
            let rows = statement.query_map(params![now_ms, limit as i64], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, String>(5)?,
                    row.get::<_, Option<String>>(6)?,
                    row.get::<_, u32>(7)?,
                    row.get::<_, Option<u8>>(8)?,
                ))
            })?;
            let mut deliveries = Vec::new();
            for row in rows {
                let (message_id, direction, source, destination, text, account, receipted_message_id, attempts, state) =
                    row?;
                deliveries.push(QueuedDelivery {
                    message_id: MessageId::parse(&message_id).map_err(|_| StoreError::Corrupt("message_id".into()))?,
                    direction: Direction::parse(&direction).ok_or_else(|| StoreError::Corrupt("direction".into()))?,
                    source,
                    destination,
                    text,
                    account,
                    receipted_message_id,
                    receipt_state: state.map(FinalState::from_message_state).unwrap_or(FinalState::Delivered),
                    attempts,
                });
            }
            Ok(deliveries)
        })
    }

    /// Counts an attempt that did not deliver the message and schedules the next one.
    pub(crate) fn record_attempt(&self, message_id: &MessageId, next_attempt_at_ms: i64) -> Result<(), StoreError> {
        self.write(|connection| {
            connection
                .prepare_cached(
                    "UPDATE messages SET attempts = attempts + 1, next_attempt_at_ms = ?2 WHERE message_id = ?1 \
                     AND state = 'queued'",
                )?
                .execute(params![message_id.as_str(), next_attempt_at_ms])?;
            Ok(())
        })
    }

    pub(crate) fn mark_delivered(&self, message_id: &MessageId, now_ms: i64) -> Result<(), StoreError> {
        self.write(|connection| {
            connection
                .prepare_cached(
                    "UPDATE messages SET state = 'delivered', delivered_at_ms = ?2, attempts = attempts + 1 \
                     WHERE message_id = ?1 AND state = 'queued'",
                )?
                .execute(params![message_id.as_str(), now_ms])?;
            Ok(())
        })
    }

    pub(crate) fn mark_failed(&self, message_id: &MessageId) -> Result<(), StoreError> {
        self.write(|connection| {
            connection
                .prepare_cached(
                    "UPDATE messages SET state = 'failed', attempts = attempts + 1 WHERE message_id = ?1 AND \
                     state = 'queued'",
                )?
                .execute(params![message_id.as_str()])?;
            Ok(())
        })
    }

    /// Makes every queued message of an account due now (it just bound).
    pub(crate) fn make_account_due(&self, account: &str, now_ms: i64) -> Result<(), StoreError> {
        self.write(|connection| {
            connection
                .prepare_cached(
                    "UPDATE messages SET next_attempt_at_ms = ?2 WHERE account = ?1 AND state = 'queued' AND \
                     next_attempt_at_ms > ?2",
                )?
                .execute(params![account, now_ms])?;
            Ok(())
        })
    }

    /// The state of an MT (or a part of one) that `account` submitted; `None` for any other message.
    pub(crate) fn submitted_message_state(
        &self,
        account: &str,
        message_id: &MessageId,
    ) -> Result<Option<SubmittedState>, StoreError> {
        self.read(|connection| {
            let row = connection
                .prepare_cached(
                    "SELECT state, delivered_at_ms FROM messages WHERE message_id = ?1 AND direction = 'mt' AND \
                     account = ?2",
                )?
                .query_row(params![message_id.as_str(), account], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, Option<i64>>(1)?))
                })
                .optional()?;
            let Some((state, done_at_ms)) = row else {
                return super::parts::submitted_part_state(connection, account, message_id);
            };
            let state = MessageState::parse(&state).ok_or_else(|| StoreError::Corrupt("state".into()))?;
            Ok(Some(SubmittedState { state, done_at_ms }))
        })
    }

    /// MT messages to a phone, oldest first.
    pub(crate) fn inbox(&self, msisdn_digits: &str) -> Result<Vec<InboxEntry>, StoreError> {
        self.read(|connection| {
            let mut statement = connection.prepare_cached(
                "SELECT message_id, source, text, created_at_ms FROM messages
                 WHERE direction = 'mt' AND destination = ?1 ORDER BY created_at_ms, rowid",
            )?;
            let rows = statement.query_map([msisdn_digits], |row| {
                Ok(InboxEntry {
                    message_id: row.get(0)?,
                    from: row.get(1)?,
                    text: row.get(2)?,
                    received_at_unix_ms: row.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// The state of an MO or MT (receipts are internal).
    pub(crate) fn message_status(&self, message_id: &MessageId) -> Result<Option<MessageStatus>, StoreError> {
        self.read(|connection| {
            let row = connection
                .prepare_cached(
                    "SELECT direction, state, attempts FROM messages WHERE message_id = ?1 AND direction IN \
                     ('mo', 'mt')",
                )?
                .query_row([message_id.as_str()], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, u32>(2)?))
                })
                .optional()?;
            let Some((direction, state, attempts)) = row else {
                return super::parts::part_status(connection, message_id);
            };
            Ok(Some(MessageStatus {
                message_id: message_id.as_str().to_owned(),
                direction: Direction::parse(&direction).ok_or_else(|| StoreError::Corrupt("direction".into()))?,
                state: MessageState::parse(&state).ok_or_else(|| StoreError::Corrupt("state".into()))?,
                attempts,
            }))
        })
    }
}

#[cfg(test)]
mod tests;
