//! Disputes in the console: the open ones, each with the admin's "refund" and "reject with a reason" forms
//! (resolved as over the API, `operator_views::disputes::resolve_dispute`; the user is told by SMS). Numbers masked.

use super::auth::{ConsoleForm, ConsolePath, SignedInOperator};
use super::error::ConsoleError;
use super::html::{csrf_field, encode_url_component, escape_html, format_unix_time, page, table, SignedIn};
use super::language::localized;
use super::parse_reason;
use crate::operator_views::disputes::{resolve_dispute, ResolveError};
use crate::state::AppState;
use axum::extract::State;
use axum::response::{Html, Redirect};
use numbind_wire::api::{Dispute, DisputeState, ResolveDisputeRequest};
use serde::Deserialize;

/// The most open disputes one page shows.
const PAGE_ROWS: usize = 200;

fn actions(signed_in: &SignedInOperator, dispute: &Dispute) -> String {
    if !signed_in.is_admin() {
        return format!("<span class=\"hint\">{}</span>", localized("admin only", "仅限管理员"));
    }
    let path = encode_url_component(&dispute.dispute_id);
    let csrf = csrf_field(&signed_in.session);
    format!(
        "<form method=\"post\" action=\"/console/disputes/{path}/refund\" class=\"inline\">{csrf}\
         <button type=\"submit\">{refund}</button></form>\
         <form method=\"post\" action=\"/console/disputes/{path}/reject\" class=\"inline\">{csrf}\
         <input name=\"reason\" required maxlength=\"200\" placeholder=\"{placeholder}\">\
         <button type=\"submit\">{reject}</button></form>",
        refund = localized("Refund", "退款"),
        placeholder = localized("reason (sent to the user)", "原因（将发送给用户）"),
        reject = localized("Reject", "驳回"),
    )
}

/// `GET /console/disputes`: the open disputes, oldest first.
pub(super) async fn open_disputes(
    State(state): State<AppState>,
    signed_in: SignedInOperator,
) -> Result<Html<String>, ConsoleError> {
    let disputes = state.store.call(|store| store.disputes(Some(DisputeState::Open), None, PAGE_ROWS)).await?;
    let rows: Vec<Vec<String>> = disputes
        .iter()
        .map(|dispute| {
            vec![
                escape_html(&dispute.dispute_id),
                format!(
                    "<a href=\"/console/payments/{0}\">{1}</a>",
                    encode_url_component(dispute.payment_id.as_str()),
                    escape_html(dispute.payment_id.as_str())
                ),
                escape_html(&dispute.msisdn_masked),
                escape_html(&format_unix_time(dispute.opened_at_unix_seconds)),
                actions(&signed_in, dispute),
            ]
        })
        .collect();
    let headers = localized(
        ["Dispute", "Receipt (payment)", "Number", "Opened at", "Resolve"],
        ["争议", "收据（支付）", "号码", "提出时间", "处理"],
    );
    let body = format!(
        "<p><a href=\"/console/exports/disputes.csv\"><code>disputes.csv</code></a></p>{}",
        table(&headers, &rows)
    );
    let frame = SignedIn { operator: &signed_in.operator, session: &signed_in.session };
    Ok(Html(page(localized("Open disputes", "未处理的争议"), Some(&frame), &body)))
}

#[derive(Debug, Deserialize)]
pub(super) struct ResolveForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    reason: String,
}

/// `POST /console/disputes/{dispute_id}/refund` (admin).
pub(super) async fn refund_dispute(
    State(state): State<AppState>,
    signed_in: SignedInOperator,
    ConsolePath(dispute_id): ConsolePath<String>,
    ConsoleForm(form): ConsoleForm<ResolveForm>,
) -> Result<Redirect, ConsoleError> {
    signed_in.check_csrf(&form.csrf_token)?;
    signed_in.require_admin()?;
    resolve(&state, &signed_in, dispute_id, ResolveDisputeRequest::Refund).await
}

/// `POST /console/disputes/{dispute_id}/reject` (admin), with the reason the user is sent.
pub(super) async fn reject_dispute(
    State(state): State<AppState>,
    signed_in: SignedInOperator,
    ConsolePath(dispute_id): ConsolePath<String>,
    ConsoleForm(form): ConsoleForm<ResolveForm>,
) -> Result<Redirect, ConsoleError> {
    signed_in.check_csrf(&form.csrf_token)?;
    signed_in.require_admin()?;
    let reason = parse_reason(&form.reason)?;
    resolve(&state, &signed_in, dispute_id, ResolveDisputeRequest::Reject { reason }).await
}

async fn resolve(
    state: &AppState,
    signed_in: &SignedInOperator,
    dispute_id: String,
    request: ResolveDisputeRequest,
) -> Result<Redirect, ConsoleError> {
    match resolve_dispute(state, dispute_id, signed_in.operator.name.clone(), request).await {
        Ok(_) => Ok(Redirect::to("/console/disputes")),
        Err(ResolveError::NotFound) => {
            Err(ConsoleError::NotFound(localized("no dispute has this ID", "没有此 ID 的争议").to_owned()))
        }
        Err(ResolveError::Store(error)) => Err(ConsoleError::from(error)),
        Err(ResolveError::AlreadyResolved) => {
            Err(ConsoleError::bad_request(localized("the dispute was resolved before", "此争议已经处理过")))
        }
        Err(ResolveError::NothingToRefund) => {
            Err(ConsoleError::bad_request(localized("nothing remains to refund", "已无可退金额")))
        }
        Err(ResolveError::InvalidReason(detail)) => Err(ConsoleError::bad_request(localized(
            format!("the reason is not valid: {detail}"),
            "原因不合格式：须为可打印字符，且能放进一条短信".to_owned(),
        ))),
    }
}
