//! What operators do, whichever door they come through (the operator API under `/v1/operator/` or the web console):
//! one function per action, so that both doors write the same rows and wake the same workers.

use crate::state::AppState;
use crate::store::{Binding, StoreError};
use numbind_wire::TerminalId;

/// Revokes the terminal's active binding as `operator_name` with `reason`: the revocation, its audit event, the SMS
/// to the number and the revocation for the OSS are written in one transaction, then a watching box, the SMS worker and
/// the OSS-revocation worker are woken, so the box and the OSS learn of it at once rather than at their next poll.
/// `Ok(None)` when the terminal has no active binding.
pub(crate) async fn unbind_terminal(
    state: &AppState,
    terminal_id: TerminalId,
    operator_name: &str,
    reason: String,
) -> Result<Option<Binding>, StoreError> {
    let (name, now) = (operator_name.to_owned(), state.now());
    let revoked = state.store.call(move |store| store.unbind_by_operator(&terminal_id, &name, &reason, now)).await?;
    if let Some(binding) = &revoked {
        state.announce_binding_change(&binding.terminal_id);
        state.outbox_changed.notify_one();
        state.announce_oss_revocation();
        tracing::info!(operator = %operator_name, binding_id = %binding.binding_id, "operator unbound a terminal");
    }
    Ok(revoked)
}
