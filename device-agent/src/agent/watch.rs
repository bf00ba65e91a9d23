//! The watch: a long-poll of the signed binding status that the platform answers as soon as the binding changes,
//! so that a box learns of an unbind (or a new paying number) at once.

use super::Agent;
use crate::domain::connection::ConnectionFailure;
use crate::domain::events::{AgentEvent, BindingStatus, LocalBindingState};
use crate::error::AgentError;
use std::time::Duration;
use tokio::time::Instant;

/// The shortest time between the starts of two polls: a platform that answers at once (a bound of zero, or a
/// flag that cannot follow it) is not asked in a tight loop.
const SHORTEST_POLL_SPACING: Duration = Duration::from_secs(1);

pub(super) async fn watch(
    agent: &Agent,
    long_poll_bound: Duration,
    events: &mut (dyn FnMut(AgentEvent) + Send),
) -> Result<(), AgentError> {
    let mut backoff = agent.new_backoff();
    let before = agent.local_state();
    let status = agent.retrying(events, &mut backoff, || agent.check_status()).await?;
    let bound = match &status {
        BindingStatus::Bound(binding) => Some(binding.clone()),
        BindingStatus::Unbound => None,
    };
    tracing::info!(terminal_id = %agent.terminal_id(), bound = bound.is_some(), "watching the binding");
    events(AgentEvent::Watching { bound });
    report_change(agent, events, &before, &status);
    let mut next_poll_at = Instant::now();
    loop {
        tokio::time::sleep_until(next_poll_at).await;
        next_poll_at = Instant::now() + SHORTEST_POLL_SPACING;
        let before = agent.local_state();
        let held_binding_id = match &before {
            LocalBindingState::Bound(binding) => Some(binding.binding_id.clone()),
            LocalBindingState::Unbound => None,
        };
        match agent.wait_for_status_and_update_flag(long_poll_bound, held_binding_id.as_deref()).await {
            Ok(status) => {
                backoff.reset();
                report_change(agent, events, &before, &status);
            }
            Err(error) if error.is_retryable() => {
                if error.connection_failure() == Some(ConnectionFailure::ConnectionCut) {
                    // The long-poll was connected a moment ago: a new outage starts, and the box asks again at once.
                    backoff.reset();
                }
                agent.wait_before_retry(events, &mut backoff, &error).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Reports what changed between the flag as it was and the platform's answer: unbound, or bound to another binding.
fn report_change(
    agent: &Agent,
    events: &mut (dyn FnMut(AgentEvent) + Send),
    before: &LocalBindingState,
    status: &BindingStatus,
) {
    match (before, status) {
        (LocalBindingState::Bound(_), BindingStatus::Unbound) => {
            tracing::info!(terminal_id = %agent.terminal_id(), "the platform says unbound; flag cleared");
            events(AgentEvent::Unbound);
        }
        (LocalBindingState::Bound(held), BindingStatus::Bound(binding)) if held.binding_id == binding.binding_id => {}
        (_, BindingStatus::Bound(binding)) => {
            tracing::info!(terminal_id = %agent.terminal_id(), binding_id = %binding.binding_id, "bound to another binding");
            events(AgentEvent::BindingChanged(binding.clone()));
        }
        (LocalBindingState::Unbound, BindingStatus::Unbound) => {}
    }
}
