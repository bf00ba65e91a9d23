//! The console's two languages, 中文 and English: which one a request is answered in (the operator's choice, kept
//! in a cookie of their browser; else the browser's `Accept-Language`; else English), the switch every page
//! shows, and [`localized`], which every piece of console text goes through.
//!
//! The language is fixed once per request by [`with_request_language`] and read with [`Language::current`] by
//! whatever renders, error pages included: a page builder needs no extra parameter to speak the operator's
//! language, and a refusal rendered from an extractor's rejection speaks it too.

use super::html::{encode_url_component, escape_html};
use axum::extract::{OriginalUri, Path, Query, Request};
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The cookie that keeps an operator's choice of language (a year; not a secret, not tied to a session).
pub(super) const LANGUAGE_COOKIE: &str = "numbind_console_language";
const LANGUAGE_COOKIE_MAX_AGE_SECONDS: u32 = 365 * 24 * 3600;

/// A language the console is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    English,
    Chinese,
}

/// What the request being answered is rendered with: its language, and the page to come back to after a switch.
#[derive(Debug, Clone)]
struct RequestLanguage {
    language: Language,
    /// The path of a `GET` page (its query left out); `/console` for a form's answer.
    page: String,
}

tokio::task_local! {
    static REQUEST_LANGUAGE: RequestLanguage;
}

impl Language {
    /// `en` or `zh`: the cookie's value and the switch's path segment.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Chinese => "zh",
        }
    }

    /// The `lang` attribute of a page.
    pub(crate) fn html_lang(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Chinese => "zh-CN",
        }
    }

    fn parse_code(code: &str) -> Option<Language> {
        match code.trim() {
            "en" => Some(Language::English),
            "zh" => Some(Language::Chinese),
            _ => None,
        }
    }

    /// The language the browser prefers among the two, by `Accept-Language` weights (`zh-CN,zh;q=0.9,en;q=0.8`).
    pub(crate) fn from_accept_language(header: &str) -> Option<Language> {
        let mut best: Option<(Language, f32)> = None;
        for range in header.split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let weight = parts
                .filter_map(|parameter| parameter.trim().strip_prefix("q="))
                .find_map(|weight| weight.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or_default();
            let language = match primary {
                "zh" => Language::Chinese,
                "en" => Language::English,
                _ => continue,
            };
            if weight > 0.0 && best.is_none_or(|(_, best_weight)| weight > best_weight) {
                best = Some((language, weight));
            }
        }
        best.map(|(language, _)| language)
    }

    /// The request's language: the cookie's choice, else `Accept-Language`, else English.
    pub(crate) fn of_request(headers: &HeaderMap) -> Language {
        let chosen = headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|line| line.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == LANGUAGE_COOKIE)
            .and_then(|(_, value)| Language::parse_code(value));
        let preferred = || {
            headers.get(ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok()).and_then(Language::from_accept_language)
        };
        chosen.or_else(preferred).unwrap_or(Language::English)
    }

    /// The language of the request being answered (English outside one, as in unit tests).
    pub(crate) fn current() -> Language {
        REQUEST_LANGUAGE.try_with(|request| request.language).unwrap_or(Language::English)
    }
}

/// `english` or `chinese`, whichever the request being answered is in.
pub(crate) fn localized<T>(english: T, chinese: T) -> T {
    match Language::current() {
        Language::English => english,
        Language::Chinese => chinese,
    }
}

/// The switch every page shows: a link to the other language that comes back to the same page.
pub(crate) fn language_switch() -> String {
    let page = REQUEST_LANGUAGE.try_with(|request| request.page.clone()).unwrap_or_else(|_| "/console".to_owned());
    let (other, label) = match Language::current() {
        Language::English => (Language::Chinese, "中文"),
        Language::Chinese => (Language::English, "English"),
    };
    format!(
        "<a class=\"language\" id=\"language-switch\" lang=\"{lang}\" href=\"/console/language/{code}?back={back}\">{label}</a>",
        lang = other.html_lang(),
        code = other.code(),
        back = escape_html(&encode_url_component(&page)),
    )
}

/// Middleware: fixes the request's language for everything that renders while it is answered.
pub(super) async fn with_request_language(request: Request, next: Next) -> Response {
    let language = Language::of_request(request.headers());
    // The path only: a query may hold a searched number, which must not travel on in a link.
    let path = request.extensions().get::<OriginalUri>().map_or_else(|| request.uri().path(), |uri| uri.path());
    let page = if request.method() == Method::GET { path.to_owned() } else { "/console".to_owned() };
    REQUEST_LANGUAGE.scope(RequestLanguage { language, page }, next.run(request)).await
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct SwitchQuery {
    #[serde(default)]
    back: String,
}

/// A page of this console to come back to: a local `/console` path, never another site.
fn safe_back(back: &str) -> &str {
    let local = back == "/console" || back.starts_with("/console/") || back.starts_with("/console?");
    if local && !back.contains("//") && !back.contains('\\') && !back.chars().any(char::is_control) {
        back
    } else {
        "/console"
    }
}

/// `GET /console/language/{en|zh}?back=PAGE`: keeps the choice in a cookie and goes back to the page.
pub(super) async fn switch_language(Path(code): Path<String>, Query(query): Query<SwitchQuery>) -> Response {
    let Some(language) = Language::parse_code(&code) else {
        return super::ConsoleError::NotFound(localized("no such language", "没有这种语言").to_owned()).into_response();
    };
    let cookie = format!(
        "{LANGUAGE_COOKIE}={}; Path=/console; SameSite=Lax; Max-Age={LANGUAGE_COOKIE_MAX_AGE_SECONDS}",
        language.code()
    );
    ([(SET_COOKIE, cookie)], Redirect::to(safe_back(&query.back))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn accept_language_picks_the_heavier_of_the_two() {
        assert_eq!(Language::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"), Some(Language::Chinese));
        assert_eq!(Language::from_accept_language("en-US,en;q=0.9,zh-CN;q=0.5"), Some(Language::English));
        assert_eq!(Language::from_accept_language("fr-FR, de;q=0.5, zh-TW;q=0.3"), Some(Language::Chinese));
        assert_eq!(Language::from_accept_language("fr, de"), None);
        assert_eq!(Language::from_accept_language("zh;q=0, en;q=0.1"), Some(Language::English));
    }

    #[test]
    fn the_cookie_wins_over_the_browser() {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("zh-CN"));
        assert_eq!(Language::of_request(&headers), Language::Chinese);
        headers.insert(COOKIE, HeaderValue::from_static("numbind_console=x; numbind_console_language=en"));
        assert_eq!(Language::of_request(&headers), Language::English);
        assert_eq!(Language::of_request(&HeaderMap::new()), Language::English);
    }

    #[test]
    fn a_switch_only_comes_back_to_this_console() {
        assert_eq!(safe_back("/console/bindings?state=active"), "/console/bindings?state=active");
        assert_eq!(safe_back("//evil.example/console"), "/console");
        assert_eq!(safe_back("https://evil.example"), "/console");
        assert_eq!(safe_back("/console//evil.example"), "/console");
        assert_eq!(safe_back("/consoleevil"), "/console");
    }
}
