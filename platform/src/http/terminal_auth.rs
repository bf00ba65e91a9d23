//! Terminal request authentication: signature headers, timestamp window, registered key, nonce, path terminal.
//!
//! Nonces are remembered in memory (`guards::replay_guard`), not in SQLite: authenticating a request writes nothing.

use crate::error::ApiError;
use crate::guards::replay_guard::ReplayRefusal;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::Method;
use numbind_process::http_api::MAX_BODY_BYTES;
use numbind_wire::request_signing::{RequestToSign, SignatureHeaders, TerminalPublicKey};
use numbind_wire::TerminalId;

/// A request carrying well-formed, fresh signature headers; not yet verified against any key.
pub(super) struct SignedRequest {
    pub(super) headers: SignatureHeaders,
    pub(super) method: Method,
    pub(super) path_and_query: String,
    pub(super) body: Bytes,
}

impl FromRequest<AppState> for SignedRequest {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let headers = SignatureHeaders::parse(|name| parts.headers.get(name).and_then(|value| value.to_str().ok()))
            .map_err(|_| ApiError::Unauthenticated)?;
        if !state.timestamp_is_fresh(headers.timestamp_unix_seconds) {
            return Err(ApiError::StaleTimestamp);
        }
        let path_and_query =
            parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |pq| pq.to_string());
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| ApiError::PayloadTooLarge)?;
        Ok(SignedRequest { headers, method: parts.method, path_and_query, body })
    }
}

impl SignedRequest {
    /// Checks the signature with `public_key`.
    pub(super) fn verify_with(&self, public_key: &TerminalPublicKey) -> Result<(), ApiError> {
        let request = RequestToSign {
            method: self.method.as_str(),
            path_and_query: &self.path_and_query,
            terminal_id: &self.headers.terminal_id,
            timestamp_unix_seconds: self.headers.timestamp_unix_seconds,
            nonce: &self.headers.nonce,
            body: &self.body,
        };
        public_key.verify(&request, &self.headers.signature).map_err(|_| ApiError::Unauthenticated)
    }

    /// Records the nonce in the in-memory replay guard (no disk write); a nonce seen before is a replay, and so is
    /// any request signed before this process started (the guard forgot what the previous process saw).
    pub(super) fn record_nonce(&self, state: &AppState) -> Result<(), ApiError> {
        admit_nonce(state, &self.headers.terminal_id, &self.headers.nonce, self.headers.timestamp_unix_seconds)
    }
}

/// Records a request's nonce in the in-memory replay guard; a nonce seen before, or a request made before this
/// process started, is a replay.
pub(super) fn admit_nonce(
    state: &AppState,
    terminal_id: &TerminalId,
    nonce: &str,
    timestamp_unix_seconds: i64,
) -> Result<(), ApiError> {
    state.replay_guard.admit(terminal_id, nonce, timestamp_unix_seconds, state.now()).map_err(|refusal| match refusal {
        ReplayRefusal::Overloaded => ApiError::Overloaded,
        _ => ApiError::ReplayedRequest,
    })
}

/// A request verified with the registered key of the terminal named in its path.
pub(super) struct AuthenticatedTerminal {
    pub(super) terminal_id: TerminalId,
    /// The request's nonce, echoed as `in_reply_to` in statements.
    pub(super) nonce: String,
    pub(super) body: Bytes,
}

impl FromRequest<AppState> for AuthenticatedTerminal {
    type Rejection = ApiError;

    /// Boxed: verifying takes over a kilobyte of future state that is needed only until the request is
    /// authenticated, while the handler future embedding this one lives as long as the request (a long-poll's
    /// whole wait).
    fn from_request(
        request: Request,
        state: &AppState,
    ) -> impl std::future::Future<Output = Result<Self, Self::Rejection>> + Send {
        Box::pin(authenticate_terminal(request, state))
    }
}

async fn authenticate_terminal(request: Request, state: &AppState) -> Result<AuthenticatedTerminal, ApiError> {
    let (mut parts, body) = request.into_parts();
    let path_terminal = path_terminal(&mut parts, state).await?;
    let signed = SignedRequest::from_request(Request::from_parts(parts, body), state).await?;
    let terminal_id = signed.headers.terminal_id.clone();
    let public_key = registered_key(state, &terminal_id).await?;
    signed.verify_with(&public_key)?;
    if path_terminal != terminal_id {
        return Err(ApiError::TerminalMismatch);
    }
    signed.record_nonce(state)?;
    Ok(AuthenticatedTerminal { terminal_id, nonce: signed.headers.nonce, body: signed.body })
}

/// The terminal named by the route's `{terminal_id}`.
pub(super) async fn path_terminal(parts: &mut Parts, state: &AppState) -> Result<TerminalId, ApiError> {
    let path_terminal = RawPathParams::from_request_parts(parts, state)
        .await
        .ok()
        .and_then(|params| params.iter().find(|(name, _)| *name == "terminal_id").map(|(_, value)| value.to_owned()))
        .ok_or_else(|| ApiError::invalid_request("the path names no terminal"))?;
    TerminalId::parse(&path_terminal).map_err(ApiError::invalid_request)
}

/// The terminal's registered key: from the in-memory cache, else read once from the store and cached.
pub(super) async fn registered_key(state: &AppState, terminal_id: &TerminalId) -> Result<TerminalPublicKey, ApiError> {
    if let Some(public_key) = state.terminal_keys.get(terminal_id) {
        return Ok(public_key);
    }
    let lookup_id = terminal_id.clone();
    let terminal =
        state.store.call(move |store| store.find_terminal(&lookup_id)).await?.ok_or(ApiError::TerminalNotRegistered)?;
    state.terminal_keys.remember(terminal_id, &terminal.public_key);
    Ok(terminal.public_key)
}
