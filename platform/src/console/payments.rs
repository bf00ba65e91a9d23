//! Payments in the console: search (merchant, terminal, state, reference, payment ID), a payment's page with its
//! refunds, and the admin's refund form with a reason (`requested_by` = `operator:<name>`). Numbers masked.

use super::auth::{ConsoleForm, ConsolePath, ConsoleQuery, SignedInOperator};
use super::error::ConsoleError;
use super::html::{
    csrf_field, encode_url_component, escape_html, format_unix_time, optional_text, page, table, SignedIn,
};
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
                format!("<span class=\"state-{0}\">{0}</span>", payment.state.as_str()),
                escape_html(&format_unix_time(payment.created_at_unix_seconds)),
            ]
        })
        .collect();
    table(&["Payment", "Merchant", "Reference", "Terminal", "Number", "Amount", "State", "Created at"], &rows)
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
         <label>Merchant <input name=\"merchant_id\" value=\"{merchant}\"></label>\
         <label>Terminal <input name=\"terminal_id\" value=\"{terminal}\"></label>\
         <label>Reference <input name=\"reference_code\" value=\"{reference}\"></label>\
         <label>Payment ID <input name=\"payment_id\" value=\"{payment}\"></label>\
         <button type=\"submit\">Search</button></form>{table}",
        merchant = value(&query.merchant_id),
        terminal = value(&query.terminal_id),
        reference = value(&query.reference_code),
        payment = value(&query.payment_id),
        table = payments_table(&records),
    );
    let frame = SignedIn { operator: &signed_in.operator, session: &signed_in.session };
    Ok(Html(page("Payments", Some(&frame), &body)))
}

fn refunds_table(refunds: &[Refund]) -> String {
    let rows: Vec<Vec<String>> = refunds
        .iter()
        .map(|refund| {
            vec![
                escape_html(refund.refund_id.as_str()),
                escape_html(&refund.currency.format(refund.amount)),
                escape_html(&crate::store::enum_text(&refund.state)),
                escape_html(&refund.reason),
                escape_html(&refund.requested_by),
                escape_html(&format_unix_time(refund.created_at_unix_seconds)),
            ]
        })
        .collect();
    table(&["Refund", "Amount", "State", "Reason", "Requested by", "At"], &rows)
}

fn refund_form(signed_in: &SignedInOperator, record: &PaymentRecord) -> String {
    if !signed_in.is_admin() {
        return "<p class=\"hint\">Only an admin may refund.</p>".to_owned();
    }
    format!(
        "<form method=\"post\" action=\"/console/payments/{path}/refund\" class=\"card danger\">{csrf}\
         <label>Amount in minor units (empty: all that remains) <input name=\"amount\" id=\"refund-amount\"></label>\
         <label>Reason (required, audited) <input name=\"reason\" id=\"refund-reason\" required maxlength=\"200\"></label>\
         <button type=\"submit\" id=\"refund\">Refund</button></form>",
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
    let (refunds, record) = loaded.ok_or_else(|| ConsoleError::NotFound("no payment has this ID".to_owned()))?;
    let body = format!(
        "{summary}<h2>Refunds</h2>{refunds}{form}",
        summary = payments_table(std::slice::from_ref(&record)),
        refunds = refunds_table(&refunds?),
        form = refund_form(&signed_in, &record),
    );
    let frame = SignedIn { operator: &signed_in.operator, session: &signed_in.session };
    Ok(Html(page("Payment", Some(&frame), &body)))
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
        text => Some(
            text.parse::<i64>()
                .ok()
                .and_then(|units| Amount::from_minor_units(units).ok())
                .ok_or_else(|| ConsoleError::bad_request("the amount is a whole number of minor units, at least 1"))?,
        ),
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
        CreateRefundOutcome::Created(_) | CreateRefundOutcome::Repeated(_) => state.billing_outbox_changed.notify_one(),
        CreateRefundOutcome::PaymentNotFound => {
            return Err(ConsoleError::NotFound("no payment has this ID".to_owned()))
        }
        CreateRefundOutcome::NotRefundable | CreateRefundOutcome::KeyReused => {
            return Err(ConsoleError::bad_request("only a succeeded payment can be refunded"))
        }
        CreateRefundOutcome::ExceedsRemaining { remaining_minor_units } => {
            return Err(ConsoleError::bad_request(format!(
                "at most {remaining_minor_units} minor units remain refundable"
            )))
        }
    }
    Ok(Redirect::to(&format!("/console/payments/{}", encode_url_component(payment_id.as_str()))))
}
