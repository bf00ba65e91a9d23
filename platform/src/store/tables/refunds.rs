//! The `refunds` table: a refund of all or part of a succeeded payment, `processing` until the OSS answers.

use crate::store::{enum_text, parse_column, StoreError};
use numbind_database::{params, OptionalExtension};
use numbind_database::{Connection, Row};
use numbind_wire::api::{Refund, RefundState};
use numbind_wire::{Amount, Currency, PaymentId, RefundId};

const COLUMNS: &str = "refund_id, payment_id, amount, currency, state, reason, requested_by, created_at";

fn read_refund(row: &Row<'_>) -> numbind_database::Result<Result<Refund, StoreError>> {
    let texts: [String; 6] = [row.get(0)?, row.get(1)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?];
    let (amount, created_at): (i64, i64) = (row.get(2)?, row.get(7)?);
    Ok((|| {
        let [refund_id, payment_id, currency, state, reason, requested_by] = texts;
        Ok(Refund {
            refund_id: parse_column(&refund_id, "refunds.refund_id", RefundId::parse)?,
            payment_id: parse_column(&payment_id, "refunds.payment_id", PaymentId::parse)?,
            amount: Amount::from_minor_units(amount).map_err(|_| StoreError::MalformedRow("refunds.amount"))?,
            currency: parse_column(&currency, "refunds.currency", Currency::parse)?,
            state: serde_json::from_value(serde_json::Value::String(state))
                .map_err(|_| StoreError::MalformedRow("refunds.state"))?,
            reason,
            requested_by,
            created_at_unix_seconds: created_at,
        })
    })())
}

pub(in crate::store) fn insert_refund(connection: &Connection<'_>, refund: &Refund) -> Result<(), StoreError> {
    connection
        .prepare_cached(
            "INSERT INTO refunds (refund_id, payment_id, amount, currency, state, reason, requested_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            refund.refund_id.as_str(),
            refund.payment_id.as_str(),
            refund.amount.minor_units(),
            refund.currency.code(),
            enum_text(&refund.state),
            refund.reason,
            refund.requested_by,
            refund.created_at_unix_seconds
        ])?;
    Ok(())
}

pub(in crate::store) fn find_refund_in(
    connection: &Connection<'_>,
    refund_id: &RefundId,
) -> Result<Option<Refund>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM refunds WHERE refund_id = ?1");
    connection.prepare_cached(&sql)?.query_row([refund_id.as_str()], read_refund).optional()?.transpose()
}

pub(in crate::store) fn refunds_of_payment_in(
    connection: &Connection<'_>,
    payment_id: &PaymentId,
) -> Result<Vec<Refund>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM refunds WHERE payment_id = ?1 ORDER BY created_at, refund_id");
    let mut statement = connection.prepare_cached(&sql)?;
    let rows = statement.query_map([payment_id.as_str()], read_refund)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().collect()
}

/// Refunds succeeded or still processing: what counts against the remaining refundable amount.
pub(in crate::store) fn refunded_or_in_flight(
    connection: &Connection<'_>,
    payment_id: &PaymentId,
) -> Result<i64, StoreError> {
    Ok(connection
        .prepare_cached(
            "SELECT coalesce(sum(amount), 0) FROM refunds WHERE payment_id = ?1 AND state IN ('processing','succeeded')",
        )?
        .query_row([payment_id.as_str()], |row| row.get(0))?)
}

/// Settles a processing refund; `false` when it was settled already (a final state never changes).
pub(in crate::store) fn settle_refund(
    connection: &Connection<'_>,
    refund_id: &RefundId,
    state: RefundState,
    (server_reference_code, denial_reason): (Option<&str>, Option<&str>),
    now: i64,
) -> Result<bool, StoreError> {
    let changed = connection
        .prepare_cached(
            "UPDATE refunds SET state = ?2, server_reference_code = ?3, denial_reason = ?4, finalized_at = ?5
             WHERE refund_id = ?1 AND state IN ('processing')",
        )?
        .execute(params![refund_id.as_str(), enum_text(&state), server_reference_code, denial_reason, now])?;
    Ok(changed == 1)
}
