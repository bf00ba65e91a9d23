//! Merchant authentication: `authorization: Bearer nbm_<merchant_id>_<secret>` over TLS, looked up by merchant and
//! compared by SHA-256 in constant time; the request's `Idempotency-Key` and raw body come along.

use crate::domain::merchant::{hash_merchant_token, merchant_of_token};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Merchant;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::AUTHORIZATION;
use numbind_process::http_api::MAX_BODY_BYTES;
use numbind_wire::api::IDEMPOTENCY_KEY_HEADER;

/// A request of a live merchant; its body is still to be parsed.
pub(super) struct MerchantRequest {
    pub(super) merchant: Merchant,
    /// The `Idempotency-Key` header, as sent (checked by the handlers that need one).
    pub(super) idempotency_key: Option<String>,
    pub(super) body: Bytes,
}

impl FromRequest<AppState> for MerchantRequest {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let header = parts.headers.get(AUTHORIZATION).and_then(|value| value.to_str().ok());
        let token =
            header.and_then(|text| text.strip_prefix("Bearer ")).map(str::trim).ok_or(ApiError::Unauthenticated)?;
        let merchant_id = merchant_of_token(token).ok_or(ApiError::Unauthenticated)?;
        let hash = hash_merchant_token(token);
        // Read on this worker, not through the blocking pool (as the binding check does): two indexed rows of a WAL
        // snapshot take a few µs, while each hop to the pool and back is two thread wake-ups per request.
        let merchant = state.store.authenticate_merchant(&merchant_id, &hash)?;
        let merchant = merchant.ok_or(ApiError::Unauthenticated)?;
        let idempotency_key = match parts.headers.get(IDEMPOTENCY_KEY_HEADER) {
            None => None,
            Some(value) => Some(
                value
                    .to_str()
                    .map_err(|_| ApiError::invalid_request("the Idempotency-Key header must be printable ASCII"))?
                    .to_owned(),
            ),
        };
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| ApiError::PayloadTooLarge)?;
        Ok(MerchantRequest { merchant, idempotency_key, body })
    }
}
