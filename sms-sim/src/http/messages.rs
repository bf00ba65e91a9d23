//! `/v1/messages/{message_id}`: where a message is (direction, state, attempts), never whose it is.

use crate::domain::message::MessageId;
use crate::error::ApiError;
use crate::state::AppState;
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
}

pub(crate) async fn message_status(
    State(state): State<Arc<AppState>>,
    ApiPath(message_id): ApiPath<String>,
) -> Result<Json<MessageStatusResponse>, ApiError> {
    let message_id = MessageId::parse(&message_id).map_err(|error| ApiError::InvalidRequest(error.to_string()))?;
    let status =
        state.store.call(move |store| store.message_status(&message_id)).await?.ok_or(ApiError::NotFound("message"))?;
    Ok(Json(MessageStatusResponse {
        message_id: status.message_id,
        direction: status.direction.as_str(),
        state: status.state.as_str(),
        attempts: status.attempts,
    }))
}
