//! `ApiError`: the one place where errors become HTTP responses (`{"code": "...", "message": "..."}`).

use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// The stable codes of the phone API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SmscErrorCode {
    InvalidRequest,
    NoRoute,
    QueueFull,
    NotFound,
    StorageUnavailable,
    Internal,
    PayloadTooLarge,
}

/// `{"code": "no_route", "message": "no esme serves short code 95588"}`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmscErrorBody {
    pub code: SmscErrorCode,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ApiError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("no esme serves short code {0}")]
    NoRoute(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the request body is larger than {} bytes", crate::http::MAX_BODY_BYTES)]
    PayloadTooLarge,
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, SmscErrorCode::InvalidRequest),
            ApiError::NoRoute(_) => (StatusCode::NOT_FOUND, SmscErrorCode::NoRoute),
            ApiError::Store(StoreError::QueueFull { .. }) => {
                (StatusCode::SERVICE_UNAVAILABLE, SmscErrorCode::QueueFull)
            }
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, SmscErrorCode::NotFound),
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, SmscErrorCode::PayloadTooLarge),
            ApiError::Store(StoreError::Sqlite(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, SmscErrorCode::StorageUnavailable)
            }
            ApiError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, SmscErrorCode::Internal),
        };
        let message = if status.is_server_error() && code != SmscErrorCode::QueueFull {
            tracing::error!(error = %self, "request failed");
            "the sms centre cannot serve this request now".to_owned()
        } else {
            self.to_string()
        };
        let mut response = (status, Json(SmscErrorBody { code, message })).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert("retry-after", axum::http::HeaderValue::from_static("1"));
        }
        response
    }
}
