//! The console's home page: the activity chart, search and export links; and the stylesheet.

use super::auth::{ConsoleQuery, SignedInOperator};
use super::chart::{activity_svg, count_activity, ChartPeriod};
use super::error::ConsoleError;
use super::html::{page, SignedIn};
use super::language::localized;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use serde::Deserialize;

const STYLESHEET: &str = include_str!("console.css");

/// `GET /console/console.css`.
pub(super) async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], STYLESHEET)
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct HomeQuery {
    period: Option<String>,
}

fn export_links() -> String {
    let exports = [
        ("bindings", localized("Bindings", "绑定")),
        ("audit-events", localized("Audit events", "审计事件")),
        ("payments", localized("Payments", "支付")),
        ("refunds", localized("Refunds", "退款")),
    ];
    let mut html = format!("<h2>{}</h2><ul class=\"exports\">", localized("Exports", "导出"));
    for (name, label) in exports {
        html.push_str(&format!(
            "<li><a href=\"/console/exports/{name}.csv\">{label} (CSV)</a></li>\
             <li><a href=\"/console/exports/{name}.jsonl\">{label} (JSON Lines)</a></li>"
        ));
    }
    html.push_str(&format!(
        "</ul><p class=\"hint\">{}</p>",
        localized("Numbers are masked in every export.", "所有导出中的号码均已打码。")
    ));
    html
}

/// `GET /console?period=hours|days`: the chart of activations and refusals, and the console's links.
pub(super) async fn home(
    State(state): State<AppState>,
    signed_in: SignedInOperator,
    ConsoleQuery(query): ConsoleQuery<HomeQuery>,
) -> Result<Html<String>, ConsoleError> {
    let period = ChartPeriod::parse(query.period.as_deref()).ok_or_else(|| {
        ConsoleError::bad_request(localized("period is hours or days", "period 只能是 hours 或 days"))
    })?;
    let now = state.now();
    let counts = state.store.call(move |store| count_activity(store, period, now)).await?;
    let (issued, refused) = counts
        .buckets
        .iter()
        .fold((0, 0), |(issued, refused), bucket| (issued + bucket.issued, refused + bucket.refused));
    let (title, other, other_label) = match period {
        ChartPeriod::Hours => (
            localized(
                "Activations and refusals, the last 24 hours, per hour (UTC)",
                "激活与拒绝：最近 24 小时，按小时（UTC）",
            ),
            "days",
            localized("Show the last 14 days", "显示最近 14 天"),
        ),
        ChartPeriod::Days => (
            localized(
                "Activations and refusals, the last 14 days, per day (UTC)",
                "激活与拒绝：最近 14 天，按天（UTC）",
            ),
            "hours",
            localized("Show the last 24 hours", "显示最近 24 小时"),
        ),
    };
    let truncated = if counts.truncated {
        format!(
            "<p class=\"hint\">{}</p>",
            localized("Too many events: the chart shows the first ones.", "事件太多：图表只显示最早的一部分。")
        )
    } else {
        String::new()
    };
    let count = localized(
        format!("{issued} activation(s) issued, {refused} refusal(s)."),
        format!("发出激活码 {issued} 个，拒绝 {refused} 次。"),
    );
    let body = format!(
        "<section class=\"card\"><h2>{title}</h2>\
         <p class=\"count\">{count} <a href=\"/console?period={other}\">{other_label}</a></p>{svg}{truncated}</section>\
         <p><a href=\"/console/bindings\" id=\"search-link\">{search_bindings}</a> · \
         <a href=\"/console/payments\" id=\"payments-link\">{search_payments}</a> · \
         <a href=\"/console/reconciliation\" id=\"reconciliation-link\">{reconciliation}</a></p>{exports}",
        svg = activity_svg(&counts),
        search_bindings = localized("Search bindings", "查询绑定"),
        search_payments = localized("Search payments", "查询支付"),
        reconciliation = localized("Payment reconciliation", "支付对账"),
        exports = export_links(),
    );
    let frame = SignedIn { operator: &signed_in.operator, session: &signed_in.session };
    Ok(Html(page(localized("Overview", "概览"), Some(&frame), &body)))
}
