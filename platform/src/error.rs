//! `ApiError`: every refusal of the HTTP API, mapped to its status and stable code in exactly this one place.

use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use numbind_process::error_chain;
use numbind_process::http_api::{error_response, RequestRejected};
use numbind_wire::api::ApiErrorCode;

/// What the platform answers instead of a success.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ApiError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("the request is not authenticated")]
    Unauthenticated,
    #[error(
        "the session ticket is not valid (expired, for another terminal or not this platform's); open a new session"
    )]
    SessionInvalid,
    #[error("the request timestamp is outside the accepted window")]
    StaleTimestamp,
    #[error("this request was seen before")]
    ReplayedRequest,
    #[error("the terminal is registered with another public key")]
    KeyMismatch,
    #[error("the terminal is not registered")]
    TerminalNotRegistered,
    #[error("the terminal is not on the manufacturer's manifest")]
    TerminalNotInManifest,
    #[error("the request names another terminal than the one that signed it")]
    TerminalMismatch,
    #[error("the terminal is already bound; reset it first")]
    TerminalAlreadyBound,
    #[error("no such activation for this terminal")]
    ActivationNotFound,
    #[error("poll no more often than the activation's interval")]
    SlowDown { retry_after_seconds: u64 },
    #[error("too many requests of this kind")]
    RateLimited { retry_after_seconds: u64 },
    #[error("no live activation has this code")]
    CodeUnknown,
    #[error("the activation code has expired")]
    CodeExpired,
    #[error("the activation code was redeemed by another sms")]
    CodeUsed,
    #[error("this number is locked after too many failed redemptions")]
    NumberLocked { retry_after_seconds: u64 },
    #[error("the activation is not waiting for this confirmation")]
    ActivationNotPending,
    #[error("no such binding")]
    BindingNotFound,
    #[error("no terminal has this ID")]
    TerminalUnknown,
    #[error("this operator's role may not do this")]
    Forbidden,
    #[error("this Idempotency-Key was used before with another body")]
    IdempotencyKeyReused,
    #[error("no such payment")]
    PaymentNotFound,
    #[error("no such refund of this payment")]
    RefundNotFound,
    #[error("{0}")]
    PurchaseIntentInvalid(&'static str),
    #[error("the purchase intent was signed more than 10 minutes ago or more than 1 minute ahead: ask the box again")]
    PurchaseIntentStale,
    #[error("a payment was made from this purchase intent already")]
    PurchaseIntentUsed,
    #[error("only a payment waiting for confirmation can be cancelled")]
    PaymentNotCancellable,
    #[error("only a succeeded payment can be refunded")]
    PaymentNotRefundable,
    #[error("the refund is more than remains refundable ({remaining_minor_units} minor units)")]
    RefundExceedsRemaining { remaining_minor_units: i64 },
    #[error("no such dispute")]
    DisputeNotFound,
    #[error("the dispute was resolved before")]
    DisputeAlreadyResolved,
    #[error("{0}")]
    ReconciliationSideUnreadable(String),
    /// The national hub's own checks refused, before any province was asked.
    #[error(transparent)]
    HubRefused(#[from] crate::domain::hub_checks::HubRefusal),
    #[error("no such endpoint")]
    NoSuchEndpoint,
    #[error("this endpoint does not take this method")]
    MethodNotAllowed,
    #[error("the service is overloaded")]
    Overloaded,
    #[error("the request body is larger than {} bytes", numbind_process::http_api::MAX_BODY_BYTES)]
    PayloadTooLarge,
    #[error("internal error")]
    Internal(#[from] StoreError),
}

impl ApiError {
    pub(crate) fn invalid_request(reason: impl std::fmt::Display) -> Self {
        ApiError::InvalidRequest(reason.to_string())
    }

    /// The HTTP status and the stable code.
    pub(crate) fn status_and_code(&self) -> (StatusCode, ApiErrorCode) {
        use ApiErrorCode as Code;
        match self {
            ApiError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, Code::InvalidRequest),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, Code::Unauthenticated),
            ApiError::SessionInvalid => (StatusCode::UNAUTHORIZED, Code::SessionInvalid),
            ApiError::StaleTimestamp => (StatusCode::UNAUTHORIZED, Code::StaleTimestamp),
            ApiError::ReplayedRequest => (StatusCode::UNAUTHORIZED, Code::ReplayedRequest),
            ApiError::KeyMismatch => (StatusCode::CONFLICT, Code::KeyMismatch),
            ApiError::TerminalNotRegistered => (StatusCode::UNAUTHORIZED, Code::TerminalNotRegistered),
            ApiError::TerminalNotInManifest => (StatusCode::FORBIDDEN, Code::TerminalNotInManifest),
            ApiError::TerminalMismatch => (StatusCode::FORBIDDEN, Code::TerminalMismatch),
            ApiError::TerminalAlreadyBound => (StatusCode::CONFLICT, Code::TerminalAlreadyBound),
            ApiError::ActivationNotFound => (StatusCode::NOT_FOUND, Code::ActivationNotFound),
            ApiError::SlowDown { .. } => (StatusCode::TOO_MANY_REQUESTS, Code::SlowDown),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, Code::RateLimited),
            ApiError::CodeUnknown => (StatusCode::NOT_FOUND, Code::CodeUnknown),
            ApiError::CodeExpired => (StatusCode::GONE, Code::CodeExpired),
            ApiError::CodeUsed => (StatusCode::CONFLICT, Code::CodeUsed),
            ApiError::NumberLocked { .. } => (StatusCode::TOO_MANY_REQUESTS, Code::NumberLocked),
            ApiError::ActivationNotPending => (StatusCode::CONFLICT, Code::ActivationNotPending),
            ApiError::BindingNotFound => (StatusCode::NOT_FOUND, Code::BindingNotFound),
            ApiError::TerminalUnknown => (StatusCode::NOT_FOUND, Code::NotFound),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, Code::Forbidden),
            ApiError::IdempotencyKeyReused => (StatusCode::CONFLICT, Code::IdempotencyKeyReused),
            ApiError::PaymentNotFound => (StatusCode::NOT_FOUND, Code::PaymentNotFound),
            ApiError::RefundNotFound => (StatusCode::NOT_FOUND, Code::RefundNotFound),
            ApiError::PurchaseIntentInvalid(_) => (StatusCode::FORBIDDEN, Code::PurchaseIntentInvalid),
            ApiError::PurchaseIntentStale => (StatusCode::UNPROCESSABLE_ENTITY, Code::PurchaseIntentStale),
            ApiError::PurchaseIntentUsed => (StatusCode::CONFLICT, Code::PurchaseIntentUsed),
            ApiError::PaymentNotCancellable => (StatusCode::CONFLICT, Code::PaymentNotCancellable),
            ApiError::PaymentNotRefundable => (StatusCode::CONFLICT, Code::PaymentNotRefundable),
            ApiError::RefundExceedsRemaining { .. } => (StatusCode::UNPROCESSABLE_ENTITY, Code::RefundExceedsRemaining),
            ApiError::DisputeNotFound => (StatusCode::NOT_FOUND, Code::DisputeNotFound),
            ApiError::DisputeAlreadyResolved => (StatusCode::CONFLICT, Code::DisputeAlreadyResolved),
            ApiError::ReconciliationSideUnreadable(_) => (StatusCode::BAD_GATEWAY, Code::ReconciliationSideUnreadable),
            ApiError::HubRefused(refusal) => hub_refusal_status_and_code(refusal),
            ApiError::NoSuchEndpoint => (StatusCode::NOT_FOUND, Code::InvalidRequest),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, Code::InvalidRequest),
            ApiError::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, Code::Overloaded),
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, Code::PayloadTooLarge),
            ApiError::Internal(error) if error.is_storage_unavailable() => {
                (StatusCode::SERVICE_UNAVAILABLE, Code::StorageUnavailable)
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, Code::Internal),
        }
    }

    /// The message a client reads: internal details stay in the log.
    fn public_message(&self) -> String {
        match self {
            ApiError::Internal(error) if error.is_storage_unavailable() => {
                "the platform cannot reach or write its database now (disk full or read-only, or the database \
                 server unreachable); retry later"
                    .to_owned()
            }
            other => other.to_string(),
        }
    }

    fn retry_after_seconds(&self) -> Option<u64> {
        match self {
            ApiError::SlowDown { retry_after_seconds }
            | ApiError::RateLimited { retry_after_seconds }
            | ApiError::NumberLocked { retry_after_seconds } => Some(*retry_after_seconds),
            ApiError::Overloaded => Some(1),
            ApiError::Internal(error) if error.is_storage_unavailable() => Some(STORAGE_RETRY_AFTER_SECONDS),
            _ => None,
        }
    }
}

/// The national hub's refusals: a number the hub serves no operator for and an amount over the national limit
/// are the request's fault (422); a blacklisted number is refused (403).
fn hub_refusal_status_and_code(refusal: &crate::domain::hub_checks::HubRefusal) -> (StatusCode, ApiErrorCode) {
    use crate::domain::hub_checks::HubRefusal;
    match refusal {
        HubRefusal::NumberNotMobile(_) => (StatusCode::UNPROCESSABLE_ENTITY, ApiErrorCode::NumberNotMobile),
        HubRefusal::BlacklistedNationally => (StatusCode::FORBIDDEN, ApiErrorCode::NumberBlacklistedNationally),
        HubRefusal::AmountOverNationalLimit { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, ApiErrorCode::AmountOverNationalLimit)
        }
    }
}

/// How long a client waits before retrying when the platform cannot write its database.
const STORAGE_RETRY_AFTER_SECONDS: u64 = 5;

/// A body, path segment or query refused before the handler ran answers as the handler's own refusals do.
impl From<RequestRejected> for ApiError {
    fn from(rejected: RequestRejected) -> Self {
        match rejected {
            RequestRejected::InvalidRequest(reason) => ApiError::InvalidRequest(reason),
            RequestRejected::PayloadTooLarge { .. } => ApiError::PayloadTooLarge,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(error) = &self {
            if error.is_storage_unavailable() {
                tracing::error!(error = %error_chain(error), "storage unavailable: answering 503 until it recovers");
            } else {
                tracing::error!(error = %error_chain(error), "request failed");
            }
        }
        error_response(status, code, self.public_message(), self.retry_after_seconds())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;
    use numbind_process::http_api::parse_json_body;
    use numbind_wire::api::RedeemCodeRequest;

    #[test]
    fn a_malformed_body_is_an_invalid_request() {
        let refused: ApiError = parse_json_body::<RedeemCodeRequest>(b"{\"code\": 1}").err().unwrap().into();
        assert!(matches!(refused, ApiError::InvalidRequest(_)));
    }

    #[test]
    fn refusals_carry_their_code_status_and_retry_after() {
        let response = ApiError::SlowDown { retry_after_seconds: 4 }.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "4");
        assert_eq!(ApiError::CodeExpired.status_and_code(), (StatusCode::GONE, ApiErrorCode::CodeExpired));
        let full = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), None);
        let storage = ApiError::Internal(StoreError::Sqlite(full)).into_response();
        assert_eq!(storage.status(), StatusCode::SERVICE_UNAVAILABLE, "a full disk is not a bug of the request");
        assert_eq!(storage.headers()[header::RETRY_AFTER], "5");
        let blacklisted = ApiError::HubRefused(crate::domain::hub_checks::HubRefusal::BlacklistedNationally);
        assert_eq!(blacklisted.status_and_code(), (StatusCode::FORBIDDEN, ApiErrorCode::NumberBlacklistedNationally));
        let internal = ApiError::Internal(StoreError::MalformedRow("test"));
        assert_eq!(internal.to_string(), "internal error");
        assert_eq!(internal.into_response().status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
