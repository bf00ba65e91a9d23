//! Payments in the console: search (merchant, terminal, state, reference, payment ID), a payment's page with its
//! refunds, and the admin's refund form with a reason (`requested_by` = `operator:<name>`). Numbers masked.

use super::auth::{ConsoleForm, ConsolePath, ConsoleQuery, SignedInOperator};
use super::error::ConsoleError;
use super::html::{
    csrf_field, encode_url_component, escape_html, format_unix_time, optional_text, page, state_label, table, SignedIn,
};
use super::language::localized;
use super::parse_reason;
use crate::domain::payment::new_refund_id;
use crate::operator_views::payments::{operator_filter, OperatorPaymentQuery};
use crate::state::AppState;
use crate::store::{CreateRefundOutcome, NewRefund, PaymentFilter, PaymentRecord, StoreError};
use axum::extract::State;
use axum::response::{Html, Redirect};
use numbind_wire::api::Refund;
use numbind_wire::{Amount, PaymentId, TerminalId};
use serde::Deserialize;

/// The payments table, each ID linking to its page.
pub(super) fn payments_table(records: &[PaymentRecord]) -> String {
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|record| {
            let payment = &record.payment;
            vec![
                format!(
                    "<a href=\"/console/payments/{0}\">{1}</a>",
                    encode_url_component(payment.payment_id.as_str()),
                    escape_html(payment.payment_id.as_str())
                ),
                escape_html(payment.merchant_id.as_str()),
                escape_html(&payment.reference_code),
                escape_html(payment.terminal_id.as_str()),
                optional_text(record.msisdn.as_ref().map(|msisdn| msisdn.masked()).as_deref()),
                escape_html(&payment.currency.format(payment.amount)),
                format!(
                    "<span class=\"state-{}\">{}</span>",
                    payment.state.as_str(),
                    state_label(payment.state.as_str())
                ),
                escape_html(&format_unix_time(payment.created_at_unix_seconds)),
            ]
        })
        .collect();
    let headers = localized(
        ["Payment", "Merchant", "Reference", "Terminal", "Number", "Amount", "State", "Created at"],
        ["支付", "商户", "参考号", "终端", "号码", "金额", "状态", "创建时间"],
    );
    table(&headers, &rows)
}

/// A terminal's payments, newest first (for its page).
pub(super) fn payments_of_terminal(
    store: &crate::store::Store,
    terminal_id: &TerminalId,
) -> Result<Vec<PaymentRecord>, StoreError> {
    store.search_payments(&PaymentFilter {
        terminal_id: Some(terminal_id.clone()),
        limit: 200,
        ..PaymentFilter::default()
    })
}

/// `GET /console/payments`.
pub(super) async fn search_payments(
    State(state): State<AppState>,
    signed_in: SignedInOperator,
    ConsoleQuery(query): ConsoleQuery<OperatorPaymentQuery>,
) -> Result<Html<String>, ConsoleError> {
    let filter = operator_filter(&query).map_err(ConsoleError::bad_request)?;
    let records = state.store.call(move |store| store.search_payments(&filter)).await?;
    let value = |field: &Option<String>| escape_html(field.as_deref().unwrap_or_default());
    let body = format!(
        "<form method=\"get\" action=\"/console/payments\" class=\"card\">\
         <label>{merchant_label} <input name=\"merchant_id\" value=\"{merchant}\"></label>\
         <label>{terminal_label} <input name=\"terminal_id\" value=\"{terminal}\"></label>\
         <label>{reference_label} <input name=\"reference_code\" value=\"{reference}\"></label>\
         <label>{payment_label} <input name=\"payment_id\" value=\"{payment}\"></label>\
         <button type=\"submit\">{search}</button></form>{table}",
        merchant_label = localized("Merchant", "商户"),
        terminal_label = localized("Terminal", "终端"),
        reference_label = localized("Reference", "参考号"),
        payment_label = localized("Payment ID", "支付 ID"),
        search = localized("Search", "查询"),
        merchant = value(&query.merchant_id),
        terminal = value(&query.terminal_id),
        reference = value(&query.reference_code),
        payment = value(&query.payment_id),
        table = payments_table(&records),
    );
    let frame = SignedIn { operator: &signed_in.operator, session: &signed_in.session };
    Ok(Html(page(localized("Payments", "支付"), Some(&frame), &body)))
}

fn refunds_table(refunds: &[Refund]) -> String {
    let rows: Vec<Vec<String>> = refunds
        .iter()
        .map(|refund| {
            vec![
                escape_html(refund.refund_id.as_str()),
                escape_html(&refund.currency.format(refund.amount)),
                state_label(&crate::store::enum_text(&refund.state)),
                escape_html(&refund.reason),
                format!("<code class=\"audit-actor\">{}</code>", escape_html(&refund.requested_by)),
                escape_html(&format_unix_time(refund.created_at_unix_seconds)),
            ]
        })
        .collect();
    let headers = localized(
        ["Refund", "Amount", "State", "Reason", "Requested by", "At"],
        ["退款", "金额", "状态", "原因", "申请人", "时间"],
    );
    table(&headers, &rows)
}

fn refund_form(signed_in: &SignedInOperator, record: &PaymentRecord) -> String {
    if !signed_in.is_admin() {
        return format!("<p class=\"hint\">{}</p>", localized("Only an admin may refund.", "只有管理员可以退款。"));
    }
    format!(
        "<form method=\"post\" action=\"/console/payments/{path}/refund\" class=\"card danger\">{csrf}\
         <label>{amount} <input name=\"amount\" id=\"refund-amount\"></label>\
         <label>{reason} <input name=\"reason\" id=\"refund-reason\" required maxlength=\"200\"></label>\
         <button type=\"submit\" id=\"refund\">{refund}</button></form>",
        amount =
            localized("Amount in minor units (empty: all that remains)", "金额（最小货币单位；留空则退还全部余额）"),
        reason = localized("Reason (required, audited)", "原因（必填，将记入审计）"),
        refund = localized("Refund", "退款"),
        path = encode_url_component(record.payment.payment_id.as_str()),
        csrf = csrf_field(&signed_in.session),
    )
}

/// `GET /console/payments/{payment_id}`.
pub(super) async fn show_payment(
    State(state): State<AppState>,
    signed_in: SignedInOperator,
    ConsolePath(payment_id): ConsolePath<String>,
) -> Result<Html<String>, ConsoleError> {
    let payment_id = PaymentId::parse(&payment_id).map_err(ConsoleError::bad_request)?;
    let loaded = state
        .store
        .call(move |store| {
            Ok(store.find_payment(&payment_id)?.map(|record| (store.refunds_of_payment(&payment_id), record)))
        })
        .await?;
    let (refunds, record) = loaded
        .ok_or_else(|| ConsoleError::NotFound(localized("no payment has this ID", "没有此 ID 的支付").to_owned()))?;
    let body = format!(
        "{summary}<h2>{refunds_label}</h2>{refunds}{form}",
        refunds_label = localized("Refunds", "退款"),
        summary = payments_table(std::slice::from_ref(&record)),
        refunds = refunds_table(&refunds?),
        form = refund_form(&signed_in, &record),
    );
    let frame = SignedIn { operator: &signed_in.operator, session: &signed_in.session };
    Ok(Html(page(localized("Payment", "支付"), Some(&frame), &body)))
}

#[derive(Debug, Deserialize)]
pub(super) struct RefundForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
}

/// `POST /console/payments/{payment_id}/refund` (admin).
pub(super) async fn refund_payment(
    State(state): State<AppState>,
    signed_in: SignedInOperator,
    ConsolePath(payment_id): ConsolePath<String>,
    ConsoleForm(form): ConsoleForm<RefundForm>,
) -> Result<Redirect, ConsoleError> {
    signed_in.check_csrf(&form.csrf_token)?;
    signed_in.require_admin()?;
    let payment_id = PaymentId::parse(&payment_id).map_err(ConsoleError::bad_request)?;
    let reason = parse_reason(&form.reason)?;
    let amount = match form.amount.trim() {
        "" => None,
        text => {
            Some(text.parse::<i64>().ok().and_then(|units| Amount::from_minor_units(units).ok()).ok_or_else(|| {
                ConsoleError::bad_request(localized(
                    "the amount is a whole number of minor units, at least 1",
                    "金额须为至少 1 的整数（最小货币单位）",
                ))
            })?)
        }
    };
    let new_refund = NewRefund {
        requested_by: format!("operator:{}", signed_in.operator.name),
        merchant_id: None,
        idempotency_key: None,
        body_hash: [0; 32],
        payment_id: payment_id.clone(),
        amount,
        reason,
        refund_id: new_refund_id(&state.random).map_err(|_| ConsoleError::from(StoreError::RandomSourceFailed))?,
    };
    let now = state.now();
    match state.store.call_write(move |store| store.create_refund(&new_refund, now)).await? {
        CreateRefundOutcome::Created(_) | CreateRefundOutcome::Repeated(_) => state.announce_billing(),
        CreateRefundOutcome::PaymentNotFound => {
            return Err(ConsoleError::NotFound(localized("no payment has this ID", "没有此 ID 的支付").to_owned()))
        }
        CreateRefundOutcome::NotRefundable | CreateRefundOutcome::KeyReused => {
            return Err(ConsoleError::bad_request(localized(
                "only a succeeded payment can be refunded",
                "只有成功的支付可以退款",
            )))
        }
        CreateRefundOutcome::ExceedsRemaining { remaining_minor_units } => {
            return Err(ConsoleError::bad_request(localized(
                format!("at most {remaining_minor_units} minor units remain refundable"),
                format!("最多还可退款 {remaining_minor_units}（最小货币单位）"),
            )))
        }
    }
    Ok(Redirect::to(&format!("/console/payments/{}", encode_url_component(payment_id.as_str()))))
}
