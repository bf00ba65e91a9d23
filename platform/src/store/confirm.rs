//! Applying the OSS's verdict: bind (revoking any other binding, queuing both SMS) or deny, in one transaction.

use super::revoke::revoke_binding;
use super::tables::activations::{find_activation_in, set_activation_state};
use super::tables::audit_events::{append_audit_event, AuditEvent};
use super::tables::bindings::active_binding_in;
use super::tables::outbox::enqueue_notification;
use super::tables::terminals::find_terminal_in;
use super::{Store, StoreError};
use crate::domain::activation::{Activation, ActivationState};
use crate::domain::audit_mac::AuditChainKey;
use crate::domain::notification_text;
use numbind_database::Connection;
use numbind_database::{params, OptionalExtension};
use numbind_wire::api::{BindingOutcome, ConfirmBindingRequest, ConfirmBindingResponse};
use numbind_wire::statement::DenialReason;
use numbind_wire::BindingId;

/// Where the hub routed the bound number: the province whose OSS holds the binding, and the routing table's
/// version that decided it; recorded with the binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRoute {
    pub province: numbind_routing::ProvinceCode,
    pub routing_version: String,
}

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
    connection: &Connection<'_>,
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
        .prepare_cached("SELECT confirmation_response FROM activations WHERE activation_id = ?1")?
        .query_row([activation.activation_id.as_str()], |row| row.get(0))
        .optional()?
        .flatten();
    stored
        .map(|text| {
            serde_json::from_str(&text).map_err(|_| StoreError::MalformedRow("activations.confirmation_response"))
        })
        .transpose()
}

fn apply_bound(
    transaction: &Connection<'_>,
    audit_key: Option<&AuditChainKey>,
    activation: &Activation,
    request: &ConfirmBindingRequest,
    (binding_id, route): (&BindingId, Option<&BindingRoute>),
    now: i64,
) -> Result<Option<ConfirmBindingResponse>, StoreError> {
    let taken: bool = transaction
        .prepare_cached("SELECT count(*) > 0 FROM bindings WHERE binding_id = ?1")?
        .query_row([binding_id.as_str()], |row| row.get(0))?;
    if taken {
        return Ok(None);
    }
    let terminal_id = &activation.terminal_id;
    let model = find_terminal_in(transaction, terminal_id)?.map(|terminal| terminal.device_model).unwrap_or_default();
    let mut replaced_msisdn = None;
    if let Some(old) = active_binding_in(transaction, terminal_id)? {
        revoke_binding(transaction, audit_key, &old, "oss", "replaced", now)?;
        if old.msisdn != request.msisdn {
            enqueue_notification(
                transaction,
                &old.msisdn,
                &notification_text::binding_replaced(&model, terminal_id),
                now,
            )?;
            replaced_msisdn = Some(old.msisdn);
        }
    }
    transaction
        .prepare_cached(
            "INSERT INTO bindings (binding_id, terminal_id, msisdn, activation_id, state, created_at, province,
                                   routing_version)
         VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6, ?7)",
        )?
        .execute(params![
            binding_id.as_str(),
            terminal_id.as_str(),
            request.msisdn.as_digits(),
            activation.activation_id.as_str(),
            now,
            route.map(|route| route.province.as_str()),
            route.map(|route| route.routing_version.as_str()),
        ])?;
    transaction
        .prepare_cached("UPDATE activations SET state = 'bound', binding_id = ?2 WHERE activation_id = ?1")?
        .execute(params![activation.activation_id.as_str(), binding_id.as_str()])?;
    enqueue_notification(
        transaction,
        &request.msisdn,
        &notification_text::binding_confirmed(&model, terminal_id),
        now,
    )?;
    let route_detail =
        route.map(|route| format!("province {} by routing table {}", route.province, route.routing_version));
    let mut event = AuditEvent::new("oss", "binding_created")
        .terminal(terminal_id)
        .msisdn(&request.msisdn)
        .activation(&activation.activation_id)
        .binding(binding_id);
    if let Some(detail) = &route_detail {
        event = event.detail(detail);
    }
    append_audit_event(transaction, audit_key, now, &event)?;
    Ok(Some(ConfirmBindingResponse { terminal_id: terminal_id.clone(), replaced_msisdn }))
}

fn apply_denied(
    transaction: &Connection<'_>,
    audit_key: Option<&AuditChainKey>,
    activation: &Activation,
    request: &ConfirmBindingRequest,
    (reason, route): (DenialReason, Option<&BindingRoute>),
    now: i64,
) -> Result<ConfirmBindingResponse, StoreError> {
    transaction
        .prepare_cached("UPDATE activations SET state = 'denied', denial_reason = ?2 WHERE activation_id = ?1")?
        .execute(params![activation.activation_id.as_str(), reason.as_str()])?;
    let event = AuditEvent::new("oss", "activation_denied")
        .terminal(&activation.terminal_id)
        .msisdn(&request.msisdn)
        .activation(&activation.activation_id)
        .detail(reason.as_str());
    append_audit_event(transaction, audit_key, now, &event)?;
    if let (DenialReason::UnknownSubscriber, Some(route)) = (reason, route) {
        // The hub sent the number to this province and the province does not know it: the tables are wrong (a
        // ported number, a segment moved), not the user.
        let detail = format!(
            "province {} (routing table {}) answered unknown_subscriber",
            route.province, route.routing_version
        );
        let fault = AuditEvent::new("oss", "routing_fault")
            .terminal(&activation.terminal_id)
            .msisdn(&request.msisdn)
            .activation(&activation.activation_id)
            .detail(&detail);
        append_audit_event(transaction, audit_key, now, &fault)?;
    }
    Ok(ConfirmBindingResponse { terminal_id: activation.terminal_id.clone(), replaced_msisdn: None })
}

impl Store {
    /// Applies the OSS's verdict on a claimed activation; an identical verdict again gets the same answer.
    pub fn confirm_binding(
        &self,
        request: &ConfirmBindingRequest,
        now: i64,
    ) -> Result<ConfirmationOutcome, StoreError> {
        self.confirm_routed_binding(request, None, now)
    }

    /// `confirm_binding` at the hub: a new binding records the province `route` names and the routing table's
    /// version.
    pub fn confirm_routed_binding(
        &self,
        request: &ConfirmBindingRequest,
        route: Option<&BindingRoute>,
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
                    let key = self.audit_key.as_ref();
                    match apply_bound(transaction, key, &activation, request, (binding_id, route), now)? {
                        Some(response) => response,
                        None => return Ok(ConfirmationOutcome::BindingIdTaken),
                    }
                }
                BindingOutcome::Denied { reason } => {
                    apply_denied(transaction, self.audit_key.as_ref(), &activation, request, (*reason, route), now)?
                }
            };
            let stored =
                serde_json::to_string(&response).map_err(|_| StoreError::MalformedRow("confirmation_response"))?;
            transaction
                .prepare_cached("UPDATE activations SET confirmation_response = ?2 WHERE activation_id = ?1")?
                .execute(params![activation.activation_id.as_str(), stored])?;
            Ok(ConfirmationOutcome::Applied { response, repeated: false })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{IssueLimits, IssueOutcome, RedemptionOutcome};
    use numbind_wire::api::RedeemCodeRequest;
    use numbind_wire::request_signing::TerminalKeyPair;
    use numbind_wire::{ActivationId, Msisdn, TerminalId};
    use ring::rand::SystemRandom;

    const LIMITS: IssueLimits = IssueLimits { time_to_live_seconds: 600, max_per_window: 10, window_seconds: 600 };

    fn claimed_activation(store: &Store, terminal_id: &TerminalId, msisdn: &Msisdn, sms: &str) -> ActivationId {
        let IssueOutcome::Issued { activation, .. } =
            store.issue_activation(terminal_id, &SystemRandom::new(), LIMITS, 100).unwrap()
        else {
            panic!("no activation issued")
        };
        let request = RedeemCodeRequest { code: activation.code, msisdn: msisdn.clone(), sms_message_id: sms.into() };
        assert!(matches!(store.redeem_code(&request, 101).unwrap(), RedemptionOutcome::Claimed(_)));
        activation.activation_id
    }

    fn bound(activation_id: &ActivationId, msisdn: &Msisdn, binding_id: &str) -> ConfirmBindingRequest {
        ConfirmBindingRequest {
            activation_id: activation_id.clone(),
            msisdn: msisdn.clone(),
            outcome: BindingOutcome::Bound { binding_id: BindingId::parse(binding_id).unwrap() },
        }
    }

    #[test]
    fn a_new_binding_replaces_the_active_one_and_tells_the_old_number() {
        let store = Store::open_in_memory().unwrap();
        let key = TerminalKeyPair::generate(&SystemRandom::new()).unwrap().0.public_key();
        let terminal_id = TerminalId::parse("STB-00007Q2K").unwrap();
        store.register_terminal(&terminal_id, &key, "Skyworth E900", false, 1).unwrap();
        let (old_number, new_number) = (Msisdn::parse("13800138000").unwrap(), Msisdn::parse("13900139000").unwrap());
        let first = claimed_activation(&store, &terminal_id, &old_number, "sms-1");
        // A second activation claimed while the first verdict is pending (the race a bound box cannot start).
        let second = store
            .in_transaction(|connection| {
                connection.execute(
                    "INSERT INTO activations (activation_id, terminal_id, code, state, created_at, expires_at,
                     claimed_msisdn, claimed_sms_message_id) VALUES ('act-2', ?1, 'BCDFGHJK', 'claimed', 100, 700, ?2, 'sms-2')",
                    numbind_database::params![terminal_id.as_str(), new_number.as_digits()],
                )?;
                Ok(ActivationId::parse("act-2").unwrap())
            })
            .unwrap();
        assert!(matches!(
            store.confirm_binding(&bound(&first, &old_number, "bnd-1"), 102).unwrap(),
            ConfirmationOutcome::Applied { .. }
        ));
        let ConfirmationOutcome::Applied { response, repeated: false } =
            store.confirm_binding(&bound(&second, &new_number, "bnd-2"), 103).unwrap()
        else {
            panic!("the second verdict was not applied")
        };
        assert_eq!(response.replaced_msisdn, Some(old_number.clone()));
        let active = store.active_binding(&terminal_id).unwrap().unwrap();
        assert_eq!((active.binding_id.as_str(), &active.msisdn), ("bnd-2", &new_number));
        let to_old_number = store.notifications_to(&old_number).unwrap();
        assert_eq!(to_old_number.len(), 2, "the confirmation, then the replacement notice");
        assert!(to_old_number[1].text.contains("已由其他号码取代") && to_old_number[1].text.contains("终端尾号7Q2K"));
        let revoked = store.audit_events().unwrap().into_iter().filter(|event| event.kind == "binding_revoked").count();
        assert_eq!(revoked, 1);
    }

    #[test]
    fn a_denial_settles_the_activation_with_its_reason() {
        let store = Store::open_in_memory().unwrap();
        let key = TerminalKeyPair::generate(&SystemRandom::new()).unwrap().0.public_key();
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        store.register_terminal(&terminal_id, &key, "m", false, 1).unwrap();
        let number = Msisdn::parse("13800138000").unwrap();
        let activation_id = claimed_activation(&store, &terminal_id, &number, "sms-1");
        let denial = ConfirmBindingRequest {
            activation_id: activation_id.clone(),
            msisdn: number,
            outcome: BindingOutcome::Denied { reason: DenialReason::DeviceLimitReached },
        };
        assert!(matches!(
            store.confirm_binding(&denial, 102).unwrap(),
            ConfirmationOutcome::Applied { repeated: false, .. }
        ));
        assert!(matches!(
            store.confirm_binding(&denial, 103).unwrap(),
            ConfirmationOutcome::Applied { repeated: true, .. }
        ));
        let activation = store.find_activation(&terminal_id, &activation_id).unwrap().unwrap();
        assert_eq!(
            (activation.state, activation.denial_reason),
            (ActivationState::Denied, Some(DenialReason::DeviceLimitReached))
        );
    }
}
