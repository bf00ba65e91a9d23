//! Drains the SMS outbox: submits due notifications, marks them sent, retries failures with backoff and jitter.

use super::sms_sender::SmsSender;
use crate::state::AppState;
use crate::store::OutboxSms;
use numbind_process::backoff::RetryPolicy;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const BATCH_SIZE: usize = 20;
/// How often an idle worker looks for due notifications anyway (retries fall due without a signal).
const IDLE_RECHECK: Duration = Duration::from_secs(1);
const WAIT_FOR_BIND: Duration = Duration::from_millis(200);
const MAX_RETRY_DELAY_SECONDS: u64 = 60;
/// Full jitter from 1 s, doubling per attempt up to [`MAX_RETRY_DELAY_SECONDS`]; whole seconds, the outbox's unit.
const RETRY_POLICY: RetryPolicy =
    RetryPolicy::new(Duration::from_secs(1), Duration::from_secs(MAX_RETRY_DELAY_SECONDS))
        .with_floor(Duration::from_secs(1));

/// Runs until `shutdown`.
pub async fn run_notification_worker(state: AppState, sender: SmsSender, shutdown: CancellationToken) {
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
            let marked =
                state.store.call(move |store| store.mark_notification_sent(&outbox_id, &smsc_message_id, now)).await;
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

/// Exponential backoff with full jitter: uniform in 1..=min(cap, 2^attempts) seconds.
pub(super) fn retry_delay_seconds(attempts: i64) -> i64 {
    let attempt = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    i64::try_from(RETRY_POLICY.random_delay(attempt, None).as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_up_to_the_cap_and_stay_positive() {
        for attempts in 0..40 {
            let delay = retry_delay_seconds(attempts);
            let ceiling = (1i64 << attempts.min(20)).min(MAX_RETRY_DELAY_SECONDS as i64);
            assert!((1..=ceiling).contains(&delay), "attempt {attempts}: {delay}");
        }
    }
}
