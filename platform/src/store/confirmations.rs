//! Applying the OSS's verdict: bind (revoking any other binding, queuing both SMS) or deny, in one transaction.

use super::activations::{find_activation_in, set_activation_state};
use super::audit::{append_audit_event, AuditEvent};
use super::bindings::{active_binding_in, revoke_binding};
use super::outbox::queue_sms;
use super::terminals::find_terminal_in;
use super::{Store, StoreError};
use crate::domain::activation::{Activation, ActivationState};
use crate::domain::notification_text;
use numbind_wire::api::{BindingOutcome, ConfirmBindingRequest, ConfirmBindingResponse};
use numbind_wire::statement::DenialReason;
use rusqlite::{params, OptionalExtension};

/// What applying a verdict gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmationOutcome {
    /// Applied now, or an identical verdict applied before (`repeated`).
    Applied {
        response: ConfirmBindingResponse,
        repeated: bool,
    },
    NotFound,
    /// The activation is not claimed by this number (already settled otherwise, expired, or never redeemed).
    NotPending,
    /// The binding ID is already used by another binding.
    BindingIdTaken,
}

fn stored_confirmation(
    connection: &rusqlite::Connection,
    activation: &Activation,
    request: &ConfirmBindingRequest,
) -> Result<Option<ConfirmBindingResponse>, StoreError> {
    let same_verdict = activation.claimed_msisdn.as_ref() == Some(&request.msisdn)
        && match &request.outcome {
            BindingOutcome::Bound { binding_id } => {
                activation.state == ActivationState::Bound && activation.binding_id.as_ref() == Some(binding_id)
            }
            BindingOutcome::Denied { reason } => {
                activation.state == ActivationState::Denied && activation.denial_reason == Some(*reason)
            }
        };
    if !same_verdict {
        return Ok(None);
    }
    let stored: Option<String> = connection
        .query_row(
            "SELECT confirmation_response FROM activations WHERE activation_id = ?1",
            [&activation.activation_id],
            |row| row.get(0),
        )
        .optional()?
        .flatten();
    stored
        .map(|text| {
            serde_json::from_str(&text).map_err(|_| StoreError::MalformedRow("activations.confirmation_response"))
        })
        .transpose()
}

fn apply_bound(
    transaction: &rusqlite::Transaction<'_>,
    activation: &Activation,
    request: &ConfirmBindingRequest,
    binding_id: &str,
    now: i64,
) -> Result<Option<ConfirmBindingResponse>, StoreError> {
    let taken: bool =
        transaction
            .query_row("SELECT count(*) > 0 FROM bindings WHERE binding_id = ?1", [binding_id], |row| row.get(0))?;
    if taken {
        return Ok(None);
    }
    let terminal_id = &activation.terminal_id;
    let model = find_terminal_in(transaction, terminal_id)?.map(|terminal| terminal.device_model).unwrap_or_default();
    let mut replaced_msisdn = None;
    if let Some(old) = active_binding_in(transaction, terminal_id)? {
        revoke_binding(transaction, &old, "oss", "replaced", now)?;
        if old.msisdn != request.msisdn {
            queue_sms(transaction, &old.msisdn, &notification_text::binding_replaced(&model, terminal_id), now)?;
            replaced_msisdn = Some(old.msisdn);
        }
    }
    transaction.execute(
        "INSERT INTO bindings (binding_id, terminal_id, msisdn, activation_id, state, created_at)
         VALUES (?1, ?2, ?3, ?4, 'active', ?5)",
        params![binding_id, terminal_id.as_str(), request.msisdn.as_digits(), activation.activation_id, now],
    )?;
    transaction.execute(
        "UPDATE activations SET state = 'bound', binding_id = ?2 WHERE activation_id = ?1",
        params![activation.activation_id, binding_id],
    )?;
    queue_sms(transaction, &request.msisdn, &notification_text::binding_confirmed(&model, terminal_id), now)?;
    let event = AuditEvent::new("oss", "binding_created")
        .terminal(terminal_id)
        .msisdn(&request.msisdn)
        .activation(&activation.activation_id)
        .binding(binding_id);
    append_audit_event(transaction, now, &event)?;
    Ok(Some(ConfirmBindingResponse { terminal_id: terminal_id.clone(), replaced_msisdn }))
}

fn apply_denied(
    transaction: &rusqlite::Transaction<'_>,
    activation: &Activation,
    request: &ConfirmBindingRequest,
    reason: DenialReason,
    now: i64,
) -> Result<ConfirmBindingResponse, StoreError> {
    transaction.execute(
        "UPDATE activations SET state = 'denied', denial_reason = ?2 WHERE activation_id = ?1",
        params![activation.activation_id, reason.as_str()],
    )?;
    let event = AuditEvent::new("oss", "activation_denied")
        .terminal(&activation.terminal_id)
        .msisdn(&request.msisdn)
        .activation(&activation.activation_id)
        .detail(reason.as_str());
    append_audit_event(transaction, now, &event)?;
    Ok(ConfirmBindingResponse { terminal_id: activation.terminal_id.clone(), replaced_msisdn: None })
}

impl Store {
    /// Applies the OSS's verdict on a claimed activation; an identical verdict again gets the same answer.
    pub fn confirm_binding(
        &self,
        request: &ConfirmBindingRequest,
        now: i64,
    ) -> Result<ConfirmationOutcome, StoreError> {
        self.in_transaction(|transaction| {
            let Some(activation) = find_activation_in(transaction, &request.activation_id)? else {
                return Ok(ConfirmationOutcome::NotFound);
            };
            if let Some(response) = stored_confirmation(transaction, &activation, request)? {
                return Ok(ConfirmationOutcome::Applied { response, repeated: true });
            }
            if activation.check_confirmable(&request.msisdn, now).is_err() {
                if activation.state.is_live() && activation.effective_state(now) == ActivationState::Expired {
                    set_activation_state(transaction, &activation.activation_id, ActivationState::Expired)?;
                }
                return Ok(ConfirmationOutcome::NotPending);
            }
            let response = match &request.outcome {
                BindingOutcome::Bound { binding_id } => {
                    match apply_bound(transaction, &activation, request, binding_id, now)? {
                        Some(response) => response,
                        None => return Ok(ConfirmationOutcome::BindingIdTaken),
                    }
                }
                BindingOutcome::Denied { reason } => apply_denied(transaction, &activation, request, *reason, now)?,
            };
            let stored =
                serde_json::to_string(&response).map_err(|_| StoreError::MalformedRow("confirmation_response"))?;
            transaction.execute(
                "UPDATE activations SET confirmation_response = ?2 WHERE activation_id = ?1",
                params![activation.activation_id, stored],
            )?;
            Ok(ConfirmationOutcome::Applied { response, repeated: false })
        })
    }
}
