//! `ApiError`: the one place where errors become HTTP responses (wire's `ErrorBody`,
//! `{"code": "...", "message": "..."}`). Bodies and paths refused before a handler runs answer the same body
//! through `numbind_process::http_api`.

use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use numbind_process::http_api::error_response;
use numbind_wire::api::ApiErrorCode;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ApiError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("no esme serves short code {0}")]
    NoRoute(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, ApiErrorCode::InvalidRequest),
            ApiError::NoRoute(_) => (StatusCode::NOT_FOUND, ApiErrorCode::NoRoute),
            ApiError::Store(StoreError::QueueFull { .. }) => (StatusCode::SERVICE_UNAVAILABLE, ApiErrorCode::QueueFull),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, ApiErrorCode::NotFound),
            ApiError::Store(StoreError::Sqlite(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, ApiErrorCode::StorageUnavailable)
            }
            ApiError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, ApiErrorCode::Internal),
        };
        let message = if status.is_server_error() && code != ApiErrorCode::QueueFull {
            tracing::error!(error = %self, "request failed");
            "the sms centre cannot serve this request now".to_owned()
        } else {
            self.to_string()
        };
        let retry_after_seconds = (status == StatusCode::SERVICE_UNAVAILABLE).then_some(1);
        error_response(status, code, message, retry_after_seconds)
    }
}
