//! Disputes as operators export them: `disputes.csv` / `disputes.jsonl`, streamed in keyset pages (one in memory at
//! a time), oldest first, numbers masked (`138****8000`).

use super::{csv_line, EXPORT_PAGES_READ};
use crate::state::AppState;
use crate::store::StoreError;
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use numbind_wire::api::Dispute;
use std::sync::atomic::Ordering;

const PAGE_ROWS: usize = 1000;
const CSV_HEADER: &str = "dispute_id,payment_id,msisdn_masked,state,opened_at,resolved_at,resolved_by,\
rejection_reason,refund_id\n";

fn dispute_csv_line(dispute: &Dispute) -> String {
    let optional = |value: Option<String>| value.unwrap_or_default();
    csv_line(&[
        dispute.dispute_id.clone(),
        dispute.payment_id.to_string(),
        dispute.msisdn_masked.clone(),
        dispute.state.as_str().to_owned(),
        dispute.opened_at_unix_seconds.to_string(),
        optional(dispute.resolved_at_unix_seconds.map(|at| at.to_string())),
        optional(dispute.resolved_by.clone()),
        optional(dispute.rejection_reason.clone()),
        optional(dispute.refund_id.as_ref().map(ToString::to_string)),
    ])
}

/// The streamed export, CSV (`csv`) or JSON Lines.
pub(crate) fn dispute_export(state: AppState, csv: bool) -> Response {
    let header_line =
        futures_util::stream::iter(csv.then(|| Ok::<_, StoreError>(Bytes::from_static(CSV_HEADER.as_bytes()))));
    let pages = futures_util::stream::unfold(Some(None::<(i64, String)>), move |cursor| {
        let state = state.clone();
        async move {
            let after = cursor?;
            let page = match state.store.call(move |store| store.disputes(None, after.as_ref(), PAGE_ROWS)).await {
                Ok(page) => page,
                Err(error) => return Some((Err(error), None)),
            };
            EXPORT_PAGES_READ.fetch_add(1, Ordering::Relaxed);
            let next = (page.len() == PAGE_ROWS)
                .then(|| page.last().map(|last| Some((last.opened_at_unix_seconds, last.dispute_id.clone()))))
                .flatten();
            let text: String = page
                .iter()
                .map(|dispute| {
                    if csv {
                        dispute_csv_line(dispute)
                    } else {
                        format!("{}\n", serde_json::to_string(dispute).unwrap_or_default())
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
