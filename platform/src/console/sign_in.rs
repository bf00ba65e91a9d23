//! Signing in with an operator token (which opens a cookie session) and signing out.

use super::auth::{cleared_session_cookie, session_cookie, ConsoleForm, SignedInOperator};
use super::error::ConsoleError;
use super::html::{escape_html, page};
use super::language::localized;
use super::sessions::{ConsoleSessions, SessionError, SESSION_LIFETIME_SECONDS};
use crate::domain::operator::{hash_operator_token, looks_like_operator_token};
use crate::state::AppState;
use crate::store::AuditEvent;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Extension;
use serde::Deserialize;

fn sign_in_page(problem: Option<&str>) -> String {
    let problem = problem.map(|text| format!("<p class=\"error\">{}</p>", escape_html(text))).unwrap_or_default();
    let body = format!(
        "{problem}<form method=\"post\" action=\"/console/sign-in\" class=\"card\">\
         <label for=\"token\">{token_label}</label>\
         <input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\" required>\
         <button type=\"submit\" id=\"sign-in\">{sign_in}</button></form>\
         <p class=\"hint\">{made_with} <code>numbind operator token create</code></p>",
        token_label = localized("Operator token", "运营令牌"),
        sign_in = localized("Sign in", "登录"),
        made_with = localized("Tokens are made with", "令牌由以下命令生成："),
    );
    page(localized("Sign in", "登录"), None, &body)
}

/// `GET /console/sign-in`.
pub(super) async fn show_sign_in() -> Html<String> {
    Html(sign_in_page(None))
}

#[derive(Debug, Deserialize)]
pub(super) struct SignInForm {
    #[serde(default)]
    token: String,
}

/// `POST /console/sign-in`: a live token opens a session (cookie = random session ID, never the token).
pub(super) async fn sign_in(
    State(state): State<AppState>,
    Extension(sessions): Extension<ConsoleSessions>,
    ConsoleForm(form): ConsoleForm<SignInForm>,
) -> Result<Response, ConsoleError> {
    let token = form.token.trim();
    let refused = || {
        (
            StatusCode::UNAUTHORIZED,
            Html(sign_in_page(Some(localized("This token is not recognised.", "无法识别此令牌。")))),
        )
            .into_response()
    };
    if !looks_like_operator_token(token) {
        return Ok(refused());
    }
    let token_hash = hash_operator_token(token);
    let operator = state.store.call(move |store| store.operator_by_token_hash(&token_hash)).await?;
    let Some(operator) = operator else { return Ok(refused()) };
    let now = state.now();
    let session = sessions.open(&state.random, token_hash, now).map_err(|error| match error {
        SessionError::RandomFailed | SessionError::TooManySessions => ConsoleError::SessionUnavailable,
    })?;
    let actor = format!("operator:{}", operator.name);
    state.store.call(move |store| store.append_audit_event(now, &AuditEvent::new(&actor, "console_signed_in"))).await?;
    tracing::info!(operator = %operator.name, role = operator.role.as_str(), "operator signed in to the console");
    let cookie = session_cookie(&session, SESSION_LIFETIME_SECONDS);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/console")).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct CsrfOnlyForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /console/sign-out`: ends the session.
pub(super) async fn sign_out(
    Extension(sessions): Extension<ConsoleSessions>,
    signed_in: SignedInOperator,
    ConsoleForm(form): ConsoleForm<CsrfOnlyForm>,
) -> Result<Response, ConsoleError> {
    signed_in.check_csrf(&form.csrf_token)?;
    sessions.close(&signed_in.session.session_id);
    tracing::info!(operator = %signed_in.operator.name, "operator signed out of the console");
    Ok(([(header::SET_COOKIE, cleared_session_cookie())], Redirect::to("/console/sign-in")).into_response())
}
