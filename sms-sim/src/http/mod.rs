//! The phone API router: routes, request IDs, tracing, `/healthz`, `/metrics`, and JSON-only errors.

mod messages;
mod openapi;
mod phones;
mod sent_messages;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use numbind_process::http_api::{metrics_response, refuse_oversized_bodies, MAX_BODY_BYTES};
use std::sync::Arc;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/v1/phones/{msisdn}/messages", post(phones::send_message))
        .route("/v1/phones/{msisdn}/inbox", get(phones::inbox))
        .route("/v1/messages/{message_id}", get(messages::message_status))
        .route("/v1/accounts/{account}/sent-messages", get(sent_messages::sent_messages))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi::openapi_document))
        .fallback(|| async { ApiError::NotFound("route") })
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(MAX_BODY_BYTES, refuse_oversized_bodies));
    numbind_process::http_api::with_request_ids_and_tracing(api)
}

async fn healthz(State(state): State<Arc<AppState>>) -> Result<Json<serde_json::Value>, ApiError> {
    state.store.call(|store| store.ping()).await?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    metrics_response(state.metrics.registry())
}
