//! Drains the SMS outbox: submits due notifications, marks them sent, retries failures with backoff and jitter.

use super::retry::retry_delay_seconds;
use crate::clients::sms_sender::SmsSender;
use crate::state::AppState;
use crate::store::OutboxSms;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const BATCH_SIZE: usize = 20;
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
                for sms in batch {
                    deliver_one(&state, &sender, sms).await;
                }
                continue;
            }
            Ok(_) => {}
            Err(error) => tracing::error!(error = %error, "cannot read the sms outbox"),
        }
        tokio::select! {
            () = state.outbox_changed.notified() => {}
            () = tokio::time::sleep(IDLE_RECHECK) => {}
            () = shutdown.cancelled() => {}
        }
    }
}

async fn deliver_one(state: &AppState, sender: &SmsSender, sms: OutboxSms) {
    let outbox_id = sms.outbox_id.clone();
    match sender.send(&sms).await {
        Ok(smsc_message_id) => {
            let now = state.now();
            let marked = state
                .store
                .call(move |store| store.mark_notification_delivered(&outbox_id, &smsc_message_id, now))
                .await;
            match marked {
                Ok(()) => {
                    state.metrics.notifications_sent.inc();
                    tracing::info!(outbox_id = %sms.outbox_id, destination = %sms.destination, "notification sent");
                }
                Err(error) => {
                    tracing::error!(outbox_id = %sms.outbox_id, error = %error, "cannot mark a notification sent")
                }
            }
        }
        Err(error) => {
            let delay = retry_delay_seconds(sms.attempts);
            let next_attempt_at = state.now() + delay;
            tracing::warn!(outbox_id = %sms.outbox_id, attempts = sms.attempts + 1, retry_in_seconds = delay, error = %error, "notification not sent");
            let rescheduled =
                state.store.call(move |store| store.reschedule_notification(&outbox_id, next_attempt_at)).await;
            if let Err(error) = rescheduled {
                tracing::error!(outbox_id = %sms.outbox_id, error = %error, "cannot reschedule a notification");
            }
        }
    }
}
