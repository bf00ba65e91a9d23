//! `ConsoleError`: every refusal of the console, rendered as an HTML page (or a redirect to sign-in) in this one place.

use super::html::{escape_html, page};
use super::language::localized;
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
            ConsoleError::NotSignedIn => localized("Sign in", "登录"),
            ConsoleError::BadRequest(_) => localized("Bad request", "请求有误"),
            ConsoleError::CsrfRejected | ConsoleError::Forbidden => localized("Forbidden", "不允许"),
            ConsoleError::NotFound(_) => localized("Not found", "未找到"),
            ConsoleError::SessionUnavailable => localized("Unavailable", "暂不可用"),
            ConsoleError::Internal(_) => localized("Internal error", "内部错误"),
        }
    }

    /// What the page says: the variant's own words in the request's language; a `BadRequest` or `NotFound`
    /// carries words already chosen in that language where it was made.
    fn message(&self) -> String {
        match self {
            ConsoleError::CsrfRejected => localized(
                "this form has expired or did not come from this console; reload the page and try again",
                "此表单已过期或并非来自本控制台；请刷新页面后重试",
            )
            .to_owned(),
            ConsoleError::Forbidden => localized("your role may not do this", "你的角色无权执行此操作").to_owned(),
            ConsoleError::SessionUnavailable => {
                localized("the console cannot open a session now", "控制台现在无法建立会话").to_owned()
            }
            ConsoleError::Internal(_) => localized("internal error", "内部错误").to_owned(),
            ConsoleError::NotSignedIn | ConsoleError::BadRequest(_) | ConsoleError::NotFound(_) => self.to_string(),
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        if let ConsoleError::NotSignedIn = self {
            return Redirect::to("/console/sign-in").into_response();
        }
        if let ConsoleError::Internal(error) = &self {
            tracing::error!(error = %numbind_process::error_chain(error), "console request failed");
        }
        let body = format!(
            "<p class=\"error\">{}</p><p><a href=\"/console\">{}</a></p>",
            escape_html(&self.message()),
            localized("Back to the console", "返回控制台"),
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
