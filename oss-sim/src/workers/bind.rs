//! `BIND <code>`: redeem the code with the platform, decide eligibility, record the binding, confirm.
//!
//! The redemption and the verdict (with the binding) are made durable on the inbox row in one transaction before
//! the confirmation, so a retry after a crash or a platform outage resumes where it stopped and every platform
//! call repeats with the same idempotency key (a crash before that transaction repeats the redemption, which the
//! platform answers as it did the first time). A terminal already bound to the same number is treated as a
//! re-bind: the binding is renewed under the new activation and confirmed; the platform's SMS tells the user.

use super::command_results::{count_platform_call, finished_with_reply, RetryLater};
use crate::clients::platform::{PlatformCallError, CONFIRMATIONS, REDEMPTIONS};
use crate::domain::binding::binding_id_for_activation;
use crate::domain::eligibility::check_eligibility;
use crate::domain::inbox::{CommandKind, CommandOutcome};
use crate::domain::sms_replies;
use crate::state::AppState;
use crate::store::{FinishedCommand, InboxRow, NewBinding, Revocation};
use numbind_process::clock::now_unix_millis;
use numbind_wire::api::{ApiErrorCode, BindingOutcome, ConfirmBindingRequest, RedeemCodeRequest, RedeemCodeResponse};
use numbind_wire::statement::DenialReason;
use numbind_wire::{ActivationCode, BindingId};

pub(crate) async fn handle_bind(
    state: &AppState,
    row: &InboxRow,
    code: ActivationCode,
) -> Result<FinishedCommand, RetryLater> {
    let redemption = match &row.redemption {
        Some(redemption) => redemption.clone(),
        None => match redeem(state, row, code).await? {
            Ok(redemption) => redemption,
            Err(refused) => return Ok(refused),
        },
    };
    // Rows saved by earlier builds may hold a redemption without its verdict.
    let verdict = match &row.verdict {
        Some(verdict) => verdict.clone(),
        None => decide(state, row, &redemption).await?,
    };
    let request = ConfirmBindingRequest {
        activation_id: redemption.activation_id.clone(),
        msisdn: row.source.clone(),
        outcome: verdict.clone(),
    };
    let confirmed = state.platform.confirm(&request).await;
    count_platform_call(state, CONFIRMATIONS, &confirmed);
    match (confirmed, verdict) {
        (Ok(_), BindingOutcome::Bound { .. }) => Ok(FinishedCommand {
            kind: CommandKind::Bind,
            outcome: CommandOutcome::Bound,
            reply: None,
            revocation: None,
        }),
        (Ok(_), BindingOutcome::Denied { reason }) => Ok(denial(state, row, reason).await?),
        (Err(PlatformCallError::Refused { code, .. }), BindingOutcome::Bound { binding_id }) => {
            // The platform did not take the binding (the activation ended meanwhile): undo ours, tell the user.
            tracing::warn!(?code, "the platform refused the confirmation; revoking the local binding");
            let mut finished = finished_with_reply(
                CommandKind::Bind,
                CommandOutcome::ConfirmationRefused,
                &row.source,
                refusal_text(code).unwrap_or_else(sms_replies::try_again_later),
            );
            finished.revocation =
                Some(Revocation::Binding { binding_id: binding_id.to_string(), reason: "confirmation_refused" });
            Ok(finished)
        }
        // The user deserves the reason even if the platform no longer waits for it.
        (Err(PlatformCallError::Refused { .. }), BindingOutcome::Denied { reason }) => {
            Ok(denial(state, row, reason).await?)
        }
        (Err(unavailable), _) => Err(RetryLater::Platform(unavailable)),
    }
}

/// Claims the code; a definite refusal becomes the finished command that tells the user why.
async fn redeem(
    state: &AppState,
    row: &InboxRow,
    code: ActivationCode,
) -> Result<Result<RedeemCodeResponse, FinishedCommand>, RetryLater> {
    let request = RedeemCodeRequest { code, msisdn: row.source.clone(), sms_message_id: row.request_id() };
    let redeemed = state.platform.redeem(&request).await;
    count_platform_call(state, REDEMPTIONS, &redeemed);
    match redeemed {
        Ok(redemption) => match redemption.refused_before {
            // Sent again by the number it was refused for: that refusal, again, and nothing to decide or confirm.
            Some(reason) => {
                tracing::info!(activation_id = %redemption.activation_id, ?reason, "code refused before for this number");
                Ok(Err(denial(state, row, reason).await?))
            }
            None => {
                tracing::info!(activation_id = %redemption.activation_id, terminal_id = %redemption.terminal_id, "code redeemed");
                Ok(Ok(redemption))
            }
        },
        Err(PlatformCallError::Refused { code, .. }) => {
            let (outcome, text) = match refusal_outcome(code) {
                Some(outcome) => (outcome, refusal_text(code).unwrap_or_else(sms_replies::try_again_later)),
                None => (CommandOutcome::PlatformRejected, sms_replies::try_again_later()),
            };
            tracing::info!(?code, "code refused by the platform");
            Ok(Err(finished_with_reply(CommandKind::Bind, outcome, &row.source, text)))
        }
        Err(unavailable) => Err(RetryLater::Platform(unavailable)),
    }
}

/// Checks eligibility and saves the redemption with the verdict; an eligible number's binding is recorded in the
/// same transaction.
async fn decide(
    state: &AppState,
    row: &InboxRow,
    redemption: &RedeemCodeResponse,
) -> Result<BindingOutcome, RetryLater> {
    // Two indexed one-row reads of a WAL snapshot: a few µs on this worker, less than the hop to the blocking pool.
    let subscriber = state.store.get_subscriber(&row.source)?;
    let elsewhere = state.store.count_active_bindings_elsewhere(&row.source, &redemption.terminal_id)?;
    let (verdict, binding) = match check_eligibility(subscriber.as_ref(), elsewhere) {
        Ok(()) => {
            let binding = NewBinding {
                binding_id: binding_id_for_activation(redemption.activation_id.as_str()),
                msisdn: row.source.clone(),
                terminal_id: redemption.terminal_id.clone(),
                device_model: redemption.device_model.clone(),
                activation_id: redemption.activation_id.to_string(),
            };
            // `bnd-` and at most 64 characters of a well-formed activation ID: always a well-formed binding ID.
            let binding_id = BindingId::parse(&binding.binding_id).expect("a binding id derived from an activation id");
            (BindingOutcome::Bound { binding_id }, Some(binding))
        }
        Err(reason) => (BindingOutcome::Denied { reason }, None),
    };
    if redemption.currently_bound_msisdn.as_ref() == Some(&row.source) {
        tracing::info!("terminal already bound to this number; renewing the binding");
    }
    tracing::info!(verdict = ?verdict, "eligibility decided");
    let inbox_id = row.inbox_id;
    let (saved_redemption, saved_verdict) = (redemption.clone(), verdict.clone());
    let now = now_unix_millis();
    state
        .store
        .call_write(move |store| {
            store.save_redemption_and_verdict(inbox_id, &saved_redemption, &saved_verdict, binding.as_ref(), now)
        })
        .await?;
    Ok(verdict)
}

async fn denial(state: &AppState, row: &InboxRow, reason: DenialReason) -> Result<FinishedCommand, RetryLater> {
    let msisdn = row.source.clone();
    let subscriber = state.store.call(move |store| store.get_subscriber(&msisdn)).await?;
    let device_limit = subscriber.map(|subscriber| subscriber.device_limit).unwrap_or_default();
    Ok(finished_with_reply(
        CommandKind::Bind,
        CommandOutcome::Denied(reason),
        &row.source,
        sms_replies::denied(reason, device_limit),
    ))
}

fn refusal_outcome(code: ApiErrorCode) -> Option<CommandOutcome> {
    match code {
        ApiErrorCode::CodeUnknown | ApiErrorCode::ActivationNotFound => Some(CommandOutcome::CodeUnknown),
        ApiErrorCode::CodeExpired => Some(CommandOutcome::CodeExpired),
        ApiErrorCode::CodeUsed | ApiErrorCode::ActivationNotPending => Some(CommandOutcome::CodeUsed),
        ApiErrorCode::NumberLocked => Some(CommandOutcome::NumberLocked),
        ApiErrorCode::NumberNotMobile => Some(CommandOutcome::NumberNotMobile),
        ApiErrorCode::NumberBlacklistedNationally => Some(CommandOutcome::BlacklistedNationally),
        _ => None,
    }
}

fn refusal_text(code: ApiErrorCode) -> Option<String> {
    match refusal_outcome(code)? {
        CommandOutcome::CodeUnknown => Some(sms_replies::code_unknown()),
        CommandOutcome::CodeExpired => Some(sms_replies::code_expired()),
        CommandOutcome::CodeUsed => Some(sms_replies::code_used()),
        CommandOutcome::NumberLocked => Some(sms_replies::number_locked()),
        CommandOutcome::NumberNotMobile => Some(sms_replies::number_not_served_nationally()),
        CommandOutcome::BlacklistedNationally => Some(sms_replies::blacklisted_nationally()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_refusal_has_its_own_reply() {
        assert!(refusal_text(ApiErrorCode::CodeUnknown).unwrap().contains("验证码无效"));
        assert!(refusal_text(ApiErrorCode::CodeExpired).unwrap().contains("已过期"));
        assert!(refusal_text(ApiErrorCode::CodeUsed).unwrap().contains("已被使用"));
        assert!(refusal_text(ApiErrorCode::NumberLocked).unwrap().contains("次数过多"));
        assert!(refusal_text(ApiErrorCode::NumberBlacklistedNationally).unwrap().contains("全国"));
        assert!(refusal_text(ApiErrorCode::NumberNotMobile).unwrap().contains("号段"));
        assert_ne!(
            refusal_text(ApiErrorCode::NumberBlacklistedNationally),
            Some(sms_replies::denied(DenialReason::SubscriberBlacklisted, 1)),
            "the national blacklist has its own words, not the province's"
        );
        assert_eq!(refusal_text(ApiErrorCode::InvalidRequest), None);
    }
}
