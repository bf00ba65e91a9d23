//! Export downloads for signed-in operators: the API's streamed CSV and JSON Lines exports (numbers masked).

use super::auth::{ConsolePath, SignedInOperator};
use super::error::ConsoleError;
use crate::operator_views::export_by_name;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::Response;

/// `GET /console/exports/{name}`: `bindings.csv`, `bindings.jsonl`, `audit-events.csv`, `audit-events.jsonl`.
pub(super) async fn download_export(
    State(state): State<AppState>,
    signed_in: SignedInOperator,
    ConsolePath(name): ConsolePath<String>,
) -> Result<Response, ConsoleError> {
    let mut response = export_by_name(state, &name).ok_or_else(|| {
        ConsoleError::NotFound(super::language::localized("no export has this name", "没有这个名称的导出").to_owned())
    })?;
    let disposition = format!("attachment; filename=\"numbind-{name}\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    tracing::info!(operator = %signed_in.operator.name, export = %name, "console export");
    Ok(response)
}
