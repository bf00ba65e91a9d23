//! The platform's OSS endpoints (`/v1/oss/*`), authenticated with the component HMAC, with every answer
//! classified as success, a refusal worth telling the user about, or unavailability worth retrying.

use numbind_process::clock::now_unix_seconds;
use numbind_process::component_client::signed_json_post;
use numbind_wire::api::{
    ApiErrorCode, ConfirmBindingRequest, ConfirmBindingResponse, ErrorBody, OpenDisputeRequest, OpenDisputeResponse,
    OssUnbindRequest, OssUnbindResponse, PaymentConfirmationRequest, PaymentConfirmationResponse, RedeemCodeRequest,
    RedeemCodeResponse, OSS_DISPUTES_PATH, OSS_PAYMENT_CONFIRMATIONS_PATH,
};
use numbind_wire::component_auth::ComponentSecret;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// How a platform call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum PlatformCallError {
    /// A definite answer: retrying the same call gets the same one.
    #[error("the platform refused with status {status} and code {code:?}")]
    Refused { status: u16, code: ApiErrorCode },
    /// No answer, an overload, or a failure of the platform: retry later.
    #[error("the platform is unavailable: {reason}")]
    Unavailable { reason: String, retry_after: Option<Duration> },
}

impl PlatformCallError {
    /// The metric label of this failure.
    pub(crate) fn result_label(&self) -> &'static str {
        match self {
            PlatformCallError::Refused { .. } => "refused",
            PlatformCallError::Unavailable { .. } => "unavailable",
        }
    }
}

/// One platform, one shared secret; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct PlatformClient {
    http: reqwest::Client,
    base_url: String,
    secret: ComponentSecret,
}

pub(crate) const REDEMPTIONS: &str = "/v1/oss/redemptions";
pub(crate) const CONFIRMATIONS: &str = "/v1/oss/confirmations";
pub(crate) const UNBINDINGS: &str = "/v1/oss/unbindings";
pub(crate) const PAYMENT_CONFIRMATIONS: &str = OSS_PAYMENT_CONFIRMATIONS_PATH;
pub(crate) const DISPUTES: &str = OSS_DISPUTES_PATH;

impl PlatformClient {
    /// A client of the platform at `base_url`; over `https://` it trusts only `trusted_authorities`.
    pub(crate) fn new(
        base_url: &str,
        secret: ComponentSecret,
        timeout: Duration,
        trusted_authorities: Option<&std::path::Path>,
    ) -> anyhow::Result<Self> {
        let builder = numbind_process::tls::http_client_builder(trusted_authorities)?;
        let http = builder.timeout(timeout).connect_timeout(timeout).build()?;
        Ok(PlatformClient { http, base_url: base_url.trim_end_matches('/').to_owned(), secret })
    }

    pub(crate) async fn redeem(&self, request: &RedeemCodeRequest) -> Result<RedeemCodeResponse, PlatformCallError> {
        self.post(REDEMPTIONS, request).await
    }

    pub(crate) async fn confirm(
        &self,
        request: &ConfirmBindingRequest,
    ) -> Result<ConfirmBindingResponse, PlatformCallError> {
        self.post(CONFIRMATIONS, request).await
    }

    pub(crate) async fn unbind(&self, request: &OssUnbindRequest) -> Result<OssUnbindResponse, PlatformCallError> {
        self.post(UNBINDINGS, request).await
    }

    /// Forwards the bound number's `Y`/`N` answer; idempotent by the SMS's message ID, so a retry after a lost
    /// answer reads the first outcome back.
    pub(crate) async fn confirm_payment(
        &self,
        request: &PaymentConfirmationRequest,
    ) -> Result<PaymentConfirmationResponse, PlatformCallError> {
        self.post(PAYMENT_CONFIRMATIONS, request).await
    }

    /// Opens a dispute of the number's charge; idempotent by the payment, so a retry reads the first answer back.
    pub(crate) async fn open_dispute(
        &self,
        request: &OpenDisputeRequest,
    ) -> Result<OpenDisputeResponse, PlatformCallError> {
        self.post(DISPUTES, request).await
    }

    async fn post<Request: Serialize, Response: DeserializeOwned>(
        &self,
        path: &str,
        body: &Request,
    ) -> Result<Response, PlatformCallError> {
        let body = serde_json::to_vec(body).map_err(|error| unavailable(format!("encoding the body: {error}")))?;
        let caller = ("oss", &self.secret);
        let response = signed_json_post(&self.http, &self.base_url, path, caller, now_unix_seconds(), body)
            .await
            .map_err(|error| unavailable(format!("sending: {}", numbind_process::error_chain(&error))))?;
        let status = response.status();
        let retry_after = retry_after_of(response.headers());
        let bytes = response.bytes().await.map_err(|error| unavailable(format!("reading the answer: {error}")))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|error| unavailable(format!("answer not understood: {error}")));
        }
        let code = serde_json::from_slice::<ErrorBody>(&bytes).map(|body| body.code).unwrap_or(ApiErrorCode::Other);
        Err(classify_refusal(status.as_u16(), code, retry_after))
    }
}

fn unavailable(reason: String) -> PlatformCallError {
    PlatformCallError::Unavailable { reason, retry_after: None }
}

/// 5xx, 429, 408 and authentication trouble (a clock or secret the operator will fix) are retried;
/// any other 4xx is the platform's definite answer. A locked number (429 `number_locked`) is definite too:
/// the user is told at once, and the SMS is not retried (a retry after the lock would redeem a stale code).
pub(crate) fn classify_refusal(status: u16, code: ApiErrorCode, retry_after: Option<Duration>) -> PlatformCallError {
    if code == ApiErrorCode::NumberLocked {
        return PlatformCallError::Refused { status, code };
    }
    let retryable = status >= 500
        || status == 429
        || status == 408
        || matches!(
            code,
            ApiErrorCode::Unauthenticated
                | ApiErrorCode::StaleTimestamp
                | ApiErrorCode::RateLimited
                | ApiErrorCode::Overloaded
                | ApiErrorCode::StorageUnavailable
                | ApiErrorCode::Internal
        );
    if retryable {
        return PlatformCallError::Unavailable { reason: format!("status {status}, code {code:?}"), retry_after };
    }
    PlatformCallError::Refused { status, code }
}

fn retry_after_of(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds.min(3600)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overload_and_server_failures_are_retried_with_their_retry_after() {
        let wait = Some(Duration::from_secs(3));
        assert_eq!(
            classify_refusal(503, ApiErrorCode::Overloaded, wait),
            PlatformCallError::Unavailable { reason: "status 503, code Overloaded".into(), retry_after: wait }
        );
        assert!(matches!(
            classify_refusal(429, ApiErrorCode::RateLimited, None),
            PlatformCallError::Unavailable { .. }
        ));
        assert!(matches!(classify_refusal(500, ApiErrorCode::Other, None), PlatformCallError::Unavailable { .. }));
        assert!(matches!(
            classify_refusal(401, ApiErrorCode::Unauthenticated, None),
            PlatformCallError::Unavailable { .. }
        ));
    }

    #[test]
    fn code_answers_are_definite_refusals() {
        for (status, code) in [
            (404, ApiErrorCode::CodeUnknown),
            (410, ApiErrorCode::CodeExpired),
            (409, ApiErrorCode::CodeUsed),
            (429, ApiErrorCode::NumberLocked),
        ] {
            assert_eq!(classify_refusal(status, code, None), PlatformCallError::Refused { status, code });
        }
    }
}
