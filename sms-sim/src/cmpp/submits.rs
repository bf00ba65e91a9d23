//! The ISMG's SUBMITs on their way to the store: a window of checked SUBMITs stored in one durable write (each
//! MT with its fee, each atomic on its own), every one answered with its SUBMIT_RESP only after that commit.

use super::messages::CheckedSubmit;
use crate::guards::submit_window::SubmitWindow;
use crate::state::AppState;
use crate::store::{StoreError, StoredSubmit};
use numbind_cmpp::{MsgId, Pdu, PduBody, SubmitResp, SubmitResult, Version};
use std::sync::Arc;

/// The SUBMIT_RESP fields of one SUBMIT.
pub(super) type SubmitAnswer = (MsgId, SubmitResult);

/// A session's SUBMITs queued and being stored.
pub(super) type SubmitsInFlight = SubmitWindow<CheckedSubmit, SubmitAnswer>;

pub(super) fn submits_in_flight(state: &Arc<AppState>) -> SubmitsInFlight {
    let state = Arc::clone(state);
    SubmitWindow::new(Arc::new(move |window| store_window(&state, window)))
}

/// Stores a window of checked SUBMITs in one durable write and returns each one's answer, in order. Blocking:
/// runs on the blocking pool.
fn store_window(state: &AppState, submits: Vec<CheckedSubmit>) -> Vec<SubmitAnswer> {
    let msg_ids: Vec<MsgId> = submits.iter().map(|submit| submit.msg_id).collect();
    let window = submits.into_iter().map(|submit| (submit.to_store, submit.fee)).collect();
    let outcomes = match state.store.insert_submits_with_fees(window) {
        Ok(outcomes) => outcomes,
        Err(error) => {
            tracing::error!(%error, count = msg_ids.len(), "cannot store a window of cmpp submits");
            return msg_ids.into_iter().map(|msg_id| (msg_id, SubmitResult::FlowControl)).collect();
        }
    };
    // The delivery loop is woken by the session once these answers are written, so that a status report never
    // overtakes the SUBMIT_RESP that tells the provider its Msg_Id.
    msg_ids.into_iter().zip(outcomes).map(|(msg_id, outcome)| (msg_id, answer_stored(state, msg_id, outcome))).collect()
}

/// The Result a stored (or refused) SUBMIT is answered with.
fn answer_stored(state: &AppState, msg_id: MsgId, outcome: Result<StoredSubmit, StoreError>) -> SubmitResult {
    match outcome {
        Ok(StoredSubmit::Stored { message_id }) => {
            state.metrics.mt_submitted.inc();
            tracing::info!(%message_id, msg_id = msg_id.value(), "mt stored");
            SubmitResult::Ok
        }
        Ok(StoredSubmit::PartWaiting { .. } | StoredSubmit::Resubmitted { .. }) => SubmitResult::Ok,
        Ok(StoredSubmit::PartsRefused) => SubmitResult::InvalidStructure,
        Err(error) => {
            // CMPP has no system-error result: the provider is asked to retry later, as under flow control.
            tracing::error!(%error, "cannot store a cmpp submit");
            SubmitResult::FlowControl
        }
    }
}

/// The SUBMIT_RESPs of one stored window, encoded back to back for one write, and whether any SUBMIT was
/// accepted (its status report may now be due); a SUBMIT whose store task failed is answered with flow control
/// (retry later) and Msg_Id 0.
pub(super) fn encode_answers(answers: Vec<(u32, Option<SubmitAnswer>)>, version: Version) -> (Vec<u8>, bool) {
    let mut bytes = Vec::with_capacity(answers.len() * 24);
    let mut accepted_any = false;
    for (sequence, answer) in answers {
        let (msg_id, result) = answer.unwrap_or((MsgId::from_u64(0), SubmitResult::FlowControl));
        accepted_any |= result.is_ok();
        let response = Pdu::new(sequence, PduBody::SubmitResp(SubmitResp { msg_id, result }));
        // A SUBMIT_RESP always fits its layout: a result above 255 is never produced.
        if let Ok(encoded) = response.encode(version) {
            bytes.extend_from_slice(&encoded);
        }
    }
    (bytes, accepted_any)
}
