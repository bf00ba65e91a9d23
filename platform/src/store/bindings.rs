//! Binding queries: the terminal's active binding, OSS unbindings and factory resets.

use super::activations::{set_activation_state, ACTIVATION_COLUMNS};
use super::audit::{append_audit_event, AuditEvent};
use super::outbox::queue_sms;
use super::terminals::find_terminal_in;
use super::{Store, StoreError};
use crate::domain::activation::ActivationState;
use crate::domain::audit_mac::AuditChainKey;
use crate::domain::notification_text;
use numbind_wire::api::{OssUnbindRequest, OssUnbindResponse, RevocationReason, UnboundTerminal};
use numbind_wire::{Msisdn, TerminalId};
use rusqlite::{params, OptionalExtension};

/// An active binding: this number pays for this terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub binding_id: String,
    pub terminal_id: TerminalId,
    pub msisdn: Msisdn,
    pub activation_id: String,
    pub created_at: i64,
}

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
    pub cancelled_activation_ids: Vec<String>,
}

const BINDING_COLUMNS: &str = "binding_id, terminal_id, msisdn, activation_id, created_at";

fn read_binding(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String, String, i64)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
}

fn parse_binding(
    (binding_id, terminal_id, msisdn, activation_id, created_at): (String, String, String, String, i64),
) -> Result<Binding, StoreError> {
    Ok(Binding {
        binding_id,
        terminal_id: TerminalId::parse(&terminal_id).map_err(|_| StoreError::MalformedRow("bindings.terminal_id"))?,
        msisdn: Msisdn::parse(&msisdn).map_err(|_| StoreError::MalformedRow("bindings.msisdn"))?,
        activation_id,
        created_at,
    })
}

pub(super) fn active_binding_in(
    connection: &rusqlite::Connection,
    terminal_id: &TerminalId,
) -> Result<Option<Binding>, StoreError> {
    let sql = format!("SELECT {BINDING_COLUMNS} FROM bindings WHERE terminal_id = ?1 AND state = 'active'");
    // Cached: this is every status check's query, and parsing it again costs more than running it.
    let mut statement = connection.prepare_cached(&sql)?;
    statement.query_row([terminal_id.as_str()], read_binding).optional()?.map(parse_binding).transpose()
}

fn active_bindings_of_number(connection: &rusqlite::Connection, msisdn: &Msisdn) -> Result<Vec<Binding>, StoreError> {
    let sql =
        format!("SELECT {BINDING_COLUMNS} FROM bindings WHERE msisdn = ?1 AND state = 'active' ORDER BY created_at");
    let mut statement = connection.prepare_cached(&sql)?;
    let rows = statement.query_map([msisdn.as_digits()], read_binding)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(parse_binding).collect()
}

/// Revokes a binding and audits it as done by `actor` for `reason`.
pub(super) fn revoke_binding(
    connection: &rusqlite::Connection,
    audit_key: Option<&AuditChainKey>,
    binding: &Binding,
    actor: &str,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    connection
        .prepare_cached(
            "UPDATE bindings SET state = 'revoked', revoked_at = ?2, revoked_reason = ?3 WHERE binding_id = ?1",
        )?
        .execute(params![binding.binding_id, now, reason])?;
    let event = AuditEvent::new(actor, "binding_revoked")
        .terminal(&binding.terminal_id)
        .msisdn(&binding.msisdn)
        .binding(&binding.binding_id)
        .detail(reason);
    append_audit_event(connection, audit_key, now, &event)
}

fn device_model_of(connection: &rusqlite::Connection, terminal_id: &TerminalId) -> Result<String, StoreError> {
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
                revoke_binding(transaction, self.audit_key.as_ref(), binding, "oss", "oss_unbind", now)?;
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
                super::oss_outbox::queue_oss_revocation(transaction, binding, RevocationReason::FactoryReset, now)?;
                let model = device_model_of(transaction, terminal_id)?;
                queue_sms(transaction, &binding.msisdn, &notification_text::device_reset(&model, terminal_id), now)?;
            }
            let sql = format!(
                "SELECT {ACTIVATION_COLUMNS} FROM activations WHERE terminal_id = ?1 AND state IN ('pending','claimed')"
            );
            let mut statement = transaction.prepare_cached(&sql)?;
            let live = statement
                .query_map([terminal_id.as_str()], super::activations::read_activation)?
                .collect::<Result<Vec<_>, _>>()?;
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
