//! Bodies larger than the admin API reads answer 413 `payload_too_large` in its JSON error format: at once when
//! `content-length` says so, and in place of the plain-text 413 that axum's body extractors give when a chunked
//! body runs over. All bodies here are small JSON.

use crate::error::ApiError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The largest request body read.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// The middleware: see the module documentation.
pub(super) async fn refuse_oversized_bodies(request: Request, next: Next) -> Response {
    numbind_process::http_server::refuse_oversized_bodies(request, next, MAX_BODY_BYTES, || {
        ApiError::PayloadTooLarge.into_response()
    })
    .await
}
