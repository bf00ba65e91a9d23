//! `GET /v1/accounts/{account}/sent-messages?day=2026-12-07`: the MT messages an ESME account submitted on a day
//! (China Standard Time), with their message IDs, the sender's client references and their states, numbers masked.
//! The platform's receipts are reconciled against this list (`numbind reconcile payments`).

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use numbind_process::civil_date::CivilDate;
use numbind_process::clock::CHINA_STANDARD_TIME_OFFSET_SECONDS;
use numbind_process::http_api::{ApiPath, ApiQuery};
use numbind_wire::Msisdn;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SentMessagesQuery {
    day: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct SentMessageView {
    message_id: String,
    client_reference: Option<String>,
    msisdn_masked: String,
    state: String,
    created_at_unix_ms: i64,
    delivered_at_unix_ms: Option<i64>,
}

#[derive(Debug, Serialize)]
pub(crate) struct SentMessagesResponse {
    account: String,
    day: String,
    messages: Vec<SentMessageView>,
}

/// An SMPP `system_id`: 1 to 16 lowercase letters, digits, `-` or `_`.
fn parse_account(text: &str) -> Result<String, ApiError> {
    let valid = (1..=16).contains(&text.len())
        && text.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_');
    valid
        .then(|| text.to_owned())
        .ok_or_else(|| ApiError::InvalidRequest("an account is 1 to 16 of a-z, 0-9, - and _".to_owned()))
}

fn masked(destination: &str) -> String {
    Msisdn::parse(destination).map_or_else(|_| "(not a mobile number)".to_owned(), |msisdn| msisdn.masked())
}

pub(crate) async fn sent_messages(
    State(state): State<Arc<AppState>>,
    ApiPath(account): ApiPath<String>,
    ApiQuery(query): ApiQuery<SentMessagesQuery>,
) -> Result<Json<SentMessagesResponse>, ApiError> {
    let account = parse_account(&account)?;
    let day = CivilDate::parse(&query.day).map_err(|error| ApiError::InvalidRequest(error.to_string()))?;
    let (start, end) = day.unix_seconds_span(CHINA_STANDARD_TIME_OFFSET_SECONDS);
    let of_account = account.clone();
    let sent = state.store.call(move |store| store.sent_by_account(&of_account, start * 1000, end * 1000)).await?;
    let messages = sent
        .into_iter()
        .map(|message| SentMessageView {
            msisdn_masked: masked(&message.destination),
            message_id: message.message_id,
            client_reference: message.client_reference,
            state: message.state,
            created_at_unix_ms: message.created_at_unix_ms,
            delivered_at_unix_ms: message.delivered_at_unix_ms,
        })
        .collect();
    Ok(Json(SentMessagesResponse { account, day: day.to_string(), messages }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_system_ids() {
        assert!(parse_account("platform").is_ok());
        for bad in ["", "Platform", "a b", "seventeen-chars-x", "../x"] {
            assert!(parse_account(bad).is_err(), "{bad}");
        }
    }
}
