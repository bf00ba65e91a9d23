//! Bodies larger than the admin API reads answer 413 `payload_too_large` in its JSON error format: at once when
//! `content-length` says so, and in place of the plain-text 413 that axum's body extractors give when a chunked
//! body runs over. All bodies here are small JSON.

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The largest request body read.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// The middleware: see the module documentation.
pub(super) async fn refuse_oversized_bodies(request: Request, next: Next) -> Response {
    let declared_length = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return ApiError::PayloadTooLarge.into_response();
    }
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return ApiError::PayloadTooLarge.into_response();
    }
    response
}
