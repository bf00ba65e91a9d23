//! `GET /v1/payments` (filters, keyset paging, `updated_after` polling), a payment's refunds and what remains
//! refundable: a merchant reads only its own.

use super::merchant_auth::MerchantRequest;
use super::payments::{path_payment_id, PaymentPath};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::PaymentFilter;
use axum::extract::State;
use axum::Json;
use numbind_process::http_api::{ApiPath, ApiQuery};
use numbind_wire::api::{PaymentPage, PaymentState, Refund, RefundList, RemainingRefundableAmount};
use numbind_wire::{RefundId, TerminalId};
use serde::Deserialize;

const MAX_PAGE: usize = 200;
const DEFAULT_PAGE: usize = 50;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PaymentListQuery {
    state: Option<PaymentState>,
    reference_code: Option<String>,
    terminal_id: Option<String>,
    created_from: Option<i64>,
    created_to: Option<i64>,
    updated_after: Option<i64>,
    /// `next_after` of the previous page: `<created_at>:<payment_id>`.
    after: Option<String>,
    limit: Option<usize>,
}

/// The filter a query asks for, `merchant_id` left to the caller.
pub(super) fn filter_of(query: PaymentListQuery) -> Result<PaymentFilter, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid_request(format!("limit must be 1 to {MAX_PAGE}")));
    }
    let terminal_id =
        query.terminal_id.as_deref().map(TerminalId::parse).transpose().map_err(ApiError::invalid_request)?;
    let after = query
        .after
        .as_deref()
        .map(|text| {
            let (time, payment_id) = text.split_once(':').ok_or(())?;
            Ok::<_, ()>((time.parse::<i64>().map_err(|_| ())?, payment_id.to_owned()))
        })
        .transpose()
        .map_err(|()| ApiError::invalid_request("after must be the next_after of a previous page"))?;
    Ok(PaymentFilter {
        merchant_id: None,
        state: query.state,
        reference_code: query.reference_code,
        terminal_id,
        payment_id: None,
        created_from: query.created_from,
        created_to: query.created_to,
        updated_after: query.updated_after,
        after,
        limit,
    })
}

/// `GET /v1/payments`: newest first (or, with `updated_after`, by change time), one page.
pub(super) async fn list_payments(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PaymentListQuery>,
    request: MerchantRequest,
) -> Result<Json<PaymentPage>, ApiError> {
    let mut filter = filter_of(query)?;
    filter.merchant_id = Some(request.merchant.merchant_id);
    let limit = filter.limit;
    let by_change = filter.updated_after.is_some();
    let records = state.store.call(move |store| store.search_payments(&filter)).await?;
    let next_after = (records.len() == limit && !by_change)
        .then(|| {
            records.last().map(|last| format!("{}:{}", last.payment.created_at_unix_seconds, last.payment.payment_id))
        })
        .flatten();
    Ok(Json(PaymentPage { payments: records.into_iter().map(|record| record.payment).collect(), next_after }))
}

/// `GET /v1/payments/{payment_id}/refunds`.
pub(super) async fn list_refunds(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<PaymentPath>,
    request: MerchantRequest,
) -> Result<Json<RefundList>, ApiError> {
    let payment_id = path_payment_id(&path)?;
    let merchant_id = request.merchant.merchant_id;
    let refunds = state
        .store
        .call(move |store| match store.payment_of_merchant(&merchant_id, &payment_id)? {
            Some(_) => Ok(Some(store.refunds_of_payment(&payment_id)?)),
            None => Ok(None),
        })
        .await?;
    Ok(Json(RefundList { refunds: refunds.ok_or(ApiError::PaymentNotFound)? }))
}

#[derive(Debug, Deserialize)]
pub(super) struct RefundPath {
    payment_id: String,
    refund_id: String,
}

/// `GET /v1/payments/{payment_id}/refunds/{refund_id}`: one refund of the merchant's own payment. Another
/// merchant's payment is `payment_not_found`; a refund of another payment, or none, `refund_not_found`.
pub(super) async fn get_refund(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<RefundPath>,
    request: MerchantRequest,
) -> Result<Json<Refund>, ApiError> {
    let payment_id = path_payment_id(&PaymentPath { payment_id: path.payment_id })?;
    let refund_id = RefundId::parse(&path.refund_id).map_err(|_| ApiError::RefundNotFound)?;
    let merchant_id = request.merchant.merchant_id;
    let refund = state
        .store
        .call(move |store| match store.payment_of_merchant(&merchant_id, &payment_id)? {
            Some(_) => Ok(Some(store.refund_of_payment(&payment_id, &refund_id)?)),
            None => Ok(None),
        })
        .await?;
    Ok(Json(refund.ok_or(ApiError::PaymentNotFound)?.ok_or(ApiError::RefundNotFound)?))
}

/// `GET /v1/payments/{payment_id}/refunds/remaining-amount`.
pub(super) async fn remaining_refundable(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<PaymentPath>,
    request: MerchantRequest,
) -> Result<Json<RemainingRefundableAmount>, ApiError> {
    let payment_id = path_payment_id(&path)?;
    let merchant_id = request.merchant.merchant_id;
    let remaining = state
        .store
        .call(move |store| match store.payment_of_merchant(&merchant_id, &payment_id)? {
            Some(record) => Ok(Some((store.remaining_refundable(&record)?, record.payment.currency))),
            None => Ok(None),
        })
        .await?;
    let (minor_units, currency) = remaining.ok_or(ApiError::PaymentNotFound)?;
    Ok(Json(RemainingRefundableAmount { minor_units, currency }))
}
