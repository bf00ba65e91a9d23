//! Disputes: `POST /v1/oss/disputes` (the OSS opens one for a number's `投诉 <receipt number>`, idempotent by the
//! payment), `GET /v1/operator/disputes` and `POST /v1/operator/disputes/{dispute_id}/resolution` (an admin
//! refunds through the refund path, or rejects with a reason; the user is told by SMS either way).

use super::operator_auth::AuthenticatedOperator;
use super::oss_auth::AuthenticatedOss;
use crate::domain::ids::new_dispute_id;
use crate::error::ApiError;
use crate::operator_views::disputes::{self as views, ResolveError};
use crate::state::AppState;
use crate::store::StoreError;
use axum::extract::{Query, State};
use axum::Json;
use numbind_process::http_api::{parse_json_body, ApiPath};
use numbind_wire::api::{
    Dispute, DisputeList, DisputeState, OpenDisputeRequest, OpenDisputeResponse, ResolveDisputeRequest,
};
use serde::Deserialize;

/// The most disputes one list answers.
const MAX_LISTED: usize = 500;

/// `POST /v1/oss/disputes`.
#[tracing::instrument(skip_all)]
pub(super) async fn open_dispute(
    State(state): State<AppState>,
    oss: AuthenticatedOss,
) -> Result<Json<OpenDisputeResponse>, ApiError> {
    let request: OpenDisputeRequest = parse_json_body(&oss.body)?;
    let message_id_ok = !request.sms_message_id.is_empty()
        && request.sms_message_id.len() <= 128
        && !request.sms_message_id.chars().any(char::is_control);
    if !message_id_ok {
        return Err(ApiError::invalid_request("sms_message_id must be 1 to 128 characters"));
    }
    let dispute_id = new_dispute_id(&state.random).map_err(|_| ApiError::Internal(StoreError::RandomSourceFailed))?;
    let now = state.now();
    let response = state.store.call_write(move |store| store.open_dispute(&request, &dispute_id, now)).await?;
    tracing::info!(outcome = ?response.outcome, dispute_id = ?response.dispute_id, "dispute asked for");
    Ok(Json(response))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DisputeListQuery {
    state: Option<DisputeState>,
}

/// `GET /v1/operator/disputes?state=open`: auditors and admins read them (numbers masked).
pub(super) async fn list_disputes(
    State(state): State<AppState>,
    _operator: AuthenticatedOperator,
    Query(query): Query<DisputeListQuery>,
) -> Result<Json<DisputeList>, ApiError> {
    let disputes = state.store.call(move |store| store.disputes(query.state, None, MAX_LISTED)).await?;
    Ok(Json(DisputeList { disputes }))
}

#[derive(Debug, Deserialize)]
pub(super) struct DisputePath {
    dispute_id: String,
}

/// `POST /v1/operator/disputes/{dispute_id}/resolution`: an admin refunds or rejects an open dispute, once.
pub(super) async fn resolve_dispute(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<DisputePath>,
    operator: AuthenticatedOperator,
    body: axum::body::Bytes,
) -> Result<Json<Dispute>, ApiError> {
    operator.require_admin()?;
    let request: ResolveDisputeRequest = parse_json_body(&body)?;
    let operator_name = operator.0.name.clone();
    match views::resolve_dispute(&state, path.dispute_id, operator_name, request).await {
        Ok(dispute) => Ok(Json(dispute)),
        Err(ResolveError::NotFound) => Err(ApiError::DisputeNotFound),
        Err(ResolveError::AlreadyResolved) => Err(ApiError::DisputeAlreadyResolved),
        Err(ResolveError::NothingToRefund) => Err(ApiError::PaymentNotRefundable),
        Err(ResolveError::InvalidReason(reason)) => Err(ApiError::invalid_request(reason)),
        Err(ResolveError::Store(error)) => Err(ApiError::from(error)),
    }
}
