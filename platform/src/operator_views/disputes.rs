//! Disputes as operators handle them, for the API and the console alike: their resolution (refund on the refund path
//! or reject with a reason) and the export `disputes.csv` / `disputes.jsonl`, streamed in keyset pages (one in
//! memory at a time), oldest first, numbers masked (`138****8000`).

use super::{csv_line, EXPORT_PAGES_READ};
use crate::domain::payment::{body_hash, check_refund_reason, new_refund_id};
use crate::state::AppState;
use crate::store::{CreateRefundOutcome, DisputeDecision, NewRefund, ResolveDisputeOutcome, StoreError};
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use numbind_wire::api::{Dispute, DisputeState, ResolveDisputeRequest};
use numbind_wire::RefundId;
use std::sync::atomic::Ordering;

const PAGE_ROWS: usize = 1000;
const CSV_HEADER: &str = "dispute_id,payment_id,msisdn_masked,state,opened_at,resolved_at,resolved_by,\
rejection_reason,refund_id\n";

fn dispute_csv_line(dispute: &Dispute) -> String {
    let optional = |value: Option<String>| value.unwrap_or_default();
    csv_line(&[
        dispute.dispute_id.clone(),
        dispute.payment_id.to_string(),
        dispute.msisdn_masked.clone(),
        dispute.state.as_str().to_owned(),
        dispute.opened_at_unix_seconds.to_string(),
        optional(dispute.resolved_at_unix_seconds.map(|at| at.to_string())),
        optional(dispute.resolved_by.clone()),
        optional(dispute.rejection_reason.clone()),
        optional(dispute.refund_id.as_ref().map(ToString::to_string)),
    ])
}

/// The streamed export, CSV (`csv`) or JSON Lines.
pub(crate) fn dispute_export(state: AppState, csv: bool) -> Response {
    let header_line =
        futures_util::stream::iter(csv.then(|| Ok::<_, StoreError>(Bytes::from_static(CSV_HEADER.as_bytes()))));
    let pages = futures_util::stream::unfold(Some(None::<(i64, String)>), move |cursor| {
        let state = state.clone();
        async move {
            let after = cursor?;
            let page = match state.store.call(move |store| store.disputes(None, after.as_ref(), PAGE_ROWS)).await {
                Ok(page) => page,
                Err(error) => return Some((Err(error), None)),
            };
            EXPORT_PAGES_READ.fetch_add(1, Ordering::Relaxed);
            let next = (page.len() == PAGE_ROWS)
                .then(|| page.last().map(|last| Some((last.opened_at_unix_seconds, last.dispute_id.clone()))))
                .flatten();
            let text: String = page
                .iter()
                .map(|dispute| {
                    if csv {
                        dispute_csv_line(dispute)
                    } else {
                        format!("{}\n", serde_json::to_string(dispute).unwrap_or_default())
                    }
                })
                .collect();
            Some((Ok(Bytes::from(text)), next))
        }
    });
    let content_type = if csv { "text/csv; charset=utf-8" } else { "application/jsonl" };
    ([(header::CONTENT_TYPE, content_type)], Body::from_stream(futures_util::StreamExt::chain(header_line, pages)))
        .into_response()
}

/// Why a resolution was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ResolveError {
    #[error("no such dispute")]
    NotFound,
    #[error("the dispute was resolved before")]
    AlreadyResolved,
    #[error("nothing remains to refund")]
    NothingToRefund,
    #[error("the reason is not valid: {0}")]
    InvalidReason(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Resolves an open dispute as the admin `operator_name` asked (API and console alike): a refund of what remains,
/// created on the refund path with the idempotency key `dispute:<id>` (a retried resolution finds its refund), or a
/// rejection with a reason; then the dispute's state, its audit event and the user's SMS in one transaction.
pub(crate) async fn resolve_dispute(
    state: &AppState,
    dispute_id: String,
    operator_name: String,
    request: ResolveDisputeRequest,
) -> Result<Dispute, ResolveError> {
    let lookup = dispute_id.clone();
    let dispute = state.store.call(move |store| store.dispute(&lookup)).await?.ok_or(ResolveError::NotFound)?;
    if dispute.state != DisputeState::Open {
        return Err(ResolveError::AlreadyResolved);
    }
    let decision = match request {
        ResolveDisputeRequest::Reject { reason } => {
            check_refund_reason(&reason).map_err(ResolveError::InvalidReason)?;
            DisputeDecision::Rejected(reason.trim().to_owned())
        }
        ResolveDisputeRequest::Refund => DisputeDecision::Refunded(refund_for(state, &dispute, &operator_name).await?),
    };
    let now = state.now();
    let outcome =
        state.store.call_write(move |store| store.resolve_dispute(&dispute_id, &operator_name, &decision, now)).await?;
    match outcome {
        ResolveDisputeOutcome::Resolved(dispute) => {
            state.outbox_changed.notify_one();
            Ok(dispute)
        }
        ResolveDisputeOutcome::NotFound => Err(ResolveError::NotFound),
        ResolveDisputeOutcome::AlreadyResolved(_) => Err(ResolveError::AlreadyResolved),
    }
}

/// Creates (or finds, by its key) the refund of what remains of the disputed charge; the billing worker sends it.
async fn refund_for(state: &AppState, dispute: &Dispute, operator_name: &str) -> Result<RefundId, ResolveError> {
    let body = format!("{{\"dispute_id\":\"{}\",\"action\":\"refund\"}}", dispute.dispute_id);
    let new_refund = NewRefund {
        requested_by: format!("operator:{operator_name}"),
        merchant_id: None,
        idempotency_key: Some(format!("dispute:{}", dispute.dispute_id)),
        body_hash: body_hash(body.as_bytes()),
        payment_id: dispute.payment_id.clone(),
        amount: None,
        reason: format!("dispute {}", dispute.dispute_id),
        refund_id: new_refund_id(&state.random).map_err(|_| StoreError::RandomSourceFailed)?,
    };
    let now = state.now();
    let refund = match state.store.call_write(move |store| store.create_refund(&new_refund, now)).await? {
        CreateRefundOutcome::Created(refund) | CreateRefundOutcome::Repeated(refund) => refund,
        CreateRefundOutcome::PaymentNotFound | CreateRefundOutcome::KeyReused => return Err(ResolveError::NotFound),
        CreateRefundOutcome::NotRefundable | CreateRefundOutcome::ExceedsRemaining { .. } => {
            return Err(ResolveError::NothingToRefund)
        }
    };
    state.announce_billing();
    Ok(refund.refund_id)
}
