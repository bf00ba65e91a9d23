//! Revoking a binding, audited: the one change that unbinding, confirming a new binding and an operator's unbind
//! share. Sits above the table modules and `payment_effects` (it cancels the
//! binding's payments waiting for confirmation), below the use cases.

use super::payment_effects::{settle_payment, Actor, Settlement};
use super::tables::audit_events::{append_audit_event, AuditEvent};
use super::tables::bindings::{mark_binding_revoked, Binding};
use super::tables::payments::pending_payments_of_binding;
use super::StoreError;
use crate::domain::audit_mac::AuditChainKey;
use numbind_database::Connection;

/// Revokes a binding and audits it as done by `actor` for `reason`.
pub(in crate::store) fn revoke_binding(
    connection: &Connection<'_>,
    audit_key: Option<&AuditChainKey>,
    binding: &Binding,
    actor: &str,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    mark_binding_revoked(connection, &binding.binding_id, reason, now)?;
    // Every path that revokes a binding comes here: its payments waiting for confirmation are cancelled with it.
    let payment_actor = Actor { audit_key, name: actor };
    for record in pending_payments_of_binding(connection, &binding.binding_id)? {
        let from = [numbind_wire::api::PaymentState::PendingConfirmation];
        let unbound = Settlement::Cancelled(numbind_wire::api::CancellationReason::Unbound);
        settle_payment(connection, payment_actor, &record.payment.payment_id, &from, unbound, now)?;
    }
    let event = AuditEvent::new(actor, "binding_revoked")
        .terminal(&binding.terminal_id)
        .msisdn(&binding.msisdn)
        .binding(&binding.binding_id)
        .detail(reason);
    append_audit_event(connection, audit_key, now, &event)
}
