//! The boot flow: register, check the binding, then show codes and long-poll until the box is bound.

use super::Agent;
use crate::clients::platform::{is_safe_path_segment, Answered};
use crate::domain::connection::ConnectionFailure;
use crate::domain::events::{ActivationDisplay, AgentEvent, BindingStatus, BoundBinding};
use crate::error::AgentError;
use numbind_process::backoff::Backoff;
use numbind_process::clock::now_unix_seconds;
use numbind_wire::activation_offer::{ActivationOffer, OfferExpectation};
use numbind_wire::api::{ActivationOutcomeResponse, ActivationResponse, ApiErrorCode};
use numbind_wire::statement::{
    BindingState, BindingStatement, DenialReason, SignedStatement, StatementError, StatementExpectation,
};
use std::time::Duration;
use tokio::time::Instant;

/// How one activation ended.
enum ActivationOutcome {
    Bound(BoundBinding),
    Expired,
    Denied(DenialReason),
    /// The platform no longer knows the activation, or says the terminal is unbound: start over with a new one.
    Gone,
}

/// How showing codes ended: bound through a code, or the platform says the terminal is bound already.
enum ActivationLoopEnd {
    Bound(BoundBinding),
    AlreadyBound,
}

/// RFC 8628 section 3.5: after `slow_down`, poll 5 seconds less often.
pub(super) const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

pub(super) async fn run_until_bound(
    agent: &Agent,
    events: &mut (dyn FnMut(AgentEvent) + Send),
) -> Result<BoundBinding, AgentError> {
    let mut backoff = agent.new_backoff();
    // A box that holds a session and whose flag names the binding is done in one tagged request: no registration.
    let over_session = agent.retrying(events, &mut backoff, || agent.check_over_session()).await?;
    if let Some(BindingStatus::Bound(binding)) = over_session {
        tracing::info!(terminal_id = %agent.terminal_id(), binding_id = %binding.binding_id, "already bound (session)");
        events(AgentEvent::AlreadyBound(binding.clone()));
        return Ok(binding);
    }
    let registered = agent.retrying(events, &mut backoff, || agent.client.register(&agent.config.device_model)).await?;
    tracing::info!(terminal_id = %agent.terminal_id(), newly_registered = registered.newly_registered, "registered");
    events(AgentEvent::Registered {
        terminal_id: agent.terminal_id().clone(),
        newly_registered: registered.newly_registered,
    });
    // The first round takes the session's answer (unbound), or goes straight to the signed check when the session
    // did not settle it: never a second session check right after the first.
    let mut first_round = Some(over_session);
    loop {
        let status = match first_round.take() {
            Some(Some(status)) => status,
            Some(None) => agent.retrying(events, &mut backoff, || agent.fetch_signed_status_and_update_flag()).await?,
            None => agent.retrying(events, &mut backoff, || agent.current_status()).await?,
        };
        if let BindingStatus::Bound(binding) = status {
            tracing::info!(terminal_id = %agent.terminal_id(), binding_id = %binding.binding_id, "already bound");
            events(AgentEvent::AlreadyBound(binding.clone()));
            return Ok(binding);
        }
        match show_codes_until_bound(agent, events, &mut backoff, false).await? {
            ActivationLoopEnd::Bound(binding) => return Ok(binding),
            ActivationLoopEnd::AlreadyBound => continue,
        }
    }
}

/// Change number: shows codes even though the terminal may be bound, until a new binding replaces the old one.
pub(super) async fn run_until_bound_replacing(
    agent: &Agent,
    events: &mut (dyn FnMut(AgentEvent) + Send),
) -> Result<BoundBinding, AgentError> {
    let mut backoff = agent.new_backoff();
    let registered = agent.retrying(events, &mut backoff, || agent.client.register(&agent.config.device_model)).await?;
    events(AgentEvent::Registered {
        terminal_id: agent.terminal_id().clone(),
        newly_registered: registered.newly_registered,
    });
    tracing::info!(terminal_id = %agent.terminal_id(), "changing the paying number");
    match show_codes_until_bound(agent, events, &mut backoff, true).await? {
        ActivationLoopEnd::Bound(binding) => Ok(binding),
        // Unreachable with `replace_binding` (the platform answers 409 only without it); never loop on it.
        ActivationLoopEnd::AlreadyBound => Err(AgentError::UnexpectedResponse { status: 409, retry_after: None }),
    }
}

async fn show_codes_until_bound(
    agent: &Agent,
    events: &mut (dyn FnMut(AgentEvent) + Send),
    backoff: &mut Backoff,
    replace_binding: bool,
) -> Result<ActivationLoopEnd, AgentError> {
    loop {
        let created = agent.retrying(events, backoff, || agent.client.create_activation(replace_binding)).await;
        let answered = match created {
            Ok(answered) => answered,
            Err(error) if error.api_code() == Some(ApiErrorCode::TerminalAlreadyBound) => {
                return Ok(ActivationLoopEnd::AlreadyBound);
            }
            Err(error) => return Err(error),
        };
        let activation = match verify_offer(agent, &answered) {
            Ok(activation) => activation,
            Err(error) => {
                tracing::warn!(terminal_id = %agent.terminal_id(), error = %error, "activation offer refused");
                agent.wait_before_retry(events, backoff, &error).await;
                continue;
            }
        };
        tracing::info!(terminal_id = %agent.terminal_id(), activation_id = %activation.activation_id, "showing a code");
        events(AgentEvent::ActivationShown(display_of(agent, &activation)));
        match wait_for_outcome(agent, events, backoff, &activation).await? {
            ActivationOutcome::Bound(binding) => return Ok(ActivationLoopEnd::Bound(binding)),
            ActivationOutcome::Expired => events(AgentEvent::Expired),
            ActivationOutcome::Denied(reason) => {
                events(AgentEvent::Denied { reason });
                tokio::time::sleep(agent.config.pause_after_denial).await;
            }
            ActivationOutcome::Gone => {}
        }
    }
}

/// The offer, verified (pinned key, this terminal, the nonce of the request just sent, not expired): nothing of
/// an offer is shown before this succeeds.
fn verify_offer(agent: &Agent, answered: &Answered<ActivationResponse>) -> Result<ActivationOffer, AgentError> {
    let expectation = OfferExpectation {
        terminal_id: agent.terminal_id(),
        in_reply_to: &answered.request_nonce,
        now_unix_seconds: now_unix_seconds(),
    };
    let offer = agent.pinned_keys.verify_offer(&answered.body.offer, expectation)?;
    if !is_safe_path_segment(offer.activation_id.as_str()) {
        return Err(AgentError::UnexpectedResponse { status: 200, retry_after: None });
    }
    Ok(offer)
}

fn display_of(agent: &Agent, activation: &ActivationOffer) -> ActivationDisplay {
    ActivationDisplay {
        terminal_id: agent.terminal_id().clone(),
        activation_id: activation.activation_id.to_string(),
        code: activation.code.clone(),
        short_code: activation.short_code.clone(),
        sms_text: activation.sms_text.clone(),
        qr_payload: activation.qr_payload.clone(),
        expires_at_unix_seconds: activation.expires_at_unix_seconds,
    }
}

/// Long-polls one activation, never starting a poll sooner than the platform's interval after the previous one started.
/// A statement that does not verify is reported and ignored.
async fn wait_for_outcome(
    agent: &Agent,
    events: &mut (dyn FnMut(AgentEvent) + Send),
    backoff: &mut Backoff,
    activation: &ActivationOffer,
) -> Result<ActivationOutcome, AgentError> {
    let activation_id = activation.activation_id.as_str();
    let mut interval = Duration::from_secs(u64::from(activation.poll_interval_seconds.max(1)));
    let mut next_poll_at = Instant::now();
    loop {
        tokio::time::sleep_until(next_poll_at).await;
        let poll_started = Instant::now();
        let polled = agent.client.poll_activation(activation_id, agent.config.long_poll_wait).await;
        let answered = match polled {
            Ok(answered) => answered,
            Err(error) if error.api_code() == Some(ApiErrorCode::ActivationNotFound) => {
                return Ok(ActivationOutcome::Gone);
            }
            Err(error) if error.is_retryable() => {
                if error.api_code() == Some(ApiErrorCode::SlowDown) {
                    interval += SLOW_DOWN_STEP;
                }
                if error.connection_failure() == Some(ConnectionFailure::ConnectionCut) {
                    // The long-poll was connected: the platform answered a moment ago (it restarted), so this is
                    // the first failure of a new outage, not one more of an old one; and the box polls again
                    // at once, since the confirmation may have come while it was away.
                    backoff.reset();
                    next_poll_at = Instant::now();
                }
                agent.wait_before_retry(events, backoff, &error).await;
                continue;
            }
            Err(error) => return Err(error),
        };
        // The platform paces from the start of the previous poll: after a long-poll it held for the interval, the
        // next one starts at once, so a confirmation that lands between the two is not shown an interval late.
        next_poll_at = poll_started + interval;
        let outcome = match verify_and_interpret(agent, &answered, activation_id) {
            Ok(outcome) => outcome,
            Err(refused) => {
                tracing::warn!(terminal_id = %agent.terminal_id(), %activation_id, error = %refused, "statement refused");
                agent.wait_before_retry(events, backoff, &AgentError::Statement(refused)).await;
                continue;
            }
        };
        backoff.reset();
        let answered_interval = Duration::from_secs(u64::from(answered.body.poll_interval_seconds.max(1)));
        if answered_interval > interval {
            interval = answered_interval;
            next_poll_at = poll_started + interval;
        }
        match outcome {
            Some(ActivationOutcome::Bound(binding)) => {
                let statement = answered.body.statement;
                return finish_binding(agent, events, activation_id, binding, statement).await;
            }
            Some(settled) => return Ok(settled),
            None => {
                let seconds_left = activation.expires_at_unix_seconds - now_unix_seconds();
                events(AgentEvent::StillWaiting { seconds_left: seconds_left.max(0) });
            }
        }
    }
}

/// Verifies a long-poll answer (pinned key, this terminal, this activation, this request) and reads it.
fn verify_and_interpret(
    agent: &Agent,
    answered: &Answered<ActivationOutcomeResponse>,
    activation_id: &str,
) -> Result<Option<ActivationOutcome>, StatementError> {
    let expectation = StatementExpectation {
        terminal_id: agent.terminal_id(),
        activation_id: Some(activation_id),
        in_reply_to: Some(&answered.request_nonce),
        now_unix_seconds: now_unix_seconds(),
    };
    let statement = agent.pinned_keys.verify_for(&answered.body.statement, expectation)?;
    interpret(statement, activation_id)
}

/// The flag first (durable), then the acknowledgement, then the `Bound` event.
async fn finish_binding(
    agent: &Agent,
    events: &mut (dyn FnMut(AgentEvent) + Send),
    activation_id: &str,
    binding: BoundBinding,
    statement: SignedStatement,
) -> Result<ActivationOutcome, AgentError> {
    agent.write_flag(Some((binding.clone(), statement))).await?;
    tracing::info!(terminal_id = %agent.terminal_id(), binding_id = %binding.binding_id, "bound");
    acknowledge(agent, events, activation_id, &binding.binding_id).await;
    events(AgentEvent::Bound(binding.clone()));
    Ok(ActivationOutcome::Bound(binding))
}

/// What a verified statement about an activation means; `None` while pending.
fn interpret(statement: BindingStatement, activation_id: &str) -> Result<Option<ActivationOutcome>, StatementError> {
    match statement.state {
        BindingState::Pending => Ok(None),
        BindingState::Expired => Ok(Some(ActivationOutcome::Expired)),
        BindingState::Unbound => Ok(Some(ActivationOutcome::Gone)),
        BindingState::Denied => statement
            .denial_reason
            .map(|reason| Some(ActivationOutcome::Denied(reason)))
            .ok_or(StatementError::Malformed),
        BindingState::Bound => match (statement.binding_id, statement.msisdn_masked) {
            (Some(binding_id), Some(msisdn_masked)) => Ok(Some(ActivationOutcome::Bound(BoundBinding {
                binding_id,
                msisdn_masked,
                activation_id: Some(activation_id.to_owned()),
                bound_at_unix_seconds: statement.issued_at_unix_seconds,
            }))),
            _ => Err(StatementError::Malformed),
        },
    }
}

/// Tells the platform the flag is written; a few attempts, since the flag is durable already.
async fn acknowledge(
    agent: &Agent,
    events: &mut (dyn FnMut(AgentEvent) + Send),
    activation_id: &str,
    binding_id: &str,
) {
    let mut backoff = agent.new_backoff();
    for attempt in 1..=agent.config.acknowledgement_attempts.max(1) {
        match agent.client.acknowledge(activation_id, binding_id).await {
            Ok(()) => return,
            Err(error) if attempt < agent.config.acknowledgement_attempts && error.is_retryable() => {
                agent.wait_before_retry(events, &mut backoff, &error).await;
            }
            Err(error) => {
                tracing::warn!(%activation_id, %binding_id, error = %super::error_chain(&error), "acknowledgement not sent");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_wire::TerminalId;

    fn statement(state: BindingState) -> BindingStatement {
        BindingStatement {
            terminal_id: TerminalId::parse("NB-TEST0001").unwrap(),
            state,
            activation_id: Some("act-1".into()),
            binding_id: None,
            msisdn_masked: None,
            denial_reason: None,
            in_reply_to: None,
            issued_at_unix_seconds: 10,
            expires_at_unix_seconds: 20,
        }
    }

    #[test]
    fn a_bound_statement_without_its_binding_is_malformed_and_not_acted_upon() {
        assert!(matches!(interpret(statement(BindingState::Bound), "act-1"), Err(StatementError::Malformed)));
        let complete = BindingStatement {
            binding_id: Some("bnd-1".into()),
            msisdn_masked: Some("138****8000".into()),
            ..statement(BindingState::Bound)
        };
        let Ok(Some(ActivationOutcome::Bound(binding))) = interpret(complete, "act-1") else { panic!("not bound") };
        assert_eq!(binding.binding_id, "bnd-1");
        assert_eq!(binding.bound_at_unix_seconds, 10);
    }

    #[test]
    fn a_denial_needs_its_reason_and_pending_keeps_waiting() {
        assert!(matches!(interpret(statement(BindingState::Denied), "act-1"), Err(StatementError::Malformed)));
        let denied = BindingStatement {
            denial_reason: Some(DenialReason::DeviceLimitReached),
            ..statement(BindingState::Denied)
        };
        assert!(matches!(
            interpret(denied, "act-1"),
            Ok(Some(ActivationOutcome::Denied(DenialReason::DeviceLimitReached)))
        ));
        assert!(matches!(interpret(statement(BindingState::Pending), "act-1"), Ok(None)));
        assert!(matches!(interpret(statement(BindingState::Expired), "act-1"), Ok(Some(ActivationOutcome::Expired))));
    }
}
