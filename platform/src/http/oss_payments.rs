//! `POST /v1/oss/payment-confirmations`: the OSS forwards the bound number's `Y 123456` / `N 123456`; only payments
//! waiting for THAT number count, and a redelivered SMS gets the first answer.

use super::oss_auth::AuthenticatedOss;
use crate::error::ApiError;
use crate::state::AppState;
use crate::workers::billing::{announce_payment_change, attempt_charge};
use axum::extract::State;
use axum::Json;
use numbind_process::http_api::parse_json_body;
use numbind_wire::api::{PaymentConfirmationRequest, PaymentConfirmationResponse};

/// `POST /v1/oss/payment-confirmations`.
#[tracing::instrument(skip_all)]
pub(super) async fn answer_payment_confirmation(
    State(state): State<AppState>,
    oss: AuthenticatedOss,
) -> Result<Json<PaymentConfirmationResponse>, ApiError> {
    let request: PaymentConfirmationRequest = parse_json_body(&oss.body)?;
    let message_id_ok = !request.sms_message_id.is_empty()
        && request.sms_message_id.len() <= 128
        && !request.sms_message_id.chars().any(char::is_control);
    if !message_id_ok {
        return Err(ApiError::invalid_request("sms_message_id must be 1 to 128 characters"));
    }
    let (key, now) = (state.confirmation_key.clone(), state.now());
    let answer = state.store.call_write(move |store| store.answer_payment_confirmation(&request, &key, now)).await?;
    for record in &answer.changed {
        announce_payment_change(&state, record);
    }
    tracing::info!(outcome = ?answer.response.outcome, payment_id = ?answer.response.payment_id, "payment confirmation answered");
    if let Some(record) = &answer.to_charge {
        match &state.inline_billing {
            Some(client) => {
                if let Err(error) = attempt_charge(&state, client, &record.payment.payment_id).await {
                    tracing::warn!(payment_id = %record.payment.payment_id, error = %error, "inline charge unanswered");
                }
            }
            None => state.announce_billing(),
        }
        state.announce_billing();
    }
    Ok(Json(answer.response))
}
