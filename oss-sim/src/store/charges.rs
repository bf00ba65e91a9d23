//! SQL of the billing tables (their migration) and of `charges` (one row per platform payment, charged or
//! declined); refunds are in `refunds`, a subscriber's own limits in `charge_limits`. A charge is decided and
//! written in one transaction on the writer's connection, so two charges never both pass a limit or both spend the
//! last of a balance, and a retried call (same `payment_id`) reads the first call's row back instead of charging
//! again. [`Store::list_charge_records`] reads both ledgers back for operators and reconciliation.

use super::money_rows::{parse_decline_reason, recorded_money_row};
use super::{Store, StoreError};
use crate::domain::charging::{decide_charge, local_day, local_month, ChargeContext, ChargeLimits, Spending};
use crate::domain::ledger::ChargeRecord;
use crate::domain::subscriber::Plan;
use numbind_wire::api::{ChargeOutcome, ChargeRequest, PaymentDenialReason};
use numbind_wire::Msisdn;
use rusqlite::{params, Connection};

/// Which records an operator asks for; `None` matches all. `month` is the operator's local month (`2026-12`),
/// `day` its local day (`2026-12-07`, China Standard Time: the billing day of settlement and reconciliation).
#[derive(Debug, Clone, Default)]
pub(crate) struct ChargeRecordFilter {
    pub(crate) msisdn: Option<Msisdn>,
    pub(crate) payment_id: Option<String>,
    pub(crate) month: Option<String>,
    pub(crate) day: Option<String>,
    pub(crate) limit: usize,
}

/// Charges and refunds in one ledger, oldest first: refunds read their currency from their charge.
const LIST_RECORDS: &str = "SELECT * FROM ( \
    SELECT 'charge' AS kind, payment_id, NULL AS refund_id, msisdn, merchant_id, item_description, amount_fen, \
           currency, outcome, decline_reason, bill_line_id, local_month, created_at_ms, local_day FROM charges \
    UNION ALL \
    SELECT 'refund', r.payment_id, r.refund_id, r.msisdn, NULL, NULL, r.amount_fen, COALESCE(c.currency, 'CNY'), \
           r.outcome, r.decline_reason, r.bill_line_id, \
           strftime('%Y-%m', r.created_at_ms / 1000 + 28800, 'unixepoch'), r.created_at_ms, \
           strftime('%Y-%m-%d', r.created_at_ms / 1000 + 28800, 'unixepoch') \
    FROM refunds r LEFT JOIN charges c ON c.payment_id = r.payment_id \
) WHERE (?1 IS NULL OR msisdn = ?1) AND (?2 IS NULL OR payment_id = ?2) AND (?3 IS NULL OR local_month = ?3) \
AND (?5 IS NULL OR local_day = ?5) \
ORDER BY created_at_ms, kind, payment_id LIMIT ?4";

/// The billing tables, appended to the OSS's migrations.
pub(super) const BILLING_MIGRATION: &str = r#"
CREATE TABLE charges (
    payment_id TEXT PRIMARY KEY,
    binding_id TEXT NOT NULL,
    msisdn TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    item_description TEXT NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    currency TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('charged', 'declined')),
    decline_reason TEXT,
    bill_line_id TEXT UNIQUE,
    local_day TEXT NOT NULL,
    local_month TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX charges_of_binding ON charges (binding_id, local_month, local_day) WHERE outcome = 'charged';
CREATE INDEX charges_of_number ON charges (msisdn, local_month) WHERE outcome = 'charged';
CREATE TABLE refunds (
    refund_id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL,
    msisdn TEXT NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    outcome TEXT NOT NULL CHECK (outcome IN ('refunded', 'declined')),
    decline_reason TEXT,
    bill_line_id TEXT UNIQUE,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX refunds_of_payment ON refunds (payment_id) WHERE outcome = 'refunded';
CREATE TABLE charge_limits (
    msisdn TEXT PRIMARY KEY,
    max_per_charge_fen INTEGER,
    daily_fen INTEGER,
    monthly_fen INTEGER,
    min_interval_seconds INTEGER,
    credit_limit_fen INTEGER
);
"#;

impl Store {
    /// Charges (or declines) the payment, once: a second call with the same `payment_id` answers the first one's
    /// outcome. `limits` are the operator's; the subscriber's own override them.
    pub(crate) fn charge(
        &self,
        request: &ChargeRequest,
        limits: ChargeLimits,
        now_ms: i64,
    ) -> Result<ChargeOutcome, StoreError> {
        self.write(|connection| {
            if let Some(outcome) = recorded_charge(connection, request)? {
                return Ok(outcome);
            }
            let outcome = decide(connection, request, limits, now_ms)?;
            insert_charge(connection, request, &outcome, now_ms)?;
            if let ChargeOutcome::Charged { .. } = outcome {
                debit_prepaid_balance(connection, &request.msisdn, request.amount.minor_units(), now_ms)?;
            }
            Ok(outcome)
        })
    }

    /// Would the payment be charged now? Writes nothing (a payment awaiting the user's confirmation is checked
    /// first, so that a sure refusal is not put to the user).
    pub(crate) fn check_charge(
        &self,
        request: &ChargeRequest,
        limits: ChargeLimits,
        now_ms: i64,
    ) -> Result<ChargeOutcome, StoreError> {
        self.read(|connection| match recorded_charge(connection, request)? {
            Some(outcome) => Ok(outcome),
            None => decide(connection, request, limits, now_ms),
        })
    }
}

impl Store {
    /// The OSS's own records of charges and refunds matching `filter`, oldest first, at most `filter.limit`.
    pub(crate) fn list_charge_records(&self, filter: &ChargeRecordFilter) -> Result<Vec<ChargeRecord>, StoreError> {
        self.read(|connection| {
            let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
            let msisdn = filter.msisdn.as_ref().map(Msisdn::as_digits);
            let mut statement = connection.prepare_cached(LIST_RECORDS)?;
            let rows =
                statement.query_map(params![msisdn, filter.payment_id, filter.month, limit, filter.day], |row| {
                    Ok(ChargeRecord {
                        kind: row.get(0)?,
                        payment_id: row.get(1)?,
                        refund_id: row.get(2)?,
                        msisdn: row.get(3)?,
                        merchant_id: row.get(4)?,
                        item_description: row.get(5)?,
                        amount_fen: row.get(6)?,
                        currency: row.get(7)?,
                        outcome: row.get(8)?,
                        decline_reason: row.get(9)?,
                        bill_line_id: row.get(10)?,
                        local_month: row.get(11)?,
                        created_at_unix_ms: row.get(12)?,
                    })
                })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

fn recorded_charge(connection: &Connection, request: &ChargeRequest) -> Result<Option<ChargeOutcome>, StoreError> {
    let columns = ("charges", "payment_id", "msisdn");
    let Some(row) = recorded_money_row(connection, columns, request.payment_id.as_str())? else { return Ok(None) };
    let row = row.matching(request.msisdn.as_digits(), request.amount.minor_units())?;
    match (row.outcome.as_str(), row.bill_line_id, row.decline_reason) {
        ("charged", Some(bill_line_id), _) => Ok(Some(ChargeOutcome::Charged {
            bill_line_id,
            charged_at_unix_seconds: row.created_at_ms.div_euclid(1000),
        })),
        ("declined", _, Some(reason)) => {
            Ok(Some(ChargeOutcome::Declined { reason: parse_decline_reason(reason, "charge decline reason")? }))
        }
        _ => Err(StoreError::Corrupt("charge outcome".to_owned())),
    }
}

fn decide(
    connection: &Connection,
    request: &ChargeRequest,
    limits: ChargeLimits,
    now_ms: i64,
) -> Result<ChargeOutcome, StoreError> {
    let now = now_ms.div_euclid(1000);
    // Only a binding billing holds active pays: a charge that reached the OSS after the box was unbound (the
    // platform checked before sending, the unbinding raced it) has no payer, and is declined `not_bound`.
    let binding_active =
        super::bindings::is_active_binding_of(connection, request.binding_id.as_str(), &request.msisdn)?;
    let subscriber =
        if binding_active { super::subscribers::subscriber_on(connection, &request.msisdn)? } else { None };
    let limits = limits.overridden_by(&super::charge_limits::read_limit_override(connection, &request.msisdn)?);
    let spending = spending_of(connection, request, now)?;
    let own = super::self_service::read_own_charge_controls(connection, &request.msisdn)?;
    let context = ChargeContext { limits, spending, own };
    let decision = decide_charge(subscriber.as_ref(), context, request.amount, request.currency, now);
    Ok(match decision {
        Ok(()) => ChargeOutcome::Charged { bill_line_id: new_bill_line_id(), charged_at_unix_seconds: now },
        Err(reason) => ChargeOutcome::Declined { reason },
    })
}

fn spending_of(connection: &Connection, request: &ChargeRequest, now: i64) -> Result<Spending, StoreError> {
    let (day, month) = (local_day(now), local_month(now));
    let (binding_today_fen, binding_this_month_fen, last_charge_ms) = connection
        .prepare_cached(
            "SELECT COALESCE(SUM(CASE WHEN local_day = ?2 THEN amount_fen END), 0), COALESCE(SUM(amount_fen), 0), \
             MAX(created_at_ms) FROM charges WHERE binding_id = ?1 AND local_month = ?3 AND outcome = 'charged'",
        )?
        .query_row(params![request.binding_id.as_str(), day, month], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, Option<i64>>(2)?))
        })?;
    let number_unbilled_this_month_fen = connection
        .prepare_cached(
            "SELECT COALESCE(SUM(amount_fen), 0) FROM charges WHERE msisdn = ?1 AND local_month = ?2 \
             AND outcome = 'charged'",
        )?
        .query_row(params![request.msisdn.as_digits(), month], |row| row.get(0))?;
    // A charge on the binding last month still counts for the interval.
    let last_charge_ms = match last_charge_ms {
        Some(last) => Some(last),
        None => connection
            .prepare_cached("SELECT MAX(created_at_ms) FROM charges WHERE binding_id = ?1 AND outcome = 'charged'")?
            .query_row([request.binding_id.as_str()], |row| row.get::<_, Option<i64>>(0))?,
    };
    Ok(Spending {
        binding_today_fen,
        binding_this_month_fen,
        binding_last_charge_at_unix_seconds: last_charge_ms.map(|ms| ms.div_euclid(1000)),
        number_unbilled_this_month_fen,
    })
}

fn insert_charge(
    connection: &Connection,
    request: &ChargeRequest,
    outcome: &ChargeOutcome,
    now_ms: i64,
) -> Result<(), StoreError> {
    let (outcome_text, reason, bill_line_id) = match outcome {
        ChargeOutcome::Charged { bill_line_id, .. } => ("charged", None, Some(bill_line_id.as_str())),
        ChargeOutcome::Declined { reason } => ("declined", Some(denial_reason_text(*reason)), None),
    };
    let now = now_ms.div_euclid(1000);
    connection
        .prepare_cached(
            "INSERT INTO charges (payment_id, binding_id, msisdn, merchant_id, item_description, amount_fen, \
             currency, outcome, decline_reason, bill_line_id, local_day, local_month, created_at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(params![
            request.payment_id.as_str(),
            request.binding_id.as_str(),
            request.msisdn.as_digits(),
            request.merchant_id.as_str(),
            request.item_description.as_str(),
            request.amount.minor_units(),
            request.currency.code(),
            outcome_text,
            reason,
            bill_line_id,
            local_day(now),
            local_month(now),
            now_ms
        ])?;
    Ok(())
}

pub(super) fn debit_prepaid_balance(
    connection: &Connection,
    msisdn: &Msisdn,
    amount_fen: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    connection
        .prepare_cached(
            "UPDATE subscribers SET balance_fen = balance_fen - ?2, updated_at_ms = ?3 WHERE msisdn = ?1 AND plan = ?4",
        )?
        .execute(params![msisdn.as_digits(), amount_fen, now_ms, Plan::Prepaid.as_str()])?;
    Ok(())
}

/// `BL` and 24 hex digits: the operator's reference of one bill line.
pub(super) fn new_bill_line_id() -> String {
    format!("BL{}", &uuid::Uuid::new_v4().simple().to_string()[..24]).to_ascii_uppercase()
}

fn denial_reason_text(reason: PaymentDenialReason) -> String {
    serde_json::to_value(reason).ok().and_then(|value| value.as_str().map(str::to_owned)).unwrap_or_default()
}

#[cfg(test)]
#[path = "charges_tests.rs"]
mod tests;
