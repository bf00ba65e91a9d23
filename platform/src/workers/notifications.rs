//! Drains the SMS outbox: submits due notifications, marks them sent, retries failures with backoff and jitter.
//!
//! A batch is submitted at once (the SMPP session keeps a window of them in flight, sent in the batch's order), so
//! the SMS centre stores each window with one commit, and the batch's sent marks are written in one transaction.
//! Each SMS carries its outbox ID as client reference: a resubmission after a crash is not delivered twice.

use super::retry::retry_delay_seconds;
use crate::clients::sms_sender::SmsSender;
use crate::state::AppState;
use crate::store::OutboxSms;
use numbind_sms_link::LinkError;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const BATCH_SIZE: usize = 64;
/// How often an idle worker looks for due notifications anyway (retries fall due without a signal).
const IDLE_RECHECK: Duration = Duration::from_secs(1);
const WAIT_FOR_BIND: Duration = Duration::from_millis(200);

/// Runs until `shutdown`.
pub(crate) async fn run_notification_worker(state: AppState, sender: SmsSender, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        if !sender.is_bound() {
            // Not an attempt: nothing can be sent until the session binds, so no backoff is spent on it.
            tokio::select! {
                () = tokio::time::sleep(WAIT_FOR_BIND) => {}
                () = shutdown.cancelled() => {}
            }
            continue;
        }
        let now = state.now();
        let due = state.store.call(move |store| store.due_notifications(now, BATCH_SIZE)).await;
        match due {
            Ok(batch) if !batch.is_empty() => {
                deliver_batch(&state, &sender, batch).await;
                continue;
            }
            Ok(_) => {}
            Err(error) => tracing::error!(error = %numbind_process::error_chain(&error), "cannot read the sms outbox"),
        }
        tokio::select! {
            () = state.outbox_changed.notified() => {}
            () = tokio::time::sleep(IDLE_RECHECK) => {}
            () = shutdown.cancelled() => {}
        }
    }
}

/// Submits the whole batch, then marks the SMS the SMS centre took in one write and reschedules the others.
async fn deliver_batch(state: &AppState, sender: &SmsSender, batch: Vec<OutboxSms>) {
    let answers = futures_util::future::join_all(batch.iter().map(|sms| sender.send(sms))).await;
    let mut sent = Vec::new();
    for (sms, answer) in batch.into_iter().zip(answers) {
        match answer {
            Ok(smsc_message_id) => sent.push((sms, smsc_message_id)),
            Err(error) => reschedule(state, sms, &error).await,
        }
    }
    if sent.is_empty() {
        return;
    }
    let marks: Vec<(String, String)> = sent.iter().map(|(sms, id)| (sms.outbox_id.clone(), id.clone())).collect();
    let now = state.now();
    match state.store.call_write(move |store| store.mark_notifications_delivered(&marks, now)).await {
        Ok(()) => {
            for (sms, _) in &sent {
                state.metrics.notifications_sent.inc();
                tracing::info!(outbox_id = %sms.outbox_id, destination = %sms.destination, "notification sent");
            }
        }
        // Still queued: the next attempt resubmits them, and the SMS centre answers each with its original ID.
        Err(error) => tracing::error!(count = sent.len(), error = %error, "cannot mark notifications sent"),
    }
}

async fn reschedule(state: &AppState, sms: OutboxSms, error: &LinkError) {
    let delay = retry_delay_seconds(sms.attempts);
    let next_attempt_at = state.now() + delay;
    tracing::warn!(outbox_id = %sms.outbox_id, attempts = sms.attempts + 1, retry_in_seconds = delay, error = %error, "notification not sent");
    let outbox_id = sms.outbox_id.clone();
    let rescheduled =
        state.store.call_write(move |store| store.reschedule_notification(&outbox_id, next_attempt_at)).await;
    if let Err(error) = rescheduled {
        tracing::error!(outbox_id = %sms.outbox_id, error = %error, "cannot reschedule a notification");
    }
}
