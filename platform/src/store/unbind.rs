//! Use case, bindings: the terminal's active binding, OSS unbindings and factory resets.

use super::revoke::revoke_binding;
use super::tables::activations::{read_activation, set_activation_state, ACTIVATION_COLUMNS};
use super::tables::audit_events::{append_audit_event, AuditEvent};
use super::tables::bindings::{active_binding_in, active_bindings_of_number, Binding};
use super::tables::oss_outbox::enqueue_oss_revocation;
use super::tables::outbox::enqueue_notification;
use super::tables::terminals::find_terminal_in;
use super::{Store, StoreError};
use crate::domain::activation::ActivationState;
use crate::domain::notification_text;
use numbind_database::Connection;
use numbind_database::{params, OptionalExtension};
use numbind_wire::api::{OssUnbindRequest, OssUnbindResponse, RevocationReason, UnboundTerminal};
use numbind_wire::{ActivationId, TerminalId};

/// Why a binding the number unbound by SMS is revoked: the OSS records the same word (`docs/ARCHITECTURE.md`).
pub(crate) const SMS_UNBIND_REASON: &str = "unbound_by_sms";

/// What an OSS unbinding did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnbindOutcome {
    Unbound(OssUnbindResponse),
    /// A terminal was named and this number does not pay for it.
    BindingNotFound,
}

/// What a factory reset did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResetOutcome {
    pub revoked: Option<Binding>,
    pub cancelled_activation_ids: Vec<ActivationId>,
}

fn device_model_of(connection: &Connection<'_>, terminal_id: &TerminalId) -> Result<String, StoreError> {
    Ok(find_terminal_in(connection, terminal_id)?.map(|terminal| terminal.device_model).unwrap_or_default())
}

impl Store {
    pub fn active_binding(&self, terminal_id: &TerminalId) -> Result<Option<Binding>, StoreError> {
        // One query: every status check makes it, and a transaction around it cost a quarter of the read.
        self.read_one_query(|connection| active_binding_in(connection, terminal_id))
    }

    /// Revokes the bindings `msisdn` pays for (or only the named terminal's); idempotent by `request_id`.
    pub fn unbind_for_oss(&self, request: &OssUnbindRequest, now: i64) -> Result<UnbindOutcome, StoreError> {
        self.in_transaction(|transaction| {
            let earlier: Option<String> = transaction
                .prepare_cached("SELECT response FROM oss_unbindings WHERE request_id = ?1")?
                .query_row([&request.request_id], |row| row.get(0))
                .optional()?;
            if let Some(earlier) = earlier {
                let response =
                    serde_json::from_str(&earlier).map_err(|_| StoreError::MalformedRow("oss_unbindings"))?;
                return Ok(UnbindOutcome::Unbound(response));
            }
            let bindings: Vec<Binding> = active_bindings_of_number(transaction, &request.msisdn)?
                .into_iter()
                .filter(|binding| request.terminal_id.as_ref().is_none_or(|wanted| &binding.terminal_id == wanted))
                .collect();
            if bindings.is_empty() && request.terminal_id.is_some() {
                return Ok(UnbindOutcome::BindingNotFound);
            }
            let mut unbound = Vec::with_capacity(bindings.len());
            for binding in &bindings {
                revoke_binding(transaction, self.audit_key.as_ref(), binding, "oss", SMS_UNBIND_REASON, now)?;
                unbound.push(UnboundTerminal {
                    terminal_id: binding.terminal_id.clone(),
                    device_model: device_model_of(transaction, &binding.terminal_id)?,
                    binding_id: binding.binding_id.clone(),
                });
            }
            let response = OssUnbindResponse { unbound };
            let text = serde_json::to_string(&response).map_err(|_| StoreError::MalformedRow("oss_unbindings"))?;
            transaction
                .prepare_cached("INSERT INTO oss_unbindings (request_id, response, created_at) VALUES (?1, ?2, ?3)")?
                .execute(params![request.request_id, text, now])?;
            Ok(UnbindOutcome::Unbound(response))
        })
    }

    /// Factory reset: revokes the binding (telling the old number by SMS) and cancels live activations.
    pub fn reset_terminal(&self, terminal_id: &TerminalId, now: i64) -> Result<ResetOutcome, StoreError> {
        self.in_transaction(|transaction| {
            let revoked = active_binding_in(transaction, terminal_id)?;
            if let Some(binding) = &revoked {
                revoke_binding(transaction, self.audit_key.as_ref(), binding, "terminal", "factory_reset", now)?;
                enqueue_oss_revocation(transaction, binding.revocation_target(), RevocationReason::FactoryReset, now)?;
                let model = device_model_of(transaction, terminal_id)?;
                enqueue_notification(
                    transaction,
                    &binding.msisdn,
                    &notification_text::device_reset(&model, terminal_id),
                    now,
                )?;
            }
            let sql = format!(
                "SELECT {ACTIVATION_COLUMNS} FROM activations WHERE terminal_id = ?1 AND state IN ('pending','claimed')"
            );
            let mut statement = transaction.prepare_cached(&sql)?;
            let live = statement.query_map([terminal_id.as_str()], read_activation)?.collect::<Result<Vec<_>, _>>()?;
            let mut cancelled_activation_ids = Vec::new();
            for activation in live {
                let activation = activation?;
                set_activation_state(transaction, &activation.activation_id, ActivationState::Cancelled)?;
                let event = AuditEvent::new("terminal", "activation_cancelled")
                    .terminal(terminal_id)
                    .activation(&activation.activation_id)
                    .detail("factory_reset");
                append_audit_event(transaction, self.audit_key.as_ref(), now, &event)?;
                cancelled_activation_ids.push(activation.activation_id);
            }
            append_audit_event(
                transaction,
                self.audit_key.as_ref(),
                now,
                &AuditEvent::new("terminal", "terminal_reset").terminal(terminal_id),
            )?;
            Ok(ResetOutcome { revoked, cancelled_activation_ids })
        })
    }
}
