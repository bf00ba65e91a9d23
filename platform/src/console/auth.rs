//! Console extractors: the signed-in operator (session cookie), CSRF checks, and form, query and path parsing
//! whose rejections render as console pages.

use super::error::ConsoleError;
use super::language::localized;
use super::sessions::{secrets_match, ConsoleSession, ConsoleSessions};
use crate::domain::operator::{Operator, OperatorRole};
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;

/// Name of the session cookie.
pub(super) const SESSION_COOKIE: &str = "numbind_console";
/// Largest form body read.
pub(super) const MAX_FORM_BYTES: usize = 16 * 1024;

/// The `Set-Cookie` value that opens a session.
pub(super) fn session_cookie(session: &ConsoleSession, max_age_seconds: i64) -> String {
    format!(
        "{SESSION_COOKIE}={}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}",
        session.session_id
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub(super) fn cleared_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The session ID in the request's cookies, if any.
pub(super) fn session_id_from_cookies(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty() && value.len() <= 64)
}

/// The sessions registry the console router carries as an extension.
pub(super) fn sessions_of(parts: &Parts) -> Result<ConsoleSessions, ConsoleError> {
    parts.extensions.get::<ConsoleSessions>().cloned().ok_or(ConsoleError::SessionUnavailable)
}

/// An operator signed in to the console through a live session whose token is still live.
pub(super) struct SignedInOperator {
    pub(super) operator: Operator,
    pub(super) session: ConsoleSession,
}

impl SignedInOperator {
    /// Refuses a form whose CSRF token is not this session's.
    pub(super) fn check_csrf(&self, presented: &str) -> Result<(), ConsoleError> {
        if secrets_match(&self.session.csrf_token, presented) {
            Ok(())
        } else {
            tracing::warn!(operator = %self.operator.name, "console form with a wrong csrf token refused");
            Err(ConsoleError::CsrfRejected)
        }
    }

    /// Refuses with a 403 page unless the operator is an admin.
    pub(super) fn require_admin(&self) -> Result<(), ConsoleError> {
        if self.operator.role == OperatorRole::Admin {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden)
        }
    }

    pub(super) fn is_admin(&self) -> bool {
        self.operator.role == OperatorRole::Admin
    }
}

impl FromRequestParts<AppState> for SignedInOperator {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let sessions = sessions_of(parts)?;
        let session_id = session_id_from_cookies(&parts.headers).ok_or(ConsoleError::NotSignedIn)?;
        let session = sessions.find(&session_id, state.now()).ok_or(ConsoleError::NotSignedIn)?;
        let token_hash = session.token_hash;
        let operator = state.store.call(move |store| store.operator_by_token_hash(&token_hash)).await?;
        let Some(operator) = operator else {
            sessions.close(&session_id);
            return Err(ConsoleError::NotSignedIn);
        };
        tracing::info!(operator = %operator.name, role = operator.role.as_str(), "console request");
        Ok(SignedInOperator { operator, session })
    }
}

/// An `application/x-www-form-urlencoded` body parsed as `T`.
pub(super) struct ConsoleForm<T>(pub(super) T);

impl<T, S> FromRequest<S> for ConsoleForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ConsoleError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let body = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES).await.map_err(|_| {
            ConsoleError::bad_request(localized("the form is too large or was cut short", "表单过大或不完整"))
        })?;
        let form = serde_urlencoded::from_bytes(&body).map_err(|error| {
            ConsoleError::bad_request(localized(format!("malformed form: {error}"), format!("表单格式错误：{error}")))
        })?;
        Ok(ConsoleForm(form))
    }
}

/// A query string parsed as `T`.
pub(super) struct ConsoleQuery<T>(pub(super) T);

impl<T, S> FromRequestParts<S> for ConsoleQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await.map_err(|error| {
            let detail = error.body_text();
            ConsoleError::bad_request(localized(detail.clone(), format!("查询参数有误：{detail}")))
        })?;
        Ok(ConsoleQuery(value))
    }
}

/// Path segments parsed as `T`.
pub(super) struct ConsolePath<T>(pub(super) T);

impl<T, S> FromRequestParts<S> for ConsolePath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(value) = Path::<T>::from_request_parts(parts, state).await.map_err(|error| {
            let detail = error.body_text();
            ConsoleError::bad_request(localized(detail.clone(), format!("路径有误：{detail}")))
        })?;
        Ok(ConsolePath(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_session_id_is_found_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("theme=dark; numbind_console=abc123 ; other=1"));
        assert_eq!(session_id_from_cookies(&headers).as_deref(), Some("abc123"));
        let mut empty = HeaderMap::new();
        empty.append(COOKIE, HeaderValue::from_static("numbind_console="));
        assert_eq!(session_id_from_cookies(&empty), None);
    }
}
