//! submit_sm handling: throttle and validate at once, then store a window durably; answered after the commit.

use crate::config::EsmeAccount;
use crate::domain::concatenation::{sar_part, split_user_data_header, ConcatenatedPart};
use crate::domain::message::MessageId;
use crate::domain::receipt::{receipt_text, FinalState};
use crate::state::AppState;
use crate::store::{NewMobileTerminated, NewPart, StoreError, StoredSubmit, SubmitToStore};
use numbind_process::clock::now_unix_millis;
use numbind_smpp::pdu::{self, CommandStatus, ShortMessage, ESM_CLASS_UDH_INDICATOR, TAG_MESSAGE_PAYLOAD};
use numbind_smpp::{alphabet, decode_text, TextError};
use numbind_wire::Msisdn;

/// `sar_msg_ref_num`: the reference shared by the parts of one message (two octets).
const TAG_SAR_MSG_REF_NUM: u16 = 0x020C;
/// `sar_total_segments`: how many parts (one octet).
const TAG_SAR_TOTAL_SEGMENTS: u16 = 0x020E;
/// `sar_segment_seqnum`: this part's number, from 1 (one octet).
const TAG_SAR_SEGMENT_SEQNUM: u16 = 0x020F;

/// A submit_sm that passed every check that needs no store: what `store_submit` writes.
pub(super) enum CheckedSubmit {
    Whole(NewMobileTerminated),
    Part { template: MobileTerminatedTemplate, part: ConcatenatedPart, data_coding: u8, octets: Vec<u8> },
}

/// Throttles and validates one submit_sm without touching the store; the command_status to refuse it with
/// otherwise.
pub(super) fn check_submit(
    state: &AppState,
    account: &EsmeAccount,
    message: ShortMessage,
) -> Result<CheckedSubmit, CommandStatus> {
    if !state.submit_throttle.try_take(&account.system_id, account.max_submits_per_second) {
        state.metrics.throttled.inc();
        return Err(CommandStatus::EsmeRthrottled);
    }
    let destination = Msisdn::parse(&message.destination_addr).map_err(|_| CommandStatus::EsmeRinvdstadr)?;
    if message.source_addr.is_empty() {
        return Err(CommandStatus::EsmeRinvsrcadr);
    }
    // SMPP 3.4 section 5.3.2.32: with message_payload, sm_length must be 0. Both at once is refused rather than
    // guessing which one the ESME meant.
    if !message.short_message.is_empty() && message.tlv(TAG_MESSAGE_PAYLOAD).is_some() {
        return Err(CommandStatus::EsmeRinvmsglen);
    }
    if alphabet(message.data_coding).is_none() {
        return Err(CommandStatus::EsmeRinvdcs);
    }
    let (part, octets) = if message.esm_class & ESM_CLASS_UDH_INDICATOR != 0 {
        split_user_data_header(message.text_octets()).ok_or(CommandStatus::EsmeRinvmsglen)?
    } else {
        let sar = |tag| message.tlv(tag).map(|value| &value[..]);
        let part = sar_part(sar(TAG_SAR_MSG_REF_NUM), sar(TAG_SAR_TOTAL_SEGMENTS), sar(TAG_SAR_SEGMENT_SEQNUM))
            .map_err(|()| CommandStatus::EsmeRinvoptparamval)?;
        (part, message.text_octets())
    };
    let template = MobileTerminatedTemplate {
        source: message.source_addr.clone(),
        destination,
        account: account.system_id.clone(),
        client_reference: message.ascii_tlv(pdu::TAG_CLIENT_REFERENCE),
        wants_receipt: message.registered_delivery & 0x01 == 0x01,
    };
    match part.filter(|part| part.total > 1) {
        Some(part) => {
            Ok(CheckedSubmit::Part { template, part, data_coding: message.data_coding, octets: octets.to_vec() })
        }
        None => {
            let text = message_text(message.data_coding, octets).ok_or(CommandStatus::EsmeRinvmsglen)?;
            Ok(CheckedSubmit::Whole(template.build(text)))
        }
    }
}

/// The text an MT is stored and shown with: the decoded text, or for 8-bit data `binary:` and the octets in
/// hex. `None` when the octets are not valid in their data_coding.
fn message_text(data_coding: u8, octets: &[u8]) -> Option<String> {
    match decode_text(data_coding, octets) {
        Ok(text) => Some(text),
        Err(TextError::EightBitData(_)) => {
            let hex: String = octets.iter().map(|octet| format!("{octet:02x}")).collect();
            Some(format!("binary:{hex}"))
        }
        Err(_) => None,
    }
}

/// What every MT built from one submit_sm (or its parts) shares.
pub(super) struct MobileTerminatedTemplate {
    source: String,
    destination: Msisdn,
    account: String,
    client_reference: Option<String>,
    wants_receipt: bool,
}

impl MobileTerminatedTemplate {
    fn build(self, text: String) -> NewMobileTerminated {
        let message_id = MessageId::generate();
        let now_ms = now_unix_millis();
        let receipt = self
            .wants_receipt
            .then(|| (MessageId::generate(), receipt_text(message_id.as_str(), now_ms, now_ms, FinalState::Delivered)));
        NewMobileTerminated {
            message_id,
            source: self.source,
            destination_msisdn: self.destination.as_digits().to_owned(),
            text,
            account: self.account,
            client_reference: self.client_reference,
            receipt,
            now_ms,
        }
    }
}

/// Stores a window of checked submits in one durable write (each atomic on its own) and returns, in order,
/// each one's message_id or the command_status refusing it. Blocking: runs on the blocking pool. Their
/// submit_sm_resp are written only after this returns, so after the commit.
pub(super) fn store_window(state: &AppState, submits: Vec<CheckedSubmit>) -> Vec<Result<String, CommandStatus>> {
    let count = submits.len();
    let mut announcements = Vec::with_capacity(count);
    let to_store: Vec<SubmitToStore> = submits
        .into_iter()
        .map(|submit| {
            let (to_store, announcement) = submit.into_store();
            announcements.push(announcement);
            to_store
        })
        .collect();
    let outcomes = match state.store.insert_submits(to_store) {
        Ok(outcomes) => outcomes,
        Err(error) => {
            tracing::error!(%error, count, "cannot store a window of mt");
            return vec![Err(CommandStatus::EsmeRsyserr); count];
        }
    };
    let mut wake_delivery = false;
    let answers = outcomes
        .into_iter()
        .zip(&announcements)
        .map(|(outcome, announcement)| {
            let answer = answer_stored(state, outcome, announcement);
            wake_delivery |= announcement.wants_receipt && answer.stored;
            answer.outcome
        })
        .collect();
    if wake_delivery {
        state.delivery_wakeup.notify_one();
    }
    answers
}

impl CheckedSubmit {
    fn into_store(self) -> (SubmitToStore, Announcement) {
        match self {
            CheckedSubmit::Whole(message) => {
                let announcement = Announcement {
                    account: message.account.clone(),
                    destination: message.destination_msisdn.clone(),
                    wants_receipt: message.receipt.is_some(),
                };
                (SubmitToStore::Whole(message), announcement)
            }
            CheckedSubmit::Part { mut template, part, data_coding, octets } => {
                let announcement = Announcement {
                    account: template.account.clone(),
                    destination: template.destination.as_digits().to_owned(),
                    wants_receipt: template.wants_receipt,
                };
                let part = NewPart {
                    message_id: MessageId::generate(),
                    account: announcement.account.clone(),
                    source: template.source.clone(),
                    destination_msisdn: announcement.destination.clone(),
                    part,
                    data_coding,
                    octets,
                    wants_receipt: template.wants_receipt,
                    now_ms: now_unix_millis(),
                };
                // Each part is receipted under its own ID; the reassembled whole, whose ID no ESME knows, is not.
                template.wants_receipt = false;
                let assemble =
                    move |coding: u8, whole: &[u8]| message_text(coding, whole).map(|text| template.build(text));
                (SubmitToStore::Part { part, assemble: Box::new(assemble) }, announcement)
            }
        }
    }
}

/// Who a stored MT is announced for (metrics, log line, receipt wake-up).
struct Announcement {
    account: String,
    destination: String,
    wants_receipt: bool,
}

struct Answer {
    outcome: Result<String, CommandStatus>,
    /// A new MT was stored (not a resubmission, not a part waiting for the others).
    stored: bool,
}

fn answer_stored(state: &AppState, outcome: Result<StoredSubmit, StoreError>, announcement: &Announcement) -> Answer {
    let outcome = match outcome {
        Ok(StoredSubmit::Stored { message_id }) => {
            state.metrics.mt_submitted.inc();
            let Announcement { account: system_id, destination, .. } = announcement;
            tracing::info!(
                %system_id,
                %message_id,
                to = %Msisdn::parse(destination).map(|msisdn| msisdn.masked()).unwrap_or_default(),
                "mt stored"
            );
            return Answer { outcome: Ok(message_id), stored: true };
        }
        Ok(StoredSubmit::Resubmitted { message_id }) => {
            tracing::info!(system_id = %announcement.account, %message_id, "resubmitted mt answered with its original id");
            Ok(message_id)
        }
        Ok(StoredSubmit::PartWaiting { message_id }) => Ok(message_id),
        Ok(StoredSubmit::PartsRefused) => Err(CommandStatus::EsmeRinvmsglen),
        Err(error) => {
            tracing::error!(%error, "cannot store an mt");
            Err(CommandStatus::EsmeRsyserr)
        }
    };
    Answer { outcome, stored: false }
}
