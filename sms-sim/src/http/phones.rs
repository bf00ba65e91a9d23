//! `/v1/phones/{msisdn}/...`: a phone sends an SMS to a short code, and reads its inbox.

use crate::domain::message::MessageId;
use crate::domain::routing::{MoDestination, MoRefusal};
use crate::error::ApiError;
use crate::metrics::RefusalLabels;
use crate::state::AppState;
use crate::store::{NewMobileOriginated, NewMobileTerminated};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use numbind_process::clock::now_unix_millis;
use numbind_process::http_api::{ApiJson, ApiPath};
use numbind_wire::{Msisdn, ShortCode};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const MAX_TEXT_CHARS: usize = 1_000;

/// `{"to": "10658000", "text": "BIND WDJBMJHT"}`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SendMessageRequest {
    to: String,
    text: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct SendMessageResponse {
    message_id: String,
    state: &'static str,
}

#[derive(Debug, Serialize)]
pub(crate) struct InboxMessage {
    message_id: String,
    from: String,
    text: String,
    received_at_unix_ms: i64,
}

#[derive(Debug, Serialize)]
pub(crate) struct InboxResponse {
    messages: Vec<InboxMessage>,
}

fn parse_msisdn(text: &str) -> Result<Msisdn, ApiError> {
    Msisdn::parse(text).map_err(|error| ApiError::InvalidRequest(format!("phone number: {error}")))
}

#[tracing::instrument(
    skip_all,
    fields(from = tracing::field::Empty, message_id = tracing::field::Empty, routing_version = tracing::field::Empty)
)]
pub(crate) async fn send_message(
    State(state): State<Arc<AppState>>,
    ApiPath(msisdn): ApiPath<String>,
    ApiJson(request): ApiJson<SendMessageRequest>,
) -> Result<(StatusCode, Json<SendMessageResponse>), ApiError> {
    let from = parse_msisdn(&msisdn)?;
    tracing::Span::current().record("from", tracing::field::display(&from));
    let to = ShortCode::parse(&request.to).map_err(|error| ApiError::InvalidRequest(format!("to: {error}")))?;
    let characters = request.text.chars().count();
    if characters == 0 || characters > MAX_TEXT_CHARS {
        return Err(ApiError::InvalidRequest(format!("text must be 1 to {MAX_TEXT_CHARS} characters")));
    }
    let routes = state.routes();
    if let Some(version) = routes.table_version() {
        // Every decision names the table it was made by, in the MO's log lines.
        tracing::Span::current().record("routing_version", tracing::field::display(version));
    }
    let account = match routes.route(&to, &from).ok_or_else(|| ApiError::NoRoute(to.to_string()))? {
        MoDestination::Account(account) => account.to_owned(),
        MoDestination::Refused(refusal) => return answer_refusal(&state, from, to, refusal).await,
    };
    let message_id = MessageId::generate();
    tracing::Span::current().record("message_id", message_id.as_str());
    let message = NewMobileOriginated {
        message_id: message_id.clone(),
        source_msisdn: from.as_digits().to_owned(),
        destination_short_code: to.as_str().to_owned(),
        text: request.text,
        account,
        now_ms: now_unix_millis(),
    };
    let max_queue = state.config.max_queue;
    state.store.call_write(move |store| store.insert_mobile_originated(&message, max_queue)).await?;
    state.metrics.mo_received.inc();
    state.delivery_wakeup.notify_one();
    tracing::info!("mo queued");
    Ok((StatusCode::ACCEPTED, Json(SendMessageResponse { message_id: message_id.to_string(), state: "queued" })))
}

/// The SMS centre answers the sender itself: the refusal SMS lands in the phone's inbox, from the short code,
/// and no ESME sees the MO (`messages` keeps the answer under the reserved empty account name, which no ESME
/// can bind as).
async fn answer_refusal(
    state: &AppState,
    from: Msisdn,
    to: ShortCode,
    refusal: MoRefusal,
) -> Result<(StatusCode, Json<SendMessageResponse>), ApiError> {
    let message_id = MessageId::generate();
    tracing::Span::current().record("message_id", message_id.as_str());
    let answer = NewMobileTerminated {
        message_id: message_id.clone(),
        source: to.as_str().to_owned(),
        destination_msisdn: from.as_digits().to_owned(),
        text: refusal.sms_text(),
        account: String::new(),
        client_reference: None,
        receipt: None,
        now_ms: now_unix_millis(),
    };
    state.store.call_write(move |store| store.insert_mobile_terminated(&answer)).await?;
    state.metrics.mo_received.inc();
    state.metrics.mo_refused.get_or_create(&RefusalLabels { reason: refusal.as_str() }).inc();
    tracing::info!(reason = refusal.as_str(), "mo answered by the sms centre: no province serves the sender");
    let response = SendMessageResponse { message_id: message_id.to_string(), state: "answered" };
    Ok((StatusCode::ACCEPTED, Json(response)))
}

pub(crate) async fn inbox(
    State(state): State<Arc<AppState>>,
    ApiPath(msisdn): ApiPath<String>,
) -> Result<Json<InboxResponse>, ApiError> {
    let phone = parse_msisdn(&msisdn)?;
    let entries = state.store.call(move |store| store.inbox(phone.as_digits())).await?;
    let messages = entries
        .into_iter()
        .map(|entry| InboxMessage {
            message_id: entry.message_id,
            from: entry.from,
            text: entry.text,
            received_at_unix_ms: entry.received_at_unix_ms,
        })
        .collect();
    Ok(Json(InboxResponse { messages }))
}
