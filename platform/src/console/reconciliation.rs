//! The console's payment reconciliation page of a billing day (China Standard Time): the platform's ledger with
//! each charge's and refund's bill line and receipt state, the day's adjustments, the money chart, and the repair
//! buttons (re-drive billing, re-send a receipt, adjust with a reason) that call the same function as the API route
//! and the CLI. The three-way differences themselves come from `numbind reconcile payments`, which names the
//! record and the repair to press here.

use super::auth::{ConsoleForm, ConsoleQuery, SignedInOperator};
use super::error::ConsoleError;
use super::html::{
    csrf_field, encode_url_component, escape_html, format_unix_time, optional_text, page, table, SignedIn,
};
use super::money_chart::{money_by_day, money_svg};
use crate::error::ApiError;
use crate::operator_views::reconciliation::{
    parse_day, parse_repair, perform_repair, read_ledger, RepairBody, DIFFERENCE_KINDS,
};
use crate::state::AppState;
use crate::store::{LedgerEntry, PaymentAdjustment};
use axum::extract::State;
use axum::response::{Html, Redirect};
use numbind_process::civil_date::CivilDate;
use numbind_process::clock::CHINA_STANDARD_TIME_OFFSET_SECONDS;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub(super) struct DayQuery {
    day: Option<String>,
}

fn repair_buttons(signed_in: &SignedInOperator, day: CivilDate, entry: &LedgerEntry) -> String {
    if !signed_in.is_admin() {
        return String::new();
    }
    let button = |action: &str, label: &str| {
        format!(
            "<form method=\"post\" action=\"/console/reconciliation/repair\" class=\"inline\">{csrf}\
             <input type=\"hidden\" name=\"day\" value=\"{day}\"><input type=\"hidden\" name=\"record_id\" value=\"{record}\">\
             <input type=\"hidden\" name=\"action\" value=\"{action}\"><button type=\"submit\">{label}</button></form>",
            csrf = csrf_field(&signed_in.session),
            record = escape_html(&entry.record_id),
        )
    };
    format!("{}{}", button("redrive_billing", "Re-drive billing"), button("resend_receipt", "Re-send receipt"))
}

fn ledger_table(signed_in: &SignedInOperator, day: CivilDate, entries: &[LedgerEntry]) -> String {
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|entry| {
            let receipts = entry
                .receipts
                .iter()
                .map(|receipt| match &receipt.smsc_message_id {
                    Some(message_id) => format!("{} → {}", receipt.outbox_id, message_id),
                    None => format!("{} (queued)", receipt.outbox_id),
                })
                .collect::<Vec<_>>()
                .join("; ");
            vec![
                escape_html(entry.kind),
                escape_html(&entry.record_id),
                format!(
                    "<a href=\"/console/payments/{0}\">{1}</a>",
                    encode_url_component(&entry.payment_id),
                    escape_html(&entry.payment_id)
                ),
                escape_html(&entry.merchant_id),
                optional_text(entry.bill_line_id.as_deref()),
                optional_text(entry.msisdn_masked.as_deref()),
                format!("{} fen", entry.amount_fen),
                escape_html(&format_unix_time(entry.settled_at_unix_seconds)),
                optional_text(Some(receipts.as_str()).filter(|text| !text.is_empty())),
                repair_buttons(signed_in, day, entry),
            ]
        })
        .collect();
    let headers =
        ["Kind", "Record", "Payment", "Merchant", "Bill line", "Number", "Amount", "Settled at", "Receipts", "Repair"];
    table(&headers, &rows)
}

fn adjustments_table(adjustments: &[PaymentAdjustment]) -> String {
    let rows: Vec<Vec<String>> = adjustments
        .iter()
        .map(|adjustment| {
            vec![
                escape_html(&adjustment.record_id),
                escape_html(&adjustment.difference),
                escape_html(&adjustment.reason),
                escape_html(&adjustment.operator),
                escape_html(&format_unix_time(adjustment.created_at_unix_seconds)),
            ]
        })
        .collect();
    table(&["Record", "Difference", "Reason", "Operator", "At"], &rows)
}

fn adjust_form(signed_in: &SignedInOperator, day: CivilDate) -> String {
    if !signed_in.is_admin() {
        return "<p class=\"hint\">Only an admin may repair.</p>".to_owned();
    }
    let options: String =
        DIFFERENCE_KINDS.iter().map(|kind| format!("<option value=\"{kind}\">{kind}</option>")).collect();
    format!(
        "<form method=\"post\" action=\"/console/reconciliation/repair\" class=\"card danger\">{csrf}\
         <input type=\"hidden\" name=\"day\" value=\"{day}\"><input type=\"hidden\" name=\"action\" value=\"adjust\">\
         <label>Record (payment or refund ID) <input name=\"record_id\" id=\"adjust-record\" required></label>\
         <label>Difference <select name=\"difference\" id=\"adjust-difference\">{options}</select></label>\
         <label>Reason (required, audited) <input name=\"reason\" id=\"adjust-reason\" required maxlength=\"200\"></label>\
         <button type=\"submit\" id=\"adjust\">Adjust</button></form>",
        csrf = csrf_field(&signed_in.session),
    )
}

/// `GET /console/reconciliation?day=2026-12-07` (default: today, China Standard Time).
pub(super) async fn show_reconciliation(
    State(state): State<AppState>,
    signed_in: SignedInOperator,
    ConsoleQuery(query): ConsoleQuery<DayQuery>,
) -> Result<Html<String>, ConsoleError> {
    let day = match query.day.as_deref().map(str::trim).filter(|text| !text.is_empty()) {
        Some(text) => parse_day(text).map_err(ConsoleError::bad_request)?,
        None => CivilDate::of(state.now(), CHINA_STANDARD_TIME_OFFSET_SECONDS),
    };
    let ledger = read_ledger(&state, day).await.map_err(ConsoleError::bad_request)?;
    let chart = state.store.call(move |store| money_by_day(store, day)).await?;
    let body = format!(
        "<form method=\"get\" action=\"/console/reconciliation\" class=\"card\">\
         <label>Billing day (UTC+8) <input name=\"day\" value=\"{day}\"></label><button type=\"submit\">Show</button></form>\
         <section class=\"card\"><h2>Charges and refunds per merchant, the 7 days to {day}</h2>{svg}</section>\
         <p class=\"hint\">`numbind reconcile payments --date {day}` compares this ledger with the OSS's bill lines and the \
         SMS centre's receipts and names each difference with its repair.</p>\
         <h2>Ledger of {day}</h2>{ledger}<h2>Adjustments</h2>{adjustments}{form}",
        svg = money_svg(&chart),
        ledger = ledger_table(&signed_in, day, &ledger.entries),
        adjustments = adjustments_table(&ledger.adjustments),
        form = adjust_form(&signed_in, day),
    );
    let frame = SignedIn { operator: &signed_in.operator, session: &signed_in.session };
    Ok(Html(page("Reconciliation", Some(&frame), &body)))
}

#[derive(Debug, Deserialize)]
pub(super) struct RepairForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    record_id: String,
    #[serde(default)]
    action: String,
    difference: Option<String>,
    reason: Option<String>,
}

/// `POST /console/reconciliation/repair` (admin): the same repair as `POST /v1/operator/payment-repairs`.
pub(super) async fn repair(
    State(state): State<AppState>,
    signed_in: SignedInOperator,
    ConsoleForm(form): ConsoleForm<RepairForm>,
) -> Result<Redirect, ConsoleError> {
    signed_in.check_csrf(&form.csrf_token)?;
    signed_in.require_admin()?;
    let body = RepairBody {
        day: form.day,
        record_id: form.record_id,
        action: form.action,
        difference: form.difference,
        reason: form.reason,
    };
    let request = parse_repair(body, &signed_in.operator.name).map_err(ConsoleError::bad_request)?;
    let day = request.day.clone();
    match perform_repair(&state, request).await {
        Ok(_) => {}
        Err(ApiError::PaymentNotFound) => {
            return Err(ConsoleError::NotFound(
                "the platform holds no succeeded charge or refund with this ID".to_owned(),
            ))
        }
        Err(error) => return Err(ConsoleError::bad_request(error)),
    }
    Ok(Redirect::to(&format!("/console/reconciliation?day={day}")))
}
