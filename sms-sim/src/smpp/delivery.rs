//! The delivery loop: finds due MO and receipts, hands each to a bound receiver session of its account, and
//! records the outcome (delivered, failed, or queued again with backoff).

use super::registry::DeliveryJob;
use crate::domain::message::{redelivery_delay, Direction};
use crate::state::{now_unix_ms, AppState};
use crate::store::QueuedDelivery;
use numbind_smpp::pdu;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

const POLL_INTERVAL: Duration = Duration::from_millis(200);
const BATCH: usize = 200;

pub(crate) async fn run_delivery_loop(state: Arc<AppState>) {
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = state.delivery_wakeup.notified() => {}
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
        }
        let now_ms = now_unix_ms();
        let due = match state.store.call(move |store| store.due_deliveries(now_ms, BATCH)).await {
            Ok(due) => due,
            Err(error) => {
                tracing::error!(%error, "cannot read the delivery queue");
                continue;
            }
        };
        for delivery in due {
            let Some(jobs) = state.sessions.pick(&delivery.account) else { continue };
            let newly_in_flight =
                in_flight.lock().map(|mut set| set.insert(delivery.message_id.to_string())).unwrap_or(false);
            if !newly_in_flight {
                continue;
            }
            let state = state.clone();
            let in_flight = in_flight.clone();
            tokio::spawn(async move {
                let message_id = delivery.message_id.to_string();
                deliver_one(&state, jobs, delivery).await;
                if let Ok(mut set) = in_flight.lock() {
                    set.remove(&message_id);
                }
            });
        }
    }
}

async fn deliver_one(state: &AppState, jobs: tokio::sync::mpsc::Sender<DeliveryJob>, delivery: QueuedDelivery) {
    let config = &state.config;
    let attempt = delivery.attempts.saturating_add(1);
    let retry_at_ms = now_unix_ms()
        + redelivery_delay(attempt, config.redelivery_interval, config.max_redelivery_interval).as_millis() as i64;
    let message_id = delivery.message_id.clone();
    let recorded = {
        let message_id = message_id.clone();
        state.store.call(move |store| store.record_attempt(&message_id, retry_at_ms)).await
    };
    if let Err(error) = recorded {
        tracing::error!(%error, %message_id, "cannot record a delivery attempt");
        return;
    }
    let is_mobile_originated = delivery.direction == Direction::MobileOriginated;
    if is_mobile_originated && delivery.attempts > 0 {
        state.metrics.mo_redelivered.inc();
    }
    let (outcome, answer) = oneshot::channel();
    let duplicate = is_mobile_originated && config.duplicate_mo_deliveries;
    if jobs.send(DeliveryJob { delivery, duplicate, outcome }).await.is_err() {
        return;
    }
    let status = match tokio::time::timeout(config.deliver_response_timeout, answer).await {
        Ok(Ok(status)) => status,
        Ok(Err(_)) => {
            tracing::info!(%message_id, attempt, "esme left before answering; delivery stays queued");
            return;
        }
        Err(_) => {
            tracing::warn!(%message_id, attempt, "no deliver_sm_resp in time; delivery stays queued");
            return;
        }
    };
    let now_ms = now_unix_ms();
    let stored = match status {
        pdu::ESME_ROK => {
            if is_mobile_originated {
                state.metrics.mo_delivered.inc();
            }
            let message_id = message_id.clone();
            state.store.call(move |store| store.mark_delivered(&message_id, now_ms)).await
        }
        pdu::ESME_RX_P_APPNACK => {
            tracing::warn!(%message_id, "esme refused the message permanently");
            let message_id = message_id.clone();
            state.store.call(move |store| store.mark_failed(&message_id)).await
        }
        other => {
            tracing::info!(%message_id, attempt, command_status = other, "esme asked for redelivery");
            Ok(())
        }
    };
    if let Err(error) = stored {
        tracing::error!(%error, %message_id, "cannot record a delivery outcome");
    }
}
