//! The operator web console under `/console`: server-rendered pages (sign-in, overview chart, search, a terminal's
//! history, admin unbinding and number reveal, payments and refunds, disputes to resolve, payment reconciliation with
//! its repairs and money chart, exports) with cookie sessions and CSRF-checked forms.
//!
//! Everything is served by the platform itself: one stylesheet, inline SVG, no script, no external asset. Every
//! page is in Chinese or English, per operator (`language`).

use language::localized;

mod auth;
pub(crate) mod chart;
mod disputes;
mod error;
mod exports;
mod home;
pub(crate) mod html;
pub(crate) mod language;
mod money_chart;
mod payments;
mod reconciliation;
mod reconciliation_differences;
mod search;
pub(crate) mod sessions;
mod sign_in;
mod terminal;

pub(crate) use error::ConsoleError;

use crate::state::AppState;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use sessions::ConsoleSessions;

/// Longest stated reason, as in the operator API.
const MAX_REASON_CHARS: usize = 200;

/// A stated reason: 1 to 200 characters, no control characters.
fn parse_reason(reason: &str) -> Result<String, ConsoleError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
        return Err(ConsoleError::bad_request(localized(
            "a reason of 1 to 200 printable characters is required",
            "必须填写原因：1 到 200 个可打印字符",
        )));
    }
    Ok(reason.to_owned())
}

/// The console's routes, to nest at `/console`; each router holds its own in-memory sessions.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/console.css", get(home::stylesheet))
        .route("/language/{code}", get(language::switch_language))
        .route("/sign-in", get(sign_in::show_sign_in).post(sign_in::sign_in))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/bindings", get(search::search_bindings))
        .route("/bindings/reveal", post(search::reveal_numbers))
        .route("/terminals/{terminal_id}", get(terminal::show_terminal))
        .route("/terminals/{terminal_id}/unbind", post(terminal::unbind_terminal))
        .route("/exports/{name}", get(exports::download_export))
        .route("/payments", get(payments::search_payments))
        .route("/payments/{payment_id}", get(payments::show_payment))
        .route("/payments/{payment_id}/refund", post(payments::refund_payment))
        .route("/reconciliation", get(reconciliation::show_reconciliation))
        .route("/reconciliation/repair", post(reconciliation::repair))
        .route("/disputes", get(disputes::open_disputes))
        .route("/disputes/{dispute_id}/refund", post(disputes::refund_dispute))
        .route("/disputes/{dispute_id}/reject", post(disputes::reject_dispute))
        .fallback(|| async {
            ConsoleError::NotFound(localized("no such console page", "控制台没有这个页面").to_owned())
        })
        .layer(Extension(ConsoleSessions::default()))
        .layer(axum::middleware::map_response(with_security_headers))
        .layer(axum::middleware::from_fn(language::with_request_language))
}

/// Every console answer: no script, no framing, nothing loaded from elsewhere, pages not cached nor referred.
async fn with_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
             base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_required_and_bounded() {
        assert!(parse_reason("  ").is_err());
        assert!(parse_reason(&"x".repeat(201)).is_err());
        assert!(parse_reason("line\nbreak").is_err());
        assert_eq!(parse_reason(" customer moved ").unwrap(), "customer moved");
    }
}
