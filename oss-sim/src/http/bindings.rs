//! `GET /v1/bindings?msisdn=&terminal_id=&state=`: the OSS's binding records (full numbers).

use super::subscribers::parse_msisdn;
use crate::domain::binding::{BindingRecord, BindingRecordState};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::BindingFilter;
use axum::extract::State;
use axum::Json;
use numbind_process::http_api::ApiQuery;
use numbind_wire::TerminalId;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BindingsQuery {
    msisdn: Option<String>,
    terminal_id: Option<String>,
    state: Option<String>,
}

/// `GET /v1/bindings` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BindingList {
    pub bindings: Vec<BindingRecord>,
}

impl TryFrom<BindingsQuery> for BindingFilter {
    type Error = ApiError;

    fn try_from(query: BindingsQuery) -> Result<Self, Self::Error> {
        let non_empty = |value: Option<String>| value.filter(|text| !text.trim().is_empty());
        Ok(BindingFilter {
            msisdn: non_empty(query.msisdn).map(|text| parse_msisdn(&text)).transpose()?,
            terminal_id: non_empty(query.terminal_id)
                .map(|text| TerminalId::parse(&text))
                .transpose()
                .map_err(|error| ApiError::InvalidRequest(format!("terminal_id: {error}")))?,
            state: non_empty(query.state)
                .map(|text| {
                    BindingRecordState::parse(text.trim())
                        .ok_or_else(|| ApiError::InvalidRequest("state must be active or revoked".into()))
                })
                .transpose()?,
        })
    }
}

pub(super) async fn list_bindings(
    State(state): State<Arc<AppState>>,
    ApiQuery(query): ApiQuery<BindingsQuery>,
) -> Result<Json<BindingList>, ApiError> {
    let filter = BindingFilter::try_from(query)?;
    let bindings = state.store.call(move |store| store.list_bindings(&filter)).await?;
    Ok(Json(BindingList { bindings }))
}
