//! The operators' streamed exports (`/v1/operator/exports/...`): bindings, audit events, payments, refunds,
//! disputes and a day's settlement lines, CSV and JSON Lines, numbers masked; built in `operator_views`, shared with
//! the console.

use super::operator_auth::AuthenticatedOperator;
use crate::error::ApiError;
use crate::operator_views::disputes::dispute_export;
use crate::operator_views::money_exports::{refund_export, settlement_lines_export};
use crate::operator_views::reconciliation::{parse_day, read_ledger};
use crate::operator_views::{audit_export, binding_export, payments::payment_export, streamed, ExportFormat};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use numbind_process::http_api::ApiQuery;

/// `GET /v1/operator/exports/bindings.csv` (numbers masked).
pub(super) async fn bindings_csv(State(state): State<AppState>, _operator: AuthenticatedOperator) -> Response {
    streamed(binding_export(state, ExportFormat::Csv), ExportFormat::Csv)
}

/// `GET /v1/operator/exports/bindings.jsonl` (numbers masked).
pub(super) async fn bindings_jsonl(State(state): State<AppState>, _operator: AuthenticatedOperator) -> Response {
    streamed(binding_export(state, ExportFormat::JsonLines), ExportFormat::JsonLines)
}

/// `GET /v1/operator/exports/audit-events.csv`.
pub(super) async fn audit_events_csv(State(state): State<AppState>, _operator: AuthenticatedOperator) -> Response {
    streamed(audit_export(state, ExportFormat::Csv), ExportFormat::Csv)
}

/// `GET /v1/operator/exports/audit-events.jsonl`.
pub(super) async fn audit_events_jsonl(State(state): State<AppState>, _operator: AuthenticatedOperator) -> Response {
    streamed(audit_export(state, ExportFormat::JsonLines), ExportFormat::JsonLines)
}

/// `GET /v1/operator/exports/payments.csv` (numbers masked).
pub(super) async fn payments_csv(State(state): State<AppState>, _operator: AuthenticatedOperator) -> Response {
    payment_export(state, true)
}

/// `GET /v1/operator/exports/payments.jsonl` (numbers masked).
pub(super) async fn payments_jsonl(State(state): State<AppState>, _operator: AuthenticatedOperator) -> Response {
    payment_export(state, false)
}

/// `GET /v1/operator/exports/refunds.csv` (numbers masked).
pub(super) async fn refunds_csv(State(state): State<AppState>, _operator: AuthenticatedOperator) -> Response {
    refund_export(state, ExportFormat::Csv)
}

/// `GET /v1/operator/exports/refunds.jsonl` (numbers masked).
pub(super) async fn refunds_jsonl(State(state): State<AppState>, _operator: AuthenticatedOperator) -> Response {
    refund_export(state, ExportFormat::JsonLines)
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DayQuery {
    day: String,
}

async fn settlement_lines(state: AppState, query: DayQuery, format: ExportFormat) -> Result<Response, ApiError> {
    let ledger = read_ledger(&state, parse_day(&query.day)?).await?;
    Ok(settlement_lines_export(&ledger.entries, format))
}

/// `GET /v1/operator/exports/settlement-lines.csv?day=` (numbers masked).
pub(super) async fn settlement_lines_csv(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DayQuery>,
    _operator: AuthenticatedOperator,
) -> Result<Response, ApiError> {
    settlement_lines(state, query, ExportFormat::Csv).await
}

/// `GET /v1/operator/exports/settlement-lines.jsonl?day=` (numbers masked).
pub(super) async fn settlement_lines_jsonl(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DayQuery>,
    _operator: AuthenticatedOperator,
) -> Result<Response, ApiError> {
    settlement_lines(state, query, ExportFormat::JsonLines).await
}

/// `GET /v1/operator/exports/disputes.csv` (numbers masked).
pub(super) async fn disputes_csv(State(state): State<AppState>, _operator: AuthenticatedOperator) -> Response {
    dispute_export(state, true)
}

/// `GET /v1/operator/exports/disputes.jsonl` (numbers masked).
pub(super) async fn disputes_jsonl(State(state): State<AppState>, _operator: AuthenticatedOperator) -> Response {
    dispute_export(state, false)
}
