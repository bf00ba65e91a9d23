//! The HTTP client of the platform's terminal API: one method per endpoint, errors as `AgentError`. Requests are
//! signed with the terminal's key, except the binding check, which carries the session's ticket and tag.

use crate::error::AgentError;
use crate::store::identity::TerminalIdentity;
use crate::store::session::StoredSession;
use numbind_process::clock::now_unix_seconds;
use numbind_wire::api::{
    AcknowledgementRequest, ActivationOutcomeResponse, ActivationResponse, BindingCheckResponse, BindingStatusResponse,
    ErrorBody, RegisterTerminalRequest, RegisterTerminalResponse,
};
use numbind_wire::purchase_status::PurchaseStatusResponse;
use numbind_wire::request_signing::{
    new_nonce, RequestToSign, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TERMINAL, HEADER_TIMESTAMP,
};
use numbind_wire::session_handshake::{OpenSessionRequest, OpenSessionResponse};
use numbind_wire::terminal_session::{HEADER_SESSION_TAG, HEADER_SESSION_TICKET};
use reqwest::{Method, StatusCode, Url};
use ring::rand::SystemRandom;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// An answer that carries a signed statement, with the nonce of the request it must answer.
#[derive(Debug)]
pub(crate) struct Answered<T> {
    pub(crate) body: T,
    pub(crate) request_nonce: String,
}

/// What came back over the wire, before it is interpreted.
struct RawAnswer {
    status: StatusCode,
    retry_after: Option<Duration>,
    body: Vec<u8>,
    request_nonce: String,
}

/// Signs every request with the terminal's key and sends it to the platform.
#[derive(Debug)]
pub(crate) struct PlatformClient {
    http: reqwest::Client,
    base_url: Url,
    identity: Arc<TerminalIdentity>,
    random: SystemRandom,
    request_timeout: Duration,
    /// Plain http to a host that is not loopback, allowed explicitly: every request warns.
    insecure: bool,
}

/// Whether the URL's host is this machine: `localhost`, 127.0.0.0/8 or ::1.
fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|address| address.is_loopback())
}

/// Activation IDs go into paths; accept only the characters that need no escaping.
pub(crate) fn is_safe_path_segment(segment: &str) -> bool {
    (1..=128).contains(&segment.len())
        && segment.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

impl PlatformClient {
    /// A client of the platform at `platform_url`: `https://` trusting exactly `authorities_pem`, or plain
    /// `http://` to a loopback host (or anywhere with `allow_insecure_http`, which warns on every request).
    pub(crate) fn new(
        platform_url: &str,
        authorities_pem: Option<&[u8]>,
        allow_insecure_http: bool,
        identity: Arc<TerminalIdentity>,
        request_timeout: Duration,
    ) -> Result<Self, AgentError> {
        let invalid = || AgentError::PlatformUrl { url: platform_url.to_owned() };
        let base_url = Url::parse(platform_url).map_err(|_| invalid())?;
        if base_url.host().is_none() || base_url.query().is_some() {
            return Err(invalid());
        }
        // Redirects are never followed: a signed request goes to the URL it was signed for, or nowhere.
        let builder =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).tls_built_in_root_certs(false);
        let (builder, insecure) = match base_url.scheme() {
            "https" => {
                let pem = authorities_pem.ok_or(AgentError::NoTrustedAuthority)?;
                let authorities = reqwest::Certificate::from_pem_bundle(pem).map_err(AgentError::TrustedAuthority)?;
                if authorities.is_empty() {
                    return Err(AgentError::NoTrustedAuthority);
                }
                let builder =
                    authorities.into_iter().fold(builder, |builder, authority| builder.add_root_certificate(authority));
                (builder.https_only(true), false)
            }
            "http" if is_loopback(&base_url) => (builder, false),
            "http" if allow_insecure_http => (builder, true),
            "http" => return Err(AgentError::InsecurePlatformUrl { url: platform_url.to_owned() }),
            _ => return Err(invalid()),
        };
        let http = builder.build().map_err(AgentError::Http)?;
        Ok(PlatformClient { http, base_url, identity, random: SystemRandom::new(), request_timeout, insecure })
    }

    /// `POST /v1/terminals`: idempotent registration of this terminal's key.
    pub(crate) async fn register(&self, device_model: &str) -> Result<RegisterTerminalResponse, AgentError> {
        let request = RegisterTerminalRequest {
            terminal_id: self.identity.terminal_id().clone(),
            public_key: self.identity.public_key().to_string(),
            device_model: device_model.to_owned(),
        };
        let body = serde_json::to_vec(&request).unwrap_or_default();
        let raw = self.send(Method::POST, "/v1/terminals", body, Duration::ZERO, None).await?;
        parse_success(raw).map(|answered| answered.body)
    }

    /// `POST /v1/terminals/{id}/sessions`: the signed handshake that opens a session.
    pub(crate) async fn open_session(
        &self,
        request: &OpenSessionRequest,
    ) -> Result<Answered<OpenSessionResponse>, AgentError> {
        let path = format!("{}/sessions", self.terminal_path());
        let body = serde_json::to_vec(request).unwrap_or_default();
        parse_success(self.send(Method::POST, &path, body, Duration::ZERO, None).await?)
    }

    /// `GET /v1/terminals/{id}/binding-check`: the binding status over `session` (no signature either way).
    pub(crate) async fn binding_check(
        &self,
        session: &StoredSession,
    ) -> Result<Answered<BindingCheckResponse>, AgentError> {
        let path = format!("{}/binding-check", self.terminal_path());
        parse_success(self.send(Method::GET, &path, Vec::new(), Duration::ZERO, Some(session)).await?)
    }

    /// `GET /v1/terminals/{id}/binding`: the signed binding status; with a `wait`, the long-poll that the platform
    /// answers as soon as the binding differs from `held_binding_id` (or at the end of the wait).
    pub(crate) async fn binding_status(
        &self,
        wait: Duration,
        held_binding_id: Option<&str>,
    ) -> Result<Answered<BindingStatusResponse>, AgentError> {
        let mut path = format!("{}/binding", self.terminal_path());
        if !wait.is_zero() {
            path.push_str(&format!("?wait_seconds={}", wait.as_secs()));
            // Binding IDs come from the platform's signed statements; one that needs escaping is not sent.
            if let Some(binding_id) = held_binding_id.filter(|binding_id| is_safe_path_segment(binding_id)) {
                path.push_str(&format!("&binding_id={binding_id}"));
            }
        }
        parse_success(self.send(Method::GET, &path, Vec::new(), wait, None).await?)
    }

    /// `POST /v1/terminals/{id}/activations`: a fresh signed offer; with `replace_binding` even when bound (change number).
    pub(crate) async fn create_activation(
        &self,
        replace_binding: bool,
    ) -> Result<Answered<ActivationResponse>, AgentError> {
        let path = format!("{}/activations", self.terminal_path());
        let body = if replace_binding {
            serde_json::to_vec(&numbind_wire::api::CreateActivationRequest { replace_binding })
                .unwrap_or_else(|_| br#"{"replace_binding":true}"#.to_vec())
        } else {
            b"{}".to_vec()
        };
        parse_success(self.send(Method::POST, &path, body, Duration::ZERO, None).await?)
    }

    /// `GET /v1/terminals/{id}/activations/{activation_id}?wait_seconds=N`: the long-poll.
    pub(crate) async fn poll_activation(
        &self,
        activation_id: &str,
        wait: Duration,
    ) -> Result<Answered<ActivationOutcomeResponse>, AgentError> {
        let path = format!("{}/activations/{activation_id}?wait_seconds={}", self.terminal_path(), wait.as_secs());
        parse_success(self.send(Method::GET, &path, Vec::new(), wait, None).await?)
    }

    /// `POST /v1/terminals/{id}/activations/{activation_id}/acknowledgement`: the flag is written.
    pub(crate) async fn acknowledge(&self, activation_id: &str, binding_id: &str) -> Result<(), AgentError> {
        let path = format!("{}/activations/{activation_id}/acknowledgement", self.terminal_path());
        // The binding ID comes from the platform's own signed statement; one it could not have sent is its fault.
        let binding_id = numbind_wire::BindingId::parse(binding_id)
            .map_err(|_| AgentError::UnexpectedResponse { status: 200, retry_after: None })?;
        let body = serde_json::to_vec(&AcknowledgementRequest { binding_id }).unwrap_or_default();
        let raw = self.send(Method::POST, &path, body, Duration::ZERO, None).await?;
        if raw.status.is_success() {
            Ok(())
        } else {
            Err(error_from(raw))
        }
    }

    /// `GET /v1/terminals/{id}/purchases/{intent_nonce}?wait_seconds=N`: the purchase long-poll (signed).
    pub(crate) async fn purchase_status(
        &self,
        intent_nonce: &str,
        wait: Duration,
    ) -> Result<Answered<PurchaseStatusResponse>, AgentError> {
        if !is_safe_path_segment(intent_nonce) {
            return Err(AgentError::MalformedIntentNonce);
        }
        let path = format!("{}/purchases/{intent_nonce}?wait_seconds={}", self.terminal_path(), wait.as_secs());
        parse_success(self.send(Method::GET, &path, Vec::new(), wait, None).await?)
    }

    /// `POST /v1/terminals/{id}/reset`: the factory reset, answered with a signed status.
    pub(crate) async fn reset(&self) -> Result<Answered<BindingStatusResponse>, AgentError> {
        let path = format!("{}/reset", self.terminal_path());
        parse_success(self.send(Method::POST, &path, b"{}".to_vec(), Duration::ZERO, None).await?)
    }

    fn terminal_path(&self) -> String {
        format!("/v1/terminals/{}", self.identity.terminal_id())
    }

    /// Builds the URL under the base, signs (or, with `session`, tags) exactly the path and query that go on the
    /// wire, sends.
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Vec<u8>,
        extra_wait: Duration,
        session: Option<&StoredSession>,
    ) -> Result<RawAnswer, AgentError> {
        let base_path = self.base_url.path().trim_end_matches('/');
        let mut url = self.base_url.clone();
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        url.set_path(&format!("{base_path}{path}"));
        url.set_query(if query.is_empty() { None } else { Some(query) });
        let signed_path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        if self.insecure {
            tracing::warn!(url = %self.base_url, "sending to the platform over plain http: the network sees this request");
        }
        let nonce = new_nonce(&self.random)?;
        let timestamp = now_unix_seconds();
        let to_sign = RequestToSign {
            method: method.as_str(),
            path_and_query: &signed_path,
            terminal_id: self.identity.terminal_id(),
            timestamp_unix_seconds: timestamp,
            nonce: &nonce,
            body: &body,
        };
        let mut request = self
            .http
            .request(method.clone(), url)
            .timeout(self.request_timeout + extra_wait)
            .header(HEADER_TERMINAL, self.identity.terminal_id().as_str())
            .header(HEADER_TIMESTAMP, timestamp.to_string())
            .header(HEADER_NONCE, &nonce);
        request = match session {
            Some(session) => request
                .header(HEADER_SESSION_TICKET, &session.ticket)
                .header(HEADER_SESSION_TAG, session.key.tag_request(&to_sign)),
            None => request.header(HEADER_SIGNATURE, self.identity.key_pair().sign(&to_sign)),
        };
        if method != Method::GET {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        }
        let response = request.send().await.map_err(AgentError::Http)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await.map_err(AgentError::Http)?.to_vec();
        tracing::debug!(method = %method, path = %path, status = status.as_u16(), "platform answered");
        Ok(RawAnswer { status, retry_after, body, request_nonce: nonce })
    }
}

fn parse_success<T: DeserializeOwned>(raw: RawAnswer) -> Result<Answered<T>, AgentError> {
    if !raw.status.is_success() {
        return Err(error_from(raw));
    }
    match serde_json::from_slice::<T>(&raw.body) {
        Ok(body) => Ok(Answered { body, request_nonce: raw.request_nonce }),
        Err(_) => Err(AgentError::UnexpectedResponse { status: raw.status.as_u16(), retry_after: raw.retry_after }),
    }
}

fn error_from(raw: RawAnswer) -> AgentError {
    match serde_json::from_slice::<ErrorBody>(&raw.body) {
        Ok(error) => AgentError::Platform {
            status: raw.status.as_u16(),
            code: error.code,
            message: error.message,
            retry_after: raw.retry_after,
        },
        Err(_) => AgentError::UnexpectedResponse { status: raw.status.as_u16(), retry_after: raw.retry_after },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_segments_go_into_paths() {
        assert!(is_safe_path_segment("act-01HZX_9"));
        assert!(!is_safe_path_segment("../reset"));
        assert!(!is_safe_path_segment("a?b"));
        assert!(!is_safe_path_segment(""));
    }

    fn client(url: &str, authorities: Option<&[u8]>, allow_insecure_http: bool) -> Result<PlatformClient, AgentError> {
        let directory = tempfile::tempdir().unwrap();
        let identity = Arc::new(TerminalIdentity::load_or_create(directory.path(), None).unwrap());
        PlatformClient::new(url, authorities, allow_insecure_http, identity, Duration::from_secs(1))
    }

    #[test]
    fn only_well_formed_http_and_https_urls_are_accepted() {
        for bad in ["ftp://example.com", "not a url", "http://host/?x=1"] {
            assert!(matches!(client(bad, None, true), Err(AgentError::PlatformUrl { .. })), "{bad}");
        }
        assert!(client("http://127.0.0.1:8080", None, false).is_ok());
    }

    #[test]
    fn plain_http_is_refused_beyond_loopback_unless_allowed_explicitly() {
        for loopback in ["http://127.0.0.1:8080", "http://127.8.9.10", "http://localhost:1", "http://[::1]:8080"] {
            assert!(client(loopback, None, false).is_ok(), "{loopback}");
        }
        for remote in ["http://10.0.0.5:8080", "http://platform.example.net", "http://[2001:db8::1]"] {
            assert!(matches!(client(remote, None, false), Err(AgentError::InsecurePlatformUrl { .. })), "{remote}");
            assert!(client(remote, None, true).unwrap().insecure, "{remote} allowed, and it warns");
        }
    }

    #[test]
    fn https_needs_a_usable_authority_to_trust() {
        let url = "https://platform.example.net";
        assert!(matches!(client(url, None, false), Err(AgentError::NoTrustedAuthority)));
        assert!(matches!(client(url, Some(b"no pem here"), false), Err(AgentError::NoTrustedAuthority)));
    }
}
