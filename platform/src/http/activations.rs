//! `/v1/terminals/{terminal_id}/activations`: issue, long-poll the outcome, acknowledge the binding.

use super::terminal_auth::AuthenticatedTerminal;
use crate::domain::activation::Activation;
use crate::error::ApiError;
use crate::guards::waiters::WaitTicket;
use crate::state::AppState;
use crate::store::{IssueLimits, IssueOutcome};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use futures_util::future::Either;
use numbind_process::http_api::{parse_json_body, ApiPath, ApiQuery};
use numbind_wire::activation_offer::ActivationOffer;
use numbind_wire::api::{
    AcknowledgementRequest, ActivationOutcomeResponse, ActivationResponse, CreateActivationRequest,
};
use numbind_wire::statement::{BindingState, BindingStatement, SignedStatement};
use numbind_wire::{ActivationId, BindingId, TerminalId};
use serde::Deserialize;
use std::future::Future;
use std::time::Duration;
use tracing::Instrument;

#[derive(Debug, Deserialize)]
pub(super) struct ActivationPath {
    pub(super) activation_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PollQuery {
    pub(super) wait_seconds: Option<u64>,
}

/// `POST /v1/terminals/{terminal_id}/activations`: the live activation again, or a fresh one.
#[tracing::instrument(skip_all, fields(terminal_id = %terminal.terminal_id))]
pub(super) async fn issue_activation(
    State(state): State<AppState>,
    terminal: AuthenticatedTerminal,
) -> Result<Json<ActivationResponse>, ApiError> {
    let settings = &state.settings;
    let limits = IssueLimits {
        time_to_live_seconds: settings.activation_ttl.as_secs() as i64,
        max_per_window: i64::from(settings.max_activations_per_window),
        window_seconds: settings.activation_rate_window.as_secs() as i64,
    };
    let request: CreateActivationRequest = if terminal.body.iter().all(u8::is_ascii_whitespace) {
        Default::default()
    } else {
        parse_json_body(&terminal.body)?
    };
    let replace = request.replace_binding;
    let (terminal_id, now, random) = (terminal.terminal_id.clone(), state.now(), state.random.clone());
    let outcome = state
        .store
        .call_write(move |store| store.issue_activation_replacing(&terminal_id, &random, limits, replace, now))
        .await?;
    let (activation, reused) = match outcome {
        IssueOutcome::Issued { activation, reused } => (activation, reused),
        IssueOutcome::AlreadyBound => return Err(ApiError::TerminalAlreadyBound),
        IssueOutcome::RateLimited { retry_after_seconds } => {
            return Err(ApiError::RateLimited { retry_after_seconds: retry_after_seconds as u64 })
        }
    };
    if !reused {
        state.metrics.activations_issued.inc();
    }
    tracing::info!(activation_id = %activation.activation_id, reused, replace, "activation issued");
    let sms_text = format!("BIND {}", activation.code.as_str());
    let offer = ActivationOffer {
        terminal_id: terminal.terminal_id,
        activation_id: activation.activation_id,
        code: activation.code.grouped(),
        short_code: settings.short_code.clone(),
        qr_payload: format!("SMSTO:{}:{sms_text}", settings.short_code),
        sms_text,
        in_reply_to: terminal.nonce,
        issued_at_unix_seconds: now,
        expires_at_unix_seconds: activation.expires_at,
        poll_interval_seconds: settings.poll_interval.as_secs() as u32,
    };
    Ok(Json(ActivationResponse { offer: state.signing_key.sign_offer(&offer) }))
}

/// Reads this terminal's activation, writing back its expiry when due.
///
/// The read runs on this worker, like the session binding check: one row by primary key from a WAL snapshot takes
/// a few µs, less than the hop to the blocking pool and back. Only an activation past its deadline, whose expiry
/// is written (with its audit event), goes through the pool.
async fn load_activation(
    state: &AppState,
    terminal_id: &TerminalId,
    activation_id: &ActivationId,
) -> Result<Activation, ApiError> {
    let now = state.now();
    let activation = match state.store.find_activation(terminal_id, activation_id)? {
        Some(activation) if activation.state.is_live() && !activation.effective_state(now).is_live() => {
            let activation_id = activation_id.clone();
            state.store.call(move |store| store.expire_activation_if_due(&activation_id, now)).await?
        }
        other => other,
    };
    activation.ok_or(ApiError::ActivationNotFound)
}

fn activation_statement(state: &AppState, activation: &Activation, in_reply_to: &str) -> SignedStatement {
    let statement_state = activation.statement_state(state.now());
    let bound = statement_state == BindingState::Bound;
    state.sign_statement(|issued_at, expires_at| BindingStatement {
        terminal_id: activation.terminal_id.clone(),
        state: statement_state,
        activation_id: Some(activation.activation_id.to_string()),
        binding_id: activation.binding_id.as_ref().filter(|_| bound).map(BindingId::to_string),
        msisdn_masked: activation.claimed_msisdn.as_ref().filter(|_| bound).map(|msisdn| msisdn.masked()),
        denial_reason: activation.denial_reason.filter(|_| statement_state == BindingState::Denied),
        in_reply_to: Some(in_reply_to.to_owned()),
        issued_at_unix_seconds: issued_at,
        expires_at_unix_seconds: expires_at,
    })
}

/// Counts a waiting box in the gauge for as long as it lives.
pub(super) struct WaitingTerminal<'a>(&'a AppState);

impl<'a> WaitingTerminal<'a> {
    pub(super) fn new(state: &'a AppState) -> Self {
        state.metrics.waiting_terminals.inc();
        WaitingTerminal(state)
    }
}

impl Drop for WaitingTerminal<'_> {
    fn drop(&mut self) {
        self.0.metrics.waiting_terminals.dec();
    }
}

/// `GET /v1/terminals/{terminal_id}/activations/{activation_id}?wait_seconds=N` (long-poll).
///
/// Not an `async fn`: its future is what a waiting box holds for the whole wait, so the extractors' values are
/// moved once into a compact [`LongPoll`] (an `async fn` would keep a second copy of every argument).
pub(super) fn poll_activation(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<ActivationPath>,
    ApiQuery(query): ApiQuery<PollQuery>,
    terminal: AuthenticatedTerminal,
) -> impl Future<Output = Result<Json<ActivationOutcomeResponse>, ApiError>> + Send {
    let span = tracing::info_span!(
        "poll_activation",
        terminal_id = %terminal.terminal_id,
        activation_id = %path.activation_id
    );
    // A malformed ID names no activation: answered at once, as an unknown one is.
    let Ok(activation_id) = ActivationId::parse(&path.activation_id) else {
        return Either::Left(std::future::ready(Err(ApiError::ActivationNotFound)));
    };
    let poll = LongPoll { state, terminal_id: terminal.terminal_id, nonce: terminal.nonce, activation_id };
    Either::Right(poll.answer(query.wait_seconds).instrument(span))
}

/// One long-poll: only what answering it needs (the request body and headers are gone by now).
struct LongPoll {
    state: AppState,
    terminal_id: TerminalId,
    /// Echoed as `in_reply_to`.
    nonce: String,
    activation_id: ActivationId,
}

/// The activation as first read: answer it now, or wait this long for a change.
enum FirstLook {
    Answer(Activation),
    Wait(Duration),
}

impl LongPoll {
    async fn answer(self, requested_wait_seconds: Option<u64>) -> Result<Json<ActivationOutcomeResponse>, ApiError> {
        let state = &self.state;
        state
            .poll_pacing
            .admit(self.activation_id.as_str(), state.settings.poll_interval.as_secs() as i64, state.now())
            .map_err(|retry_after_seconds| ApiError::SlowDown { retry_after_seconds })?;
        let wait_seconds = requested_wait_seconds.unwrap_or(0).min(state.settings.long_poll_max_wait.as_secs());
        // Subscribed before the first read, so that no wake-up between the read and the wait is lost.
        let ticket = (wait_seconds > 0).then(|| state.waiters.subscribe(self.activation_id.as_str()));
        // The first read's activation is dropped here when waiting: a waiting box does not hold it.
        let wait = match self.first_look(ticket.is_some(), wait_seconds).await? {
            FirstLook::Answer(activation) => return Ok(self.answer_with(&activation, ticket)),
            FirstLook::Wait(wait) => wait,
        };
        if let Some(ticket) = ticket.as_ref() {
            let _waiting = WaitingTerminal::new(state);
            tokio::select! {
                () = ticket.woken() => {}
                () = tokio::time::sleep(wait) => {}
                () = state.shutdown.cancelled() => {}
            }
        }
        let activation = load_activation(state, &self.terminal_id, &self.activation_id).await?;
        Ok(self.answer_with(&activation, ticket))
    }

    async fn first_look(&self, may_wait: bool, wait_seconds: u64) -> Result<FirstLook, ApiError> {
        let state = &self.state;
        let activation = load_activation(state, &self.terminal_id, &self.activation_id).await?;
        if !may_wait || !activation.effective_state(state.now()).is_live() {
            return Ok(FirstLook::Answer(activation));
        }
        let until_deadline = (activation.deadline() - state.now()).max(0) as u64;
        Ok(FirstLook::Wait(Duration::from_secs(wait_seconds.min(until_deadline))))
    }

    /// Unregisters the waiter and signs the statement.
    fn answer_with(&self, activation: &Activation, ticket: Option<WaitTicket>) -> Json<ActivationOutcomeResponse> {
        drop(ticket);
        let state = &self.state;
        let statement = activation_statement(state, activation, &self.nonce);
        Json(ActivationOutcomeResponse {
            statement,
            poll_interval_seconds: state.settings.poll_interval.as_secs() as u32,
        })
    }
}

/// `POST .../activations/{activation_id}/acknowledgement`: the box wrote its bound flag. Idempotent.
#[tracing::instrument(skip_all, fields(terminal_id = %terminal.terminal_id, activation_id = %path.activation_id))]
pub(super) async fn acknowledge_binding(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<ActivationPath>,
    terminal: AuthenticatedTerminal,
) -> Result<StatusCode, ApiError> {
    let request: AcknowledgementRequest = parse_json_body(&terminal.body)?;
    let activation_id = ActivationId::parse(&path.activation_id).map_err(|_| ApiError::ActivationNotFound)?;
    let (terminal_id, now) = (terminal.terminal_id.clone(), state.now());
    let acknowledged = state
        .store
        .call_write(move |store| store.acknowledge_binding(&terminal_id, &activation_id, &request.binding_id, now))
        .await?;
    match acknowledged {
        None => Err(ApiError::ActivationNotFound),
        Some(false) => Err(ApiError::BindingNotFound),
        Some(true) => Ok(StatusCode::NO_CONTENT),
    }
}
