//! `投诉 <receipt number>`: forwards the number's dispute of one charge to the platform (which opens it only on a
//! charge of that number, once per payment) and tells the user what happened. The call is idempotent, so a retry
//! after a lost answer or a crash reads the first outcome back.

use super::command_results::{count_platform_call, finished_with_reply, RetryLater};
use crate::clients::platform::{PlatformCallError, DISPUTES};
use crate::domain::inbox::{CommandKind, CommandOutcome};
use crate::domain::self_service_replies as replies;
use crate::state::AppState;
use crate::store::{FinishedCommand, InboxRow};
use numbind_wire::api::{OpenDisputeOutcome, OpenDisputeRequest};
use numbind_wire::PaymentId;

pub(crate) async fn handle_dispute(
    state: &AppState,
    row: &InboxRow,
    payment_id: PaymentId,
) -> Result<FinishedCommand, RetryLater> {
    let request = OpenDisputeRequest {
        msisdn: row.source.clone(),
        payment_id: payment_id.clone(),
        sms_message_id: row.request_id(),
    };
    let answered = state.platform.open_dispute(&request).await;
    count_platform_call(state, DISPUTES, &answered);
    let (outcome, text) = match answered {
        Ok(response) => {
            tracing::info!(outcome = ?response.outcome, dispute_id = ?response.dispute_id, "dispute forwarded");
            match response.outcome {
                OpenDisputeOutcome::Opened | OpenDisputeOutcome::AlreadyOpen => {
                    (CommandOutcome::DisputeOpened, replies::dispute_opened(payment_id.as_str()))
                }
                OpenDisputeOutcome::AlreadyResolved => {
                    (CommandOutcome::DisputeOpened, replies::dispute_already_resolved(payment_id.as_str()))
                }
                _ => (CommandOutcome::DisputeRefused, replies::dispute_receipt_not_found()),
            }
        }
        Err(PlatformCallError::Refused { code, .. }) => {
            tracing::warn!(?code, "the platform refused the dispute");
            (CommandOutcome::PlatformRejected, replies::dispute_failed())
        }
        Err(unavailable) => return Err(RetryLater::Platform(unavailable)),
    };
    Ok(finished_with_reply(CommandKind::Dispute, outcome, &row.source, text))
}
