//! Sends queued reply SMS through the SMS centre, retrying with backoff until each is acknowledged.

use super::idle::idle_wait;
use crate::state::AppState;
use crate::store::OutboxRow;
use numbind_process::clock::now_unix_millis;
use numbind_sms_link::{OutgoingSms, SmsLink};
use std::sync::Arc;

pub(crate) async fn run_sender(state: Arc<AppState>, client: SmsLink) {
    loop {
        if state.shutdown.is_cancelled() {
            break;
        }
        let now = now_unix_millis();
        match state.store.call(move |store| store.due_outbox_row(now)).await {
            Ok(Some(row)) => {
                send_one(&state, &client, row).await;
                continue;
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "reading the reply queue failed"),
        }
        let next_due = state.store.call(|store| store.next_outbox_due_at()).await.ok().flatten();
        let wait = idle_wait(next_due, state.config.idle_poll_interval);
        tokio::select! {
            _ = state.shutdown.cancelled() => break,
            _ = state.outbox_wakeup.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
    tracing::debug!("reply sender stopped");
}

async fn send_one(state: &AppState, client: &SmsLink, row: OutboxRow) {
    let outbox_id = row.outbox_id;
    let sms = OutgoingSms {
        source: state.config.short_code.as_str().to_owned(),
        destination: row.destination.as_digits().to_owned(),
        text: row.text.clone(),
        client_reference: Some(row.client_reference()),
    };
    let outcome = tokio::select! {
        _ = state.shutdown.cancelled() => return,
        outcome = client.submit(sms) => outcome,
    };
    let stored = match outcome {
        Ok(smsc_message_id) => {
            state.metrics.replies_sent.inc();
            tracing::info!(outbox_id, to = %row.destination, "reply sent");
            let now = now_unix_millis();
            state.store.call(move |store| store.mark_outbox_delivered(outbox_id, &smsc_message_id, now)).await
        }
        Err(error) => {
            let next_attempt_at = state.retry_at_ms(row.attempts.saturating_add(1), None);
            tracing::warn!(outbox_id, attempts = row.attempts + 1, %error, "reply not sent; will retry");
            let reason = error.to_string();
            state.store.call(move |store| store.reschedule_outbox(outbox_id, next_attempt_at, &reason)).await
        }
    };
    if let Err(error) = stored {
        tracing::error!(outbox_id, %error, "recording a reply's progress failed");
        // Do not spin on a failing store.
        tokio::time::sleep(state.config.idle_poll_interval).await;
    }
}
