//! `POST /v1/payments/{payment_id}/refunds` (merchants, `Idempotency-Key`) and the operators' refund with a reason:
//! one transaction inserts the refund and its billing call, then one inline attempt, then the worker retries.

use super::merchant_auth::MerchantRequest;
use super::operator_auth::AuthenticatedOperator;
use super::payments::{path_payment_id, required_idempotency_key, PaymentPath};
use crate::domain::payment::{body_hash, check_refund_reason, new_refund_id};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{CreateRefundOutcome, NewRefund, StoreError};
use crate::workers::billing::attempt_refund;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use numbind_process::http_api::{parse_json_body, ApiPath};
use numbind_wire::api::{CreateRefundRequest, Refund};
use numbind_wire::{MerchantId, PaymentId};

/// Creates a refund as asked, then tries it once inline; the refund as it is afterwards.
pub(super) async fn refund(state: &AppState, new_refund: NewRefund) -> Result<(StatusCode, Json<Refund>), ApiError> {
    let now = state.now();
    let refund = match state.store.call_write(move |store| store.create_refund(&new_refund, now)).await? {
        CreateRefundOutcome::Created(refund) => refund,
        CreateRefundOutcome::Repeated(refund) => return Ok((StatusCode::CREATED, Json(refund))),
        CreateRefundOutcome::KeyReused => return Err(ApiError::IdempotencyKeyReused),
        CreateRefundOutcome::PaymentNotFound => return Err(ApiError::PaymentNotFound),
        CreateRefundOutcome::NotRefundable => return Err(ApiError::PaymentNotRefundable),
        CreateRefundOutcome::ExceedsRemaining { remaining_minor_units } => {
            return Err(ApiError::RefundExceedsRemaining { remaining_minor_units })
        }
    };
    tracing::info!(refund_id = %refund.refund_id, payment_id = %refund.payment_id, "refund created");
    if let Some(client) = &state.inline_billing {
        if let Err(error) = attempt_refund(state, client, &refund.refund_id).await {
            tracing::warn!(refund_id = %refund.refund_id, error = %error, "inline refund unanswered: the worker retries");
        }
    }
    state.announce_billing();
    let payment_id = refund.payment_id.clone();
    let current = state.store.call(move |store| store.refunds_of_payment(&payment_id)).await?;
    let refund = current.into_iter().find(|stored| stored.refund_id == refund.refund_id).unwrap_or(refund);
    Ok((StatusCode::CREATED, Json(refund)))
}

fn new_refund(
    state: &AppState,
    requested_by: String,
    merchant_id: Option<MerchantId>,
    (payment_id, body, raw_body): (PaymentId, CreateRefundRequest, &[u8]),
    idempotency_key: Option<String>,
) -> Result<NewRefund, ApiError> {
    check_refund_reason(&body.reason).map_err(ApiError::invalid_request)?;
    Ok(NewRefund {
        requested_by,
        merchant_id,
        idempotency_key,
        body_hash: body_hash(raw_body),
        payment_id,
        amount: body.amount,
        reason: body.reason,
        refund_id: new_refund_id(&state.random).map_err(|_| ApiError::Internal(StoreError::RandomSourceFailed))?,
    })
}

/// `POST /v1/payments/{payment_id}/refunds`: a merchant refunds its own succeeded payment.
pub(super) async fn create_refund(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<PaymentPath>,
    request: MerchantRequest,
) -> Result<(StatusCode, Json<Refund>), ApiError> {
    let idempotency_key = required_idempotency_key(&request)?;
    let body: CreateRefundRequest = parse_json_body(&request.body)?;
    let payment_id = path_payment_id(&path)?;
    let merchant_id = request.merchant.merchant_id.clone();
    let requested_by = format!("merchant:{merchant_id}");
    let new =
        new_refund(&state, requested_by, Some(merchant_id), (payment_id, body, &request.body), Some(idempotency_key))?;
    refund(&state, new).await
}

/// `POST /v1/operator/payments/{payment_id}/refunds`: an admin refunds any succeeded payment, with a reason.
pub(super) async fn operator_refund(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<PaymentPath>,
    operator: AuthenticatedOperator,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Refund>), ApiError> {
    operator.require_admin()?;
    let request: CreateRefundRequest = parse_json_body(&body)?;
    let payment_id = path_payment_id(&path)?;
    let requested_by = format!("operator:{}", operator.0.name);
    let new = new_refund(&state, requested_by, None, (payment_id, request, &body), None)?;
    refund(&state, new).await
}
