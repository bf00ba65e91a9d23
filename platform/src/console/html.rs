//! HTML building for the console: escaping of every interpolated value, the page frame, small table helpers.

use super::sessions::ConsoleSession;
use crate::domain::operator::Operator;
use numbind_process::clock::CivilDateTime;

/// Escapes text for an HTML element body or a double- or single-quoted attribute value.
pub(crate) fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + text.len() / 8);
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Percent-encodes text for one path segment or query value (unreserved characters kept).
pub(crate) fn encode_url_component(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Who is signed in, for the page header (and the CSRF token of the sign-out form).
pub(crate) struct SignedIn<'a> {
    pub operator: &'a Operator,
    pub session: &'a ConsoleSession,
}

/// A whole page: head with the console's own stylesheet, a header with navigation, then `body_html`.
///
/// `body_html` must already be escaped; `title` is escaped here.
pub(crate) fn page(title: &str, signed_in: Option<&SignedIn<'_>>, body_html: &str) -> String {
    let navigation = match signed_in {
        Some(signed_in) => format!(
            "<nav><a href=\"/console\">Home</a> <a href=\"/console/bindings\">Search</a> \
             <a href=\"/console/disputes\">Disputes</a> \
             <span class=\"who\">{name} ({role})</span>\
             <form method=\"post\" action=\"/console/sign-out\" class=\"inline\">{csrf}\
             <button type=\"submit\">Sign out</button></form></nav>",
            name = escape_html(&signed_in.operator.name),
            role = signed_in.operator.role.as_str(),
            csrf = csrf_field(signed_in.session),
        ),
        None => String::new(),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · numbind console</title>\
         <link rel=\"stylesheet\" href=\"/console/console.css\"></head>\
         <body><header><strong>numbind console</strong>{navigation}</header><main><h1>{title}</h1>{body_html}</main>\
         </body></html>\n",
        title = escape_html(title),
    )
}

/// The hidden CSRF field every POST form of a signed-in page carries.
pub(crate) fn csrf_field(session: &ConsoleSession) -> String {
    format!("<input type=\"hidden\" name=\"csrf_token\" value=\"{}\">", escape_html(&session.csrf_token))
}

/// A table: escaped header names, rows of cells that are already HTML.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return "<p class=\"empty\">Nothing to show.</p>".to_owned();
    }
    let mut html = String::from("<table><thead><tr>");
    for header in headers {
        html.push_str(&format!("<th>{}</th>", escape_html(header)));
    }
    html.push_str("</tr></thead><tbody>");
    for row in rows {
        html.push_str("<tr>");
        for cell in row {
            html.push_str(&format!("<td>{cell}</td>"));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

/// An optional value as escaped text, `–` when absent.
pub(crate) fn optional_text(value: Option<&str>) -> String {
    value.map_or_else(|| "–".to_owned(), escape_html)
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn format_unix_time(unix_seconds: i64) -> String {
    format!("{} UTC", CivilDateTime::at(unix_seconds, 0).date_time_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_markup_character_is_escaped() {
        assert_eq!(
            escape_html("<script>alert('x')</script> & \"quoted\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"
        );
        assert_eq!(escape_html("解绑 plain"), "解绑 plain");
    }

    #[test]
    fn url_components_keep_only_unreserved_characters() {
        assert_eq!(encode_url_component("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn unix_times_render_as_utc_dates() {
        assert_eq!(format_unix_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_unix_time(1_709_210_096), "2024-02-29 12:34:56 UTC");
    }

    #[test]
    fn a_page_escapes_its_title() {
        assert!(page("<b>", None, "").contains("<h1>&lt;b&gt;</h1>"));
    }
}
