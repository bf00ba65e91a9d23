//! Payment reconciliation for operators: `GET /v1/operator/payment-ledger?day=2026-12-07` (the platform's ledger
//! of a China Standard Time day, read by `numbind settlement run` and `numbind reconcile payments`),
//! `GET /v1/operator/payment-differences?day=` (the day's three-way differences as the console shows them, or
//! `reconciliation_side_unreadable` naming the side that could not be read) and admin
//! `POST /v1/operator/payment-repairs` (re-drive billing, re-send a receipt, or adjust with a reason).

use super::operator_auth::AuthenticatedOperator;
use crate::domain::payment_reconciliation::PaymentDifference;
use crate::error::ApiError;
use crate::operator_views::payment_differences::reconcile_day;
use crate::operator_views::reconciliation::{parse_day, parse_repair, perform_repair, read_ledger, RepairBody};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use numbind_process::http_api::{parse_json_body, ApiQuery};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LedgerQuery {
    day: String,
}

/// `GET /v1/operator/payment-ledger?day=`: the day's settled charges and refunds, receipts and adjustments.
pub(super) async fn payment_ledger(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LedgerQuery>,
    _operator: AuthenticatedOperator,
) -> Result<Json<Value>, ApiError> {
    let day = parse_day(&query.day)?;
    let ledger = read_ledger(&state, day).await?;
    Ok(Json(json!({ "day": day.to_string(), "entries": ledger.entries, "adjustments": ledger.adjustments })))
}

fn difference_json(difference: &PaymentDifference) -> Value {
    json!({
        "kind": difference.kind,
        "record_id": difference.record_id,
        "payment_id": difference.payment_id,
        "msisdn_masked": difference.msisdn_masked,
        "at": difference.at,
        "merchant_id": difference.merchant_id,
        "detail": difference.detail,
        "platform_amount_fen": difference.platform_amount_fen,
        "billing_amount_fen": difference.billing_amount_fen,
        "repair": difference.repair.api_action(),
    })
}

/// `GET /v1/operator/payment-differences?day=`: every difference of the day by kind, with the repair that fits.
pub(super) async fn payment_differences(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LedgerQuery>,
    _operator: AuthenticatedOperator,
) -> Result<Json<Value>, ApiError> {
    let day = parse_day(&query.day)?;
    let reconciliation = reconcile_day(&state, day).await?;
    let differences = reconciliation.differences.map_err(|unreadable| {
        let reasons: Vec<String> = unreadable.iter().map(ToString::to_string).collect();
        ApiError::ReconciliationSideUnreadable(format!("no verdict: {}", reasons.join("; ")))
    })?;
    Ok(Json(json!({
        "day": day.to_string(),
        "platform_entries": reconciliation.ledger.entries.len(),
        "adjustments": reconciliation.ledger.adjustments.len(),
        "differences": differences.iter().map(difference_json).collect::<Vec<_>>(),
    })))
}

/// `POST /v1/operator/payment-repairs` (admin).
pub(super) async fn repair_payment_difference(
    State(state): State<AppState>,
    operator: AuthenticatedOperator,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    operator.require_admin()?;
    let body: RepairBody = parse_json_body(&body)?;
    let request = parse_repair(body, &operator.0.name)?;
    Ok(Json(perform_repair(&state, request).await?))
}
