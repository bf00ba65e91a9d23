//! The self-service commands the OSS answers from its own records (it is the number's billing system of record):
//! `查询` (bindings, the month's total, the latest charges), `账单` (a month's statement), `限额` (the owner's
//! monthly cap), `暂停`/`恢复` (charges on all the number's boxes) and `帮助`. Each changes at most one row of
//! `own_charge_controls`, idempotently, so that a command retried after a crash answers the same.

use super::command_results::{finished_with_reply, RetryLater};
use crate::domain::binding::BindingRecordState;
use crate::domain::charging::local_month;
use crate::domain::inbox::{CommandKind, CommandOutcome};
use crate::domain::self_service::accept_own_cap;
use crate::domain::self_service_replies as replies;
use crate::domain::sms_replies::DeviceMention;
use crate::state::AppState;
use crate::store::{BindingFilter, FinishedCommand, InboxRow};
use numbind_process::clock::{now_unix_millis, now_unix_seconds};
use numbind_wire::{BillingMonth, LimitRequest};

/// How many charges `查询` lists.
const RECENT_CHARGES_IN_QUERY: usize = 3;

/// `查询`: this number's active bindings as billing holds them, this month's total and its latest charges.
pub(crate) async fn handle_query(state: &AppState, row: &InboxRow) -> Result<FinishedCommand, RetryLater> {
    let msisdn = row.source.clone();
    let month = local_month(now_unix_seconds());
    let (bindings, this_month, recent) = state
        .store
        .call(move |store| {
            let filter = BindingFilter {
                msisdn: Some(msisdn.clone()),
                terminal_id: None,
                state: Some(BindingRecordState::Active),
            };
            Ok((
                store.list_bindings(&filter)?,
                store.month_statement(&msisdn, &month)?,
                store.recent_charges(&msisdn, RECENT_CHARGES_IN_QUERY)?,
            ))
        })
        .await?;
    let devices: Vec<DeviceMention> = bindings
        .iter()
        .map(|binding| DeviceMention {
            device_model: binding.device_model.clone(),
            terminal_tail: binding.terminal_id.tail().to_owned(),
        })
        .collect();
    let text = replies::query(&devices, &this_month, &recent);
    Ok(finished_with_reply(CommandKind::Query, CommandOutcome::Answered, &row.source, text))
}

/// `账单 202612`: that month's statement (`账单` alone: this month's).
pub(crate) async fn handle_bill(
    state: &AppState,
    row: &InboxRow,
    month: Option<BillingMonth>,
) -> Result<FinishedCommand, RetryLater> {
    let month = month.map_or_else(|| local_month(now_unix_seconds()), |month| month.to_string());
    let msisdn = row.source.clone();
    let statement = state.store.call(move |store| store.month_statement(&msisdn, &month)).await?;
    Ok(finished_with_reply(CommandKind::Bill, CommandOutcome::Answered, &row.source, replies::statement(&statement)))
}

/// `限额`: reports, sets (never above the operator's monthly limit) or removes the owner's monthly cap.
pub(crate) async fn handle_limit(
    state: &AppState,
    row: &InboxRow,
    request: LimitRequest,
) -> Result<FinishedCommand, RetryLater> {
    let msisdn = row.source.clone();
    let operator_limits = state.config.charge_limits;
    let (subscriber, operator_overrides, own) = state
        .store
        .call(move |store| {
            Ok((store.get_subscriber(&msisdn)?, store.limit_override(&msisdn)?, store.own_charge_controls(&msisdn)?))
        })
        .await?;
    let answer = |outcome, text| Ok(finished_with_reply(CommandKind::Limit, outcome, &row.source, text));
    if subscriber.is_none() {
        return answer(CommandOutcome::NotASubscriber, replies::not_a_subscriber());
    }
    let operator_monthly_fen = operator_limits.overridden_by(&operator_overrides).monthly_fen;
    let new_cap_fen = match request {
        LimitRequest::Report => {
            return answer(CommandOutcome::Answered, replies::limit_report(own.monthly_cap_fen, operator_monthly_fen));
        }
        LimitRequest::Remove => None,
        LimitRequest::Set(cap) => match accept_own_cap(cap, operator_monthly_fen) {
            Ok(fen) => Some(fen),
            Err(refused) => {
                let text = replies::limit_above_operator(refused.requested_fen, refused.operator_fen);
                return answer(CommandOutcome::LimitAboveOperator, text);
            }
        },
    };
    let (msisdn, now) = (row.source.clone(), now_unix_millis());
    state.store.call_write(move |store| store.set_own_monthly_cap(&msisdn, new_cap_fen, now)).await?;
    let text = match new_cap_fen {
        Some(cap) => replies::limit_set(cap),
        None => replies::limit_removed(operator_monthly_fen),
    };
    answer(CommandOutcome::LimitChanged, text)
}

/// `暂停` (`paused`) or `恢复`: stops or restarts charges on every box of the number; the bindings stay.
pub(crate) async fn handle_pause(
    state: &AppState,
    row: &InboxRow,
    paused: bool,
) -> Result<FinishedCommand, RetryLater> {
    let kind = if paused { CommandKind::Pause } else { CommandKind::Resume };
    let msisdn = row.source.clone();
    let subscriber = state.store.call(move |store| store.get_subscriber(&msisdn)).await?;
    if subscriber.is_none() {
        return Ok(finished_with_reply(kind, CommandOutcome::NotASubscriber, &row.source, replies::not_a_subscriber()));
    }
    let (msisdn, now) = (row.source.clone(), now_unix_millis());
    state.store.call_write(move |store| store.set_charging_paused(&msisdn, paused, now)).await?;
    let (outcome, text) = if paused {
        (CommandOutcome::Paused, replies::paused())
    } else {
        (CommandOutcome::Resumed, replies::resumed())
    };
    Ok(finished_with_reply(kind, outcome, &row.source, text))
}

/// `帮助`: the list of commands.
pub(crate) fn help(row: &InboxRow) -> FinishedCommand {
    finished_with_reply(CommandKind::Help, CommandOutcome::Answered, &row.source, replies::help())
}
