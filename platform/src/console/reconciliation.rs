//! The console's payment reconciliation page of a billing day (China Standard Time): the three-way differences
//! (the platform's ledger against the OSS's bill lines and the SMS centre's receipts, the same comparison as
//! `numbind reconcile payments` and `GET /v1/operator/payment-differences`) each with the repair button that fits,
//! the ledger with each charge's and refund's bill line and receipt state, the day's adjustments and the money
//! chart. Every repair (re-drive billing, re-send a receipt, adjust with a reason) calls the same function as the
//! API route and the CLI; after it the page is shown again, clean once the repair took effect.

use super::auth::{ConsoleForm, ConsoleQuery, SignedInOperator};
use super::error::ConsoleError;
use super::html::{
    csrf_field, encode_url_component, escape_html, format_unix_time, optional_text, page, table, SignedIn,
};
use super::language::localized;
use super::money_chart::{money_by_day, money_svg};
use super::reconciliation_differences::differences_section;
use crate::error::ApiError;
use crate::operator_views::payment_differences::reconcile_day;
use crate::operator_views::reconciliation::{parse_day, parse_repair, perform_repair, RepairBody, DIFFERENCE_KINDS};
use crate::state::AppState;
use crate::store::{LedgerEntry, PaymentAdjustment};
use axum::extract::State;
use axum::response::{Html, Redirect};
use numbind_process::civil_date::CivilDate;
use numbind_process::clock::CHINA_STANDARD_TIME_OFFSET_SECONDS;
use serde::Deserialize;

/// A charge's or refund's kind in the operator's language.
fn record_kind_label(kind: &str) -> &str {
    match kind {
        "charge" => localized("charge", "扣费"),
        "refund" => localized("refund", "退款"),
        other => other,
    }
}

/// A difference's kind (`DIFFERENCE_KINDS`) in the operator's language.
pub(super) fn difference_label(kind: &str) -> &str {
    match kind {
        "platform_only" => localized("on the platform only", "仅在平台"),
        "billing_only" => localized("in billing only", "仅在计费"),
        "amount_differs" => localized("amounts differ", "金额不符"),
        "receipt_missing" => localized("charged but no receipt delivered", "已扣费但收据未送达"),
        "receipt_without_charge" => localized("receipt for a charge that does not exist", "收据对应的扣费不存在"),
        other => other,
    }
}

fn fen_text(fen: i64) -> String {
    localized(format!("{fen} fen"), format!("{fen} 分"))
}

/// A refused repair or day as the console says it: the API's words in English, a summary in Chinese.
fn refusal(error: ApiError) -> ConsoleError {
    match error {
        ApiError::Internal(error) => ConsoleError::Internal(error),
        other => ConsoleError::bad_request(localized(
            other.to_string(),
            "请求有误：日期、记录 ID、操作、差异类别或原因（1 到 200 个可打印字符）不合格式".to_owned(),
        )),
    }
}

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
    format!(
        "{}{}",
        button("redrive_billing", localized("Re-drive billing", "重新送计费")),
        button("resend_receipt", localized("Re-send receipt", "重发收据"))
    )
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
                    None => format!("{} {}", receipt.outbox_id, localized("(queued)", "（排队中）")),
                })
                .collect::<Vec<_>>()
                .join("; ");
            vec![
                escape_html(record_kind_label(entry.kind)),
                escape_html(&entry.record_id),
                format!(
                    "<a href=\"/console/payments/{0}\">{1}</a>",
                    encode_url_component(&entry.payment_id),
                    escape_html(&entry.payment_id)
                ),
                escape_html(&entry.merchant_id),
                optional_text(entry.bill_line_id.as_deref()),
                optional_text(entry.msisdn_masked.as_deref()),
                fen_text(entry.amount_fen),
                escape_html(&format_unix_time(entry.settled_at_unix_seconds)),
                optional_text(Some(receipts.as_str()).filter(|text| !text.is_empty())),
                repair_buttons(signed_in, day, entry),
            ]
        })
        .collect();
    let headers = localized(
        ["Kind", "Record", "Payment", "Merchant", "Bill line", "Number", "Amount", "Settled at", "Receipts", "Repair"],
        ["类别", "记录", "支付", "商户", "账单行", "号码", "金额", "结算时间", "收据", "修复"],
    );
    table(&headers, &rows)
}

fn adjustments_table(adjustments: &[PaymentAdjustment]) -> String {
    let rows: Vec<Vec<String>> = adjustments
        .iter()
        .map(|adjustment| {
            vec![
                escape_html(&adjustment.record_id),
                escape_html(difference_label(&adjustment.difference)),
                escape_html(&adjustment.reason),
                escape_html(&adjustment.operator),
                escape_html(&format_unix_time(adjustment.created_at_unix_seconds)),
            ]
        })
        .collect();
    let headers =
        localized(["Record", "Difference", "Reason", "Operator", "At"], ["记录", "差异", "原因", "操作员", "时间"]);
    table(&headers, &rows)
}

fn adjust_form(signed_in: &SignedInOperator, day: CivilDate) -> String {
    if !signed_in.is_admin() {
        return format!("<p class=\"hint\">{}</p>", localized("Only an admin may repair.", "只有管理员可以修复。"));
    }
    let options: String = DIFFERENCE_KINDS
        .iter()
        .map(|kind| format!("<option value=\"{kind}\">{}</option>", difference_label(kind)))
        .collect();
    format!(
        "<form method=\"post\" action=\"/console/reconciliation/repair\" class=\"card danger\">{csrf}\
         <input type=\"hidden\" name=\"day\" value=\"{day}\"><input type=\"hidden\" name=\"action\" value=\"adjust\">\
         <label>{record_label} <input name=\"record_id\" id=\"adjust-record\" required></label>\
         <label>{difference_label} <select name=\"difference\" id=\"adjust-difference\">{options}</select></label>\
         <label>{reason_label} <input name=\"reason\" id=\"adjust-reason\" required maxlength=\"200\"></label>\
         <button type=\"submit\" id=\"adjust\">{adjust}</button></form>",
        csrf = csrf_field(&signed_in.session),
        record_label = localized("Record (payment or refund ID)", "记录（支付或退款 ID）"),
        difference_label = localized("Difference", "差异"),
        reason_label = localized("Reason (required, audited)", "原因（必填，将记入审计）"),
        adjust = localized("Adjust", "调整"),
    )
}

/// `GET /console/reconciliation?day=2026-12-07` (default: today, China Standard Time).
pub(super) async fn show_reconciliation(
    State(state): State<AppState>,
    signed_in: SignedInOperator,
    ConsoleQuery(query): ConsoleQuery<DayQuery>,
) -> Result<Html<String>, ConsoleError> {
    let day = match query.day.as_deref().map(str::trim).filter(|text| !text.is_empty()) {
        Some(text) => parse_day(text).map_err(|error| {
            ConsoleError::bad_request(localized(error.to_string(), "日期须为 2026-12-07 这样的公历日期".to_owned()))
        })?,
        None => CivilDate::of(state.now(), CHINA_STANDARD_TIME_OFFSET_SECONDS),
    };
    let reconciliation = reconcile_day(&state, day).await.map_err(refusal)?;
    let ledger = &reconciliation.ledger;
    let chart = state.store.call(move |store| money_by_day(store, day)).await?;
    let body = format!(
        "<form method=\"get\" action=\"/console/reconciliation\" class=\"card\">\
         <label>{day_label} <input name=\"day\" value=\"{day}\"></label><button type=\"submit\">{show}</button></form>\
         <section class=\"card\"><h2>{chart_title}</h2>{svg}</section>\
         {differences}<p class=\"hint\"><code>numbind reconcile payments --date {day}</code> {hint}</p>\
         <h2>{ledger_title}</h2>{ledger}<h2>{adjustments_title}</h2>{adjustments}{form}",
        day_label = localized("Billing day (UTC+8)", "计费日（UTC+8）"),
        show = localized("Show", "显示"),
        chart_title = localized(
            format!("Charges and refunds per merchant, the 7 days to {day}"),
            format!("各商户的扣费与退款，截至 {day} 的 7 天"),
        ),
        hint = localized(
            "makes the same comparison from the command line (exit 1 on any difference, --json for machines).",
            "在命令行做同样的比对（有差异时退出码为 1，--json 供程序读取）。",
        ),
        differences = differences_section(&signed_in, day, &reconciliation.differences),
        ledger_title = localized(format!("Ledger of {day}"), format!("{day} 的台账")),
        adjustments_title = localized("Adjustments", "调整"),
        svg = money_svg(&chart),
        ledger = ledger_table(&signed_in, day, &ledger.entries),
        adjustments = adjustments_table(&ledger.adjustments),
        form = adjust_form(&signed_in, day),
    );
    let frame = SignedIn { operator: &signed_in.operator, session: &signed_in.session };
    Ok(Html(page(localized("Reconciliation", "对账"), Some(&frame), &body)))
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
    let request = parse_repair(body, &signed_in.operator.name).map_err(refusal)?;
    let day = request.day.clone();
    match perform_repair(&state, request).await {
        Ok(_) => {}
        Err(ApiError::PaymentNotFound) => {
            return Err(ConsoleError::NotFound(
                localized(
                    "the platform holds no succeeded charge or refund with this ID",
                    "平台没有此 ID 的成功扣费或退款",
                )
                .to_owned(),
            ))
        }
        Err(error) => return Err(refusal(error)),
    }
    Ok(Redirect::to(&format!("/console/reconciliation?day={day}")))
}
