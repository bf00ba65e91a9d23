//! The operator API under `/v1/operator/`: binding search, terminal history, audit events, the activity counts,
//! admin unbinding.

use super::operator_auth::AuthenticatedOperator;
use crate::domain::operator::OperatorRole;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AuditRecord, BindingFilter};
use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use numbind_process::http_api::{parse_json_body, ApiPath, ApiQuery};
use numbind_wire::{Msisdn, TerminalId};
use serde::Deserialize;
use serde_json::{json, Value};

const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1000;
const MAX_REASON_CHARS: usize = 200;

/// Query of `GET /v1/operator/bindings`. Unknown parameters are refused, so a misspelt filter is an error
/// rather than a silently wider search.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BindingSearchQuery {
    msisdn: Option<String>,
    terminal_id: Option<String>,
    state: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    province: Option<String>,
    limit: Option<i64>,
    cursor: Option<i64>,
    #[serde(default)]
    reveal: bool,
    reason: Option<String>,
}

/// A stated reason: 1 to 200 characters, no control characters.
pub(super) fn parse_reason(reason: Option<&str>) -> Result<String, ApiError> {
    let reason = reason.map(str::trim).unwrap_or_default();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
        return Err(ApiError::invalid_request("a reason of 1 to 200 printable characters is required"));
    }
    Ok(reason.to_owned())
}

fn parse_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit.unwrap_or(DEFAULT_PAGE) {
        limit @ 1..=MAX_PAGE => Ok(limit),
        _ => Err(ApiError::invalid_request("limit is 1 to 1000")),
    }
}

pub(super) fn parse_terminal_id(text: &str) -> Result<TerminalId, ApiError> {
    TerminalId::parse(text).map_err(|error| ApiError::invalid_request(format!("terminal_id: {error}")))
}

fn parse_binding_filter(query: &BindingSearchQuery) -> Result<BindingFilter, ApiError> {
    let msisdn = query.msisdn.as_deref().map(Msisdn::parse).transpose();
    let state = match query.state.as_deref() {
        None => None,
        Some(state @ ("active" | "revoked")) => Some(state.to_owned()),
        Some(_) => return Err(ApiError::invalid_request("state is active or revoked")),
    };
    Ok(BindingFilter {
        msisdn: msisdn.map_err(|error| ApiError::invalid_request(format!("msisdn: {error}")))?,
        terminal_id: query.terminal_id.as_deref().map(parse_terminal_id).transpose()?,
        state,
        from: query.from,
        to: query.to,
        province: query
            .province
            .as_deref()
            .map(numbind_routing::ProvinceCode::parse)
            .transpose()
            .map_err(|error| ApiError::invalid_request(format!("province: {error}")))?,
    })
}

/// `GET /v1/operator/bindings`: search with keyset pages; `reveal=true&reason=...` (admin) shows full numbers, audited.
pub(super) async fn search_bindings(
    State(state): State<AppState>,
    operator: AuthenticatedOperator,
    ApiQuery(query): ApiQuery<BindingSearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let filter = parse_binding_filter(&query)?;
    let limit = parse_limit(query.limit)?;
    let reveal_reason = if query.reveal {
        operator.require_admin()?;
        Some(parse_reason(query.reason.as_deref())?)
    } else {
        None
    };
    let after = query.cursor.unwrap_or(0);
    let filter_described = filter.clone();
    let page = state.store.call(move |store| store.search_bindings(&filter, after, limit)).await?;
    if let Some(reason) = reveal_reason {
        let (name, now) = (operator.0.name.clone(), state.now());
        let what = crate::operator_views::reveal_description(&filter_described, after, &page, "the operator API");
        state.store.call(move |store| store.record_number_reveal(&name, &what, &reason, now)).await?;
    }
    let reveal = query.reveal && operator.0.role == OperatorRole::Admin;
    let next_cursor = (page.len() as i64 == limit).then(|| page.last().map(|binding| binding.cursor)).flatten();
    let bindings: Vec<Value> =
        page.iter().map(|binding| crate::operator_views::binding_json(binding, reveal)).collect();
    Ok(Json(json!({ "bindings": bindings, "next_cursor": next_cursor })))
}

/// `GET /v1/operator/terminals/{terminal_id}/history`: activations, bindings and audit events of one terminal.
pub(super) async fn terminal_history(
    State(state): State<AppState>,
    _operator: AuthenticatedOperator,
    ApiPath(terminal_id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let terminal_id = parse_terminal_id(&terminal_id)?;
    let (terminal, activations, bindings, events) = state
        .store
        .call(move |store| {
            let filter = BindingFilter { terminal_id: Some(terminal_id.clone()), ..BindingFilter::default() };
            Ok((
                store.find_terminal(&terminal_id)?,
                store.activations_of_terminal(&terminal_id)?,
                store.search_bindings(&filter, 0, i64::MAX)?,
                store.audit_events_of_terminal(&terminal_id)?,
            ))
        })
        .await?;
    if terminal.is_none() && bindings.is_empty() && events.is_empty() {
        return Err(ApiError::TerminalUnknown);
    }
    let activations: Vec<Value> = activations
        .iter()
        .map(|activation| {
            json!({
                "activation_id": activation.activation_id,
                "state": activation.state.as_str(),
                "created_at": activation.created_at,
                "expires_at": activation.expires_at,
                "claimed_msisdn": activation.claimed_msisdn.as_ref().map(Msisdn::masked),
                "binding_id": activation.binding_id,
            })
        })
        .collect();
    let bindings: Vec<Value> =
        bindings.iter().map(|binding| crate::operator_views::binding_json(binding, false)).collect();
    Ok(Json(json!({ "activations": activations, "bindings": bindings, "audit_events": events })))
}

/// Query of `GET /v1/operator/audit-events`; unknown parameters are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditEventsQuery {
    after_seq: Option<i64>,
    limit: Option<i64>,
}

/// `GET /v1/operator/audit-events?after_seq=&limit=`: one page of the chain, in order.
pub(super) async fn audit_events(
    State(state): State<AppState>,
    _operator: AuthenticatedOperator,
    ApiQuery(query): ApiQuery<AuditEventsQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = parse_limit(query.limit)?;
    let after = query.after_seq.unwrap_or(0);
    let events: Vec<AuditRecord> = state.store.call(move |store| store.audit_events_after(after, limit)).await?;
    let next_after_seq = (events.len() as i64 == limit).then(|| events.last().map(|event| event.sequence)).flatten();
    Ok(Json(json!({ "audit_events": events, "next_after_seq": next_after_seq })))
}

#[derive(Debug, Deserialize)]
struct UnbindBody {
    reason: String,
}

/// `POST /v1/operator/terminals/{terminal_id}/unbind` (admin): revokes the active binding, tells the number.
pub(super) async fn unbind_terminal(
    State(state): State<AppState>,
    operator: AuthenticatedOperator,
    ApiPath(terminal_id): ApiPath<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    operator.require_admin()?;
    let terminal_id = parse_terminal_id(&terminal_id)?;
    let body: UnbindBody = parse_json_body(&body)?;
    let reason = parse_reason(Some(&body.reason))?;
    let revoked = crate::operator_actions::unbind_terminal(&state, terminal_id, &operator.0.name, reason).await?;
    let binding = revoked.ok_or(ApiError::BindingNotFound)?;
    Ok(Json(
        json!({ "terminal_id": binding.terminal_id, "binding_id": binding.binding_id, "revoked_reason": "operator" }),
    ))
}

/// `GET /v1/operator/reconciliation-snapshot` (admin): every active binding with its full number.
pub(super) async fn reconciliation_snapshot(
    State(state): State<AppState>,
    operator: AuthenticatedOperator,
) -> Result<Json<Value>, ApiError> {
    operator.require_admin()?;
    let filter = BindingFilter { state: Some("active".to_owned()), ..BindingFilter::default() };
    let active = state.store.call(move |store| store.search_bindings(&filter, 0, i64::MAX)).await?;
    let (name, now, what) = (operator.0.name.clone(), state.now(), format!("{} active binding(s)", active.len()));
    state.store.call(move |store| store.record_number_reveal(&name, &what, "reconciliation snapshot", now)).await?;
    let bindings: Vec<Value> = active
        .iter()
        .map(|binding| {
            json!({"terminal_id": binding.terminal_id, "msisdn": binding.msisdn.as_digits(), "binding_id": binding.binding_id,
                "created_at_unix_seconds": binding.created_at})
        })
        .collect();
    Ok(Json(json!({ "bindings": bindings })))
}

/// Query of `GET /v1/operator/activity`; unknown parameters are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ActivityQuery {
    period: Option<String>,
}

/// `GET /v1/operator/activity?period=hours|days`: activations issued and refused per hour of the last 24 hours or per
/// day of the last 14 days (UTC buckets), the counts the console's overview chart draws.
pub(super) async fn activity(
    State(state): State<AppState>,
    _operator: AuthenticatedOperator,
    ApiQuery(query): ApiQuery<ActivityQuery>,
) -> Result<Json<Value>, ApiError> {
    use crate::console::chart::{count_activity, ChartPeriod};
    let period = ChartPeriod::parse(query.period.as_deref())
        .ok_or_else(|| ApiError::invalid_request("period is hours or days"))?;
    let now = state.now();
    let counts = state.store.call(move |store| count_activity(store, period, now)).await?;
    let size = period.bucket_seconds();
    let buckets: Vec<Value> = (0_i64..)
        .zip(&counts.buckets)
        .map(|(index, bucket)| {
            json!({"starts_at": counts.window_start + index * size, "issued": bucket.issued, "refused": bucket.refused})
        })
        .collect();
    let period = if period == ChartPeriod::Days { "days" } else { "hours" };
    Ok(Json(json!({ "period": period, "bucket_seconds": size, "buckets": buckets, "truncated": counts.truncated })))
}
