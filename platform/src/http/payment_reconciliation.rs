//! Payment reconciliation for operators: `GET /v1/operator/payment-ledger?day=2026-12-07` (the platform's ledger
//! of a China Standard Time day, read by `numbind settlement run` and `numbind reconcile payments`) and admin
//! `POST /v1/operator/payment-repairs` (re-drive billing, re-send a receipt, or adjust with a reason).

use super::operator_auth::AuthenticatedOperator;
use crate::error::ApiError;
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
