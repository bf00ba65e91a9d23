//! Terminal sessions over HTTP: the signed handshake that opens one, and the session-tagged binding check.
//!
//! `POST /v1/terminals/{id}/sessions` is an ordinary signed request; it answers a signed grant (see
//! `numbind_wire::session_handshake`). `GET /v1/terminals/{id}/binding-check` carries the session ticket and an
//! HMAC tag instead of a signature and is answered with a statement tagged under the session key: no Ed25519
//! operation on the platform, which is what bounds a boot storm of signed checks.

use super::terminal_auth::{admit_nonce, path_terminal, registered_key, AuthenticatedTerminal};
use super::terminals::binding_statement_fields;
use crate::error::ApiError;
use crate::guards::session_tickets::TicketRefusal;
use crate::state::AppState;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;
use numbind_process::http_api::parse_json_body;
use numbind_wire::api::BindingCheckResponse;
use numbind_wire::request_signing::RequestToSign;
use numbind_wire::session_handshake::{accept_session_offer, OpenSessionRequest, OpenSessionResponse, SessionGrant};
use numbind_wire::terminal_session::{SessionError, SessionHeaders, SessionKey};
use numbind_wire::TerminalId;

/// `POST /v1/terminals/{terminal_id}/sessions`: X25519 with the terminal's ephemeral key; a signed grant back.
#[tracing::instrument(skip_all, fields(terminal_id = %terminal.terminal_id))]
pub(super) async fn open_session(
    State(state): State<AppState>,
    terminal: AuthenticatedTerminal,
) -> Result<Json<OpenSessionResponse>, ApiError> {
    let request: OpenSessionRequest = parse_json_body(&terminal.body)?;
    let (session_key, platform_ephemeral_key) =
        accept_session_offer(&state.random, &terminal.terminal_id, &request.terminal_ephemeral_key).map_err(
            |error| match error {
                // The platform's random source failed: not the terminal's fault, worth a retry.
                SessionError::RandomSourceFailed => ApiError::Overloaded,
                // A malformed key, or one of low order (the agreement refuses an all-zero shared secret).
                _ => ApiError::invalid_request(error),
            },
        )?;
    let issued_at = state.now();
    let expires_at = issued_at.saturating_add(state.settings.terminal_session_lifetime.as_secs() as i64);
    let ticket = state
        .session_tickets
        .seal(&state.random, &terminal.terminal_id, &session_key, expires_at)
        .map_err(|_| ApiError::Overloaded)?;
    let grant = SessionGrant {
        terminal_id: terminal.terminal_id.clone(),
        ticket,
        terminal_ephemeral_key: request.terminal_ephemeral_key.trim().to_owned(),
        platform_ephemeral_key,
        in_reply_to: terminal.nonce,
        issued_at_unix_seconds: issued_at,
        expires_at_unix_seconds: expires_at,
    };
    state.metrics.terminal_sessions_opened.inc();
    tracing::info!(expires_at, "terminal session opened");
    Ok(Json(OpenSessionResponse { grant: state.signing_key.sign_session_grant(&grant) }))
}

/// `GET /v1/terminals/{terminal_id}/binding-check`: the binding as it is now, tagged with the session key.
#[tracing::instrument(skip_all, fields(terminal_id = %terminal.terminal_id))]
pub(super) async fn binding_check(
    State(state): State<AppState>,
    terminal: SessionTerminal,
) -> Result<Json<BindingCheckResponse>, ApiError> {
    // Read on this worker, not through the blocking pool: one indexed row of a WAL snapshot from the page cache
    // takes a few µs, while the hop to the pool and back cost ~60 µs of CPU per check in the boot-storm bench.
    let binding = state.store.active_binding(&terminal.terminal_id)?;
    let (issued_at, expires_at) = state.statement_validity();
    let statement =
        binding_statement_fields(&terminal.terminal_id, binding.as_ref(), &terminal.nonce, issued_at, expires_at);
    Ok(Json(BindingCheckResponse { statement: terminal.session_key.seal_statement(&statement) }))
}

/// A request authenticated by a session: genuine unexpired ticket of the path's terminal, a tag that verifies
/// under its key, a registered terminal, a fresh timestamp and a nonce not seen before.
pub(super) struct SessionTerminal {
    pub(super) terminal_id: TerminalId,
    pub(super) nonce: String,
    pub(super) session_key: SessionKey,
}

impl FromRequestParts<AppState> for SessionTerminal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let path_terminal = path_terminal(parts, state).await?;
        let headers = SessionHeaders::parse(|name| parts.headers.get(name).and_then(|value| value.to_str().ok()))
            .map_err(|_| ApiError::Unauthenticated)?;
        if !state.timestamp_is_fresh(headers.timestamp_unix_seconds) {
            return Err(ApiError::StaleTimestamp);
        }
        if path_terminal != headers.terminal_id {
            return Err(ApiError::TerminalMismatch);
        }
        let session_key =
            state.session_tickets.open(&headers.ticket, &headers.terminal_id, state.now()).map_err(|refusal| {
                match refusal {
                    TicketRefusal::RandomSourceFailed => ApiError::Overloaded,
                    _ => ApiError::SessionInvalid,
                }
            })?;
        let path_and_query = parts.uri.path_and_query().map_or_else(|| parts.uri.path(), |pq| pq.as_str());
        let request = RequestToSign {
            method: parts.method.as_str(),
            path_and_query,
            terminal_id: &headers.terminal_id,
            timestamp_unix_seconds: headers.timestamp_unix_seconds,
            nonce: &headers.nonce,
            body: b"",
        };
        session_key.verify_request(&request, &headers.tag).map_err(|_| ApiError::Unauthenticated)?;
        registered_key(state, &headers.terminal_id).await?;
        admit_nonce(state, &headers.terminal_id, &headers.nonce, headers.timestamp_unix_seconds)?;
        Ok(SessionTerminal { terminal_id: headers.terminal_id, nonce: headers.nonce, session_key })
    }
}
