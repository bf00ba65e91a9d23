//! The search page: bindings by number, terminal ID and state, numbers masked unless an admin reveals them with a
//! reason (audited like the API's reveal).

use super::auth::{ConsoleForm, ConsoleQuery, SignedInOperator};
use super::error::ConsoleError;
use super::html::{
    csrf_field, encode_url_component, escape_html, format_unix_time, page, province_cell, revoked_reason_label,
    routing_version_cell, state_label, table, SignedIn,
};
use super::language::localized;
use super::parse_reason;
use crate::state::AppState;
use crate::store::{BindingFilter, BindingRecord};
use axum::extract::State;
use axum::response::Html;
use numbind_routing::ProvinceCode;
use numbind_wire::{Msisdn, TerminalId};
use serde::Deserialize;

/// Rows per result page.
pub(super) const SEARCH_PAGE_ROWS: i64 = 100;

/// The search fields, as typed (empty fields match everything).
#[derive(Debug, Default, Clone, Deserialize)]
pub(super) struct SearchFields {
    #[serde(default)]
    msisdn: String,
    #[serde(default)]
    terminal_id: String,
    #[serde(default)]
    state: String,
    /// At a hub, the province code (`BJ`) whose OSS holds the bindings.
    #[serde(default)]
    province: String,
    /// Keyset position of the page (text: form fields nested with `flatten` arrive as strings).
    #[serde(default)]
    cursor: String,
}

fn non_empty(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|text| !text.is_empty())
}

fn parse_cursor(fields: &SearchFields) -> Result<i64, ConsoleError> {
    match non_empty(&fields.cursor) {
        None => Ok(0),
        Some(text) => text.parse::<i64>().ok().filter(|cursor| *cursor >= 0).ok_or_else(|| {
            ConsoleError::bad_request(localized("the page cursor is a whole number", "翻页游标须为整数"))
        }),
    }
}

fn parse_search(fields: &SearchFields) -> Result<BindingFilter, ConsoleError> {
    let msisdn = non_empty(&fields.msisdn).map(Msisdn::parse).transpose().map_err(|error| {
        ConsoleError::bad_request(localized(format!("number: {error}"), format!("号码有误：{error}")))
    })?;
    let terminal_id = non_empty(&fields.terminal_id).map(TerminalId::parse).transpose().map_err(|error| {
        ConsoleError::bad_request(localized(format!("terminal ID: {error}"), format!("终端 ID 有误：{error}")))
    })?;
    let state = match non_empty(&fields.state) {
        None => None,
        Some(state @ ("active" | "revoked")) => Some(state.to_owned()),
        Some(_) => {
            return Err(ConsoleError::bad_request(localized("state is active or revoked", "状态只能是有效或已解绑")))
        }
    };
    let province = non_empty(&fields.province).map(ProvinceCode::parse).transpose().map_err(|error| {
        ConsoleError::bad_request(localized(format!("province: {error}"), format!("省份代码有误：{error}")))
    })?;
    Ok(BindingFilter { msisdn, terminal_id, state, from: None, to: None, province })
}

async fn search_page_rows(state: &AppState, fields: &SearchFields) -> Result<Vec<BindingRecord>, ConsoleError> {
    let filter = parse_search(fields)?;
    let after = parse_cursor(fields)?;
    Ok(state.store.call(move |store| store.search_bindings(&filter, after, SEARCH_PAGE_ROWS)).await?)
}

/// The searched number, masked, for the form's placeholder (empty when none or unparsable).
fn searched_number_masked(fields: &SearchFields) -> String {
    non_empty(&fields.msisdn)
        .and_then(|text| Msisdn::parse(text).ok())
        .map(|msisdn| msisdn.masked())
        .unwrap_or_default()
}

fn search_form(fields: &SearchFields) -> String {
    let option = |value: &str, label: &str| {
        let selected = if fields.state.trim() == value { " selected" } else { "" };
        format!("<option value=\"{value}\"{selected}>{label}</option>")
    };
    format!(
        "<form method=\"get\" action=\"/console/bindings\" class=\"card search\">\
         <label>{number} <input name=\"msisdn\" id=\"search-msisdn\" placeholder=\"{msisdn}\" inputmode=\"tel\">\
         </label>\
         <label>{terminal_label} <input name=\"terminal_id\" value=\"{terminal_id}\"></label>\
         <label>{state_label} <select name=\"state\">{any}{active}{revoked}</select></label>\
         <label>{province_label} <input name=\"province\" value=\"{province}\" placeholder=\"BJ\" maxlength=\"5\"></label>\
         <button type=\"submit\" id=\"search\">{search}</button></form>",
        province_label = localized("Province", "省份"),
        province = escape_html(&fields.province),
        number = localized("Number", "号码"),
        terminal_label = localized("Terminal ID", "终端 ID"),
        state_label = localized("State", "状态"),
        search = localized("Search", "查询"),
        // The typed number is never echoed in full: the page shows it masked.
        msisdn = escape_html(&searched_number_masked(fields)),
        terminal_id = escape_html(&fields.terminal_id),
        any = option("", localized("any", "全部")),
        active = option("active", &state_label("active")),
        revoked = option("revoked", &state_label("revoked")),
    )
}

fn results_table(rows: &[BindingRecord], reveal: bool) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|binding| {
            let number = if reveal { binding.msisdn.as_digits().to_owned() } else { binding.msisdn.masked() };
            vec![
                escape_html(binding.binding_id.as_str()),
                format!(
                    "<a class=\"terminal-link\" href=\"/console/terminals/{}\">{}</a>",
                    encode_url_component(binding.terminal_id.as_str()),
                    escape_html(binding.terminal_id.as_str())
                ),
                escape_html(&number),
                format!("<span class=\"state-{}\">{}</span>", escape_html(&binding.state), state_label(&binding.state)),
                escape_html(&format_unix_time(binding.created_at)),
                binding.revoked_at.map_or_else(|| "–".to_owned(), |at| escape_html(&format_unix_time(at))),
                revoked_reason_label(binding.revoked_reason.as_deref()),
                province_cell(binding.province),
                routing_version_cell(binding.routing_version.as_deref()),
            ]
        })
        .collect();
    let headers = localized(
        [
            "Binding",
            "Terminal",
            "Number",
            "State",
            "Bound at",
            "Revoked at",
            "Revoked because",
            "Province",
            "Routing version",
        ],
        ["绑定", "终端", "号码", "状态", "绑定时间", "解绑时间", "解绑原因", "省份", "路由表版本"],
    );
    table(&headers, &cells)
}

fn next_page_link(fields: &SearchFields, rows: &[BindingRecord]) -> String {
    let Some(last) = rows.last().filter(|_| rows.len() as i64 == SEARCH_PAGE_ROWS) else { return String::new() };
    format!(
        "<p><a href=\"/console/bindings?msisdn={}&amp;terminal_id={}&amp;state={}&amp;province={}&amp;cursor={}\">{}</a></p>",
        encode_url_component(fields.msisdn.trim()),
        encode_url_component(fields.terminal_id.trim()),
        encode_url_component(fields.state.trim()),
        encode_url_component(fields.province.trim()),
        last.cursor,
        localized("Next page", "下一页"),
    )
}

fn reveal_form(signed_in: &SignedInOperator, fields: &SearchFields) -> String {
    let hidden =
        |name: &str, value: &str| format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", escape_html(value));
    format!(
        "<form method=\"post\" action=\"/console/bindings/reveal\" class=\"card\">{csrf}{msisdn}{terminal}{state}{province}{cursor}\
         <label>{reason} <input name=\"reason\" required maxlength=\"200\"></label>\
         <button type=\"submit\">{reveal}</button></form>",
        reason = localized("Reason to show full numbers (audited)", "显示完整号码的原因（将记入审计）"),
        reveal = localized("Reveal numbers", "显示完整号码"),
        csrf = csrf_field(&signed_in.session),
        msisdn = hidden("msisdn", &fields.msisdn),
        terminal = hidden("terminal_id", &fields.terminal_id),
        state = hidden("state", &fields.state),
        province = hidden("province", &fields.province),
        cursor = hidden("cursor", &fields.cursor),
    )
}

fn render_search(signed_in: &SignedInOperator, fields: &SearchFields, rows: &[BindingRecord], reveal: bool) -> String {
    let mut body = search_form(fields);
    let count = rows.len();
    let count = localized(format!("{count} binding(s) on this page."), format!("本页共 {count} 条绑定。"));
    body.push_str(&format!("<p class=\"count\">{count}</p>"));
    body.push_str(&results_table(rows, reveal));
    body.push_str(&next_page_link(fields, rows));
    if signed_in.is_admin() && !reveal && !rows.is_empty() {
        body.push_str(&reveal_form(signed_in, fields));
    }
    let frame = SignedIn { operator: &signed_in.operator, session: &signed_in.session };
    page(localized("Bindings", "绑定"), Some(&frame), &body)
}

/// `GET /console/bindings`: the search form and one page of results, numbers masked.
pub(super) async fn search_bindings(
    State(state): State<AppState>,
    signed_in: SignedInOperator,
    ConsoleQuery(fields): ConsoleQuery<SearchFields>,
) -> Result<Html<String>, ConsoleError> {
    let rows = search_page_rows(&state, &fields).await?;
    Ok(Html(render_search(&signed_in, &fields, &rows, false)))
}

#[derive(Debug, Deserialize)]
pub(super) struct RevealForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    reason: String,
    #[serde(flatten)]
    fields: SearchFields,
}

/// `POST /console/bindings/reveal` (admin): the same page with full numbers; the reveal and its reason are audited.
pub(super) async fn reveal_numbers(
    State(state): State<AppState>,
    signed_in: SignedInOperator,
    ConsoleForm(form): ConsoleForm<RevealForm>,
) -> Result<Html<String>, ConsoleError> {
    signed_in.check_csrf(&form.csrf_token)?;
    signed_in.require_admin()?;
    let reason = parse_reason(&form.reason)?;
    let rows = search_page_rows(&state, &form.fields).await?;
    let (filter, after) = (parse_search(&form.fields)?, parse_cursor(&form.fields)?);
    let what = crate::operator_views::reveal_description(&filter, after, &rows, "the console");
    let (name, now) = (signed_in.operator.name.clone(), state.now());
    state.store.call(move |store| store.record_number_reveal(&name, &what, &reason, now)).await?;
    tracing::info!(operator = %signed_in.operator.name, count = rows.len(), "numbers revealed in the console");
    Ok(Html(render_search(&signed_in, &form.fields, &rows, true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_match_everything_and_bad_ones_are_refused() {
        assert_eq!(parse_search(&SearchFields::default()).unwrap(), BindingFilter::default());
        let bad_state = SearchFields { state: "gone".into(), ..SearchFields::default() };
        assert!(matches!(parse_search(&bad_state), Err(ConsoleError::BadRequest(_))));
        let bad_number = SearchFields { msisdn: "<b>".into(), ..SearchFields::default() };
        assert!(matches!(parse_search(&bad_number), Err(ConsoleError::BadRequest(_))));
    }

    #[test]
    fn a_province_filters_by_its_code_and_an_unknown_one_is_refused() {
        let guangdong = SearchFields { province: " gd ".into(), ..SearchFields::default() };
        assert_eq!(parse_search(&guangdong).unwrap().province, ProvinceCode::parse("GD").ok());
        let hong_kong = SearchFields { province: "HK".into(), ..SearchFields::default() };
        assert!(matches!(parse_search(&hong_kong), Err(ConsoleError::BadRequest(_))));
        let form = search_form(&guangdong);
        assert!(form.contains("name=\"province\" value=\" gd \""), "{form}");
    }
}
