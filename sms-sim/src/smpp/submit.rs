//! submit_sm handling (throttle and validate at once, then store a window durably; answered after the commit) and
//! deliver_sm construction.

use crate::config::EsmeAccount;
use crate::domain::concatenation::{split_user_data_header, ConcatenatedPart};
use crate::domain::message::{Direction, MessageId};
use crate::domain::receipt::receipt_text;
use crate::state::AppState;
use crate::store::{NewMobileTerminated, NewPart, QueuedDelivery, StoreError, StoredSubmit, SubmitToStore};
use numbind_process::clock::now_unix_millis;
use numbind_smpp::pdu::{self, CommandStatus, ShortMessage, ESM_CLASS_DELIVERY_RECEIPT, ESM_CLASS_UDH_INDICATOR};
use numbind_smpp::{decode_text, encode_text};
use numbind_wire::Msisdn;

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
    let (part, octets) = if message.esm_class & ESM_CLASS_UDH_INDICATOR != 0 {
        split_user_data_header(message.text_octets()).ok_or(CommandStatus::EsmeRinvmsglen)?
    } else {
        (None, message.text_octets())
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
            let text = decode_text(message.data_coding, octets).map_err(|_| CommandStatus::EsmeRinvmsglen)?;
            Ok(CheckedSubmit::Whole(template.build(text)))
        }
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
        let receipt =
            self.wants_receipt.then(|| (MessageId::generate(), receipt_text(message_id.as_str(), now_ms, now_ms)));
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
            CheckedSubmit::Part { template, part, data_coding, octets } => {
                let announcement = Announcement {
                    account: template.account.clone(),
                    destination: template.destination.as_digits().to_owned(),
                    wants_receipt: template.wants_receipt,
                };
                let part = NewPart {
                    account: announcement.account.clone(),
                    destination_msisdn: announcement.destination.clone(),
                    part,
                    data_coding,
                    octets,
                    now_ms: now_unix_millis(),
                };
                let assemble =
                    move |coding: u8, whole: &[u8]| decode_text(coding, whole).ok().map(|text| template.build(text));
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
        Ok(StoredSubmit::PartWaiting) => Ok(MessageId::generate().to_string()),
        Ok(StoredSubmit::PartsRefused) => Err(CommandStatus::EsmeRinvmsglen),
        Err(error) => {
            tracing::error!(%error, "cannot store an mt");
            Err(CommandStatus::EsmeRsyserr)
        }
    };
    Answer { outcome, stored: false }
}

/// The deliver_sm for a queued MO (esm_class 0x00) or receipt (esm_class 0x04), with TLV 0x1401.
pub(super) fn build_deliver_sm(delivery: &QueuedDelivery) -> ShortMessage {
    let mut message = ShortMessage {
        source_addr_npi: 1,
        source_addr: delivery.source.clone(),
        destination_addr: delivery.destination.clone(),
        esm_class: 0x00,
        ..ShortMessage::default()
    };
    let (data_coding, octets) = encode_text(&delivery.text);
    message.set_text_octets(data_coding, octets);
    if delivery.direction == Direction::Receipt {
        message.esm_class = ESM_CLASS_DELIVERY_RECEIPT;
        if let Some(receipted) = &delivery.receipted_message_id {
            let mut value = receipted.clone().into_bytes();
            value.push(0);
            message.set_tlv(pdu::TAG_RECEIPTED_MESSAGE_ID, value);
        }
        message.set_tlv(pdu::TAG_MESSAGE_STATE, vec![2u8]);
    }
    message.set_tlv(pdu::TAG_SMSC_MESSAGE_ID, delivery.message_id.as_str().as_bytes().to_vec());
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(direction: Direction) -> QueuedDelivery {
        QueuedDelivery {
            message_id: MessageId::parse("m1").unwrap(),
            direction,
            source: "13800138000".into(),
            destination: "10658000".into(),
            text: "绑定 BIND".into(),
            account: "oss".into(),
            receipted_message_id: Some("mt1".into()),
            attempts: 0,
        }
    }

    #[test]
    fn an_mo_is_a_plain_deliver_sm_with_our_message_id() {
        let message = build_deliver_sm(&queued(Direction::MobileOriginated));
        assert_eq!(message.esm_class, 0x00);
        assert_eq!(message.data_coding, 0x08);
        assert_eq!(message.ascii_tlv(pdu::TAG_SMSC_MESSAGE_ID).as_deref(), Some("m1"));
        assert_eq!(decode_text(message.data_coding, message.text_octets()).unwrap(), "绑定 BIND");
    }

    #[test]
    fn a_receipt_carries_the_receipt_tlvs() {
        let message = build_deliver_sm(&queued(Direction::Receipt));
        assert!(message.is_delivery_receipt());
        assert_eq!(message.ascii_tlv(pdu::TAG_RECEIPTED_MESSAGE_ID).as_deref(), Some("mt1"));
        assert_eq!(message.tlv(pdu::TAG_MESSAGE_STATE).map(|value| value.to_vec()), Some(vec![2]));
    }
}
