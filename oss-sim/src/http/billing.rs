//! The OSS as the operator's billing system: `POST /v1/platform/charge-checks`, `/v1/platform/charges` and
//! `/v1/platform/refunds` (component HMAC, client `platform`). Idempotent by the platform's payment and refund
//! IDs, so the platform retries them until it has an answer and a charge is never applied twice. Operators read
//! and set a subscriber's own charge limits at `/v1/subscribers/{msisdn}/charge-limits` (admin token).

use super::revocations::verify_platform_hmac;
use crate::domain::charging::{ChargeLimits, LimitOverride};
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::Json;
use numbind_process::clock::now_unix_millis;
use numbind_process::http_api::{ApiJson, ApiPath};
use numbind_wire::api::{BillingRefundOutcome, BillingRefundRequest, ChargeOutcome, ChargeRequest};
use numbind_wire::Msisdn;
use std::sync::Arc;

/// Checks the platform's HMAC over this exact request, then reads its body as `T` (`what` names it in the refusal).
fn platform_request<T: serde::de::DeserializeOwned>(
    state: &AppState,
    (method, uri, headers): (&Method, &Uri, &HeaderMap),
    body: &[u8],
    what: &str,
) -> Result<T, ApiError> {
    verify_platform_hmac(state, headers, method, uri, body)?;
    serde_json::from_slice(body).map_err(|error| ApiError::InvalidRequest(format!("malformed {what}: {error}")))
}

/// Charges the bound number once per payment; a retried call answers the first call's outcome.
#[tracing::instrument(skip_all)]
pub(super) async fn charge(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ChargeOutcome>, ApiError> {
    let request: ChargeRequest = platform_request(&state, (&method, &uri, &headers), &body, "charge")?;
    let (limits, now_ms) = (state.config.charge_limits, now_unix_millis());
    let payment_id = request.payment_id.clone();
    // On the writer thread: the charges queued there share a commit without a blocking-pool thread parked per charge.
    let outcome = state.store.call_write(move |store| store.charge(&request, limits, now_ms)).await?;
    state.metrics.count_charge(&outcome);
    tracing::info!(%payment_id, ?outcome, "charge decided");
    Ok(Json(outcome))
}

/// Would the charge pass now? Nothing is written.
#[tracing::instrument(skip_all)]
pub(super) async fn check_charge(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ChargeOutcome>, ApiError> {
    let request: ChargeRequest = platform_request(&state, (&method, &uri, &headers), &body, "charge check")?;
    let (limits, now_ms) = (state.config.charge_limits, now_unix_millis());
    Ok(Json(state.store.call(move |store| store.check_charge(&request, limits, now_ms)).await?))
}

/// Refunds once per refund ID, never more than was charged minus what was refunded.
#[tracing::instrument(skip_all)]
pub(super) async fn refund(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<BillingRefundOutcome>, ApiError> {
    let request: BillingRefundRequest = platform_request(&state, (&method, &uri, &headers), &body, "refund")?;
    let (refund_id, payment_id, now_ms) = (request.refund_id.clone(), request.payment_id.clone(), now_unix_millis());
    let outcome = state.store.call(move |store| store.refund(&request, now_ms)).await?;
    tracing::info!(%refund_id, %payment_id, ?outcome, "refund decided");
    Ok(Json(outcome))
}

/// `GET /v1/subscribers/{msisdn}/charge-limits` (admin): the subscriber's own limits and those in force.
pub(super) async fn get_charge_limits(
    State(state): State<Arc<AppState>>,
    ApiPath(msisdn): ApiPath<String>,
) -> Result<Json<ChargeLimitsView>, ApiError> {
    let msisdn = parse_msisdn(&msisdn)?;
    let operator = state.config.charge_limits;
    let own = state.store.call(move |store| store.limit_override(&msisdn)).await?;
    Ok(Json(ChargeLimitsView { own, in_force: operator.overridden_by(&own) }))
}

/// `PUT /v1/subscribers/{msisdn}/charge-limits` (admin): sets the subscriber's own limits (`null` keeps the
/// operator's). Each must be zero or more.
pub(super) async fn set_charge_limits(
    State(state): State<Arc<AppState>>,
    ApiPath(msisdn): ApiPath<String>,
    ApiJson(own): ApiJson<LimitOverride>,
) -> Result<Json<ChargeLimitsView>, ApiError> {
    let msisdn = parse_msisdn(&msisdn)?;
    let fields =
        [own.max_per_charge_fen, own.daily_fen, own.monthly_fen, own.min_interval_seconds, own.credit_limit_fen];
    if fields.iter().flatten().any(|value| *value < 0) {
        return Err(ApiError::InvalidRequest("a charge limit must be zero or more".to_owned()));
    }
    let exists = {
        let msisdn = msisdn.clone();
        state.store.call(move |store| store.get_subscriber(&msisdn)).await?.is_some()
    };
    if !exists {
        return Err(ApiError::SubscriberNotFound);
    }
    state.store.call(move |store| store.set_limit_override(&msisdn, &own)).await?;
    Ok(Json(ChargeLimitsView { own, in_force: state.config.charge_limits.overridden_by(&own) }))
}

fn parse_msisdn(text: &str) -> Result<Msisdn, ApiError> {
    Msisdn::parse(text).map_err(|error| ApiError::InvalidRequest(error.to_string()))
}

/// A subscriber's own charge limits and the limits in force for it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct ChargeLimitsView {
    pub(crate) own: LimitOverride,
    pub(crate) in_force: ChargeLimits,
}
