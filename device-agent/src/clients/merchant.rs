//! The merchant's side of a purchase, for the CLI and tests (behind the `cli` feature: a box's firmware hands
//! intents to its billed service's own channel and never holds merchant credentials). Submits
//! `CreatePaymentRequest` to the platform's `POST /v1/payments` with the merchant's bearer token and a fresh
//! `Idempotency-Key`, and retries transport failures, 5xx, 429 and `in_progress` with the SAME key, so a retry
//! never makes a second payment.

use crate::domain::purchase::SignedPurchase;
use crate::{MerchantChannel, MerchantChannelError};
use numbind_process::backoff::{Backoff, RetryPolicy};
use numbind_wire::api::{ApiErrorCode, CreatePaymentRequest, ErrorBody, Payment, IDEMPOTENCY_KEY_HEADER};
use numbind_wire::request_signing::new_nonce;
use numbind_wire::MerchantId;
use ring::rand::SystemRandom;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A merchant's credentials file (JSON), as an operator's `numbind merchant create` (or `numbind up`) writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantCredentials {
    pub merchant_id: MerchantId,
    /// `nbm_<merchant_id>_<secret>`, sent as `authorization: Bearer <token>`.
    pub token: String,
    /// The platform's base URL (`https://...`).
    pub platform_url: String,
    /// The certificate authority to trust for `https://`; relative to the credentials file's directory.
    pub ca_file: Option<PathBuf>,
}

/// Why a payment could not be submitted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MerchantError {
    #[error("cannot read the merchant credentials {path}")]
    Credentials { path: PathBuf, source: std::io::Error },
    #[error("the merchant credentials {path} are malformed")]
    CredentialsFormat { path: PathBuf, source: serde_json::Error },
    #[error("the merchant http client")]
    Client(#[source] reqwest::Error),
    #[error("the random source failed")]
    Random,
    #[error("the platform refused the payment with {status} {code:?}: {message}")]
    Refused { status: u16, code: ApiErrorCode, message: String },
    #[error("the platform did not take the payment after {attempts} attempts: {last}")]
    GaveUp { attempts: u32, last: String },
}

impl MerchantCredentials {
    pub fn load(path: &Path) -> Result<Self, MerchantError> {
        let text =
            std::fs::read(path).map_err(|source| MerchantError::Credentials { path: path.to_owned(), source })?;
        let mut credentials: MerchantCredentials = serde_json::from_slice(&text)
            .map_err(|source| MerchantError::CredentialsFormat { path: path.to_owned(), source })?;
        if let (Some(ca_file), Some(directory)) = (&credentials.ca_file, path.parent()) {
            credentials.ca_file = Some(directory.join(ca_file));
        }
        Ok(credentials)
    }
}

/// A merchant's client of the payments API; `submit_payment` is safe to call again only with a new intent.
#[derive(Debug)]
pub struct MerchantClient {
    http: reqwest::Client,
    credentials: MerchantCredentials,
    policy: RetryPolicy,
    /// Attempts per payment before giving up (each with the same idempotency key).
    pub attempts: u32,
}

impl MerchantClient {
    pub fn new(credentials: MerchantCredentials) -> Result<Self, MerchantError> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tls_built_in_root_certs(false)
            .timeout(Duration::from_secs(10));
        if let Some(ca_file) = &credentials.ca_file {
            let pem = std::fs::read(ca_file)
                .map_err(|source| MerchantError::Credentials { path: ca_file.clone(), source })?;
            for authority in reqwest::Certificate::from_pem_bundle(&pem).map_err(MerchantError::Client)? {
                builder = builder.add_root_certificate(authority);
            }
        }
        let http = builder.build().map_err(MerchantError::Client)?;
        let policy = RetryPolicy::new(Duration::from_millis(200), Duration::from_secs(5));
        Ok(MerchantClient { http, credentials, policy, attempts: 8 })
    }

    pub fn merchant_id(&self) -> &MerchantId {
        &self.credentials.merchant_id
    }

    /// `POST /v1/payments` under one fresh idempotency key, retried with that key until a definite answer.
    pub async fn submit_payment(&self, request: &CreatePaymentRequest) -> Result<Payment, MerchantError> {
        let idempotency_key = new_nonce(&SystemRandom::new()).map_err(|_| MerchantError::Random)?;
        let url = format!("{}/v1/payments", self.credentials.platform_url.trim_end_matches('/'));
        let mut backoff = Backoff::new(self.policy);
        let mut last = String::new();
        for attempt in 1..=self.attempts.max(1) {
            let sent = self
                .http
                .post(&url)
                .bearer_auth(&self.credentials.token)
                .header(IDEMPOTENCY_KEY_HEADER, &idempotency_key)
                .json(request)
                .send()
                .await;
            let retry_after = match sent {
                Ok(response) => match read_answer(response).await {
                    Answer::Done(payment) => return Ok(*payment),
                    Answer::Refused(error) => return Err(error),
                    Answer::Retry { reason, retry_after } => {
                        last = reason;
                        retry_after
                    }
                },
                Err(error) => {
                    last = crate::agent::error_chain(&error);
                    None
                }
            };
            tracing::warn!(attempt, cause = %last, "payment not submitted yet; retrying with the same idempotency key");
            tokio::time::sleep(backoff.next_random_delay(retry_after)).await;
        }
        Err(MerchantError::GaveUp { attempts: self.attempts.max(1), last })
    }
}

enum Answer {
    Done(Box<Payment>),
    Refused(MerchantError),
    Retry { reason: String, retry_after: Option<Duration> },
}

async fn read_answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let bytes = match response.bytes().await {
        Ok(bytes) => bytes,
        Err(error) => return Answer::Retry { reason: format!("reading the answer: {error}"), retry_after },
    };
    if status.is_success() {
        return match serde_json::from_slice::<Payment>(&bytes) {
            Ok(payment) => Answer::Done(Box::new(payment)),
            Err(error) => Answer::Retry { reason: format!("answer not understood: {error}"), retry_after },
        };
    }
    let (code, message) = match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => (body.code, body.message),
        Err(_) => (ApiErrorCode::Other, String::new()),
    };
    let retryable = status.is_server_error()
        || status.as_u16() == 429
        || matches!(code, ApiErrorCode::InProgress | ApiErrorCode::Overloaded | ApiErrorCode::StorageUnavailable);
    if retryable {
        return Answer::Retry { reason: format!("status {status}, code {code:?}"), retry_after };
    }
    Answer::Refused(MerchantError::Refused { status: status.as_u16(), code, message })
}

/// The CLI's merchant channel: the merchant HTTP client with the sale's reference code.
#[derive(Debug)]
pub struct HttpMerchantChannel<'client> {
    pub client: &'client MerchantClient,
    pub reference_code: String,
}

impl MerchantChannel for HttpMerchantChannel<'_> {
    async fn submit(&self, purchase: &SignedPurchase) -> Result<(), MerchantChannelError> {
        let request = CreatePaymentRequest {
            signed_intent: purchase.signed_intent.clone(),
            reference_code: self.reference_code.clone(),
        };
        let payment = self.client.submit_payment(&request).await?;
        tracing::info!(payment_id = %payment.payment_id, state = payment.state.as_str(), "the merchant submitted the payment");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_read_the_documented_fields_and_resolve_the_ca_next_to_the_file() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("merchant.json");
        let text = r#"{"merchant_id":"demo-films","token":"nbm_demo-films_s3cret","platform_url":"https://127.0.0.1:8443","ca_file":"ca.pem"}"#;
        std::fs::write(&path, text).unwrap();
        let credentials = MerchantCredentials::load(&path).unwrap();
        assert_eq!(credentials.merchant_id.as_str(), "demo-films");
        assert_eq!(credentials.ca_file, Some(directory.path().join("ca.pem")));
        std::fs::write(&path, r#"{"merchant_id":"demo-films","token":"t","platform_url":"u","extra":1}"#).unwrap();
        assert!(matches!(MerchantCredentials::load(&path), Err(MerchantError::CredentialsFormat { .. })));
    }

    #[tokio::test]
    async fn a_lost_connection_is_retried_with_the_same_idempotency_key() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let keys = tokio::spawn(async move {
            let mut keys = Vec::new();
            for _ in 0..2 {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buffer = vec![0u8; 64 * 1024];
                let read = stream.read(&mut buffer).await.unwrap();
                let request = String::from_utf8_lossy(&buffer[..read]).to_lowercase();
                let key = request.lines().find_map(|line| line.strip_prefix("idempotency-key: ")).unwrap().to_owned();
                keys.push(key);
                let refusal = r#"{"code":"invalid_request","message":"no"}"#;
                if keys.len() == 2 {
                    let answer = format!(
                        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{refusal}",
                        refusal.len()
                    );
                    stream.write_all(answer.as_bytes()).await.unwrap();
                }
                // The first connection is dropped without an answer: a transport failure.
            }
            keys
        });
        let credentials = MerchantCredentials {
            merchant_id: MerchantId::parse("demo-films").unwrap(),
            token: "nbm_demo-films_x".into(),
            platform_url: url,
            ca_file: None,
        };
        let client = MerchantClient::new(credentials).unwrap();
        let intent =
            numbind_wire::purchase_intent::SignedPurchaseIntent { payload: "e30".into(), signature: "x".into() };
        let request = CreatePaymentRequest { signed_intent: intent, reference_code: "order-1".into() };
        let refused = client.submit_payment(&request).await;
        assert!(matches!(refused, Err(MerchantError::Refused { status: 400, .. })), "{refused:?}");
        let keys = keys.await.unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0], keys[1], "the retry reuses the key");
    }
}
