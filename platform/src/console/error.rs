//! `ConsoleError`: every refusal of the console, rendered as an HTML page (or a redirect to sign-in) in this one place.

use super::html::{escape_html, page};
use crate::store::StoreError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

/// What the console shows instead of the page asked for.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ConsoleError {
    #[error("sign in first")]
    NotSignedIn,
    #[error("{0}")]
    BadRequest(String),
    #[error("this form has expired or did not come from this console; reload the page and try again")]
    CsrfRejected,
    #[error("your role may not do this")]
    Forbidden,
    #[error("{0}")]
    NotFound(String),
    #[error("the console cannot open a session now")]
    SessionUnavailable,
    #[error("internal error")]
    Internal(#[from] StoreError),
}

impl ConsoleError {
    pub(crate) fn bad_request(reason: impl std::fmt::Display) -> Self {
        ConsoleError::BadRequest(reason.to_string())
    }

    fn status(&self) -> StatusCode {
        match self {
            ConsoleError::NotSignedIn => StatusCode::SEE_OTHER,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::CsrfRejected | ConsoleError::Forbidden => StatusCode::FORBIDDEN,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::SessionUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ConsoleError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ConsoleError::NotSignedIn => "Sign in",
            ConsoleError::BadRequest(_) => "Bad request",
            ConsoleError::CsrfRejected | ConsoleError::Forbidden => "Forbidden",
            ConsoleError::NotFound(_) => "Not found",
            ConsoleError::SessionUnavailable => "Unavailable",
            ConsoleError::Internal(_) => "Internal error",
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        if let ConsoleError::NotSignedIn = self {
            return Redirect::to("/console/sign-in").into_response();
        }
        if let ConsoleError::Internal(error) = &self {
            tracing::error!(error = %error, "console request failed");
        }
        let body = format!(
            "<p class=\"error\">{}</p><p><a href=\"/console\">Back to the console</a></p>",
            escape_html(&self.to_string())
        );
        let html = page(self.title(), None, &body);
        (self.status(), [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_render_as_pages_and_sign_in_as_a_redirect() {
        let forbidden = ConsoleError::Forbidden.into_response();
        assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
        assert_eq!(forbidden.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let redirect = ConsoleError::NotSignedIn.into_response();
        assert_eq!(redirect.status(), StatusCode::SEE_OTHER);
        assert_eq!(redirect.headers()[header::LOCATION], "/console/sign-in");
        let hostile = ConsoleError::bad_request("<script>").into_response();
        assert_eq!(hostile.status(), StatusCode::BAD_REQUEST);
    }
}
