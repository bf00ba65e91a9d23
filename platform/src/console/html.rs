//! HTML building for the console: escaping of every interpolated value, the page frame, small table helpers.

use super::language::{language_switch, localized, Language};
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
/// `body_html` must already be escaped; `title` is escaped here. The header carries the language switch.
pub(crate) fn page(title: &str, signed_in: Option<&SignedIn<'_>>, body_html: &str) -> String {
    let navigation = match signed_in {
        Some(signed_in) => format!(
            "<nav><a href=\"/console\">{home}</a> <a href=\"/console/bindings\">{search}</a> \
             <a href=\"/console/disputes\">{disputes}</a> \
             <span class=\"who\">{name} ({role})</span>\
             <form method=\"post\" action=\"/console/sign-out\" class=\"inline\">{csrf}\
             <button type=\"submit\">{sign_out}</button></form></nav>",
            home = localized("Home", "首页"),
            search = localized("Search", "查询"),
            disputes = localized("Disputes", "争议"),
            sign_out = localized("Sign out", "退出"),
            name = escape_html(&signed_in.operator.name),
            role = role_label(signed_in.operator.role),
            csrf = csrf_field(signed_in.session),
        ),
        None => String::new(),
    };
    let console_name = localized("numbind console", "numbind 运营控制台");
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {console_name}</title>\
         <link rel=\"stylesheet\" href=\"/console/console.css\"></head>\
         <body><header><strong>{console_name}</strong>{navigation}{switch}</header>\
         <main><h1>{title}</h1>{body_html}</main></body></html>\n",
        lang = Language::current().html_lang(),
        title = escape_html(title),
        switch = language_switch(),
    )
}

/// Why a binding was revoked, as the console names the stored reason (the stored word when it has no name here).
pub(crate) fn revoked_reason_label(reason: Option<&str>) -> String {
    let named = match reason {
        None => return "–".to_owned(),
        Some("operator") => localized("unbound by an operator", "运营人员解绑"),
        Some("oss_unbind" | "unbound_by_sms") => localized("unbound by SMS", "用户短信解绑"),
        Some("factory_reset") => localized("factory reset", "恢复出厂设置"),
        Some("replaced") => localized("replaced by a new binding", "被新绑定取代"),
        Some(other) => return escape_html(other),
    };
    named.to_owned()
}

/// An operator's role as the console names it.
pub(crate) fn role_label(role: crate::domain::operator::OperatorRole) -> &'static str {
    use crate::domain::operator::OperatorRole;
    match role {
        OperatorRole::Auditor => localized("auditor", "审计员"),
        OperatorRole::Admin => localized("admin", "管理员"),
    }
}

/// A binding's or activation's state as the console names it (the stored word when it has no name here).
pub(crate) fn state_label(state: &str) -> String {
    let named = match state {
        "active" => localized("active", "有效"),
        "revoked" => localized("revoked", "已解绑"),
        "pending" => localized("pending", "等待短信"),
        "claimed" => localized("claimed", "已认领"),
        "bound" => localized("bound", "已绑定"),
        "denied" => localized("denied", "已拒绝"),
        "expired" => localized("expired", "已过期"),
        "cancelled" => localized("cancelled", "已取消"),
        "processing" => localized("processing", "处理中"),
        "pending_confirmation" => localized("pending confirmation", "等待确认"),
        "succeeded" => localized("succeeded", "成功"),
        other => return escape_html(other),
    };
    named.to_owned()
}

/// The hidden CSRF field every POST form of a signed-in page carries.
pub(crate) fn csrf_field(session: &ConsoleSession) -> String {
    format!("<input type=\"hidden\" name=\"csrf_token\" value=\"{}\">", escape_html(&session.csrf_token))
}

/// A table: escaped header names, rows of cells that are already HTML.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return format!("<p class=\"empty\">{}</p>", localized("Nothing to show.", "没有记录。"));
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
/// A binding's province at a hub (`BJ`), `–` without one.
pub(crate) fn province_cell(province: Option<numbind_routing::ProvinceCode>) -> String {
    province.map_or_else(|| "–".to_owned(), |province| province.as_str().to_owned())
}

/// The fingerprint of the routing table that chose a binding's province, `–` without one.
pub(crate) fn routing_version_cell(version: Option<&str>) -> String {
    optional_text(version)
}

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
