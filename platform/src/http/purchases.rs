//! `GET /v1/terminals/{terminal_id}/purchases/{intent_nonce}?wait_seconds=N`: a box follows the payment made from
//! its intent, long-polled like an activation (the same waiters and poll pacing); `payment_id: null` until a
//! merchant submits the intent. The status is signed with the platform's key, naming the terminal, the intent and
//! the request's nonce, as everything a box acts on is.

use super::activations::PollQuery;
use super::terminal_auth::AuthenticatedTerminal;
use crate::error::ApiError;
use crate::guards::waiters::binding_waiter_key;
use crate::state::AppState;
use crate::store::PaymentRecord;
use axum::extract::State;
use axum::Json;
use numbind_process::http_api::{ApiPath, ApiQuery};
use numbind_wire::api::PurchaseStatus;
use numbind_wire::purchase_status::{PurchaseStatusResponse, PurchaseStatusStatement};
use numbind_wire::TerminalId;
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Deserialize)]
pub(super) struct PurchasePath {
    intent_nonce: String,
}

async fn load(state: &AppState, terminal_id: &TerminalId, nonce: &str) -> Result<Option<PaymentRecord>, ApiError> {
    let (terminal_id, nonce) = (terminal_id.clone(), nonce.to_owned());
    Ok(state.store.call(move |store| store.payment_of_intent(&terminal_id, &nonce)).await?)
}

fn status_of(state: &AppState, record: Option<&PaymentRecord>) -> PurchaseStatus {
    let payment = record.map(|record| &record.payment);
    PurchaseStatus {
        payment_id: payment.map(|payment| payment.payment_id.clone()),
        state: payment.map(|payment| payment.state),
        denial_reason: payment.and_then(|payment| payment.denial_reason),
        cancellation_reason: payment.and_then(|payment| payment.cancellation_reason),
        confirmation_expires_at_unix_seconds: payment.and_then(|payment| payment.confirmation_expires_at_unix_seconds),
        poll_interval_seconds: state.settings.poll_interval.as_secs() as u32,
    }
}

/// `GET .../purchases/{intent_nonce}`: answers at once when the payment is final, else waits up to `wait_seconds`
/// (capped) for a change.
#[tracing::instrument(skip_all, fields(terminal_id = %terminal.terminal_id))]
pub(super) async fn poll_purchase(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<PurchasePath>,
    ApiQuery(query): ApiQuery<PollQuery>,
    terminal: AuthenticatedTerminal,
) -> Result<Json<PurchaseStatusResponse>, ApiError> {
    let nonce = path.intent_nonce;
    if nonce.is_empty() || nonce.len() > 64 {
        return Err(ApiError::invalid_request("an intent nonce is 16 to 64 characters"));
    }
    let key = format!("purchase:{}:{nonce}", terminal.terminal_id);
    state
        .poll_pacing
        .admit(&key, state.settings.poll_interval.as_secs() as i64, state.now())
        .map_err(|retry_after_seconds| ApiError::SlowDown { retry_after_seconds })?;
    let wait_seconds = query.wait_seconds.unwrap_or(0).min(state.settings.long_poll_max_wait.as_secs());
    // Subscribed before the first read, so that no wake-up between the read and the wait is lost. The binding's
    // key too: a revocation cancels a payment waiting for confirmation.
    let ticket = (wait_seconds > 0).then(|| state.waiters.subscribe(&key));
    let binding_ticket =
        (wait_seconds > 0).then(|| state.waiters.subscribe(&binding_waiter_key(&terminal.terminal_id)));
    let mut record = load(&state, &terminal.terminal_id, &nonce).await?;
    let settled = record.as_ref().is_some_and(|record| record.payment.state.is_final());
    if let (Some(ticket), Some(binding_ticket), false) = (ticket.as_ref(), binding_ticket.as_ref(), settled) {
        tokio::select! {
            () = ticket.woken() => {}
            () = binding_ticket.woken() => {}
            () = tokio::time::sleep(Duration::from_secs(wait_seconds)) => {}
            () = state.shutdown.cancelled() => {}
        }
        record = load(&state, &terminal.terminal_id, &nonce).await?;
    }
    drop((ticket, binding_ticket));
    let statement = PurchaseStatusStatement {
        terminal_id: terminal.terminal_id,
        intent_nonce: nonce,
        in_reply_to: terminal.nonce,
        issued_at_unix_seconds: state.now(),
        status: status_of(&state, record.as_ref()),
    };
    Ok(Json(PurchaseStatusResponse { statement: state.signing_key.sign_purchase_status(&statement) }))
}
