//! The `payments` table: a payment charged on a box's signed intent, its state (a final state never changes: every
//! transition is an `UPDATE ... WHERE state IN (<the states it may leave>)`), and the queries on it.

use crate::store::{enum_text, parse_column, StoreError};
use numbind_database::{params, OptionalExtension};
use numbind_database::{Connection, Dialect, Row};
use numbind_wire::api::{CancellationReason, Payment, PaymentDenialReason, PaymentState};
use numbind_wire::{Amount, BindingId, Currency, ItemDescription, ItemId, MerchantId, Msisdn, PaymentId, TerminalId};

/// A payment as stored: what the merchant sees, and what only the platform knows (the number, the binding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub payment: Payment,
    pub intent_nonce: String,
    pub binding_id: Option<BindingId>,
    pub msisdn: Option<Msisdn>,
    pub confirmation_tag: Option<Vec<u8>>,
    pub confirmation_attempts: i64,
    pub updated_at: i64,
}

pub(in crate::store) const PAYMENT_COLUMNS: &str = "payment_id, merchant_id, reference_code, server_reference_code, \
     terminal_id, item_id, item_description, amount, currency, state, denial_reason, cancellation_reason, \
     confirmation_expires_at, created_at, finalized_at, refunded, intent_nonce, binding_id, msisdn, \
     confirmation_tag, confirmation_attempts, updated_at";

fn text_enum<T: serde::de::DeserializeOwned>(
    text: Option<String>,
    column: &'static str,
) -> Result<Option<T>, StoreError> {
    text.map(|text| {
        serde_json::from_value(serde_json::Value::String(text)).map_err(|_| StoreError::MalformedRow(column))
    })
    .transpose()
}

pub(in crate::store) fn read_payment(row: &Row<'_>) -> numbind_database::Result<Result<PaymentRecord, StoreError>> {
    let texts: [String; 7] =
        [row.get(0)?, row.get(1)?, row.get(2)?, row.get(4)?, row.get(5)?, row.get(6)?, row.get(8)?];
    let state: String = row.get(9)?;
    let (denial, cancellation): (Option<String>, Option<String>) = (row.get(10)?, row.get(11)?);
    let (binding_id, msisdn): (Option<String>, Option<String>) = (row.get(17)?, row.get(18)?);
    let amount: i64 = row.get(7)?;
    let parsed = (|| {
        let [payment_id, merchant_id, reference_code, terminal_id, item_id, item_description, currency] = texts;
        let payment = Payment {
            payment_id: parse_column(&payment_id, "payments.payment_id", PaymentId::parse)?,
            merchant_id: parse_column(&merchant_id, "payments.merchant_id", MerchantId::parse)?,
            reference_code,
            server_reference_code: row.get(3)?,
            terminal_id: parse_column(&terminal_id, "payments.terminal_id", TerminalId::parse)?,
            item_id: parse_column(&item_id, "payments.item_id", ItemId::parse)?,
            item_description: parse_column(&item_description, "payments.item_description", ItemDescription::parse)?,
            amount: Amount::from_minor_units(amount).map_err(|_| StoreError::MalformedRow("payments.amount"))?,
            currency: parse_column(&currency, "payments.currency", Currency::parse)?,
            state: text_enum::<PaymentState>(Some(state), "payments.state")?
                .ok_or(StoreError::MalformedRow("payments.state"))?,
            denial_reason: text_enum::<PaymentDenialReason>(denial, "payments.denial_reason")?,
            cancellation_reason: text_enum::<CancellationReason>(cancellation, "payments.cancellation_reason")?,
            confirmation_expires_at_unix_seconds: row.get(12)?,
            created_at_unix_seconds: row.get(13)?,
            finalized_at_unix_seconds: row.get(14)?,
            refunded_minor_units: row.get(15)?,
        };
        Ok::<_, StoreError>(PaymentRecord {
            payment,
            intent_nonce: row.get(16)?,
            binding_id: binding_id.map(|id| parse_column(&id, "payments.binding_id", BindingId::parse)).transpose()?,
            msisdn: msisdn.map(|digits| parse_column(&digits, "payments.msisdn", Msisdn::parse)).transpose()?,
            confirmation_tag: row.get(19)?,
            confirmation_attempts: row.get(20)?,
            updated_at: row.get(21)?,
        })
    })();
    Ok(parsed)
}

pub(in crate::store) fn query_payments(
    connection: &Connection<'_>,
    sql: &str,
    parameters: impl numbind_database::Params,
) -> Result<Vec<PaymentRecord>, StoreError> {
    let mut statement = connection.prepare_cached(sql)?;
    let rows = statement.query_map(parameters, read_payment)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().collect()
}

/// Inserts a new payment (its intent must be unused: `(terminal_id, intent_nonce)` is unique).
pub(in crate::store) fn insert_payment(connection: &Connection<'_>, record: &PaymentRecord) -> Result<(), StoreError> {
    let payment = &record.payment;
    connection
        .prepare_cached(
            "INSERT INTO payments (payment_id, merchant_id, reference_code, terminal_id, intent_nonce, binding_id,
             msisdn, item_id, item_description, amount, currency, state, denial_reason, confirmation_tag,
             confirmation_expires_at, created_at, updated_at, finalized_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16, ?17)",
        )?
        .execute(params![
            payment.payment_id.as_str(),
            payment.merchant_id.as_str(),
            payment.reference_code,
            payment.terminal_id.as_str(),
            record.intent_nonce,
            record.binding_id.as_ref().map(BindingId::as_str),
            record.msisdn.as_ref().map(Msisdn::as_digits),
            payment.item_id.as_str(),
            payment.item_description.as_str(),
            payment.amount.minor_units(),
            payment.currency.code(),
            payment.state.as_str(),
            payment.denial_reason.as_ref().map(enum_text),
            record.confirmation_tag,
            payment.confirmation_expires_at_unix_seconds,
            payment.created_at_unix_seconds,
            payment.finalized_at_unix_seconds,
        ])?;
    Ok(())
}

pub(in crate::store) fn find_payment_in(
    connection: &Connection<'_>,
    payment_id: &PaymentId,
) -> Result<Option<PaymentRecord>, StoreError> {
    let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE payment_id = ?1");
    connection.prepare_cached(&sql)?.query_row([payment_id.as_str()], read_payment).optional()?.transpose()
}

pub(in crate::store) fn payment_of_intent_in(
    connection: &Connection<'_>,
    terminal_id: &TerminalId,
    intent_nonce: &str,
) -> Result<Option<PaymentRecord>, StoreError> {
    let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE terminal_id = ?1 AND intent_nonce = ?2");
    connection
        .prepare_cached(&sql)?
        .query_row(params![terminal_id.as_str(), intent_nonce], read_payment)
        .optional()?
        .transpose()
}

/// How a payment leaves a state: to `to`, with a reason or a bill line, from one of `from` only.
pub(in crate::store) struct Transition<'a> {
    pub from: &'a [PaymentState],
    pub to: PaymentState,
    pub denial_reason: Option<PaymentDenialReason>,
    pub cancellation_reason: Option<CancellationReason>,
    pub server_reference_code: Option<&'a str>,
}

/// Moves a payment along `transition`; `false` when it was not in one of `from` (a final state never changes).
pub(in crate::store) fn transition_payment(
    connection: &Connection<'_>,
    payment_id: &PaymentId,
    transition: &Transition<'_>,
    now: i64,
) -> Result<bool, StoreError> {
    let from: Vec<&str> = transition.from.iter().map(|state| state.as_str()).collect();
    let finalized_at = transition.to.is_final().then_some(now);
    // `?8` is the JSON array of the states the payment may move from.
    let sql = match connection.dialect() {
        Dialect::Sqlite => {
            "UPDATE payments SET state = ?2, denial_reason = coalesce(?3, denial_reason),
             cancellation_reason = coalesce(?4, cancellation_reason),
             server_reference_code = coalesce(?5, server_reference_code), finalized_at = ?6, updated_at = ?7
             WHERE payment_id = ?1 AND state IN (SELECT value FROM json_each(?8))
             AND state NOT IN ('succeeded','denied','cancelled','expired')"
        }
        Dialect::Postgres => {
            "UPDATE payments SET state = ?2, denial_reason = coalesce(?3, denial_reason),
             cancellation_reason = coalesce(?4, cancellation_reason),
             server_reference_code = coalesce(?5, server_reference_code), finalized_at = ?6, updated_at = ?7
             WHERE payment_id = ?1 AND state IN (SELECT json_array_elements_text(CAST(?8 AS json)))
             AND state NOT IN ('succeeded','denied','cancelled','expired')"
        }
    };
    let changed = connection.prepare_cached(sql)?.execute(params![
        payment_id.as_str(),
        transition.to.as_str(),
        transition.denial_reason.as_ref().map(enum_text),
        transition.cancellation_reason.as_ref().map(enum_text),
        transition.server_reference_code,
        finalized_at,
        now,
        serde_json::to_string(&from).unwrap_or_default(),
    ])?;
    Ok(changed == 1)
}

/// Counts one wrong confirmation number; returns the attempts so far.
pub(in crate::store) fn count_wrong_confirmation(
    connection: &Connection<'_>,
    payment_id: &PaymentId,
) -> Result<i64, StoreError> {
    Ok(connection
        .prepare_cached(
            "UPDATE payments SET confirmation_attempts = confirmation_attempts + 1
             WHERE payment_id = ?1 RETURNING confirmation_attempts",
        )?
        .query_row([payment_id.as_str()], |row| row.get(0))?)
}

/// Adds a succeeded refund to the payment's refunded total.
pub(in crate::store) fn add_refunded(
    connection: &Connection<'_>,
    payment_id: &PaymentId,
    amount: Amount,
    now: i64,
) -> Result<(), StoreError> {
    connection
        .prepare_cached("UPDATE payments SET refunded = refunded + ?2, updated_at = ?3 WHERE payment_id = ?1")?
        .execute(params![payment_id.as_str(), amount.minor_units(), now])?;
    Ok(())
}

/// Payments waiting for `msisdn`'s confirmation (created on a binding of that number).
pub(in crate::store) fn pending_payments_of_number(
    connection: &Connection<'_>,
    msisdn: &Msisdn,
) -> Result<Vec<PaymentRecord>, StoreError> {
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE msisdn = ?1 AND state = 'pending_confirmation'
         ORDER BY created_at, payment_id"
    );
    query_payments(connection, &sql, [msisdn.as_digits()])
}

/// Payments of a binding still waiting for confirmation.
pub(in crate::store) fn pending_payments_of_binding(
    connection: &Connection<'_>,
    binding_id: &BindingId,
) -> Result<Vec<PaymentRecord>, StoreError> {
    let sql =
        format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE binding_id = ?1 AND state = 'pending_confirmation'");
    query_payments(connection, &sql, [binding_id.as_str()])
}

/// Pending payments whose confirmation window closed by `now`.
pub(in crate::store) fn overdue_confirmations(
    connection: &Connection<'_>,
    now: i64,
    limit: usize,
) -> Result<Vec<PaymentRecord>, StoreError> {
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE state = 'pending_confirmation' AND confirmation_expires_at <= ?1
         ORDER BY confirmation_expires_at LIMIT ?2"
    );
    query_payments(connection, &sql, params![now, limit as i64])
}
