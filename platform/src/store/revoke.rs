//! Revoking a binding, audited: the one change that unbinding, confirming a new binding and an operator's unbind
//! share. Sits above the table modules and below the use cases.

use super::tables::audit_events::{append_audit_event, AuditEvent};
use super::tables::bindings::{mark_binding_revoked, Binding};
use super::StoreError;
use crate::domain::audit_mac::AuditChainKey;

/// Revokes a binding and audits it as done by `actor` for `reason`.
pub(in crate::store) fn revoke_binding(
    connection: &rusqlite::Connection,
    audit_key: Option<&AuditChainKey>,
    binding: &Binding,
    actor: &str,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    mark_binding_revoked(connection, &binding.binding_id, reason, now)?;
    let event = AuditEvent::new(actor, "binding_revoked")
        .terminal(&binding.terminal_id)
        .msisdn(&binding.msisdn)
        .binding(&binding.binding_id)
        .detail(reason);
    append_audit_event(connection, audit_key, now, &event)
}
