//! `POST /v1/platform/revocations`: the platform tells the OSS of a binding it revoked (operator unbinding,
//! factory reset). Component HMAC with client `platform` and the shared secret; idempotent, so it always drains.

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::Json;
use numbind_process::clock::{now_unix_millis, now_unix_seconds};
use numbind_wire::api::{PlatformRevocationRequest, PlatformRevocationResponse};
use numbind_wire::component_auth::ComponentAuthorization;
use std::sync::Arc;

/// The only client allowed here.
const PLATFORM_CLIENT: &str = "platform";
/// How far the request's timestamp may be from now, either way.
const TIMESTAMP_WINDOW_SECONDS: i64 = 300;

/// Checks `authorization: NUMBIND-HMAC-SHA256 client=platform,...` over this exact request.
pub(super) fn verify_platform_hmac(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
    uri: &Uri,
    body: &[u8],
) -> Result<(), ApiError> {
    let header = headers.get(axum::http::header::AUTHORIZATION).and_then(|value| value.to_str().ok());
    let authorization = ComponentAuthorization::parse(header).map_err(|_| ApiError::ComponentUnauthenticated)?;
    if authorization.client != PLATFORM_CLIENT {
        return Err(ApiError::ComponentUnauthenticated);
    }
    let now_seconds = now_unix_seconds();
    // `abs_diff`: a hostile timestamp (i64::MIN) must not overflow the subtraction.
    if authorization.timestamp_unix_seconds.abs_diff(now_seconds) > TIMESTAMP_WINDOW_SECONDS.unsigned_abs() {
        return Err(ApiError::ComponentUnauthenticated);
    }
    let path_and_query = uri.path_and_query().map_or_else(|| uri.path().to_owned(), ToString::to_string);
    authorization
        .verify(&state.config.platform_secret, method.as_str(), &path_and_query, body)
        .map_err(|_| ApiError::ComponentUnauthenticated)
}

/// Revokes the OSS's record of the binding; 200 whether it was active, already revoked or unknown.
#[tracing::instrument(skip_all)]
pub(super) async fn revoke_for_platform(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<PlatformRevocationResponse>, ApiError> {
    verify_platform_hmac(&state, &headers, &method, &uri, &body)?;
    let request: PlatformRevocationRequest = serde_json::from_slice(&body)
        .map_err(|error| ApiError::InvalidRequest(format!("malformed revocation: {error}")))?;
    let (stored_request, now_ms) = (request.clone(), now_unix_millis());
    let outcome = state.store.call(move |store| store.revoke_binding_for_platform(&stored_request, now_ms)).await?;
    tracing::info!(
        revocation_id = %request.revocation_id,
        binding_id = %request.binding_id,
        terminal_id = %request.terminal_id,
        msisdn = %request.msisdn,
        reason = request.reason.as_str(),
        ?outcome,
        "platform revoked a binding"
    );
    Ok(Json(PlatformRevocationResponse {
        revocation_id: request.revocation_id,
        binding_id: request.binding_id,
        outcome,
    }))
}
