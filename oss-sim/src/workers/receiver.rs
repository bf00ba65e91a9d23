//! Receives `deliver_sm` from the SMS centre: stores each SMS once (dedupe), commits, THEN acknowledges.
//! Deliveries are stored concurrently (a window's worth shares one group commit).

use crate::domain::inbox::dedupe_key;
use crate::state::AppState;
use crate::store::{InboxInsert, NewInboxMessage};
use numbind_process::clock::now_unix_millis;
use numbind_sms_link::{DeliverVerdict, InboundDelivery};
use numbind_wire::Msisdn;
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};

/// Deliveries being stored at once; more wait in the SMPP session's window (the SMS centre holds them).
const MAX_STORES_IN_FLIGHT: usize = 64;

pub(crate) async fn run_receiver(state: Arc<AppState>, mut inbound: mpsc::Receiver<InboundDelivery>) {
    let stores_in_flight = Arc::new(Semaphore::new(MAX_STORES_IN_FLIGHT));
    loop {
        let delivery = tokio::select! {
            _ = state.shutdown.cancelled() => break,
            delivery = inbound.recv() => delivery,
        };
        let Some(InboundDelivery { sms, reply }) = delivery else { break };
        if sms.is_delivery_receipt {
            let _ = reply.send(DeliverVerdict::Accept);
            continue;
        }
        state.metrics.sms_received.inc();
        let Ok(source) = Msisdn::parse(&sms.source) else {
            // Nobody to answer: a non-mobile sender cannot hold a subscription. Acknowledged so it is not redelivered.
            tracing::warn!(
                smsc_message_id = sms.smsc_message_id.as_deref().unwrap_or("-"),
                source_chars = sms.source.chars().count(),
                "dropping an sms whose sender is not a mobile number"
            );
            let _ = reply.send(DeliverVerdict::Accept);
            continue;
        };
        let received_at_ms = now_unix_millis();
        let message = NewInboxMessage {
            dedupe_key: dedupe_key(
                sms.smsc_message_id.as_deref(),
                source.as_digits(),
                &sms.destination,
                &sms.text,
                received_at_ms,
            ),
            smsc_message_id: sms.smsc_message_id.clone(),
            source,
            destination: sms.destination.clone(),
            text: sms.text.clone(),
            received_at_ms,
        };
        // Stored concurrently, so the deliveries of a send window share a commit; each is acknowledged once its
        // own row is durable. At most `MAX_STORES_IN_FLIGHT` at once.
        let Ok(permit) = Arc::clone(&stores_in_flight).acquire_owned().await else { break };
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let verdict = store_delivery(&state, message).await;
            let _ = reply.send(verdict);
            drop(permit);
        });
    }
    tracing::debug!("sms receiver stopped");
}

async fn store_delivery(state: &AppState, message: NewInboxMessage) -> DeliverVerdict {
    let smsc_message_id = message.smsc_message_id.clone().unwrap_or_else(|| "-".into());
    let source = message.source.clone();
    match state.store.call_write(move |store| store.insert_inbox(&message)).await {
        Ok(InboxInsert::Inserted { inbox_id }) => {
            tracing::info!(inbox_id, smsc_message_id, from = %source, "sms stored");
            state.inbox_wakeup.notify_one();
            DeliverVerdict::Accept
        }
        Ok(InboxInsert::Duplicate) => {
            state.metrics.sms_duplicates.inc();
            tracing::info!(smsc_message_id, from = %source, "redelivered sms ignored");
            DeliverVerdict::Accept
        }
        Err(error) => {
            tracing::error!(%error, smsc_message_id, "storing an sms failed; the sms centre will redeliver");
            DeliverVerdict::RetryLater
        }
    }
}
