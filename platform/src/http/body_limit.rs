//! Bodies larger than the platform reads (`MAX_BODY_BYTES`) answer 413 `payload_too_large` in the API's JSON
//! error format, before authentication when `content-length` says so, and in place of the plain-text 413 that
//! axum's body extractors give when a chunked body runs over.

use super::extract::MAX_BODY_BYTES;
use crate::error::ApiError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The middleware: see the module documentation.
pub(super) async fn refuse_oversized_bodies(request: Request, next: Next) -> Response {
    numbind_process::http_server::refuse_oversized_bodies(request, next, MAX_BODY_BYTES, || {
        ApiError::PayloadTooLarge.into_response()
    })
    .await
}
