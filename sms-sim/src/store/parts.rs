//! Parts of concatenated MT (UDH): each part has its own message ID, kept in `mt_parts` until the last one
//! arrives; then the whole message is stored as one MT in the same transaction that drops the parts, and each
//! part gets its outcome (`mt_part_outcomes`) and, when asked for, its own delivery receipt. Parts whose
//! siblings do not arrive in time expire as undeliverable, with a receipt saying so.

use super::messages::{insert_mobile_terminated_rows, insert_receipt_row, MessageStatus, NewReceipt, SubmittedState};
use super::{NewMobileTerminated, Store, StoreError};
use crate::domain::concatenation::ConcatenatedPart;
use crate::domain::message::{Direction, MessageId, MessageState};
use crate::domain::receipt::{receipt_text, FinalState};
use rusqlite::{params, Connection, OptionalExtension};

pub(crate) struct NewPart {
    /// The part's own message ID, answered in its submit_sm_resp.
    pub(crate) message_id: MessageId,
    pub(crate) account: String,
    /// The submitting ESME's address (a receipt goes back to it).
    pub(crate) source: String,
    pub(crate) destination_msisdn: String,
    pub(crate) part: ConcatenatedPart,
    pub(crate) data_coding: u8,
    pub(crate) octets: Vec<u8>,
    pub(crate) wants_receipt: bool,
    pub(crate) now_ms: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PartOutcome {
    /// More parts are expected; this part is kept under this ID (the first one's, for a repeated part).
    Waiting { message_id: String },
    /// The last part arrived and the whole message is stored; this is the part's own ID.
    Completed { message_id: String },
    /// All parts arrived but `assemble` refused the whole (undecodable text); the parts are undeliverable.
    Refused,
}

/// One stored part, as read back to complete or expire its message.
struct StoredPart {
    message_id: String,
    source: String,
    data_coding: u8,
    octets: Vec<u8>,
    wants_receipt: bool,
    created_at_ms: i64,
}

/// The parts of one concatenated message.
struct PartGroup<'a> {
    account: &'a str,
    destination: &'a str,
    reference: u16,
    total: u8,
}

impl Store {
    /// Stores one part (a repeated part is ignored); when all parts are in, `assemble(data_coding, octets)`
    /// builds the MT from the concatenated octets and it is stored in the same transaction.
    #[cfg(test)]
    pub(crate) fn insert_mobile_terminated_part(
        &self,
        part: &NewPart,
        assemble: impl FnOnce(u8, &[u8]) -> Option<NewMobileTerminated>,
    ) -> Result<PartOutcome, StoreError> {
        self.write(|transaction| insert_part_rows(transaction, part, assemble))
    }

    /// Whether a part older than `created_before_ms` waits (a read, so that the expiry writes only when needed).
    pub(crate) fn has_parts_created_before(&self, created_before_ms: i64) -> Result<bool, StoreError> {
        self.read(|connection| {
            let found = connection
                .prepare_cached("SELECT 1 FROM mt_parts WHERE created_at_ms < ?1 LIMIT 1")?
                .query_row([created_before_ms], |_| Ok(()))
                .optional()?;
            Ok(found.is_some())
        })
    }

    /// Expires every concatenated message with a part older than `created_before_ms`: its parts become
    /// undeliverable, with a receipt each where asked for. Returns how many parts expired.
    pub(crate) fn expire_parts(&self, created_before_ms: i64, now_ms: i64) -> Result<usize, StoreError> {
        self.write(|transaction| {
            let groups: Vec<(String, String, u16, u8)> = {
                let mut statement = transaction.prepare_cached(
                    "SELECT DISTINCT account, destination, reference, total FROM mt_parts WHERE created_at_ms < ?1",
                )?;
                let rows = statement
                    .query_map([created_before_ms], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            let mut expired = 0;
            for (account, destination, reference, total) in &groups {
                let group = PartGroup { account, destination, reference: *reference, total: *total };
                let parts = take_group(transaction, &group)?;
                expired += parts.len();
                settle_parts(transaction, &group, &parts, None, now_ms)?;
            }
            Ok(expired)
        })
    }
}

impl Store {
    /// Cancels the concatenated MT that `account`'s part `message_id` belongs to, while it still waits for its
    /// siblings: every part of it that arrived becomes undeliverable, with a receipt each where asked for.
    /// False when the part is not waiting (unknown, another account's, or its message already complete): an MT
    /// reaches the phone when it is stored, so a whole one can no longer be cancelled.
    pub(crate) fn cancel_waiting_part(
        &self,
        account: &str,
        message_id: &MessageId,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        self.write(|transaction| {
            let waiting: Option<(String, u16, u8)> = transaction
                .prepare_cached(
                    "SELECT destination, reference, total FROM mt_parts WHERE message_id = ?1 AND account = ?2",
                )?
                .query_row(params![message_id.as_str(), account], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .optional()?;
            let Some((destination, reference, total)) = waiting else { return Ok(false) };
            let group = PartGroup { account, destination: &destination, reference, total };
            let parts = take_group(transaction, &group)?;
            settle_parts(transaction, &group, &parts, None, now_ms)?;
            Ok(true)
        })
    }
}

/// One part inside the caller's transaction; see `insert_mobile_terminated_part`.
pub(super) fn insert_part_rows(
    transaction: &Connection,
    part: &NewPart,
    assemble: impl FnOnce(u8, &[u8]) -> Option<NewMobileTerminated>,
) -> Result<PartOutcome, StoreError> {
    let group = PartGroup {
        account: &part.account,
        destination: &part.destination_msisdn,
        reference: part.part.reference,
        total: part.part.total,
    };
    let inserted = transaction
        .prepare_cached(
            "INSERT OR IGNORE INTO mt_parts (account, destination, reference, total, sequence, data_coding, octets,
                                             created_at_ms, message_id, source, wants_receipt)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            part.account,
            part.destination_msisdn,
            part.part.reference,
            part.part.total,
            part.part.sequence,
            part.data_coding,
            part.octets,
            part.now_ms,
            part.message_id.as_str(),
            part.source,
            part.wants_receipt
        ])?;
    let message_id = if inserted == 0 { repeated_part_id(transaction, part)? } else { part.message_id.to_string() };
    let parts = read_group(transaction, &group)?;
    if parts.len() < usize::from(part.part.total) {
        return Ok(PartOutcome::Waiting { message_id });
    }
    take_group(transaction, &group)?;
    let data_coding = parts.first().map(|stored| stored.data_coding).unwrap_or(part.data_coding);
    let octets: Vec<u8> = parts.iter().flat_map(|stored| stored.octets.iter().copied()).collect();
    let Some(whole) = assemble(data_coding, &octets) else {
        settle_parts(transaction, &group, &parts, None, part.now_ms)?;
        return Ok(PartOutcome::Refused);
    };
    let (whole_id, _) = insert_mobile_terminated_rows(transaction, &whole)?;
    settle_parts(transaction, &group, &parts, Some(&whole_id), part.now_ms)?;
    Ok(PartOutcome::Completed { message_id })
}

fn repeated_part_id(transaction: &Connection, part: &NewPart) -> Result<String, StoreError> {
    let existing: Option<String> = transaction
        .prepare_cached(
            "SELECT message_id FROM mt_parts
             WHERE account = ?1 AND destination = ?2 AND reference = ?3 AND total = ?4 AND sequence = ?5",
        )?
        .query_row(
            params![part.account, part.destination_msisdn, part.part.reference, part.part.total, part.part.sequence],
            |row| row.get(0),
        )
        .optional()?
        .flatten();
    Ok(existing.unwrap_or_else(|| part.message_id.to_string()))
}

fn read_group(transaction: &Connection, group: &PartGroup<'_>) -> Result<Vec<StoredPart>, StoreError> {
    let mut statement = transaction.prepare_cached(
        "SELECT message_id, source, data_coding, octets, wants_receipt, created_at_ms FROM mt_parts
         WHERE account = ?1 AND destination = ?2 AND reference = ?3 AND total = ?4 ORDER BY sequence",
    )?;
    let rows = statement.query_map(params![group.account, group.destination, group.reference, group.total], |row| {
        Ok(StoredPart {
            message_id: row.get::<_, Option<String>>(0)?.unwrap_or_default(),
            source: row.get(1)?,
            data_coding: row.get(2)?,
            octets: row.get(3)?,
            wants_receipt: row.get(4)?,
            created_at_ms: row.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Reads and deletes the parts of one message.
fn take_group(transaction: &Connection, group: &PartGroup<'_>) -> Result<Vec<StoredPart>, StoreError> {
    let parts = read_group(transaction, group)?;
    transaction
        .prepare_cached(
            "DELETE FROM mt_parts WHERE account = ?1 AND destination = ?2 AND reference = ?3 AND total = ?4",
        )?
        .execute(params![group.account, group.destination, group.reference, group.total])?;
    Ok(parts)
}

/// Records each part's outcome (delivered as part of `whole_id`, or undeliverable without one) and queues the
/// receipts asked for.
fn settle_parts(
    transaction: &Connection,
    group: &PartGroup<'_>,
    parts: &[StoredPart],
    whole_id: Option<&str>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let outcome = if whole_id.is_some() { FinalState::Delivered } else { FinalState::Undeliverable };
    let state = if whole_id.is_some() { MessageState::Delivered } else { MessageState::Failed };
    for part in parts.iter().filter(|part| !part.message_id.is_empty()) {
        transaction
            .prepare_cached(
                "INSERT OR IGNORE INTO mt_part_outcomes (message_id, account, whole_message_id, state, created_at_ms,
                                                         done_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![part.message_id, group.account, whole_id, state.as_str(), part.created_at_ms, now_ms])?;
        if part.wants_receipt {
            let text = receipt_text(&part.message_id, part.created_at_ms, now_ms, outcome);
            let receipt = NewReceipt {
                receipt_id: &MessageId::generate(),
                phone: group.destination,
                esme_address: &part.source,
                text: &text,
                account: group.account,
                receipted_message_id: &part.message_id,
                state: outcome,
                now_ms,
            };
            insert_receipt_row(transaction, &receipt)?;
        }
    }
    Ok(())
}

/// `/v1/messages/{id}` for a part: queued while its siblings are awaited, then its outcome.
pub(super) fn part_status(
    connection: &Connection,
    message_id: &MessageId,
) -> Result<Option<MessageStatus>, StoreError> {
    let Some((state, _)) = part_state(connection, None, message_id)? else { return Ok(None) };
    let attempts = u32::from(state != MessageState::Queued);
    Ok(Some(MessageStatus {
        message_id: message_id.as_str().to_owned(),
        direction: Direction::MobileTerminated,
        state,
        attempts,
    }))
}

/// `query_sm` for a part `account` submitted.
pub(super) fn submitted_part_state(
    connection: &Connection,
    account: &str,
    message_id: &MessageId,
) -> Result<Option<SubmittedState>, StoreError> {
    Ok(part_state(connection, Some(account), message_id)?
        .map(|(state, done_at_ms)| SubmittedState { state, done_at_ms }))
}

/// A part's state and when it became final; only `account`'s parts when given.
fn part_state(
    connection: &Connection,
    account: Option<&str>,
    message_id: &MessageId,
) -> Result<Option<(MessageState, Option<i64>)>, StoreError> {
    let settled: Option<(String, i64)> = connection
        .prepare_cached(
            "SELECT state, done_at_ms FROM mt_part_outcomes WHERE message_id = ?1 AND (?2 IS NULL OR account = ?2)",
        )?
        .query_row(params![message_id.as_str(), account], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    if let Some((state, done_at_ms)) = settled {
        let state = MessageState::parse(&state).ok_or_else(|| StoreError::Corrupt("part state".into()))?;
        return Ok(Some((state, Some(done_at_ms))));
    }
    let waiting = connection
        .prepare_cached("SELECT 1 FROM mt_parts WHERE message_id = ?1 AND (?2 IS NULL OR account = ?2)")?
        .query_row(params![message_id.as_str(), account], |_| Ok(()))
        .optional()?;
    Ok(waiting.map(|()| (MessageState::Queued, None)))
}

#[cfg(test)]
mod tests;
