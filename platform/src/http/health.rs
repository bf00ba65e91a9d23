//! `GET /healthz` and `GET /metrics`.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use axum::Json;

/// 200 `{"status":"ok"}` when the store answers.
pub(super) async fn healthz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    state.store.call(|store| store.ping()).await?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

/// The OpenMetrics text exposition.
pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    numbind_process::http_api::metrics_response(state.metrics.registry())
}
