//! Payments as operators read them: the search filter (API and console), the JSON of one payment and the streamed
//! export `payments.csv` / `payments.jsonl` (keyset pages, one in memory at a time). Numbers are always masked
//! (`138****8000`).

use super::{csv_line as csv_fields_line, EXPORT_PAGES_READ};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{BindingRoute, PaymentFilter, PaymentRecord, StoreError};
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use numbind_wire::api::PaymentState;
use numbind_wire::{MerchantId, PaymentId, TerminalId};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

const PAGE_ROWS: usize = 1000;
/// `province` and `routing_version` are those of the payment's binding (empty when made without provinces).
const CSV_HEADER: &str = "payment_id,merchant_id,reference_code,server_reference_code,terminal_id,msisdn_masked,\
item_id,amount,currency,state,denial_reason,cancellation_reason,created_at,finalized_at,refunded,province,\
routing_version\n";

/// A payment as an operator sees it: the merchant's view and the masked number of the binding it was made on.
pub(crate) fn operator_payment_json(record: &PaymentRecord) -> Value {
    let mut value = serde_json::to_value(&record.payment).unwrap_or(Value::Null);
    value["msisdn_masked"] = json!(record.msisdn.as_ref().map(|msisdn| msisdn.masked()));
    value["binding_id"] = json!(record.binding_id.as_ref().map(|binding| binding.to_string()));
    value
}

/// A payment of the export as one JSON Lines record: the operator's JSON and its binding's route.
fn json_line(record: &PaymentRecord, route: Option<&BindingRoute>) -> String {
    let mut value = operator_payment_json(record);
    value["province"] = json!(route.map(|route| route.province.as_str()));
    value["routing_version"] = json!(route.map(|route| route.routing_version.as_str()));
    format!("{value}\n")
}

fn csv_line(record: &PaymentRecord, route: Option<&BindingRoute>) -> String {
    let payment = &record.payment;
    let reason = |value: Option<String>| value.unwrap_or_default();
    let fields = [
        payment.payment_id.to_string(),
        payment.merchant_id.to_string(),
        payment.reference_code.clone(),
        payment.server_reference_code.clone().unwrap_or_default(),
        payment.terminal_id.to_string(),
        record.msisdn.as_ref().map(|msisdn| msisdn.masked()).unwrap_or_default(),
        payment.item_id.to_string(),
        payment.amount.minor_units().to_string(),
        payment.currency.to_string(),
        payment.state.as_str().to_owned(),
        reason(payment.denial_reason.map(|reason| crate::store::enum_text(&reason))),
        reason(payment.cancellation_reason.map(|reason| crate::store::enum_text(&reason))),
        payment.created_at_unix_seconds.to_string(),
        payment.finalized_at_unix_seconds.map(|at| at.to_string()).unwrap_or_default(),
        payment.refunded_minor_units.to_string(),
        route.map(|route| route.province.as_str().to_owned()).unwrap_or_default(),
        route.map(|route| route.routing_version.clone()).unwrap_or_default(),
    ];
    csv_fields_line(&fields)
}

/// The streamed export, CSV or JSON Lines, newest first.
pub(crate) fn payment_export(state: AppState, csv: bool) -> Response {
    let header_line =
        futures_util::stream::iter(csv.then(|| Ok::<_, StoreError>(Bytes::from_static(CSV_HEADER.as_bytes()))));
    let pages = futures_util::stream::unfold(Some(None::<(i64, String)>), move |cursor| {
        let state = state.clone();
        async move {
            let after = cursor?;
            let filter = PaymentFilter { after, limit: PAGE_ROWS, ..PaymentFilter::default() };
            let page_and_routes = state.store.call(move |store| {
                let page = store.search_payments(&filter)?;
                let routes = store.binding_routes(page.iter().filter_map(|record| record.binding_id.as_ref()))?;
                Ok((page, routes))
            });
            let (page, routes) = match page_and_routes.await {
                Ok(page_and_routes) => page_and_routes,
                Err(error) => return Some((Err(error), None)),
            };
            EXPORT_PAGES_READ.fetch_add(1, Ordering::Relaxed);
            let next = (page.len() == PAGE_ROWS)
                .then(|| {
                    page.last()
                        .map(|last| Some((last.payment.created_at_unix_seconds, last.payment.payment_id.to_string())))
                })
                .flatten();
            let text: String = page
                .iter()
                .map(|record| {
                    let route = record.binding_id.as_ref().and_then(|binding_id| routes.get(binding_id.as_str()));
                    if csv {
                        csv_line(record, route)
                    } else {
                        json_line(record, route)
                    }
                })
                .collect();
            Some((Ok(Bytes::from(text)), next))
        }
    });
    let content_type = if csv { "text/csv; charset=utf-8" } else { "application/jsonl" };
    ([(header::CONTENT_TYPE, content_type)], Body::from_stream(futures_util::StreamExt::chain(header_line, pages)))
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OperatorPaymentQuery {
    pub(crate) merchant_id: Option<String>,
    pub(crate) terminal_id: Option<String>,
    pub(crate) state: Option<PaymentState>,
    pub(crate) reference_code: Option<String>,
    pub(crate) payment_id: Option<String>,
    pub(crate) limit: Option<usize>,
}

/// The filter an operator's search asks for (empty fields ignored).
pub(crate) fn operator_filter(query: &OperatorPaymentQuery) -> Result<PaymentFilter, ApiError> {
    let given =
        |value: &Option<String>| value.as_deref().map(str::trim).filter(|text| !text.is_empty()).map(str::to_owned);
    Ok(PaymentFilter {
        merchant_id: given(&query.merchant_id)
            .map(|text| MerchantId::parse(&text))
            .transpose()
            .map_err(ApiError::invalid_request)?,
        terminal_id: given(&query.terminal_id)
            .map(|text| TerminalId::parse(&text))
            .transpose()
            .map_err(ApiError::invalid_request)?,
        payment_id: given(&query.payment_id)
            .map(|text| PaymentId::parse(&text))
            .transpose()
            .map_err(ApiError::invalid_request)?,
        state: query.state,
        reference_code: given(&query.reference_code),
        limit: query.limit.unwrap_or(100).clamp(1, 500),
        ..PaymentFilter::default()
    })
}
