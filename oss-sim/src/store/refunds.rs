//! SQL of refunds: decided and written in one transaction with the prepaid credit, once per `refund_id`, never
//! more than the charge minus the refunds already made.

use super::charges::{debit_prepaid_balance, new_bill_line_id};
use super::money_rows::{parse_decline_reason, recorded_money_row};
use super::{Store, StoreError};
use numbind_wire::api::{BillingRefundOutcome, BillingRefundRequest, RefundDenialReason};
use numbind_wire::Msisdn;
use rusqlite::{params, Connection, OptionalExtension};

impl Store {
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
    let columns = ("refunds", "refund_id", "payment_id");
    let Some(row) = recorded_money_row(connection, columns, request.refund_id.as_str())? else { return Ok(None) };
    let row = row.matching(request.payment_id.as_str(), request.amount.minor_units())?;
    match (row.outcome.as_str(), row.bill_line_id, row.decline_reason) {
        ("refunded", Some(bill_line_id), _) => Ok(Some(BillingRefundOutcome::Refunded {
            bill_line_id,
            refunded_at_unix_seconds: row.created_at_ms.div_euclid(1000),
        })),
        ("declined", _, Some(reason)) => {
            Ok(Some(BillingRefundOutcome::Declined { reason: parse_decline_reason(reason, "refund decline reason")? }))
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

fn refund_reason_text(reason: RefundDenialReason) -> String {
    serde_json::to_value(reason).ok().and_then(|value| value.as_str().map(str::to_owned)).unwrap_or_default()
}
