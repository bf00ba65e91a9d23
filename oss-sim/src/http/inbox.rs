//! `GET /v1/inbox/{smsc_message_id}`: how the OSS processed one SMS (state, outcome, replies).

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::InboxView;
use axum::extract::State;
use axum::Json;
use numbind_process::http_api::ApiPath;
use std::sync::Arc;

pub(super) async fn inbox_message(
    State(state): State<Arc<AppState>>,
    ApiPath(smsc_message_id): ApiPath<String>,
) -> Result<Json<InboxView>, ApiError> {
    if smsc_message_id.is_empty() || smsc_message_id.len() > 128 {
        return Err(ApiError::InvalidRequest("smsc_message_id must be 1 to 128 characters".into()));
    }
    let found = state.store.call(move |store| store.inbox_view(&smsc_message_id)).await?;
    found.map(Json).ok_or(ApiError::MessageNotFound)
}
