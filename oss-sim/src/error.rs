//! `ApiError`: the one place where errors become admin-API responses (`{"code": "...", "message": "..."}`).

use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// The stable codes of the OSS admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OssErrorCode {
    InvalidRequest,
    Unauthenticated,
    SubscriberExists,
    SubscriberNotFound,
    MessageNotFound,
    /// The OSS already holds another checkpoint at this sequence (it keeps the first).
    CheckpointConflict,
    /// A payment or refund ID was used before with another number or amount.
    IdempotencyKeyReused,
    NotFound,
    StorageUnavailable,
    Internal,
    PayloadTooLarge,
    #[serde(other)]
    Other,
}

/// `{"code": "subscriber_not_found", "message": "no subscriber has this number"}`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OssErrorBody {
    pub code: OssErrorCode,
    pub message: String,
}

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
    #[error("the request body is larger than {} bytes", crate::http::MAX_BODY_BYTES)]
    PayloadTooLarge,
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
            ApiError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, OssErrorCode::InvalidRequest),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, OssErrorCode::Unauthenticated),
            ApiError::SubscriberExists => (StatusCode::CONFLICT, OssErrorCode::SubscriberExists),
            ApiError::SubscriberNotFound => (StatusCode::NOT_FOUND, OssErrorCode::SubscriberNotFound),
            ApiError::MessageNotFound => (StatusCode::NOT_FOUND, OssErrorCode::MessageNotFound),
            ApiError::RouteNotFound => (StatusCode::NOT_FOUND, OssErrorCode::NotFound),
            ApiError::ComponentUnauthenticated => (StatusCode::UNAUTHORIZED, OssErrorCode::Unauthenticated),
            ApiError::CheckpointConflict(_) => (StatusCode::CONFLICT, OssErrorCode::CheckpointConflict),
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, OssErrorCode::PayloadTooLarge),
            ApiError::Store(StoreError::ConflictingRetry) => (StatusCode::CONFLICT, OssErrorCode::IdempotencyKeyReused),
            ApiError::Store(StoreError::Sqlite(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, OssErrorCode::StorageUnavailable)
            }
            ApiError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, OssErrorCode::Internal),
        };
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "the oss cannot serve this request now".to_owned()
        } else {
            self.to_string()
        };
        let mut response = (status, Json(OssErrorBody { code, message })).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert("retry-after", axum::http::HeaderValue::from_static("1"));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert("www-authenticate", axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}
