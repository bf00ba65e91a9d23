//! A terminal's page (its bindings, activations and audit events) and the admin's unbind form.

use super::auth::{ConsoleForm, ConsolePath, ConsoleQuery, SignedInOperator};
use super::error::ConsoleError;
use super::html::{
    csrf_field, encode_url_component, escape_html, format_unix_time, optional_text, page, province_cell,
    revoked_reason_label, routing_version_cell, state_label, table, SignedIn,
};
use super::language::localized;
use super::parse_reason;
use crate::domain::activation::Activation;
use crate::state::AppState;
use crate::store::{AuditRecord, BindingFilter, BindingRecord, Terminal};
use axum::extract::State;
use axum::response::{Html, Redirect};
use numbind_wire::{BindingId, Msisdn, TerminalId};
use serde::Deserialize;

struct TerminalHistory {
    terminal: Option<Terminal>,
    bindings: Vec<BindingRecord>,
    activations: Vec<Activation>,
    events: Vec<AuditRecord>,
    payments: Vec<crate::store::PaymentRecord>,
}

fn parse_terminal_id(text: &str) -> Result<TerminalId, ConsoleError> {
    TerminalId::parse(text.trim()).map_err(|error| {
        ConsoleError::bad_request(localized(format!("terminal ID: {error}"), format!("终端 ID 有误：{error}")))
    })
}

async fn load_history(state: &AppState, terminal_id: TerminalId) -> Result<TerminalHistory, ConsoleError> {
    let history = state
        .store
        .call(move |store| {
            let filter = BindingFilter { terminal_id: Some(terminal_id.clone()), ..BindingFilter::default() };
            Ok(TerminalHistory {
                terminal: store.find_terminal(&terminal_id)?,
                bindings: store.search_bindings(&filter, 0, i64::MAX)?,
                activations: store.activations_of_terminal(&terminal_id)?,
                events: store.audit_events_of_terminal(&terminal_id)?,
                payments: super::payments::payments_of_terminal(store, &terminal_id)?,
            })
        })
        .await?;
    Ok(history)
}

fn time(unix_seconds: i64) -> String {
    escape_html(&format_unix_time(unix_seconds))
}

fn bindings_table(bindings: &[BindingRecord]) -> String {
    let rows: Vec<Vec<String>> = bindings
        .iter()
        .map(|binding| {
            vec![
                escape_html(binding.binding_id.as_str()),
                escape_html(&binding.msisdn.masked()),
                format!("<span class=\"state-{}\">{}</span>", escape_html(&binding.state), state_label(&binding.state)),
                time(binding.created_at),
                binding.revoked_at.map_or_else(|| "–".to_owned(), time),
                revoked_reason_label(binding.revoked_reason.as_deref()),
                province_cell(binding.province),
                routing_version_cell(binding.routing_version.as_deref()),
            ]
        })
        .collect();
    let headers = localized(
        ["Binding", "Number", "State", "Bound at", "Revoked at", "Revoked because", "Province", "Routing version"],
        ["绑定", "号码", "状态", "绑定时间", "解绑时间", "解绑原因", "省份", "路由表版本"],
    );
    table(&headers, &rows)
}

fn activations_table(activations: &[Activation]) -> String {
    let rows: Vec<Vec<String>> = activations
        .iter()
        .map(|activation| {
            vec![
                escape_html(activation.activation_id.as_str()),
                state_label(activation.state.as_str()),
                time(activation.created_at),
                time(activation.expires_at),
                optional_text(activation.claimed_msisdn.as_ref().map(Msisdn::masked).as_deref()),
                optional_text(activation.binding_id.as_ref().map(BindingId::as_str)),
            ]
        })
        .collect();
    let headers = localized(
        ["Activation", "State", "Issued at", "Expires at", "Claimed by", "Binding"],
        ["激活", "状态", "发码时间", "过期时间", "认领号码", "绑定"],
    );
    table(&headers, &rows)
}

fn audit_table(events: &[AuditRecord]) -> String {
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|event| {
            vec![
                event.sequence.to_string(),
                time(event.at),
                format!("<code class=\"audit-actor\">{}</code>", escape_html(&event.actor)),
                format!("<code class=\"audit-kind\">{}</code>", escape_html(&event.kind)),
                optional_text(event.msisdn_masked.as_deref()),
                event.detail.as_deref().map_or_else(
                    || "–".to_owned(),
                    |detail| format!("<code class=\"audit-detail\">{}</code>", escape_html(detail)),
                ),
            ]
        })
        .collect();
    let headers =
        localized(["#", "At", "Actor", "Event", "Number", "Detail"], ["#", "时间", "操作者", "事件", "号码", "详情"]);
    table(&headers, &rows)
}

fn unbind_section(signed_in: &SignedInOperator, terminal_id: &TerminalId, active: Option<&BindingRecord>) -> String {
    let Some(active) = active else {
        return format!("<p>{}</p>", localized("This terminal has no active binding.", "此终端没有有效的绑定。"));
    };
    if !signed_in.is_admin() {
        let only_admin = localized("Only an admin may unbind this terminal.", "只有管理员可以解绑此终端。");
        return format!("<p class=\"hint\">{only_admin}</p>");
    }
    let binding = escape_html(active.binding_id.as_str());
    let number = escape_html(&active.msisdn.masked());
    let explanation = localized(
        format!("Unbind binding <code>{binding}</code> (number {number}): the number is told by SMS."),
        format!("解除绑定 <code>{binding}</code>（号码 {number}）：将以短信通知该号码。"),
    );
    format!(
        "<form method=\"post\" action=\"/console/terminals/{path}/unbind\" class=\"card danger\">{csrf}\
         <p>{explanation}</p>\
         <label>{reason} <input name=\"reason\" id=\"unbind-reason\" required maxlength=\"200\">\
         </label><button type=\"submit\" id=\"unbind\">{unbind}</button></form>",
        path = encode_url_component(terminal_id.as_str()),
        csrf = csrf_field(&signed_in.session),
        reason = localized("Reason (required, audited)", "原因（必填，将记入审计）"),
        unbind = localized("Unbind", "解绑"),
    )
}

fn render_terminal(
    signed_in: &SignedInOperator,
    terminal_id: &TerminalId,
    history: &TerminalHistory,
    notice: &str,
) -> String {
    let active = history.bindings.iter().find(|binding| binding.state == "active");
    let (model, registered) = history.terminal.as_ref().map_or(("–".to_owned(), "–".to_owned()), |terminal| {
        (escape_html(&terminal.device_model), time(terminal.registered_at))
    });
    let status = if active.is_some() { localized("bound", "已绑定") } else { localized("not bound", "未绑定") };
    let body = format!(
        "{notice}<dl class=\"card summary\"><dt>{terminal_label}</dt><dd><code>{terminal}</code></dd>\
         <dt>{model_label}</dt><dd>{model}</dd><dt>{registered_label}</dt><dd>{registered}</dd>\
         <dt>{status_label}</dt><dd id=\"binding-status\">{status}</dd></dl>{unbind}\
         <h2>{bindings_label}</h2>{bindings}<h2>{payments_label}</h2>{payments}\
         <h2>{activations_label}</h2>{activations}<h2>{events_label}</h2>{events}",
        terminal_label = localized("Terminal ID", "终端 ID"),
        model_label = localized("Device model", "设备型号"),
        registered_label = localized("Registered at", "注册时间"),
        status_label = localized("Status", "状态"),
        bindings_label = localized("Bindings", "绑定"),
        payments_label = localized("Payments", "支付"),
        activations_label = localized("Activations", "激活"),
        events_label = localized("Audit events", "审计事件"),
        terminal = escape_html(terminal_id.as_str()),
        unbind = unbind_section(signed_in, terminal_id, active),
        bindings = bindings_table(&history.bindings),
        payments = super::payments::payments_table(&history.payments),
        activations = activations_table(&history.activations),
        events = audit_table(&history.events),
    );
    let frame = SignedIn { operator: &signed_in.operator, session: &signed_in.session };
    page(localized("Terminal", "终端"), Some(&frame), &body)
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct TerminalPageQuery {
    #[serde(default)]
    unbound: Option<String>,
}

/// `GET /console/terminals/{terminal_id}`.
pub(super) async fn show_terminal(
    State(state): State<AppState>,
    signed_in: SignedInOperator,
    ConsolePath(terminal_id): ConsolePath<String>,
    ConsoleQuery(query): ConsoleQuery<TerminalPageQuery>,
) -> Result<Html<String>, ConsoleError> {
    let terminal_id = parse_terminal_id(&terminal_id)?;
    let history = load_history(&state, terminal_id.clone()).await?;
    if history.terminal.is_none() && history.bindings.is_empty() && history.events.is_empty() {
        return Err(ConsoleError::NotFound(localized("no terminal has this ID", "没有此 ID 的终端").to_owned()));
    }
    let notice = if query.unbound.is_some() {
        let unbound = localized("Unbound. The number is told by SMS.", "已解绑，并已短信通知该号码。");
        format!("<p class=\"notice\" id=\"unbound-notice\">{unbound}</p>")
    } else {
        String::new()
    };
    Ok(Html(render_terminal(&signed_in, &terminal_id, &history, &notice)))
}

#[derive(Debug, Deserialize)]
pub(super) struct UnbindForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    reason: String,
}

/// `POST /console/terminals/{terminal_id}/unbind` (admin): the API's unbinding path (audit event and SMS).
pub(super) async fn unbind_terminal(
    State(state): State<AppState>,
    signed_in: SignedInOperator,
    ConsolePath(terminal_id): ConsolePath<String>,
    ConsoleForm(form): ConsoleForm<UnbindForm>,
) -> Result<Redirect, ConsoleError> {
    signed_in.check_csrf(&form.csrf_token)?;
    signed_in.require_admin()?;
    let terminal_id = parse_terminal_id(&terminal_id)?;
    let reason = parse_reason(&form.reason)?;
    let revoked =
        crate::operator_actions::unbind_terminal(&state, terminal_id.clone(), &signed_in.operator.name, reason).await?;
    revoked.ok_or_else(|| {
        ConsoleError::NotFound(localized("this terminal has no active binding", "此终端没有有效的绑定").to_owned())
    })?;
    Ok(Redirect::to(&format!("/console/terminals/{}?unbound=1", encode_url_component(terminal_id.as_str()))))
}
