//! Reading back a money row (a charge or a refund) that an earlier call wrote: what a retried call with the same
//! ID is answered from. One reader for both tables, since both keep the same columns for it.

use super::StoreError;
use rusqlite::{Connection, OptionalExtension};
use serde::de::DeserializeOwned;

/// The columns a retry is checked against and answered from.
pub(super) struct RecordedMoneyRow {
    /// What the retry must name again: the number of a charge, the payment of a refund.
    pub(super) owner: String,
    pub(super) amount_fen: i64,
    pub(super) outcome: String,
    pub(super) decline_reason: Option<String>,
    pub(super) bill_line_id: Option<String>,
    pub(super) created_at_ms: i64,
}

impl RecordedMoneyRow {
    /// The row, when the retry names the same owner and amount; a retry with another is a conflicting retry.
    pub(super) fn matching(self, owner: &str, amount_fen: i64) -> Result<RecordedMoneyRow, StoreError> {
        if self.owner == owner && self.amount_fen == amount_fen {
            Ok(self)
        } else {
            Err(StoreError::ConflictingRetry)
        }
    }
}

/// The row of `table` keyed `key_column = key`, if one was written. `owner_column` names what a retry must repeat.
pub(super) fn recorded_money_row(
    connection: &Connection,
    (table, key_column, owner_column): (&str, &str, &str),
    key: &str,
) -> Result<Option<RecordedMoneyRow>, StoreError> {
    let sql = format!(
        "SELECT {owner_column}, amount_fen, outcome, decline_reason, bill_line_id, created_at_ms FROM {table} \
         WHERE {key_column} = ?1"
    );
    Ok(connection
        .prepare_cached(&sql)?
        .query_row([key], |row| {
            Ok(RecordedMoneyRow {
                owner: row.get(0)?,
                amount_fen: row.get(1)?,
                outcome: row.get(2)?,
                decline_reason: row.get(3)?,
                bill_line_id: row.get(4)?,
                created_at_ms: row.get(5)?,
            })
        })
        .optional()?)
}

/// A stored decline reason (its snake_case wire name) as its type; `what` names it in the corruption error.
pub(super) fn parse_decline_reason<Reason: DeserializeOwned>(text: String, what: &str) -> Result<Reason, StoreError> {
    serde_json::from_value(serde_json::Value::String(text)).map_err(|_| StoreError::Corrupt(what.to_owned()))
}
