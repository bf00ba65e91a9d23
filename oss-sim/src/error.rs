//! `ApiError`: the one place where errors become admin-API responses (wire's `ErrorBody`,
//! `{"code": "...", "message": "..."}`). Bodies, paths and queries refused before a handler runs answer the
//! same body through `numbind_process::http_api`.

use crate::store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use numbind_process::http_api::error_response;
use numbind_wire::api::ApiErrorCode;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ApiError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("a valid admin token is required")]
    Unauthenticated,
    #[error("a subscriber with this number exists")]
    SubscriberExists,
    #[error("no subscriber has this number")]
    SubscriberNotFound,
    #[error("no sms with this message id was received")]
    MessageNotFound,
    #[error("no such route")]
    RouteNotFound,
    #[error("the platform's component authentication failed")]
    ComponentUnauthenticated,
    #[error("another audit checkpoint is held at sequence {0}; the first is kept")]
    CheckpointConflict(i64),
    #[error("store: {0}")]
    Store(StoreError),
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::SubscriberExists => ApiError::SubscriberExists,
            other => ApiError::Store(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, ApiErrorCode::InvalidRequest),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, ApiErrorCode::Unauthenticated),
            ApiError::SubscriberExists => (StatusCode::CONFLICT, ApiErrorCode::SubscriberExists),
            ApiError::SubscriberNotFound => (StatusCode::NOT_FOUND, ApiErrorCode::SubscriberNotFound),
            ApiError::MessageNotFound => (StatusCode::NOT_FOUND, ApiErrorCode::MessageNotFound),
            ApiError::RouteNotFound => (StatusCode::NOT_FOUND, ApiErrorCode::NotFound),
            ApiError::ComponentUnauthenticated => (StatusCode::UNAUTHORIZED, ApiErrorCode::Unauthenticated),
            ApiError::CheckpointConflict(_) => (StatusCode::CONFLICT, ApiErrorCode::CheckpointConflict),
            ApiError::Store(StoreError::ConflictingRetry) => (StatusCode::CONFLICT, ApiErrorCode::IdempotencyKeyReused),
            ApiError::Store(StoreError::Sqlite(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, ApiErrorCode::StorageUnavailable)
            }
            ApiError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, ApiErrorCode::Internal),
        };
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "the oss cannot serve this request now".to_owned()
        } else {
            self.to_string()
        };
        let retry_after_seconds = (status == StatusCode::SERVICE_UNAVAILABLE).then_some(1);
        let mut response = error_response(status, code, message, retry_after_seconds);
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
