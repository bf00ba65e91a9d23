//! `UNBIND`: the platform unbinds every terminal the number pays for; the OSS revokes its records and replies.

use super::command_results::{count_platform_call, finished_with_reply, RetryLater};
use crate::clients::platform::{PlatformCallError, UNBINDINGS};
use crate::domain::inbox::{CommandKind, CommandOutcome};
use crate::domain::sms_replies::{self, DeviceMention};
use crate::state::AppState;
use crate::store::{FinishedCommand, InboxRow, Revocation};
use numbind_wire::api::{ApiErrorCode, OssUnbindRequest};

pub(crate) async fn handle_unbind(state: &AppState, row: &InboxRow) -> Result<FinishedCommand, RetryLater> {
    let request = OssUnbindRequest { msisdn: row.source.clone(), terminal_id: None, request_id: row.request_id() };
    let answered = state.platform.unbind(&request).await;
    count_platform_call(state, UNBINDINGS, &answered);
    let devices: Vec<DeviceMention> = match answered {
        Ok(response) => response
            .unbound
            .iter()
            .map(|terminal| DeviceMention {
                device_model: terminal.device_model.clone(),
                terminal_tail: terminal.terminal_id.tail().to_owned(),
            })
            .collect(),
        Err(PlatformCallError::Refused { code: ApiErrorCode::BindingNotFound, .. }) => Vec::new(),
        Err(PlatformCallError::Refused { code, .. }) => {
            tracing::warn!(?code, "the platform refused the unbinding");
            return Ok(finished_with_reply(
                CommandKind::Unbind,
                CommandOutcome::PlatformRejected,
                &row.source,
                sms_replies::try_again_later(),
            ));
        }
        Err(unavailable) => return Err(RetryLater::Platform(unavailable)),
    };
    let outcome = if devices.is_empty() { CommandOutcome::NothingToUnbind } else { CommandOutcome::Unbound };
    let mut finished = finished_with_reply(CommandKind::Unbind, outcome, &row.source, sms_replies::unbound(&devices));
    // The user asked for all of this number's bindings to end: the OSS's records follow, whatever the platform had.
    finished.revocation = Some(Revocation::AllOfNumber { msisdn: row.source.clone(), reason: "unbound_by_sms" });
    Ok(finished)
}
