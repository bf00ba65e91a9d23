//! The console's home page: the activity chart, search and export links; and the stylesheet.

use super::auth::{ConsoleQuery, SignedInOperator};
use super::chart::{activity_svg, count_activity, ChartPeriod};
use super::error::ConsoleError;
use super::html::{page, SignedIn};
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

fn export_links() -> &'static str {
    "<h2>Exports</h2><ul class=\"exports\">\
     <li><a href=\"/console/exports/bindings.csv\">Bindings (CSV)</a></li>\
     <li><a href=\"/console/exports/bindings.jsonl\">Bindings (JSON Lines)</a></li>\
     <li><a href=\"/console/exports/audit-events.csv\">Audit events (CSV)</a></li>\
     <li><a href=\"/console/exports/audit-events.jsonl\">Audit events (JSON Lines)</a></li>\
     <li><a href=\"/console/exports/payments.csv\">Payments (CSV)</a></li>\
     <li><a href=\"/console/exports/payments.jsonl\">Payments (JSON Lines)</a></li>\
     <li><a href=\"/console/exports/refunds.csv\">Refunds (CSV)</a></li>\
     <li><a href=\"/console/exports/refunds.jsonl\">Refunds (JSON Lines)</a></li></ul>\
     <p class=\"hint\">Numbers are masked in every export.</p>"
}

/// `GET /console?period=hours|days`: the chart of activations and refusals, and the console's links.
pub(super) async fn home(
    State(state): State<AppState>,
    signed_in: SignedInOperator,
    ConsoleQuery(query): ConsoleQuery<HomeQuery>,
) -> Result<Html<String>, ConsoleError> {
    let period = ChartPeriod::parse(query.period.as_deref())
        .ok_or_else(|| ConsoleError::bad_request("period is hours or days"))?;
    let now = state.now();
    let counts = state.store.call(move |store| count_activity(store, period, now)).await?;
    let (issued, refused) = counts
        .buckets
        .iter()
        .fold((0, 0), |(issued, refused), bucket| (issued + bucket.issued, refused + bucket.refused));
    let (title, other, other_label) = match period {
        ChartPeriod::Hours => ("the last 24 hours, per hour (UTC)", "days", "last 14 days"),
        ChartPeriod::Days => ("the last 14 days, per day (UTC)", "hours", "last 24 hours"),
    };
    let truncated =
        if counts.truncated { "<p class=\"hint\">Too many events: the chart shows the first ones.</p>" } else { "" };
    let body = format!(
        "<section class=\"card\"><h2>Activations and refusals, {title}</h2>\
         <p class=\"count\">{issued} activation(s) issued, {refused} refusal(s). \
         <a href=\"/console?period={other}\">Show the {other_label}</a></p>{svg}{truncated}</section>\
         <p><a href=\"/console/bindings\" id=\"search-link\">Search bindings</a> · \
         <a href=\"/console/payments\" id=\"payments-link\">Search payments</a> · \
         <a href=\"/console/reconciliation\" id=\"reconciliation-link\">Payment reconciliation</a></p>{exports}",
        svg = activity_svg(&counts),
        exports = export_links(),
    );
    let frame = SignedIn { operator: &signed_in.operator, session: &signed_in.session };
    Ok(Html(page("Overview", Some(&frame), &body)))
}
