//! What operators read, for the API (`http/`) and the console (`console/`) alike: the streamed exports of
//! bindings, audit events, payments and disputes (CSV and JSON Lines: keyset pages read on the blocking pool, one page in
//! memory at a time, however large the table), the JSON of a binding and of a payment, and the payment search
//! filter. Numbers are masked unless an admin reveals them with a reason.

pub(crate) mod disputes;
pub(crate) mod money_exports;
pub(crate) mod payment_differences;
pub(crate) mod payments;
pub(crate) mod reconciliation;

use crate::state::AppState;
use crate::store::{AuditRecord, BindingFilter, BindingRecord, StoreError};
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use numbind_routing::ProvinceCode;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// Rows fetched per page.
pub(crate) const EXPORT_PAGE_ROWS: i64 = 1000;

/// Pages read by all exports so far (tests check that exports read page by page, lazily).
pub static EXPORT_PAGES_READ: AtomicU64 = AtomicU64::new(0);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExportFormat {
    Csv,
    JsonLines,
}

/// `province` and `routing_version` are empty for a binding made without provinces.
const BINDING_HEADER: &str = "binding_id,terminal_id,msisdn_masked,activation_id,state,created_at,revoked_at,\
revoked_reason,province,routing_version\n";
const AUDIT_HEADER: &str =
    "sequence,at,actor,kind,terminal_id,msisdn_masked,activation_id,binding_id,message_id,detail,hash\n";

/// A CSV field, quoted when it holds a separator, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

pub(crate) fn csv_line(fields: &[String]) -> String {
    let mut line = fields.iter().map(|field| csv_field(field)).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

fn optional<T: ToString>(value: Option<T>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

/// A binding as JSON, its number masked unless `reveal`.
pub(crate) fn binding_json(binding: &BindingRecord, reveal: bool) -> Value {
    let msisdn = if reveal { binding.msisdn.as_digits().to_owned() } else { binding.msisdn.masked() };
    json!({
        "cursor": binding.cursor,
        "binding_id": binding.binding_id,
        "terminal_id": binding.terminal_id,
        "msisdn": msisdn,
        "activation_id": binding.activation_id,
        "state": binding.state,
        "created_at": binding.created_at,
        "revoked_at": binding.revoked_at,
        "revoked_reason": binding.revoked_reason,
        "province": binding.province.map(ProvinceCode::as_str),
        "routing_version": binding.routing_version,
    })
}

/// What an admin saw when numbers were revealed, for the `numbers_revealed` audit event: which bindings (by ID)
/// and which search (its filters, the number masked, and the page's keyset position), through which door.
pub(crate) fn reveal_description(filter: &BindingFilter, after: i64, rows: &[BindingRecord], door: &str) -> String {
    let mut conditions = Vec::new();
    if let Some(msisdn) = &filter.msisdn {
        conditions.push(format!("msisdn={}", msisdn.masked()));
    }
    if let Some(terminal_id) = &filter.terminal_id {
        conditions.push(format!("terminal_id={terminal_id}"));
    }
    if let Some(state) = &filter.state {
        conditions.push(format!("state={state}"));
    }
    conditions.extend(filter.from.map(|from| format!("from={from}")));
    conditions.extend(filter.to.map(|to| format!("to={to}")));
    conditions.extend(filter.province.map(|province| format!("province={province}")));
    if after > 0 {
        conditions.push(format!("after cursor {after}"));
    }
    let search = if conditions.is_empty() { "every binding".to_owned() } else { conditions.join(" ") };
    let bindings: Vec<&str> = rows.iter().map(|binding| binding.binding_id.as_str()).collect();
    format!("{} binding number(s) [{}] by search ({search}) in {door}", rows.len(), bindings.join(", "))
}

/// A binding as one JSON Lines record: the keys are the CSV export's columns (`msisdn_masked`, since it is).
fn binding_json_line(binding: &BindingRecord) -> Value {
    json!({
        "binding_id": binding.binding_id,
        "terminal_id": binding.terminal_id,
        "msisdn_masked": binding.msisdn.masked(),
        "activation_id": binding.activation_id,
        "state": binding.state,
        "created_at": binding.created_at,
        "revoked_at": binding.revoked_at,
        "revoked_reason": binding.revoked_reason,
        "province": binding.province.map(ProvinceCode::as_str),
        "routing_version": binding.routing_version,
    })
}

fn binding_line(binding: &BindingRecord, format: ExportFormat) -> String {
    match format {
        ExportFormat::JsonLines => format!("{}\n", binding_json_line(binding)),
        ExportFormat::Csv => csv_line(&[
            binding.binding_id.to_string(),
            binding.terminal_id.to_string(),
            binding.msisdn.masked(),
            binding.activation_id.to_string(),
            binding.state.clone(),
            binding.created_at.to_string(),
            optional(binding.revoked_at),
            optional(binding.revoked_reason.as_deref()),
            optional(binding.province.map(ProvinceCode::as_str)),
            optional(binding.routing_version.as_deref()),
        ]),
    }
}

fn audit_line(event: &AuditRecord, format: ExportFormat) -> String {
    match format {
        ExportFormat::JsonLines => format!("{}\n", serde_json::to_string(event).unwrap_or_default()),
        ExportFormat::Csv => csv_line(&[
            event.sequence.to_string(),
            event.at.to_string(),
            event.actor.clone(),
            event.kind.clone(),
            optional(event.terminal_id.as_deref()),
            optional(event.msisdn_masked.as_deref()),
            optional(event.activation_id.as_deref()),
            optional(event.binding_id.as_deref()),
            optional(event.message_id.as_deref()),
            optional(event.detail.as_deref()),
            event.hash.clone(),
        ]),
    }
}

/// Streams pages: `fetch(state, after)` returns one page's text and the next keyset position (`None` at the end).
fn paged_body<F, Fut>(state: AppState, header_line: Option<&'static str>, fetch: F) -> Body
where
    F: Fn(AppState, i64) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(String, Option<i64>), StoreError>> + Send + 'static,
{
    let first =
        futures_util::stream::iter(header_line.map(|line| Ok::<_, StoreError>(Bytes::from_static(line.as_bytes()))));
    let pages = futures_util::stream::unfold(Some(0_i64), move |after| {
        let (state, fetch) = (state.clone(), &fetch);
        let future = after.map(|after| fetch(state, after));
        async move {
            let (text, next) = match future?.await {
                Ok(page) => page,
                Err(error) => {
                    tracing::error!(error = %error, "export failed part way");
                    return Some((Err(error), None));
                }
            };
            Some((Ok(Bytes::from(text)), next))
        }
    });
    Body::from_stream(futures_util::StreamExt::chain(first, pages))
}

pub(crate) fn binding_export(state: AppState, format: ExportFormat) -> Body {
    let header_line = (format == ExportFormat::Csv).then_some(BINDING_HEADER);
    paged_body(state, header_line, move |state, after| async move {
        let filter = BindingFilter::default();
        let page = state.store.call(move |store| store.search_bindings(&filter, after, EXPORT_PAGE_ROWS)).await?;
        EXPORT_PAGES_READ.fetch_add(1, Ordering::Relaxed);
        let next = (page.len() as i64 == EXPORT_PAGE_ROWS).then(|| page.last().map(|row| row.cursor)).flatten();
        Ok((page.iter().map(|binding| binding_line(binding, format)).collect(), next))
    })
}

pub(crate) fn audit_export(state: AppState, format: ExportFormat) -> Body {
    let header_line = (format == ExportFormat::Csv).then_some(AUDIT_HEADER);
    paged_body(state, header_line, move |state, after| async move {
        let page = state.store.call(move |store| store.audit_events_after(after, EXPORT_PAGE_ROWS)).await?;
        EXPORT_PAGES_READ.fetch_add(1, Ordering::Relaxed);
        let next = (page.len() as i64 == EXPORT_PAGE_ROWS).then(|| page.last().map(|row| row.sequence)).flatten();
        Ok((page.iter().map(|event| audit_line(event, format)).collect(), next))
    })
}

pub(crate) fn streamed(body: Body, format: ExportFormat) -> Response {
    let content_type = match format {
        ExportFormat::Csv => "text/csv; charset=utf-8",
        ExportFormat::JsonLines => "application/jsonl",
    };
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The same streamed exports for the web console, which authenticated the operator by its session:
/// `name` is `bindings.csv`, `bindings.jsonl`, `audit-events.csv` or `audit-events.jsonl`.
pub(crate) fn export_by_name(state: AppState, name: &str) -> Option<Response> {
    let (audit, format) = match name {
        "bindings.csv" => (false, ExportFormat::Csv),
        "bindings.jsonl" => (false, ExportFormat::JsonLines),
        "audit-events.csv" => (true, ExportFormat::Csv),
        "audit-events.jsonl" => (true, ExportFormat::JsonLines),
        "payments.csv" => return Some(payments::payment_export(state, true)),
        "payments.jsonl" => return Some(payments::payment_export(state, false)),
        "refunds.csv" => return Some(money_exports::refund_export(state, ExportFormat::Csv)),
        "refunds.jsonl" => return Some(money_exports::refund_export(state, ExportFormat::JsonLines)),
        "disputes.csv" => return Some(disputes::dispute_export(state, true)),
        "disputes.jsonl" => return Some(disputes::dispute_export(state, false)),
        _ => return None,
    };
    let body = if audit { audit_export(state, format) } else { binding_export(state, format) };
    Some(streamed(body, format))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bindings_export_names_each_field_alike_in_csv_and_json_lines() {
        let binding = BindingRecord {
            cursor: 1,
            binding_id: numbind_wire::BindingId::parse("bnd-1").expect("binding ID"),
            terminal_id: numbind_wire::TerminalId::parse("NB-TEST0001").expect("terminal ID"),
            msisdn: numbind_wire::Msisdn::parse("13800138000").expect("number"),
            activation_id: numbind_wire::ActivationId::parse("act-1").expect("activation ID"),
            state: "active".to_owned(),
            created_at: 10,
            revoked_at: None,
            revoked_reason: None,
            province: ProvinceCode::parse("BJ").ok(),
            routing_version: Some("00112233aabbccdd".to_owned()),
        };
        let csv_columns: Vec<&str> = BINDING_HEADER.trim_end().split(',').collect();
        let json_keys: Vec<String> = match binding_json_line(&binding) {
            Value::Object(map) => map.keys().cloned().collect(),
            other => panic!("not an object: {other}"),
        };
        let mut sorted_columns: Vec<String> = csv_columns.iter().map(|column| (*column).to_owned()).collect();
        sorted_columns.sort();
        let mut sorted_keys = json_keys;
        sorted_keys.sort();
        assert_eq!(sorted_columns, sorted_keys);
        assert_eq!(binding_json_line(&binding)["msisdn_masked"], "138****8000");
        assert_eq!(binding_json_line(&binding)["province"], "BJ");
        let csv = binding_line(&binding, ExportFormat::Csv);
        assert!(csv.ends_with(",BJ,00112233aabbccdd\n"), "{csv}");
    }

    #[test]
    fn csv_fields_with_separators_are_quoted() {
        assert_eq!(csv_line(&["a".into(), "b,c".into(), "say \"hi\"".into()]), "a,\"b,c\",\"say \"\"hi\"\"\"\n");
    }
}
