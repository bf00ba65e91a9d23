//! Delivers merchants' signed events: each queued event is POSTed to the merchant's webhook URL with
//! `x-numbind-event-signature` (Ed25519 by the platform key over `NUMBIND-MERCHANT-EVENT-V1\n` and the body),
//! retried with the shared backoff until a 2xx, at most one in flight per merchant and in order. A merchant
//! without a webhook reads the same states by polling `GET /v1/payments?updated_after=`: its due events are all
//! settled in one write, as there is nothing to send them to.

use super::retry::retry_delay_seconds;
use crate::config::Config;
use crate::state::AppState;
use crate::store::QueuedMerchantEvent;
use numbind_wire::MerchantId;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The header that carries the platform's signature of the body.
pub(crate) const EVENT_SIGNATURE_HEADER: &str = "x-numbind-event-signature";
const BATCH_SIZE: usize = 32;
const IDLE_RECHECK: Duration = Duration::from_secs(1);
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn spawn_merchant_event_worker(
    background: &mut JoinSet<()>,
    config: &Config,
    state: &AppState,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    // Merchants' endpoints are on the internet, certified by public authorities; the operator's own authority is
    // trusted beside them for merchants inside its network.
    let http = numbind_process::tls::web_http_client_builder(config.trusted_authorities.as_deref())?
        .timeout(DELIVERY_TIMEOUT)
        .build()?;
    background.spawn(run_merchant_event_worker(state.clone(), http, shutdown.clone()));
    Ok(())
}

async fn run_merchant_event_worker(state: AppState, http: reqwest::Client, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let now = state.now();
        match state.store.call(move |store| store.due_merchant_events(now, BATCH_SIZE)).await {
            Ok(batch) if !batch.is_empty() => {
                futures_util::future::join_all(batch.into_iter().map(|event| deliver_one(&state, &http, event))).await;
                continue;
            }
            Ok(_) => {}
            Err(error) => tracing::error!(error = %error, "cannot read the merchant events"),
        }
        tokio::select! {
            () = state.merchant_events_changed.notified() => {}
            () = tokio::time::sleep(IDLE_RECHECK) => {}
            () = shutdown.cancelled() => {}
        }
    }
}

async fn deliver_one(state: &AppState, http: &reqwest::Client, event: QueuedMerchantEvent) {
    let outcome = post_event(state, http, &event).await;
    let event_id = event.event_id.clone();
    let written = match outcome {
        Ok(Posted::Acknowledged) => {
            state.metrics.merchant_events_delivered.inc();
            let now = state.now();
            state.store.call_write(move |store| store.mark_merchant_event_delivered(&event_id, now)).await
        }
        Ok(Posted::NoWebhook) => {
            let (merchant_id, now) = (event.merchant_id.clone(), state.now());
            let settled =
                state.store.call_write(move |store| store.settle_due_merchant_events(&merchant_id, now)).await;
            settled.map(|count| {
                state.metrics.merchant_events_delivered.inc_by(count as u64);
            })
        }
        Err(error) => {
            let delay = retry_delay_seconds(event.attempts);
            tracing::warn!(event_id = %event.event_id, merchant_id = %event.merchant_id, retry_in_seconds = delay, error = %error, "merchant event not delivered");
            let next_attempt_at = state.now() + delay;
            state
                .store
                .call_write(move |store| store.reschedule_merchant_event(&event_id, next_attempt_at, &error))
                .await
        }
    };
    if let Err(error) = written {
        tracing::error!(error = %error, "cannot record a merchant event delivery");
    }
}

/// What became of an event.
enum Posted {
    /// The merchant's webhook answered 2xx.
    Acknowledged,
    /// The merchant has no webhook: it polls.
    NoWebhook,
}

/// POSTs one event to the merchant's webhook; `Err` unless it answers 2xx.
async fn post_event(state: &AppState, http: &reqwest::Client, event: &QueuedMerchantEvent) -> Result<Posted, String> {
    let merchant_id = MerchantId::parse(&event.merchant_id).map_err(|error| error.to_string())?;
    let merchant =
        state.store.call(move |store| store.find_merchant(&merchant_id)).await.map_err(|error| error.to_string())?;
    let Some(url) = merchant.and_then(|merchant| merchant.webhook_url) else { return Ok(Posted::NoWebhook) };
    let signature = state.signing_key.sign_merchant_event(event.body.as_bytes());
    let response = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(EVENT_SIGNATURE_HEADER, signature)
        .body(event.body.clone())
        .send()
        .await
        .map_err(|_| "the webhook is unreachable".to_owned())?;
    if response.status().is_success() {
        Ok(Posted::Acknowledged)
    } else {
        Err(format!("the webhook answered {}", response.status().as_u16()))
    }
}
