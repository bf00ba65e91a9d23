//! The streamed exports of refunds (keyset pages, one in memory at a time) and of a billing day's settlement lines
//! (the platform's ledger of that day, as `numbind settlement run` writes it), CSV and JSON Lines, numbers masked.

use super::{csv_line, streamed, ExportFormat, EXPORT_PAGES_READ, EXPORT_PAGE_ROWS};
use crate::state::AppState;
use crate::store::{LedgerEntry, RefundExportRow, StoreError};
use axum::body::{Body, Bytes};
use axum::response::Response;
use std::sync::atomic::Ordering;

const REFUND_HEADER: &str = "refund_id,payment_id,merchant_id,msisdn_masked,amount,currency,state,reason,requested_by,\
bill_line_id,created_at,finalized_at\n";
const SETTLEMENT_HEADER: &str = "kind,record_id,payment_id,merchant_id,merchant_reference,bill_line_id,terminal_id,\
msisdn_masked,amount,currency,settled_at\n";

fn refund_line(row: &RefundExportRow, format: ExportFormat) -> String {
    if format == ExportFormat::JsonLines {
        return format!("{}\n", serde_json::to_value(row).unwrap_or_default());
    }
    csv_line(&[
        row.refund_id.clone(),
        row.payment_id.clone(),
        row.merchant_id.clone(),
        row.msisdn_masked.clone().unwrap_or_default(),
        row.amount_fen.to_string(),
        row.currency.clone(),
        row.state.clone(),
        row.reason.clone(),
        row.requested_by.clone(),
        row.bill_line_id.clone().unwrap_or_default(),
        row.created_at_unix_seconds.to_string(),
        row.finalized_at_unix_seconds.map(|at| at.to_string()).unwrap_or_default(),
    ])
}

/// Every refund, oldest first, read page by page.
pub(crate) fn refund_export(state: AppState, format: ExportFormat) -> Response {
    let header_line = futures_util::stream::iter(
        (format == ExportFormat::Csv).then(|| Ok::<_, StoreError>(Bytes::from_static(REFUND_HEADER.as_bytes()))),
    );
    let pages = futures_util::stream::unfold(Some((i64::MIN, String::new())), move |cursor| {
        let state = state.clone();
        async move {
            let (after_time, after_id) = cursor?;
            let read = state.store.call(move |store| store.refunds_after((after_time, &after_id), EXPORT_PAGE_ROWS));
            let page = match read.await {
                Ok(page) => page,
                Err(error) => return Some((Err(error), None)),
            };
            EXPORT_PAGES_READ.fetch_add(1, Ordering::Relaxed);
            let next = (page.len() as i64 == EXPORT_PAGE_ROWS)
                .then(|| page.last().map(|last| (last.created_at_unix_seconds, last.refund_id.clone())))
                .flatten();
            let text: String = page.iter().map(|row| refund_line(row, format)).collect();
            Some((Ok(Bytes::from(text)), next))
        }
    });
    streamed(Body::from_stream(futures_util::StreamExt::chain(header_line, pages)), format)
}

fn settlement_line(entry: &LedgerEntry, format: ExportFormat) -> String {
    if format == ExportFormat::JsonLines {
        let mut value = serde_json::to_value(entry).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.remove("receipts");
        }
        return format!("{value}\n");
    }
    csv_line(&[
        entry.kind.to_owned(),
        entry.record_id.clone(),
        entry.payment_id.clone(),
        entry.merchant_id.clone(),
        entry.reference_code.clone(),
        entry.bill_line_id.clone().unwrap_or_default(),
        entry.terminal_id.clone(),
        entry.msisdn_masked.clone().unwrap_or_default(),
        entry.amount_fen.to_string(),
        entry.currency.clone(),
        entry.settled_at_unix_seconds.to_string(),
    ])
}

/// The settlement lines of one billing day, in the ledger's order.
pub(crate) fn settlement_lines_export(entries: &[LedgerEntry], format: ExportFormat) -> Response {
    let mut text = if format == ExportFormat::Csv { SETTLEMENT_HEADER.to_owned() } else { String::new() };
    text.extend(entries.iter().map(|entry| settlement_line(entry, format)));
    let chunks = futures_util::stream::iter([Ok::<_, StoreError>(Bytes::from(text))]);
    streamed(Body::from_stream(chunks), format)
}
