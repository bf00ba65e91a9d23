//! `/v1/oss`: the OSS redeems codes, confirms or denies bindings, and unbinds numbers. A redemption and a
//! confirmation pass the national hub's checks first (`hub_gate`): the number's prefix and the national blacklist.

use super::oss_auth::AuthenticatedOss;
use crate::domain::activation::RedemptionRefusal;
use crate::domain::redemption_limits::RedemptionBlock;
use crate::error::ApiError;
use crate::hub_gate::{check_number_at_hub, refuse, screen_number_field, HubPath, RefusalSubject};
use crate::state::AppState;
use crate::store::{
    BindingRoute, ConfirmationOutcome, LimitedRedemption, LimitedRedemptionAnswer, RedemptionOutcome, UnbindOutcome,
};
use axum::extract::State;
use axum::Json;
use numbind_process::http_api::parse_json_body;
use numbind_routing::RouteDecision;
use numbind_wire::api::{
    BindingOutcome, ConfirmBindingRequest, ConfirmBindingResponse, OssUnbindRequest, OssUnbindResponse,
    RedeemCodeRequest, RedeemCodeResponse,
};
use numbind_wire::statement::DenialReason;

const MAX_IDEMPOTENCY_KEY_CHARS: usize = 128;

fn check_idempotency_key(name: &str, key: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_CHARS || key.chars().any(char::is_control) {
        return Err(ApiError::invalid_request(format!("{name} must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters")));
    }
    Ok(())
}

/// `POST /v1/oss/redemptions`: claim the live activation with this code for this SMS.
#[tracing::instrument(skip_all)]
pub(super) async fn redeem_code(
    State(state): State<AppState>,
    oss: AuthenticatedOss,
) -> Result<Json<RedeemCodeResponse>, ApiError> {
    screen_number_field(&state, &oss.body, HubPath::Redemption).await?;
    let request: RedeemCodeRequest = parse_json_body(&oss.body)?;
    check_idempotency_key("sms_message_id", &request.sms_message_id)?;
    let msisdn = request.msisdn.clone();
    if let Err(refusal) = check_number_at_hub(&state, &msisdn)? {
        // The code stays live for the box: the hub refused the number, not the activation.
        let subject = RefusalSubject { msisdn: Some(msisdn), ..RefusalSubject::default() };
        return Err(refuse(&state, refusal, HubPath::Redemption, subject).await);
    }
    let (now, limits) = (state.now(), state.settings.redemption_limits);
    let limited = state.store.call_write(move |store| store.redeem_code_within_limits(&request, &limits, now)).await?;
    count_redemption_limits(&state, &limited);
    let (result, answer) = match limited.answer {
        LimitedRedemptionAnswer::Redeemed(outcome) => redemption_answer(outcome),
        LimitedRedemptionAnswer::Blocked(RedemptionBlock::NumberLocked { retry_after_seconds }) => {
            ("number_locked", Err(ApiError::NumberLocked { retry_after_seconds }))
        }
        LimitedRedemptionAnswer::Blocked(RedemptionBlock::GlobalGuard { retry_after_seconds }) => {
            ("rate_limited", Err(ApiError::RateLimited { retry_after_seconds }))
        }
    };
    state.metrics.count_redemption(result);
    match &answer {
        Ok(Json(response)) => {
            tracing::info!(%msisdn, activation_id = %response.activation_id, terminal_id = %response.terminal_id, result)
        }
        Err(_) => tracing::info!(%msisdn, result, "redemption refused"),
    }
    answer
}

type RedemptionAnswer = (&'static str, Result<Json<RedeemCodeResponse>, ApiError>);

fn redemption_answer(outcome: RedemptionOutcome) -> RedemptionAnswer {
    match outcome {
        RedemptionOutcome::Claimed(response) => ("claimed", Ok(Json(response))),
        RedemptionOutcome::RefusedBefore(response) => ("refused_before", Ok(Json(response))),
        RedemptionOutcome::Refused(RedemptionRefusal::Unknown) => ("code_unknown", Err(ApiError::CodeUnknown)),
        RedemptionOutcome::Refused(RedemptionRefusal::Expired) => ("code_expired", Err(ApiError::CodeExpired)),
        RedemptionOutcome::Refused(RedemptionRefusal::Used) => ("code_used", Err(ApiError::CodeUsed)),
    }
}

fn count_redemption_limits(state: &AppState, limited: &LimitedRedemption) {
    if let Some(refusal) = limited.counted_failure {
        let (reason, _) = redemption_answer(RedemptionOutcome::Refused(refusal));
        state.metrics.count_redemption_failure(reason);
    }
    if limited.locked_the_number {
        state.metrics.numbers_locked.inc();
        tracing::warn!("a number was locked after too many failed redemptions");
    }
}

/// `POST /v1/oss/confirmations`: apply the OSS's verdict and wake the waiting box.
#[tracing::instrument(skip_all)]
pub(super) async fn confirm_binding(
    State(state): State<AppState>,
    oss: AuthenticatedOss,
) -> Result<Json<ConfirmBindingResponse>, ApiError> {
    screen_number_field(&state, &oss.body, HubPath::Confirmation).await?;
    let mut request: ConfirmBindingRequest = parse_json_body(&oss.body)?;
    if let BindingOutcome::Bound { binding_id } = &request.outcome {
        check_idempotency_key("binding_id", binding_id.as_str())?;
    }
    let hub_refusal = hub_check_of_verdict(&state, &mut request)?;
    let activation_id = request.activation_id.clone();
    let outcome_name = match &request.outcome {
        BindingOutcome::Bound { .. } => "bound",
        BindingOutcome::Denied { .. } => "denied",
    };
    let route = binding_route(&state, &request.msisdn);
    let routed_to_stranger =
        matches!(request.outcome, BindingOutcome::Denied { reason: DenialReason::UnknownSubscriber })
            .then(|| route.as_ref().map(|route| route.province))
            .flatten();
    let unrouted = state.routing.is_routing() && route.is_none();
    let now = state.now();
    let msisdn = request.msisdn.clone();
    let outcome =
        state.store.call_write(move |store| store.confirm_routed_binding(&request, route.as_ref(), now)).await?;
    match outcome {
        ConfirmationOutcome::Applied { response, repeated } => {
            if !repeated {
                state.metrics.count_confirmation(outcome_name);
                if unrouted && outcome_name == "bound" {
                    state.metrics.count_routing_fault(None, "no_province");
                }
                if let Some(province) = routed_to_stranger {
                    tracing::warn!(%activation_id, %province, "routing fault: the province's oss does not know the number");
                    state.metrics.count_routing_fault(Some(province), "not_our_subscriber");
                }
                state.waiters.wake(activation_id.as_str());
                state.announce_binding_change(&response.terminal_id);
                state.outbox_changed.notify_one();
            }
            tracing::info!(%activation_id, terminal_id = %response.terminal_id, outcome = outcome_name, repeated, "confirmation");
            let Some(refusal) = hub_refusal else { return Ok(Json(response)) };
            let subject = RefusalSubject {
                msisdn: Some(msisdn),
                terminal_id: Some(response.terminal_id),
                detail: Some(format!("activation {activation_id} denied")),
            };
            Err(refuse(&state, refusal, HubPath::Confirmation, subject).await)
        }
        ConfirmationOutcome::NotFound => Err(ApiError::ActivationNotFound),
        ConfirmationOutcome::NotPending | ConfirmationOutcome::BindingIdTaken => {
            state.metrics.count_confirmation("refused");
            Err(ApiError::ActivationNotPending)
        }
    }
}

/// The hub's check of a `bound` verdict: a number listed on the national blacklist since its redemption is refused
/// (`number_blacklisted_nationally`, the OSS undoes its binding), and its activation is denied as a blacklisted
/// number's, so the box shows why and gets a new code; every retry applies the same denial and gets the same
/// refusal.
fn hub_check_of_verdict(
    state: &AppState,
    request: &mut ConfirmBindingRequest,
) -> Result<Option<crate::domain::hub_checks::HubRefusal>, ApiError> {
    if !matches!(request.outcome, BindingOutcome::Bound { .. }) {
        return Ok(None);
    }
    let refusal = check_number_at_hub(state, &request.msisdn)?.err();
    if refusal.is_some() {
        request.outcome = BindingOutcome::Denied { reason: DenialReason::SubscriberBlacklisted };
    }
    Ok(refusal)
}

/// At a hub, the province a new binding of `msisdn` records, by the routing table. A number the table routes to
/// no province (it changed since the OSS was reached, or the SMS centre's copy differs) is bound without one
/// and logged as a routing fault: the binding stands, its revocations go by the table again when sent.
fn binding_route(state: &AppState, msisdn: &numbind_wire::Msisdn) -> Option<BindingRoute> {
    let in_use = state.routing.current()?;
    let table = &in_use.table;
    match table.route(msisdn) {
        RouteDecision::Province { province, .. } => {
            Some(BindingRoute { province, routing_version: table.version().to_string() })
        }
        decision => {
            tracing::warn!(?decision, routing_version = %table.version(), "routing fault: a confirmed number has no province");
            None
        }
    }
}

/// `POST /v1/oss/unbindings`: revoke what this number pays for (or one terminal). Idempotent by request ID.
#[tracing::instrument(skip_all)]
pub(super) async fn unbind(
    State(state): State<AppState>,
    oss: AuthenticatedOss,
) -> Result<Json<OssUnbindResponse>, ApiError> {
    let request: OssUnbindRequest = parse_json_body(&oss.body)?;
    check_idempotency_key("request_id", &request.request_id)?;
    let msisdn = request.msisdn.clone();
    let now = state.now();
    match state.store.call(move |store| store.unbind_for_oss(&request, now)).await? {
        UnbindOutcome::Unbound(response) => {
            for terminal in &response.unbound {
                state.announce_binding_change(&terminal.terminal_id);
            }
            tracing::info!(%msisdn, unbound = response.unbound.len(), "oss unbinding");
            Ok(Json(response))
        }
        UnbindOutcome::BindingNotFound => Err(ApiError::BindingNotFound),
    }
}
