//! Redeeming a code for an SMS: one transaction that claims exactly one live activation, idempotent by SMS ID.

use super::tables::activations::{find_activation_in, set_activation_state, ACTIVATION_COLUMNS};
use super::tables::audit_events::{append_audit_event, AuditEvent};
use super::tables::bindings::active_binding_in;
use super::tables::terminals::find_terminal_in;
use super::{Store, StoreError};
use crate::domain::activation::{Activation, ActivationState, RedemptionRefusal};
use crate::domain::audit_mac::AuditChainKey;
use numbind_database::Connection;
use numbind_database::{params, OptionalExtension};
use numbind_wire::api::{RedeemCodeRequest, RedeemCodeResponse};
use numbind_wire::ActivationId;

/// How far back settled activations are looked up to tell an expired or used code from an unknown one.
const SETTLED_CODE_MEMORY_SECONDS: i64 = 24 * 3600;

/// What redeeming a code gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedemptionOutcome {
    Claimed(RedeemCodeResponse),
    /// The same number sent a code denied for its subscriber's state: the denial is answered again
    /// (`refused_before`), nothing is claimed, and it is not counted as a failed guess.
    RefusedBefore(RedeemCodeResponse),
    Refused(RedemptionRefusal),
}

pub(super) fn earlier_redemption_of_sms(
    connection: &Connection<'_>,
    sms_message_id: &str,
) -> Result<Option<RedeemCodeResponse>, StoreError> {
    let stored: Option<Option<String>> = connection
        .prepare_cached("SELECT redemption_response FROM activations WHERE claimed_sms_message_id = ?1")?
        .query_row([sms_message_id], |row| row.get(0))
        .optional()?;
    stored
        .flatten()
        .map(|text| {
            serde_json::from_str(&text).map_err(|_| StoreError::MalformedRow("activations.redemption_response"))
        })
        .transpose()
}

/// The live activation with this code, else the latest recently settled one.
fn activation_with_code(connection: &Connection<'_>, code: &str, now: i64) -> Result<Option<Activation>, StoreError> {
    let sql = format!(
        "SELECT {ACTIVATION_COLUMNS} FROM activations WHERE code = ?1 AND created_at > ?2
         ORDER BY state IN ('pending','claimed') DESC, created_at DESC LIMIT 1"
    );
    connection
        .prepare_cached(&sql)?
        .query_row(params![code, now - SETTLED_CODE_MEMORY_SECONDS], super::tables::activations::read_activation)
        .optional()?
        .transpose()
}

/// What the OSS is told about the activation a code names: its terminal and the number bound to it now.
fn redemption_response(
    transaction: &Connection<'_>,
    activation: &Activation,
) -> Result<RedeemCodeResponse, StoreError> {
    Ok(RedeemCodeResponse {
        activation_id: activation.activation_id.clone(),
        terminal_id: activation.terminal_id.clone(),
        device_model: find_terminal_in(transaction, &activation.terminal_id)?
            .map(|terminal| terminal.device_model)
            .unwrap_or_default(),
        currently_bound_msisdn: active_binding_in(transaction, &activation.terminal_id)?.map(|b| b.msisdn),
        refused_before: None,
    })
}

/// The redemption itself, inside the caller's transaction (see [`Store::redeem_code`]).
pub(super) fn redeem_code_in(
    transaction: &Connection<'_>,
    audit_key: Option<&AuditChainKey>,
    request: &RedeemCodeRequest,
    now: i64,
) -> Result<RedemptionOutcome, StoreError> {
    if let Some(earlier) = earlier_redemption_of_sms(transaction, &request.sms_message_id)? {
        return Ok(RedemptionOutcome::Claimed(earlier));
    }
    let Some(activation) = activation_with_code(transaction, request.code.as_str(), now)? else {
        let event = AuditEvent::new("oss", "code_refused")
            .msisdn(&request.msisdn)
            .message(&request.sms_message_id)
            .detail("code_unknown");
        append_audit_event(transaction, audit_key, now, &event)?;
        return Ok(RedemptionOutcome::Refused(RedemptionRefusal::Unknown));
    };
    if let Some(reason) = activation.denial_to_repeat(&request.msisdn, now) {
        let event = AuditEvent::new("oss", "code_refused")
            .terminal(&activation.terminal_id)
            .msisdn(&request.msisdn)
            .activation(&activation.activation_id)
            .message(&request.sms_message_id)
            .detail("refused_before");
        append_audit_event(transaction, audit_key, now, &event)?;
        let mut response = redemption_response(transaction, &activation)?;
        response.refused_before = Some(reason);
        return Ok(RedemptionOutcome::RefusedBefore(response));
    }
    if let Err(refusal) = activation.check_redeemable(now) {
        if activation.state.is_live() && activation.effective_state(now) == ActivationState::Expired {
            set_activation_state(transaction, &activation.activation_id, ActivationState::Expired)?;
        }
        let event = AuditEvent::new("oss", "code_refused")
            .terminal(&activation.terminal_id)
            .msisdn(&request.msisdn)
            .activation(&activation.activation_id)
            .message(&request.sms_message_id)
            .detail(if refusal == RedemptionRefusal::Used { "code_used" } else { "code_expired" });
        append_audit_event(transaction, audit_key, now, &event)?;
        return Ok(RedemptionOutcome::Refused(refusal));
    }
    let response = redemption_response(transaction, &activation)?;
    let stored = serde_json::to_string(&response).map_err(|_| StoreError::MalformedRow("redemption_response"))?;
    transaction
        .prepare_cached(
            "UPDATE activations SET state = 'claimed', claimed_msisdn = ?2, claimed_sms_message_id = ?3,
         redemption_response = ?4 WHERE activation_id = ?1 AND state = 'pending'",
        )?
        .execute(params![
            activation.activation_id.as_str(),
            request.msisdn.as_digits(),
            request.sms_message_id,
            stored
        ])?;
    let event = AuditEvent::new("oss", "code_redeemed")
        .terminal(&activation.terminal_id)
        .msisdn(&request.msisdn)
        .activation(&activation.activation_id)
        .message(&request.sms_message_id);
    append_audit_event(transaction, audit_key, now, &event)?;
    Ok(RedemptionOutcome::Claimed(response))
}

impl Store {
    /// Claims the live activation with `request.code` for this SMS; the same SMS again gets the same answer.
    pub fn redeem_code(&self, request: &RedeemCodeRequest, now: i64) -> Result<RedemptionOutcome, StoreError> {
        self.in_transaction(|transaction| redeem_code_in(transaction, self.audit_key.as_ref(), request, now))
    }

    /// The activation with this ID, whoever owns it (for the OSS side).
    pub fn find_activation_by_id(&self, activation_id: &ActivationId) -> Result<Option<Activation>, StoreError> {
        self.read(|connection| find_activation_in(connection, activation_id))
    }
}
