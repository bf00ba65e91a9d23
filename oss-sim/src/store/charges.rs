//! SQL of the billing tables: `charges` (one row per platform payment, charged or declined), `refunds` and
//! `charge_limits` (a subscriber's own limits). A charge or refund is decided and written in one transaction on
//! the writer's connection, so two charges never both pass a limit or both spend the last of a balance, and a
//! retried call (same `payment_id` or `refund_id`) reads the first call's row back instead of charging again.

use super::{Store, StoreError};
use crate::domain::charging::{decide_charge, local_day, local_month, ChargeLimits, LimitOverride, Spending};
use crate::domain::subscriber::Plan;
use numbind_wire::api::{
    BillingRefundOutcome, BillingRefundRequest, ChargeOutcome, ChargeRequest, PaymentDenialReason, RefundDenialReason,
};
use numbind_wire::Msisdn;
use rusqlite::{params, Connection, OptionalExtension};

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

    /// Refunds (or declines) once: never more than the charge minus the refunds already made.
    pub(crate) fn refund(
        &self,
        request: &BillingRefundRequest,
        now_ms: i64,
    ) -> Result<BillingRefundOutcome, StoreError> {
        self.write(|connection| {
            if let Some(outcome) = recorded_refund(connection, request)? {
                return Ok(outcome);
            }
            let outcome = decide_refund(connection, request, now_ms)?;
            let (outcome_text, reason, bill_line_id) = match &outcome {
                BillingRefundOutcome::Refunded { bill_line_id, .. } => ("refunded", None, Some(bill_line_id.as_str())),
                BillingRefundOutcome::Declined { reason } => ("declined", Some(refund_reason_text(*reason)), None),
            };
            connection
                .prepare_cached(
                    "INSERT INTO refunds (refund_id, payment_id, msisdn, amount_fen, outcome, decline_reason, \
                     bill_line_id, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![
                    request.refund_id.as_str(),
                    request.payment_id.as_str(),
                    request.msisdn.as_digits(),
                    request.amount.minor_units(),
                    outcome_text,
                    reason,
                    bill_line_id,
                    now_ms
                ])?;
            if let BillingRefundOutcome::Refunded { .. } = outcome {
                credit_prepaid_balance(connection, &request.msisdn, request.amount.minor_units(), now_ms)?;
            }
            Ok(outcome)
        })
    }

    /// Sets (or, with every field `None`, clears) a subscriber's own limits.
    pub(crate) fn set_limit_override(&self, msisdn: &Msisdn, overrides: &LimitOverride) -> Result<(), StoreError> {
        self.write(|connection| {
            connection
                .prepare_cached(
                    "INSERT INTO charge_limits (msisdn, max_per_charge_fen, daily_fen, monthly_fen, \
                     min_interval_seconds, credit_limit_fen) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (msisdn) DO UPDATE SET max_per_charge_fen = ?2, daily_fen = ?3, monthly_fen = ?4, \
                     min_interval_seconds = ?5, credit_limit_fen = ?6",
                )?
                .execute(params![
                    msisdn.as_digits(),
                    overrides.max_per_charge_fen,
                    overrides.daily_fen,
                    overrides.monthly_fen,
                    overrides.min_interval_seconds,
                    overrides.credit_limit_fen
                ])?;
            Ok(())
        })
    }

    /// A subscriber's own limits (all `None` when it has none).
    pub(crate) fn limit_override(&self, msisdn: &Msisdn) -> Result<LimitOverride, StoreError> {
        self.read(|connection| read_limit_override(connection, msisdn))
    }
}

fn recorded_charge(connection: &Connection, request: &ChargeRequest) -> Result<Option<ChargeOutcome>, StoreError> {
    let row = connection
        .prepare_cached(
            "SELECT msisdn, amount_fen, outcome, decline_reason, bill_line_id, created_at_ms FROM charges \
             WHERE payment_id = ?1",
        )?
        .query_row([request.payment_id.as_str()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })
        .optional()?;
    let Some((msisdn, amount_fen, outcome, reason, bill_line_id, created_at_ms)) = row else {
        return Ok(None);
    };
    if msisdn != request.msisdn.as_digits() || amount_fen != request.amount.minor_units() {
        return Err(StoreError::ConflictingRetry);
    }
    outcome_from_columns(&outcome, reason, bill_line_id, created_at_ms).map(Some)
}

fn outcome_from_columns(
    outcome: &str,
    reason: Option<String>,
    bill_line_id: Option<String>,
    created_at_ms: i64,
) -> Result<ChargeOutcome, StoreError> {
    match (outcome, bill_line_id, reason) {
        ("charged", Some(bill_line_id), _) => {
            Ok(ChargeOutcome::Charged { bill_line_id, charged_at_unix_seconds: created_at_ms.div_euclid(1000) })
        }
        ("declined", _, Some(reason)) => {
            let reason = serde_json::from_value(serde_json::Value::String(reason))
                .map_err(|_| StoreError::Corrupt("charge decline reason".to_owned()))?;
            Ok(ChargeOutcome::Declined { reason })
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
    let subscriber = super::subscribers::subscriber_on(connection, &request.msisdn)?;
    let limits = limits.overridden_by(&read_limit_override(connection, &request.msisdn)?);
    let spending = spending_of(connection, request, now)?;
    let decision = decide_charge(subscriber.as_ref(), limits, spending, request.amount, request.currency, now);
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

fn debit_prepaid_balance(
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

fn credit_prepaid_balance(
    connection: &Connection,
    msisdn: &Msisdn,
    amount_fen: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    debit_prepaid_balance(connection, msisdn, -amount_fen, now_ms)
}

fn recorded_refund(
    connection: &Connection,
    request: &BillingRefundRequest,
) -> Result<Option<BillingRefundOutcome>, StoreError> {
    let row = connection
        .prepare_cached(
            "SELECT payment_id, amount_fen, outcome, decline_reason, bill_line_id, created_at_ms FROM refunds \
             WHERE refund_id = ?1",
        )?
        .query_row([request.refund_id.as_str()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })
        .optional()?;
    let Some((payment_id, amount_fen, outcome, reason, bill_line_id, created_at_ms)) = row else {
        return Ok(None);
    };
    if payment_id != request.payment_id.as_str() || amount_fen != request.amount.minor_units() {
        return Err(StoreError::ConflictingRetry);
    }
    match (outcome.as_str(), bill_line_id, reason) {
        ("refunded", Some(bill_line_id), _) => Ok(Some(BillingRefundOutcome::Refunded {
            bill_line_id,
            refunded_at_unix_seconds: created_at_ms.div_euclid(1000),
        })),
        ("declined", _, Some(reason)) => {
            let reason = serde_json::from_value(serde_json::Value::String(reason))
                .map_err(|_| StoreError::Corrupt("refund decline reason".to_owned()))?;
            Ok(Some(BillingRefundOutcome::Declined { reason }))
        }
        _ => Err(StoreError::Corrupt("refund outcome".to_owned())),
    }
}

fn decide_refund(
    connection: &Connection,
    request: &BillingRefundRequest,
    now_ms: i64,
) -> Result<BillingRefundOutcome, StoreError> {
    let charged: Option<i64> = connection
        .prepare_cached("SELECT amount_fen FROM charges WHERE payment_id = ?1 AND msisdn = ?2 AND outcome = 'charged'")?
        .query_row(params![request.payment_id.as_str(), request.msisdn.as_digits()], |row| row.get(0))
        .optional()?;
    let Some(charged_fen) = charged else {
        return Ok(BillingRefundOutcome::Declined { reason: RefundDenialReason::ChargeNotFound });
    };
    let refunded_fen: i64 = connection
        .prepare_cached(
            "SELECT COALESCE(SUM(amount_fen), 0) FROM refunds WHERE payment_id = ?1 AND outcome = 'refunded'",
        )?
        .query_row([request.payment_id.as_str()], |row| row.get(0))?;
    if refunded_fen + request.amount.minor_units() > charged_fen {
        return Ok(BillingRefundOutcome::Declined { reason: RefundDenialReason::ExceedsRefundable });
    }
    Ok(BillingRefundOutcome::Refunded {
        bill_line_id: new_bill_line_id(),
        refunded_at_unix_seconds: now_ms.div_euclid(1000),
    })
}

fn read_limit_override(connection: &Connection, msisdn: &Msisdn) -> Result<LimitOverride, StoreError> {
    Ok(connection
        .prepare_cached(
            "SELECT max_per_charge_fen, daily_fen, monthly_fen, min_interval_seconds, credit_limit_fen \
             FROM charge_limits WHERE msisdn = ?1",
        )?
        .query_row([msisdn.as_digits()], |row| {
            Ok(LimitOverride {
                max_per_charge_fen: row.get(0)?,
                daily_fen: row.get(1)?,
                monthly_fen: row.get(2)?,
                min_interval_seconds: row.get(3)?,
                credit_limit_fen: row.get(4)?,
            })
        })
        .optional()?
        .unwrap_or_default())
}

/// `BL` and 24 hex digits: the operator's reference of one bill line.
fn new_bill_line_id() -> String {
    format!("BL{}", &uuid::Uuid::new_v4().simple().to_string()[..24]).to_ascii_uppercase()
}

fn denial_reason_text(reason: PaymentDenialReason) -> String {
    serde_json::to_value(reason).ok().and_then(|value| value.as_str().map(str::to_owned)).unwrap_or_default()
}

fn refund_reason_text(reason: RefundDenialReason) -> String {
    serde_json::to_value(reason).ok().and_then(|value| value.as_str().map(str::to_owned)).unwrap_or_default()
}

#[cfg(test)]
#[path = "charges_tests.rs"]
mod tests;
