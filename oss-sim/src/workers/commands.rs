//! The command worker: takes due inbox rows (each number's in arrival order), runs their command, and records
//! the outcome with its reply in one transaction; a row that cannot finish now is retried with backoff.
//! Rows of different numbers run at once (up to `command_concurrency`); one number's rows never overlap.

use super::command_results::{finished_with_reply, RetryLater};
use super::idle::idle_wait;
use super::{bind, dispute, payment_answer, self_service, unbind};
use crate::domain::inbox::{CommandKind, CommandOutcome};
use crate::domain::{self_service_replies, sms_replies};
use crate::metrics::CommandLabels;
use crate::state::AppState;
use crate::store::{FinishedCommand, InboxRow};
use numbind_process::clock::now_unix_millis;
use numbind_wire::{Msisdn, SmsCommand, SmsCommandError};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::task::JoinSet;

pub(crate) async fn run_command_worker(state: Arc<AppState>) {
    let mut in_flight: JoinSet<Msisdn> = JoinSet::new();
    let mut busy_numbers: HashSet<Msisdn> = HashSet::new();
    loop {
        if state.shutdown.is_cancelled() {
            break;
        }
        // Commands that finished meanwhile free their slots together, so that one poll of the inbox fills them all.
        while let Some(finished) = in_flight.try_join_next() {
            if let Ok(number) = finished {
                busy_numbers.remove(&number);
            }
        }
        let started = start_due_rows(&state, &mut in_flight, &mut busy_numbers).await;
        if started && in_flight.len() < state.config.command_concurrency {
            continue;
        }
        let wait = if in_flight.len() >= state.config.command_concurrency {
            state.config.idle_poll_interval
        } else {
            let next_due = state.store.call(|store| store.next_inbox_due_at()).await.ok().flatten();
            // Rows already due belong to numbers still in flight: their turn comes when one finishes.
            match next_due {
                Some(due) if due <= now_unix_millis() => state.config.idle_poll_interval,
                next_due => idle_wait(next_due, state.config.idle_poll_interval),
            }
        };
        tokio::select! {
            _ = state.shutdown.cancelled() => break,
            Some(finished) = in_flight.join_next(), if !in_flight.is_empty() => {
                if let Ok(number) = finished {
                    busy_numbers.remove(&number);
                }
            }
            _ = state.inbox_wakeup.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
    // Rows still running stop at their next await; unfinished rows stay pending and run after the restart.
    while in_flight.join_next().await.is_some() {}
    tracing::debug!("command worker stopped");
}

/// Starts the due rows of numbers not already in flight, up to the concurrency limit; true when any started.
async fn start_due_rows(
    state: &Arc<AppState>,
    in_flight: &mut JoinSet<Msisdn>,
    busy_numbers: &mut HashSet<Msisdn>,
) -> bool {
    let free_slots = state.config.command_concurrency.saturating_sub(in_flight.len());
    if free_slots == 0 {
        return false;
    }
    let now = now_unix_millis();
    // A busy number's oldest pending row is the one in flight: the store skips those numbers.
    let busy = busy_numbers.clone();
    let startable = match state.store.call(move |store| store.due_inbox_rows(now, free_slots, &busy)).await {
        Ok(rows) => rows,
        Err(error) => {
            tracing::error!(%error, "reading the inbox failed");
            return false;
        }
    };
    let started = !startable.is_empty();
    for row in startable {
        busy_numbers.insert(row.source.clone());
        let state = Arc::clone(state);
        in_flight.spawn(async move {
            let number = row.source.clone();
            process_row(&state, row).await;
            number
        });
    }
    started
}

#[tracing::instrument(skip_all, fields(inbox_id = row.inbox_id, from = %row.source))]
async fn process_row(state: &AppState, row: InboxRow) {
    let inbox_id = row.inbox_id;
    let attempts = row.attempts;
    let outcome = tokio::select! {
        _ = state.shutdown.cancelled() => return,
        outcome = run_command(state, &row) => outcome,
    };
    let recorded = match outcome {
        Ok(finished) => {
            let labels = CommandLabels { kind: finished.kind.as_str(), outcome: finished.outcome.as_str() };
            let queues_reply = finished.reply.is_some();
            let now = now_unix_millis();
            let recorded = state.store.call_write(move |store| store.finish_inbox(inbox_id, &finished, now)).await;
            if recorded.is_ok() {
                state.metrics.commands.get_or_create(&labels).inc();
                tracing::info!(kind = labels.kind, outcome = labels.outcome, "sms command processed");
                if queues_reply {
                    state.outbox_wakeup.notify_one();
                }
            }
            recorded
        }
        Err(retry) => {
            let next_attempt_at = state.retry_at_ms(attempts.saturating_add(1), retry.retry_after());
            tracing::warn!(attempts = attempts + 1, error = %retry, "sms command not finished; will retry");
            let reason = retry.to_string();
            state.store.call_write(move |store| store.reschedule_inbox(inbox_id, next_attempt_at, &reason)).await
        }
    };
    if let Err(error) = recorded {
        tracing::error!(%error, "recording an sms command's progress failed");
        tokio::time::sleep(state.config.idle_poll_interval).await;
    }
}

async fn run_command(state: &AppState, row: &InboxRow) -> Result<FinishedCommand, RetryLater> {
    match SmsCommand::parse(&row.text) {
        Ok(SmsCommand::Bind(code)) => bind::handle_bind(state, row, code).await,
        Ok(SmsCommand::Unbind) => unbind::handle_unbind(state, row).await,
        Ok(SmsCommand::Query) => self_service::handle_query(state, row).await,
        Ok(SmsCommand::Bill(month)) => self_service::handle_bill(state, row, month).await,
        Ok(SmsCommand::Limit(request)) => self_service::handle_limit(state, row, request).await,
        Ok(SmsCommand::Pause) => self_service::handle_pause(state, row, true).await,
        Ok(SmsCommand::Resume) => self_service::handle_pause(state, row, false).await,
        Ok(SmsCommand::Help) => Ok(self_service::help(row)),
        Ok(SmsCommand::Dispute(payment_id)) => dispute::handle_dispute(state, row, payment_id).await,
        Ok(SmsCommand::ConfirmPayment { approve, confirmation_number }) => {
            payment_answer::handle_payment_answer(state, row, approve, confirmation_number).await
        }
        Ok(_) => Ok(parse_error_reply(&row.source, &SmsCommandError::UnknownCommand)),
        Err(error) => Ok(parse_error_reply(&row.source, &error)),
    }
}

/// An SMS that is not a command gets the specific reason (a bad code, month, amount or receipt number) and changes
/// nothing; any other text gets the help, never silence.
fn parse_error_reply(from: &Msisdn, error: &SmsCommandError) -> FinishedCommand {
    match error {
        SmsCommandError::MissingCode | SmsCommandError::InvalidCode(_) => {
            finished_with_reply(CommandKind::Bind, CommandOutcome::InvalidCode, from, sms_replies::invalid_code())
        }
        SmsCommandError::InvalidConfirmationNumber => finished_with_reply(
            CommandKind::PaymentAnswer,
            CommandOutcome::InvalidConfirmationNumber,
            from,
            sms_replies::invalid_confirmation_number(),
        ),
        SmsCommandError::InvalidMonth(error) => finished_with_reply(
            CommandKind::Bill,
            CommandOutcome::InvalidMonth,
            from,
            self_service_replies::invalid_month(*error),
        ),
        SmsCommandError::InvalidLimit(error) => finished_with_reply(
            CommandKind::Limit,
            CommandOutcome::InvalidLimit,
            from,
            self_service_replies::invalid_limit(*error),
        ),
        SmsCommandError::InvalidReceiptNumber(error) => finished_with_reply(
            CommandKind::Dispute,
            CommandOutcome::InvalidReceiptNumber,
            from,
            self_service_replies::invalid_receipt_number(*error),
        ),
        _ => finished_with_reply(
            CommandKind::Invalid,
            CommandOutcome::UnknownCommand,
            from,
            self_service_replies::unknown_command(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_code_and_an_unknown_command_get_different_replies() {
        let from = Msisdn::parse("13800138000").unwrap();
        let bad_code = parse_error_reply(&from, &SmsCommand::parse("BIND 1234").unwrap_err());
        assert_eq!(bad_code.outcome, CommandOutcome::InvalidCode);
        assert!(bad_code.reply.unwrap().text.contains("格式不正确"));
        let unknown = parse_error_reply(&from, &SmsCommand::parse("hello").unwrap_err());
        assert_eq!(unknown.outcome, CommandOutcome::UnknownCommand);
        assert!(unknown.reply.unwrap().text.contains("无法识别"));
        let short_answer = parse_error_reply(&from, &SmsCommand::parse("Y 12345").unwrap_err());
        assert_eq!(short_answer.outcome, CommandOutcome::InvalidConfirmationNumber);
        assert!(short_answer.reply.unwrap().text.contains("6位确认码"));
        let malformed = [
            ("账单 2026-13", CommandOutcome::InvalidMonth, "月份13不存在"),
            ("限额 -5", CommandOutcome::InvalidLimit, "负数"),
            ("限额 99999999999", CommandOutcome::InvalidLimit, "过大"),
            ("投诉 收据", CommandOutcome::InvalidReceiptNumber, "收据号格式不正确"),
        ];
        for (text, outcome, words) in malformed {
            let finished = parse_error_reply(&from, &SmsCommand::parse(text).unwrap_err());
            assert_eq!(finished.outcome, outcome, "{text}");
            assert!(finished.reply.unwrap().text.contains(words), "{text}");
            assert!(finished.revocation.is_none());
        }
    }
}
