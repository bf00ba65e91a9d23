//! The OSS as the witness of the platform's audit chain: `POST /v1/platform/audit-checkpoints` (component HMAC,
//! client `platform`) keeps a signed checkpoint, the first one per sequence; `GET /v1/audit-checkpoints` (admin)
//! serves the copies, which `numbind audit verify` compares with the platform's chain.

use super::revocations::verify_platform_hmac;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::CheckpointInsert;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::Json;
use numbind_process::clock::now_unix_millis;
use numbind_process::http_api::ApiQuery;
use numbind_wire::audit_checkpoint::{
    AuditCheckpoint, AuditCheckpointList, AuditCheckpointOutcome, AuditCheckpointReceipt, SignedAuditCheckpoint,
};
use std::sync::Arc;

/// The most checkpoints one page carries.
const MAX_PAGE: i64 = 1_000;

/// The checkpoint a delivery carries: verified when the OSS knows the platform's key, else as claimed.
fn checkpoint_of(state: &AppState, signed: &SignedAuditCheckpoint) -> Result<AuditCheckpoint, ApiError> {
    let checkpoint = match &state.config.platform_keys {
        Some(keys) => keys.verify_audit_checkpoint(signed),
        None => signed.claimed(),
    }
    .map_err(|error| ApiError::InvalidRequest(format!("the audit checkpoint is refused: {error}")))?;
    let well_formed = checkpoint.sequence >= 1
        && checkpoint.head_hash.len() == 64
        && checkpoint.head_hash.bytes().all(|byte| byte.is_ascii_hexdigit());
    if !well_formed {
        return Err(ApiError::InvalidRequest("the audit checkpoint names no sequence or hash".to_owned()));
    }
    Ok(checkpoint)
}

/// Keeps a checkpoint; 200 when stored or already held, 409 `checkpoint_conflict` when another head is held.
#[tracing::instrument(skip_all)]
pub(super) async fn receive_audit_checkpoint(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AuditCheckpointReceipt>, ApiError> {
    verify_platform_hmac(&state, &headers, &method, &uri, &body)?;
    let signed: SignedAuditCheckpoint = serde_json::from_slice(&body)
        .map_err(|error| ApiError::InvalidRequest(format!("malformed audit checkpoint: {error}")))?;
    let checkpoint = checkpoint_of(&state, &signed)?;
    let sequence = checkpoint.sequence;
    let head_hash = checkpoint.head_hash.to_ascii_lowercase();
    let now_ms = now_unix_millis();
    let insert =
        state.store.call(move |store| store.store_audit_checkpoint(sequence, &head_hash, &signed, now_ms)).await?;
    let outcome = match insert {
        CheckpointInsert::Stored => AuditCheckpointOutcome::Stored,
        CheckpointInsert::AlreadyStored => AuditCheckpointOutcome::AlreadyStored,
        CheckpointInsert::Conflict => {
            tracing::error!(sequence, "the platform sent another audit checkpoint at a sequence already witnessed");
            return Err(ApiError::CheckpointConflict(sequence));
        }
    };
    tracing::info!(sequence, ?outcome, "witnessed an audit checkpoint");
    Ok(Json(AuditCheckpointReceipt { sequence, outcome }))
}

/// `?after_sequence=N&limit=M`
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CheckpointPage {
    after_sequence: Option<i64>,
    limit: Option<i64>,
}

/// The checkpoints held, in sequence order, a page at a time.
pub(super) async fn list_audit_checkpoints(
    State(state): State<Arc<AppState>>,
    ApiQuery(page): ApiQuery<CheckpointPage>,
) -> Result<Json<AuditCheckpointList>, ApiError> {
    let after_sequence = page.after_sequence.unwrap_or(0);
    let limit = page.limit.unwrap_or(MAX_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::InvalidRequest(format!("limit must be 1 to {MAX_PAGE}")));
    }
    let checkpoints = state.store.call(move |store| store.audit_checkpoints_after(after_sequence, limit)).await?;
    Ok(Json(AuditCheckpointList { checkpoints }))
}
