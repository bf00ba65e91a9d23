//! `/v1/messages/{message_id}`: where a message is (direction, state, attempts) and, for an MT a provider
//! submitted over CMPP, its fee fields; never whose it is.

use crate::domain::message::MessageId;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::MobileTerminatedFee;
use axum::extract::State;
use axum::Json;
use numbind_process::http_api::ApiPath;
use serde::Serialize;
use std::sync::Arc;

#[derive(Debug, Serialize)]
pub(crate) struct MessageStatusResponse {
    message_id: String,
    direction: &'static str,
    state: &'static str,
    attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    fee: Option<FeeResponse>,
}

#[derive(Debug, Serialize)]
pub(crate) struct FeeResponse {
    service_id: String,
    fee_user_type: u8,
    fee_type: u8,
    fee_code_fen: u32,
    fee_terminal_id: String,
}

impl From<MobileTerminatedFee> for FeeResponse {
    fn from(fee: MobileTerminatedFee) -> FeeResponse {
        FeeResponse {
            service_id: fee.service_id,
            fee_user_type: fee.fee_user_type,
            fee_type: fee.fee_type,
            fee_code_fen: fee.fee_code_fen,
            fee_terminal_id: fee.fee_terminal_id,
        }
    }
}

pub(crate) async fn message_status(
    State(state): State<Arc<AppState>>,
    ApiPath(message_id): ApiPath<String>,
) -> Result<Json<MessageStatusResponse>, ApiError> {
    let message_id = MessageId::parse(&message_id).map_err(|error| ApiError::InvalidRequest(error.to_string()))?;
    let (status, fee) = state
        .store
        .call(move |store| Ok((store.message_status(&message_id)?, store.mobile_terminated_fee(&message_id)?)))
        .await?;
    let status = status.ok_or(ApiError::NotFound("message"))?;
    Ok(Json(MessageStatusResponse {
        message_id: status.message_id,
        direction: status.direction.as_str(),
        state: status.state.as_str(),
        attempts: status.attempts,
        fee: fee.map(FeeResponse::from),
    }))
}
