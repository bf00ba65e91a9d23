//! The answers of the session to everything but bind, submit_sm, data_sm and the link commands: `query_sm` from
//! the message store, `cancel_sm`, `replace_sm` and `submit_multi` in their own response type, and the error
//! form of any request's response.

use crate::domain::message::{MessageId, MessageState};
use crate::domain::receipt::{smpp_absolute_time, FinalState};
use crate::state::AppState;
use numbind_smpp::pdu::{message_state, CommandId, CommandStatus, Pdu, PduBody, QuerySm, QuerySmResp};

/// The SMS centre's system_id in bind responses.
pub(super) const SMSC_SYSTEM_ID: &str = "numbind-smsc";

/// The response of a request with this status (with no body when it is an error), or generic_nack for a
/// command that has none.
pub(super) fn error_response(command_id: CommandId, sequence: u32, command_status: CommandStatus) -> Pdu {
    let system_id = if command_status.is_ok() { SMSC_SYSTEM_ID.to_owned() } else { String::new() };
    let body = match command_id {
        CommandId::SubmitSm => PduBody::SubmitSmResp { message_id: String::new() },
        CommandId::DeliverSm => PduBody::DeliverSmResp { message_id: String::new() },
        CommandId::Unbind => PduBody::UnbindResp,
        CommandId::BindTransmitter => PduBody::BindTransmitterResp { system_id },
        CommandId::BindReceiver => PduBody::BindReceiverResp { system_id },
        CommandId::BindTransceiver => PduBody::BindTransceiverResp { system_id },
        CommandId::QuerySm => PduBody::QuerySmResp(QuerySmResp::default()),
        CommandId::CancelSm => PduBody::CancelSmResp,
        CommandId::ReplaceSm => PduBody::ReplaceSmResp,
        CommandId::SubmitMulti => PduBody::SubmitMultiResp { message_id: String::new() },
        CommandId::DataSm => PduBody::DataSmResp { message_id: String::new() },
        CommandId::EnquireLink => PduBody::EnquireLinkResp,
        _ => PduBody::GenericNack,
    };
    Pdu { command_status, sequence_number: sequence, body }
}

/// The answer to a request the SMS centre does not carry out, in its own response type:
/// - `cancel_sm`: ESME_RCANCELFAIL, an MT reaches the phone when it is stored, so nothing is left to cancel;
/// - `replace_sm`: ESME_RREPLACEFAIL, likewise;
/// - `submit_multi`: ESME_RINVCMDID, not supported (submit_sm to each destination instead);
/// - anything else: generic_nack with ESME_RINVCMDID.
pub(super) fn unsupported_command_response(command_id: CommandId, sequence: u32) -> Pdu {
    let status = match command_id {
        CommandId::CancelSm => CommandStatus::EsmeRcancelfail,
        CommandId::ReplaceSm => CommandStatus::EsmeRreplacefail,
        _ => CommandStatus::EsmeRinvcmdid,
    };
    error_response(command_id, sequence, status)
}

/// `query_sm` for a message this account submitted (a whole MT or one part), from the store; any other ID is
/// ESME_RINVMSGID, so an ESME learns nothing about other accounts' messages.
pub(super) async fn answer_query(state: &AppState, account: &str, sequence: u32, query: QuerySm) -> Pdu {
    let refuse = |status| error_response(CommandId::QuerySm, sequence, status);
    let Ok(message_id) = MessageId::parse(&query.message_id) else { return refuse(CommandStatus::EsmeRinvmsgid) };
    let account = account.to_owned();
    let found = state.store.call(move |store| store.submitted_message_state(&account, &message_id)).await;
    let submitted = match found {
        Ok(Some(submitted)) => submitted,
        Ok(None) => return refuse(CommandStatus::EsmeRinvmsgid),
        Err(error) => {
            tracing::error!(%error, "cannot read a message for query_sm");
            return refuse(CommandStatus::EsmeRsyserr);
        }
    };
    let state_value = match submitted.state {
        MessageState::Queued => message_state::ENROUTE,
        MessageState::Delivered => FinalState::Delivered.message_state(),
        MessageState::Failed => FinalState::Undeliverable.message_state(),
    };
    let answer = QuerySmResp {
        message_id: query.message_id,
        final_date: submitted.done_at_ms.map(smpp_absolute_time).unwrap_or_default(),
        message_state: state_value,
        error_code: 0,
    };
    Pdu::new(sequence, PduBody::QuerySmResp(answer))
}
