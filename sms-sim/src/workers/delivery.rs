//! The delivery loop: finds due MO and receipts, hands each to a bound receiver session of its account, and
//! records the outcome (delivered, failed, or queued again with backoff).

use crate::domain::message::{redelivery_delay, Direction};
use crate::guards::deliveries_in_flight::DeliveriesInFlight;
use crate::guards::session_registry::DeliveryJob;
use crate::state::AppState;
use crate::store::QueuedDelivery;
use numbind_process::clock::now_unix_millis;
use numbind_smpp::CommandStatus;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

const POLL_INTERVAL: Duration = Duration::from_millis(200);
const BATCH: usize = 200;

pub(crate) async fn run_delivery_loop(state: Arc<AppState>) {
    let in_flight = Arc::new(DeliveriesInFlight::default());
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = state.delivery_wakeup.notified() => {}
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
        }
        let now_ms = now_unix_millis();
        in_flight.start_read();
        let due = match state.store.call(move |store| store.due_deliveries(now_ms, BATCH)).await {
            Ok(due) => due,
            Err(error) => {
                tracing::error!(%error, "cannot read the delivery queue");
                continue;
            }
        };
        for delivery in due {
            let Some(jobs) = state.sessions.pick(&delivery.account) else { continue };
            if !in_flight.claim(&delivery.message_id) {
                continue;
            }
            let state = state.clone();
            let in_flight = in_flight.clone();
            tokio::spawn(async move {
                let message_id = delivery.message_id.clone();
                deliver_one(&state, jobs, delivery).await;
                in_flight.settle(&message_id);
            });
        }
    }
}

/// Hands one message to a session and records the outcome in one write: delivered, failed, or an attempt that
/// did not deliver with its next attempt. `DeliveriesInFlight` keeps the message from being picked again until a
/// read of the queue sees that outcome; after a crash mid-attempt the message is simply due again (its receiver deduplicates by message ID).
async fn deliver_one(state: &AppState, jobs: tokio::sync::mpsc::Sender<DeliveryJob>, delivery: QueuedDelivery) {
    let attempt = delivery.attempts.saturating_add(1);
    let message_id = delivery.message_id.clone();
    let is_mobile_originated = delivery.direction == Direction::MobileOriginated;
    if is_mobile_originated && delivery.attempts > 0 {
        state.metrics.mo_redelivered.inc();
    }
    let (outcome, answer) = oneshot::channel();
    let duplicate = is_mobile_originated && state.config.duplicate_mo_deliveries;
    if jobs.send(DeliveryJob { delivery, duplicate, outcome }).await.is_err() {
        return; // The session closed before taking the message: no attempt was made, it stays due.
    }
    let answered = tokio::time::timeout(state.config.deliver_response_timeout, answer).await;
    let now_ms = now_unix_millis();
    let backoff_ms = now_ms
        + redelivery_delay(attempt, state.config.redelivery_interval, state.config.max_redelivery_interval).as_millis()
            as i64;
    let id = message_id.clone();
    let stored = match answered {
        Ok(Ok(CommandStatus::EsmeRok)) => {
            if is_mobile_originated {
                state.metrics.mo_delivered.inc();
            }
            state.store.call_write(move |store| store.mark_delivered(&id, now_ms)).await
        }
        Ok(Ok(CommandStatus::EsmeRxPAppn)) => {
            tracing::warn!(%message_id, "esme refused the message permanently");
            state.store.call_write(move |store| store.mark_failed(&id)).await
        }
        Ok(Ok(other)) => {
            tracing::info!(%message_id, attempt, command_status = %other, "esme asked for redelivery");
            state.store.call_write(move |store| store.record_attempt(&id, backoff_ms)).await
        }
        Ok(Err(_)) => {
            // Another session of the account may take it at once.
            tracing::info!(%message_id, attempt, "esme left before answering; delivery stays queued");
            state.store.call_write(move |store| store.record_attempt(&id, now_ms)).await
        }
        Err(_) => {
            tracing::warn!(%message_id, attempt, "no deliver_sm_resp in time; delivery stays queued");
            state.store.call_write(move |store| store.record_attempt(&id, backoff_ms)).await
        }
    };
    if let Err(error) = stored {
        tracing::error!(%error, %message_id, "cannot record a delivery outcome");
    }
}
