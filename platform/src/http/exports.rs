//! The operators' streamed exports (`/v1/operator/exports/...`): bindings, audit events, payments and disputes, CSV and
//! JSON Lines, numbers masked; built in `operator_views`, shared with the console.

use super::operator_auth::AuthenticatedOperator;
use crate::operator_views::disputes::dispute_export;
use crate::operator_views::{audit_export, binding_export, payments::payment_export, streamed, ExportFormat};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;

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

/// `GET /v1/operator/exports/disputes.csv` (numbers masked).
pub(super) async fn disputes_csv(State(state): State<AppState>, _operator: AuthenticatedOperator) -> Response {
    dispute_export(state, true)
}

/// `GET /v1/operator/exports/disputes.jsonl` (numbers masked).
pub(super) async fn disputes_jsonl(State(state): State<AppState>, _operator: AuthenticatedOperator) -> Response {
    dispute_export(state, false)
}
