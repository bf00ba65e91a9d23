//! A terminal's page (its bindings, activations and audit events) and the admin's unbind form.

use super::auth::{ConsoleForm, ConsolePath, ConsoleQuery, SignedInOperator};
use super::error::ConsoleError;
use super::html::{
    csrf_field, encode_url_component, escape_html, format_unix_time, optional_text, page, table, SignedIn,
};
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
    TerminalId::parse(text.trim()).map_err(|error| ConsoleError::bad_request(format!("terminal ID: {error}")))
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
                format!("<span class=\"state-{0}\">{0}</span>", escape_html(&binding.state)),
                time(binding.created_at),
                binding.revoked_at.map_or_else(|| "–".to_owned(), time),
                optional_text(binding.revoked_reason.as_deref()),
            ]
        })
        .collect();
    table(&["Binding", "Number", "State", "Bound at", "Revoked at", "Revoked because"], &rows)
}

fn activations_table(activations: &[Activation]) -> String {
    let rows: Vec<Vec<String>> = activations
        .iter()
        .map(|activation| {
            vec![
                escape_html(activation.activation_id.as_str()),
                escape_html(activation.state.as_str()),
                time(activation.created_at),
                time(activation.expires_at),
                optional_text(activation.claimed_msisdn.as_ref().map(Msisdn::masked).as_deref()),
                optional_text(activation.binding_id.as_ref().map(BindingId::as_str)),
            ]
        })
        .collect();
    table(&["Activation", "State", "Issued at", "Expires at", "Claimed by", "Binding"], &rows)
}

fn audit_table(events: &[AuditRecord]) -> String {
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|event| {
            vec![
                event.sequence.to_string(),
                time(event.at),
                escape_html(&event.actor),
                format!("<code class=\"audit-kind\">{}</code>", escape_html(&event.kind)),
                optional_text(event.msisdn_masked.as_deref()),
                optional_text(event.detail.as_deref()),
            ]
        })
        .collect();
    table(&["#", "At", "Actor", "Event", "Number", "Detail"], &rows)
}

fn unbind_section(signed_in: &SignedInOperator, terminal_id: &TerminalId, active: Option<&BindingRecord>) -> String {
    let Some(active) = active else { return "<p>This terminal has no active binding.</p>".to_owned() };
    if !signed_in.is_admin() {
        return "<p class=\"hint\">Only an admin may unbind this terminal.</p>".to_owned();
    }
    format!(
        "<form method=\"post\" action=\"/console/terminals/{path}/unbind\" class=\"card danger\">{csrf}\
         <p>Unbind binding <code>{binding}</code> (number {number}): the number is told by SMS.</p>\
         <label>Reason (required, audited) <input name=\"reason\" id=\"unbind-reason\" required maxlength=\"200\">\
         </label><button type=\"submit\" id=\"unbind\">Unbind</button></form>",
        path = encode_url_component(terminal_id.as_str()),
        csrf = csrf_field(&signed_in.session),
        binding = escape_html(active.binding_id.as_str()),
        number = escape_html(&active.msisdn.masked()),
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
    let status = if active.is_some() { "bound" } else { "not bound" };
    let body = format!(
        "{notice}<dl class=\"card summary\"><dt>Terminal ID</dt><dd><code>{terminal}</code></dd>\
         <dt>Device model</dt><dd>{model}</dd><dt>Registered at</dt><dd>{registered}</dd>\
         <dt>Status</dt><dd id=\"binding-status\">{status}</dd></dl>{unbind}\
         <h2>Bindings</h2>{bindings}<h2>Payments</h2>{payments}<h2>Activations</h2>{activations}\
         <h2>Audit events</h2>{events}",
        terminal = escape_html(terminal_id.as_str()),
        unbind = unbind_section(signed_in, terminal_id, active),
        bindings = bindings_table(&history.bindings),
        payments = super::payments::payments_table(&history.payments),
        activations = activations_table(&history.activations),
        events = audit_table(&history.events),
    );
    let frame = SignedIn { operator: &signed_in.operator, session: &signed_in.session };
    page("Terminal", Some(&frame), &body)
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
        return Err(ConsoleError::NotFound("no terminal has this ID".to_owned()));
    }
    let notice = if query.unbound.is_some() {
        "<p class=\"notice\" id=\"unbound-notice\">Unbound. The number is told by SMS.</p>"
    } else {
        ""
    };
    Ok(Html(render_terminal(&signed_in, &terminal_id, &history, notice)))
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
    let (name, now, target) = (signed_in.operator.name.clone(), state.now(), terminal_id.clone());
    let revoked = state.store.call(move |store| store.unbind_by_operator(&target, &name, &reason, now)).await?;
    let binding = revoked.ok_or_else(|| ConsoleError::NotFound("this terminal has no active binding".to_owned()))?;
    state.waiters.wake(&crate::guards::waiters::binding_waiter_key(&binding.terminal_id));
    state.outbox_changed.notify_one();
    tracing::info!(operator = %signed_in.operator.name, binding_id = %binding.binding_id, "operator unbound a terminal in the console");
    Ok(Redirect::to(&format!("/console/terminals/{}?unbound=1", encode_url_component(terminal_id.as_str()))))
}
