//! The admin API router: routes, admin-token check, request IDs, tracing, `/healthz`, `/metrics`, JSON errors.

mod audit_checkpoints;
pub(crate) mod billing;
pub(crate) mod bindings;
pub(crate) mod charges;
mod inbox;
mod openapi;
mod revocations;
pub(crate) mod subscribers;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use numbind_process::http_api::{metrics_response, refuse_oversized_bodies, MAX_BODY_BYTES};
use numbind_wire::audit_checkpoint::{OSS_AUDIT_CHECKPOINTS_PATH, PLATFORM_AUDIT_CHECKPOINTS_PATH};
use std::sync::Arc;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let admin = Router::new()
        .route("/v1/subscribers", get(subscribers::list_subscribers).post(subscribers::create_subscriber))
        .route("/v1/subscribers/{msisdn}", get(subscribers::get_subscriber).patch(subscribers::update_subscriber))
        .route(
            "/v1/subscribers/{msisdn}/charge-limits",
            get(billing::get_charge_limits).put(billing::set_charge_limits),
        )
        .route("/v1/bindings", get(bindings::list_bindings))
        .route("/v1/charges", get(charges::list_charges))
        .route("/v1/inbox/{smsc_message_id}", get(inbox::inbox_message))
        .route(OSS_AUDIT_CHECKPOINTS_PATH, get(audit_checkpoints::list_audit_checkpoints))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_admin_token));
    let api = Router::new()
        .merge(admin)
        .route(numbind_wire::api::PLATFORM_REVOCATIONS_PATH, axum::routing::post(revocations::revoke_for_platform))
        .route(PLATFORM_AUDIT_CHECKPOINTS_PATH, axum::routing::post(audit_checkpoints::receive_audit_checkpoint))
        .route(numbind_wire::api::CHARGES_PATH, axum::routing::post(billing::charge))
        .route(numbind_wire::api::CHARGE_CHECKS_PATH, axum::routing::post(billing::check_charge))
        .route(numbind_wire::api::BILLING_REFUNDS_PATH, axum::routing::post(billing::refund))
        .route(numbind_wire::api::PLATFORM_BILL_LINES_PATH, get(charges::bill_lines_for_platform))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi::openapi_document))
        .fallback(|| async { ApiError::RouteNotFound })
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(MAX_BODY_BYTES, refuse_oversized_bodies));
    numbind_process::http_api::with_request_ids_and_tracing(api)
}

/// With an admin token configured, `/v1/*` wants `authorization: Bearer <token>`.
async fn require_admin_token(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    if let Some(expected) = &state.config.admin_token {
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        if !presented.is_some_and(|token| tokens_match(token, expected)) {
            return ApiError::Unauthenticated.into_response();
        }
    }
    next.run(request).await
}

/// Compares digests, so the time taken says nothing about how much of the token was right.
fn tokens_match(presented: &str, expected: &str) -> bool {
    let digest = |text: &str| ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref().to_vec();
    digest(presented) == digest(expected)
}

async fn healthz(State(state): State<Arc<AppState>>) -> Result<Json<serde_json::Value>, ApiError> {
    state.store.call(|store| store.ping()).await?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    metrics_response(state.metrics.registry())
}
