//! `/v1/terminals`: registration, the signed binding status (and its long-poll for a watching box), and factory
//! reset.

use super::activations::WaitingTerminal;
use super::terminal_auth::{AuthenticatedTerminal, SignedRequest};
use crate::error::ApiError;
use crate::guards::waiters::binding_waiter_key;
use crate::state::AppState;
use crate::store::{Binding, RegistrationOutcome};
use axum::extract::State;
use axum::Json;
use numbind_process::http_api::{parse_json_body, ApiQuery};
use numbind_wire::api::{BindingStatusResponse, RegisterTerminalRequest, RegisterTerminalResponse};
use numbind_wire::request_signing::TerminalPublicKey;
use numbind_wire::statement::{BindingState, BindingStatement, SignedStatement};
use numbind_wire::TerminalId;
use serde::Deserialize;
use std::time::Duration;

const MAX_DEVICE_MODEL_CHARS: usize = 64;

/// `POST /v1/terminals`: proof of possession of the key in the body; idempotent for the same key.
#[tracing::instrument(skip_all)]
pub(super) async fn register_terminal(
    State(state): State<AppState>,
    signed: SignedRequest,
) -> Result<Json<RegisterTerminalResponse>, ApiError> {
    let request: RegisterTerminalRequest = parse_json_body(&signed.body)?;
    let public_key = TerminalPublicKey::parse(&request.public_key).map_err(ApiError::invalid_request)?;
    let device_model = request.device_model.trim().to_owned();
    if device_model.is_empty()
        || device_model.chars().count() > MAX_DEVICE_MODEL_CHARS
        || device_model.chars().any(char::is_control)
    {
        return Err(ApiError::invalid_request("device_model must be 1 to 64 printable characters"));
    }
    signed.verify_with(&public_key)?;
    if request.terminal_id != signed.headers.terminal_id {
        return Err(ApiError::TerminalMismatch);
    }
    signed.record_nonce(&state)?;
    let (terminal_id, now, require_manifest) =
        (request.terminal_id.clone(), state.now(), state.settings.require_manifest);
    let outcome = state
        .store
        .call_write(move |store| {
            store.register_terminal(&terminal_id, &public_key, &device_model, require_manifest, now)
        })
        .await?;
    tracing::info!(terminal_id = %request.terminal_id, ?outcome, "registration");
    match outcome {
        RegistrationOutcome::NewlyRegistered | RegistrationOutcome::AlreadyRegistered => {
            Ok(Json(RegisterTerminalResponse {
                terminal_id: request.terminal_id,
                newly_registered: outcome == RegistrationOutcome::NewlyRegistered,
            }))
        }
        RegistrationOutcome::KeyMismatch => Err(ApiError::KeyMismatch),
        RegistrationOutcome::NotInManifest => Err(ApiError::TerminalNotInManifest),
    }
}

/// The signed statement of a terminal's binding as it is now.
pub(super) fn binding_statement(
    state: &AppState,
    terminal_id: &TerminalId,
    binding: Option<&Binding>,
    in_reply_to: &str,
) -> SignedStatement {
    let (issued_at, expires_at) = state.statement_validity();
    state.signing_key.sign(&binding_statement_fields(terminal_id, binding, in_reply_to, issued_at, expires_at))
}

/// The statement of a terminal's binding (bound to `binding`, or unbound), answering request `in_reply_to`.
pub(super) fn binding_statement_fields(
    terminal_id: &TerminalId,
    binding: Option<&Binding>,
    in_reply_to: &str,
    issued_at: i64,
    expires_at: i64,
) -> BindingStatement {
    BindingStatement {
        terminal_id: terminal_id.clone(),
        state: if binding.is_some() { BindingState::Bound } else { BindingState::Unbound },
        activation_id: None,
        binding_id: binding.map(|binding| binding.binding_id.to_string()),
        msisdn_masked: binding.map(|binding| binding.msisdn.masked()),
        denial_reason: None,
        in_reply_to: Some(in_reply_to.to_owned()),
        issued_at_unix_seconds: issued_at,
        expires_at_unix_seconds: expires_at,
    }
}

/// The query of `GET .../binding`: without `wait_seconds`, the status now; with it, a watching box's long-poll.
#[derive(Debug, Deserialize)]
pub(super) struct BindingQuery {
    /// Wait up to this long (capped at the long-poll bound) for the binding to differ from `binding_id`.
    wait_seconds: Option<u64>,
    /// The binding the box holds; absent when it holds none.
    binding_id: Option<String>,
}

/// `GET /v1/terminals/{terminal_id}/binding[?wait_seconds=N&binding_id=B]`: the signed binding status; with
/// `wait_seconds`, answered as soon as the binding differs from the one the box holds (a binding made, revoked or
/// replaced wakes it), or at the wait's end with the binding unchanged.
#[tracing::instrument(skip_all, fields(terminal_id = %terminal.terminal_id))]
pub(super) async fn binding_status(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<BindingQuery>,
    terminal: AuthenticatedTerminal,
) -> Result<Json<BindingStatusResponse>, ApiError> {
    let wait_seconds = query.wait_seconds.unwrap_or(0).min(state.settings.long_poll_max_wait.as_secs());
    // Subscribed before the first read, so that no change between the read and the wait is lost.
    let ticket = (wait_seconds > 0).then(|| state.waiters.subscribe(&binding_waiter_key(&terminal.terminal_id)));
    let mut binding = read_active_binding(&state, &terminal.terminal_id).await?;
    let unchanged = |binding: &Option<Binding>| {
        binding.as_ref().map(|binding| binding.binding_id.as_str()) == query.binding_id.as_deref()
    };
    if let Some(ticket) = ticket.as_ref().filter(|_| unchanged(&binding)) {
        let _waiting = WaitingTerminal::new(&state);
        tokio::select! {
            () = ticket.woken() => {}
            () = tokio::time::sleep(Duration::from_secs(wait_seconds)) => {}
            () = state.shutdown.cancelled() => {}
        }
        binding = read_active_binding(&state, &terminal.terminal_id).await?;
    }
    drop(ticket);
    let statement = binding_statement(&state, &terminal.terminal_id, binding.as_ref(), &terminal.nonce);
    Ok(Json(BindingStatusResponse { statement }))
}

async fn read_active_binding(state: &AppState, terminal_id: &TerminalId) -> Result<Option<Binding>, ApiError> {
    let terminal_id = terminal_id.clone();
    Ok(state.store.call(move |store| store.active_binding(&terminal_id)).await?)
}

/// `POST /v1/terminals/{terminal_id}/reset`: revoke the binding (telling the old number), cancel activations.
#[tracing::instrument(skip_all, fields(terminal_id = %terminal.terminal_id))]
pub(super) async fn reset_terminal(
    State(state): State<AppState>,
    terminal: AuthenticatedTerminal,
) -> Result<Json<BindingStatusResponse>, ApiError> {
    let (terminal_id, now) = (terminal.terminal_id.clone(), state.now());
    let outcome = state.store.call(move |store| store.reset_terminal(&terminal_id, now)).await?;
    for activation_id in &outcome.cancelled_activation_ids {
        state.waiters.wake(activation_id.as_str());
    }
    if let Some(binding) = &outcome.revoked {
        state.announce_binding_change(&terminal.terminal_id);
        state.outbox_changed.notify_one();
        state.announce_oss_revocation();
        tracing::info!(binding_id = %binding.binding_id, msisdn = %binding.msisdn, "factory reset revoked the binding");
    }
    let statement = binding_statement(&state, &terminal.terminal_id, None, &terminal.nonce);
    Ok(Json(BindingStatusResponse { statement }))
}
