//! OSS request authentication: HMAC over method, path and body with the shared secret, client `oss`, fresh.

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::AUTHORIZATION;
use numbind_process::http_api::MAX_BODY_BYTES;
use numbind_wire::component_auth::ComponentAuthorization;

/// The only component allowed on `/v1/oss/...`.
const OSS_CLIENT_NAME: &str = "oss";

/// A request the OSS authenticated; its raw body is still to be parsed.
pub(super) struct AuthenticatedOss {
    pub(super) body: Bytes,
}

impl FromRequest<AppState> for AuthenticatedOss {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let header = parts.headers.get(AUTHORIZATION).and_then(|value| value.to_str().ok());
        let authorization = ComponentAuthorization::parse(header).map_err(|_| ApiError::Unauthenticated)?;
        if authorization.client != OSS_CLIENT_NAME || !state.timestamp_is_fresh(authorization.timestamp_unix_seconds) {
            return Err(ApiError::Unauthenticated);
        }
        let path_and_query =
            parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |pq| pq.to_string());
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| ApiError::PayloadTooLarge)?;
        authorization
            .verify(&state.settings.oss_secret, parts.method.as_str(), &path_and_query, &body)
            .map_err(|_| ApiError::Unauthenticated)?;
        Ok(AuthenticatedOss { body })
    }
}
