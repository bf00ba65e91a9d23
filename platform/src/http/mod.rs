//! The HTTP API: routes, request IDs and tracing, request metrics, overload shedding.

mod activations;
mod disputes;
pub(crate) mod exports;
mod health;
mod layers;
mod merchant_auth;
mod openapi;
mod operator_auth;
mod operator_payments;
mod operators;
mod oss;
mod oss_auth;
mod oss_payments;
mod payment_lists;
pub(crate) mod payment_reconciliation;
mod payments;
mod purchases;
mod refunds;
mod terminal_auth;
mod terminal_sessions;
mod terminals;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{MatchedPath, Request};
use axum::routing::{get, post};
use axum::Router;
use layers::{CountRequestsLayer, ShedOverloadLayer};
use numbind_process::http_api::{self, MAX_BODY_BYTES};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Every route of the platform, with its layers.
pub(crate) fn router(state: AppState, max_concurrent_requests: usize) -> Router {
    let terminal_routes = Router::new()
        .route("/v1/terminals", post(terminals::register_terminal))
        .route("/v1/terminals/{terminal_id}/binding", get(terminals::binding_status))
        .route("/v1/terminals/{terminal_id}/sessions", post(terminal_sessions::open_session))
        .route("/v1/terminals/{terminal_id}/binding-check", get(terminal_sessions::binding_check))
        .route("/v1/terminals/{terminal_id}/reset", post(terminals::reset_terminal))
        .route("/v1/terminals/{terminal_id}/activations", post(activations::issue_activation))
        .route("/v1/terminals/{terminal_id}/activations/{activation_id}", get(activations::poll_activation))
        .route(
            "/v1/terminals/{terminal_id}/activations/{activation_id}/acknowledgement",
            post(activations::acknowledge_binding),
        )
        .route("/v1/terminals/{terminal_id}/purchases/{intent_nonce}", get(purchases::poll_purchase));
    let merchant_routes = Router::new()
        .route("/v1/payments", post(payments::create_payment).get(payment_lists::list_payments))
        .route("/v1/payments/{payment_id}", get(payments::get_payment))
        .route("/v1/payments/{payment_id}/cancel", post(payments::cancel_payment))
        .route("/v1/payments/{payment_id}/refunds", post(refunds::create_refund).get(payment_lists::list_refunds))
        .route("/v1/payments/{payment_id}/refunds/remaining-amount", get(payment_lists::remaining_refundable))
        .route("/v1/payments/{payment_id}/refunds/{refund_id}", get(payment_lists::get_refund));
    let oss_routes = Router::new()
        .route("/v1/oss/redemptions", post(oss::redeem_code))
        .route("/v1/oss/confirmations", post(oss::confirm_binding))
        .route("/v1/oss/unbindings", post(oss::unbind))
        .route("/v1/oss/payment-confirmations", post(oss_payments::answer_payment_confirmation))
        .route("/v1/oss/disputes", post(disputes::open_dispute));
    let operator_routes = Router::new()
        .route("/v1/operator/bindings", get(operators::search_bindings))
        .route("/v1/operator/terminals/{terminal_id}/history", get(operators::terminal_history))
        .route("/v1/operator/terminals/{terminal_id}/unbind", post(operators::unbind_terminal))
        .route("/v1/operator/audit-events", get(operators::audit_events))
        .route("/v1/operator/activity", get(operators::activity))
        .route("/v1/operator/payments", get(operator_payments::search_payments))
        .route("/v1/operator/payments/{payment_id}/refunds", post(refunds::operator_refund))
        .route("/v1/operator/disputes", get(disputes::list_disputes))
        .route("/v1/operator/exports/disputes.csv", get(exports::disputes_csv))
        .route("/v1/operator/exports/disputes.jsonl", get(exports::disputes_jsonl))
        .route("/v1/operator/disputes/{dispute_id}/resolution", post(disputes::resolve_dispute))
        .route("/v1/operator/exports/payments.csv", get(exports::payments_csv))
        .route("/v1/operator/exports/payments.jsonl", get(exports::payments_jsonl))
        .route("/v1/operator/exports/refunds.csv", get(exports::refunds_csv))
        .route("/v1/operator/exports/refunds.jsonl", get(exports::refunds_jsonl))
        .route("/v1/operator/exports/settlement-lines.csv", get(exports::settlement_lines_csv))
        .route("/v1/operator/exports/settlement-lines.jsonl", get(exports::settlement_lines_jsonl))
        .route("/v1/operator/reconciliation-snapshot", get(operators::reconciliation_snapshot))
        .route("/v1/operator/payment-ledger", get(payment_reconciliation::payment_ledger))
        .route("/v1/operator/payment-differences", get(payment_reconciliation::payment_differences))
        .route("/v1/operator/payment-repairs", post(payment_reconciliation::repair_payment_difference))
        .route("/v1/operator/exports/bindings.csv", get(exports::bindings_csv))
        .route("/v1/operator/exports/bindings.jsonl", get(exports::bindings_jsonl))
        .route("/v1/operator/exports/audit-events.csv", get(exports::audit_events_csv))
        .route("/v1/operator/exports/audit-events.jsonl", get(exports::audit_events_jsonl));
    let operations_routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(openapi::openapi_document));
    terminal_routes
        .merge(merchant_routes)
        .merge(oss_routes)
        .merge(operator_routes)
        .merge(operations_routes)
        .nest("/console", crate::console::router())
        .fallback(|| async { ApiError::NoSuchEndpoint })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .route_layer(CountRequestsLayer::new(state.metrics.http_requests.clone()))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(MAX_BODY_BYTES, http_api::refuse_oversized_bodies))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(ShedOverloadLayer::new(max_concurrent_requests)),
        )
        .with_state(state)
}

/// The span of one request: method, matched route and request ID (never the query or the body).
fn request_span(request: &Request) -> tracing::Span {
    let request_id = request.headers().get("x-request-id").and_then(|value| value.to_str().ok()).unwrap_or("-");
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
    tracing::info_span!("http", method = %request.method(), route, request_id)
}
