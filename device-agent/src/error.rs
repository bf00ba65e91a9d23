//! `AgentError`: every way the agent can fail, and which failures are worth retrying.

use crate::domain::connection::ConnectionFailure;
use numbind_wire::api::ApiErrorCode;
use numbind_wire::request_signing::KeyError;
use numbind_wire::statement::StatementError;
use numbind_wire::terminal_session::SessionError;
use numbind_wire::TerminalIdError;
use std::path::PathBuf;
use std::time::Duration;

/// What went wrong in the agent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// A file in the state directory (or the factory key) could not be read or written.
    #[error("cannot {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// No platform key is pinned: the agent could not tell a genuine statement from a forgery.
    #[error("no platform public key is pinned; refusing to start")]
    NoPinnedKey,
    /// The terminal key is malformed, or the random source failed.
    #[error("terminal key")]
    Key(#[from] KeyError),
    /// The `terminal-id` file set at the factory does not hold a terminal ID.
    #[error("the terminal-id file is malformed")]
    TerminalIdFile(#[source] TerminalIdError),
    /// The platform URL does not parse as an `https://` (or `http://`) URL with a host.
    #[error("platform url {url:?} is not a valid https url")]
    PlatformUrl { url: String },
    /// Plain `http://` to a host that is not loopback, without `allow_insecure_http`.
    #[error(
        "platform url {url:?} is plain http to a host that is not loopback; use https (or allow insecure http, \
         which warns on every request)"
    )]
    InsecurePlatformUrl { url: String },
    /// An `https://` platform URL without a certificate authority to trust.
    #[error("an https platform url needs the certificate authority to trust (the platform ca file)")]
    NoTrustedAuthority,
    /// The certificate authority file holds no usable certificate.
    #[error("the platform certificate authority is not a usable PEM certificate")]
    TrustedAuthority(#[source] reqwest::Error),
    /// The request did not get an answer (connection refused, reset, timed out).
    #[error("request to the platform failed")]
    Http(#[source] reqwest::Error),
    /// The platform answered with an error body.
    #[error("platform refused the request with {status} {code:?}: {message}")]
    Platform {
        status: u16,
        code: ApiErrorCode,
        message: String,
        /// The `Retry-After` the platform asked for, if any.
        retry_after: Option<Duration>,
    },
    /// The platform answered with something that is not the documented body.
    #[error("platform answered {status} with an unexpected body")]
    UnexpectedResponse { status: u16, retry_after: Option<Duration> },
    /// A statement did not verify with the pinned keys or does not answer this request.
    #[error("platform statement refused")]
    Statement(#[from] StatementError),
    /// The session handshake failed on this side (random source, key agreement, a grant for another offer).
    #[error("session handshake")]
    Session(#[from] SessionError),
    /// The terminal is registered at the platform with another public key.
    #[error("the platform knows this terminal id with another key")]
    KeyMismatch,
    /// A purchase was followed by a nonce that is not one the agent signs (16 to 128 base64url characters).
    #[error("the intent nonce is not base64url")]
    MalformedIntentNonce,
    /// The billed service's channel to its merchant did not take the signed intent.
    #[error("the merchant did not take the purchase")]
    MerchantSubmission(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AgentError {
    /// True for failures that may go away by themselves: network errors, 5xx, `overloaded`,
    /// `rate_limited`, `slow_down`, `storage_unavailable`, a replayed nonce.
    pub fn is_retryable(&self) -> bool {
        match self {
            AgentError::Http(_) => true,
            AgentError::UnexpectedResponse { status, .. } => *status >= 500 || *status == 429,
            AgentError::Platform { status, code, .. } => {
                *status >= 500
                    || matches!(
                        code,
                        ApiErrorCode::Overloaded
                            | ApiErrorCode::RateLimited
                            | ApiErrorCode::SlowDown
                            | ApiErrorCode::StorageUnavailable
                            | ApiErrorCode::ReplayedRequest
                    )
            }
            _ => false,
        }
    }

    /// The `Retry-After` the platform asked for, if this error carries one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            AgentError::Platform { retry_after, .. } | AgentError::UnexpectedResponse { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// Why the platform could not be reached, when the request got no answer at all.
    pub fn connection_failure(&self) -> Option<ConnectionFailure> {
        match self {
            AgentError::Http(error) => Some(ConnectionFailure::of_request_error(error)),
            _ => None,
        }
    }

    /// The platform's error code, if the platform answered with one.
    pub fn api_code(&self) -> Option<ApiErrorCode> {
        match self {
            AgentError::Platform { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> AgentError {
        let path = path.into();
        move |source| AgentError::Io { action, path, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(status: u16, code: ApiErrorCode) -> AgentError {
        AgentError::Platform { status, code, message: String::new(), retry_after: None }
    }

    #[test]
    fn load_shedding_and_server_errors_are_retried_but_refusals_are_not() {
        assert!(platform(503, ApiErrorCode::Overloaded).is_retryable());
        assert!(platform(429, ApiErrorCode::SlowDown).is_retryable());
        assert!(platform(429, ApiErrorCode::RateLimited).is_retryable());
        assert!(platform(500, ApiErrorCode::Internal).is_retryable());
        assert!(!platform(409, ApiErrorCode::KeyMismatch).is_retryable());
        assert!(!platform(401, ApiErrorCode::Unauthenticated).is_retryable());
        assert!(!AgentError::Statement(StatementError::BadSignature).is_retryable());
        assert!(AgentError::UnexpectedResponse { status: 502, retry_after: None }.is_retryable());
    }
}
