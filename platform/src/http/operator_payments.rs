//! `GET /v1/operator/payments`: operators search payments (numbers masked).

use super::operator_auth::AuthenticatedOperator;
use crate::error::ApiError;
use crate::operator_views::payments::{operator_filter, operator_payment_json, OperatorPaymentQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use numbind_process::http_api::ApiQuery;
use serde_json::{json, Value};

/// `GET /v1/operator/payments`: search by merchant, terminal, state, reference or payment ID (numbers masked).
pub(super) async fn search_payments(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<OperatorPaymentQuery>,
    _operator: AuthenticatedOperator,
) -> Result<Json<Value>, ApiError> {
    let filter = operator_filter(&query)?;
    let records = state.store.call(move |store| store.search_payments(&filter)).await?;
    Ok(Json(json!({ "payments": records.iter().map(operator_payment_json).collect::<Vec<_>>() })))
}
