//! submit_sm handling (throttle and validate at once, then store durably; answered after the commit) and
//! deliver_sm construction.

use crate::config::EsmeAccount;
use crate::domain::concatenation::{split_user_data_header, ConcatenatedPart};
use crate::domain::message::{Direction, MessageId};
use crate::domain::receipt::receipt_text;
use crate::state::{now_unix_ms, AppState};
use crate::store::{NewMobileTerminated, NewPart, PartOutcome, QueuedDelivery};
use numbind_smpp::pdu::{self, ShortMessage, ESM_CLASS_DELIVERY_RECEIPT, ESM_CLASS_UDH_INDICATOR};
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
) -> Result<CheckedSubmit, u32> {
    if !state.try_take_submit_token(&account.system_id, account.max_submits_per_second) {
        state.metrics.throttled.inc();
        return Err(pdu::ESME_RTHROTTLED);
    }
    let destination = Msisdn::parse(&message.destination_addr).map_err(|_| pdu::ESME_RINVDSTADR)?;
    if message.source_addr.is_empty() {
        return Err(pdu::ESME_RINVSRCADR);
    }
    let (part, octets) = if message.esm_class & ESM_CLASS_UDH_INDICATOR != 0 {
        split_user_data_header(message.text_octets()).ok_or(pdu::ESME_RINVMSGLEN)?
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
            let text = decode_text(message.data_coding, octets).map_err(|_| pdu::ESME_RINVMSGLEN)?;
            Ok(CheckedSubmit::Whole(template.build(text)))
        }
    }
}

/// Stores one checked MT (or one part of a concatenated MT) durably and returns its message_id, or the
/// command_status to refuse it with. Its submit_sm_resp is written only after this returns, so after the commit.
pub(super) async fn store_submit(state: &AppState, submit: CheckedSubmit) -> Result<String, u32> {
    match submit {
        CheckedSubmit::Whole(message) => store_whole(state, message).await,
        CheckedSubmit::Part { template, part, data_coding, octets } => {
            store_part(state, template, part, data_coding, octets).await
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
        let now_ms = now_unix_ms();
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

async fn store_whole(state: &AppState, message: NewMobileTerminated) -> Result<String, u32> {
    let wants_receipt = message.receipt.is_some();
    let (system_id, destination) = (message.account.clone(), message.destination_msisdn.clone());
    match state.store.call(move |store| store.insert_mobile_terminated(&message)).await {
        Ok((message_id, newly_stored)) => {
            if newly_stored {
                announce_mobile_terminated(state, &system_id, &message_id, &destination, wants_receipt);
            } else {
                tracing::info!(%system_id, %message_id, "resubmitted mt answered with its original id");
            }
            Ok(message_id)
        }
        Err(error) => {
            tracing::error!(%error, "cannot store an mt");
            Err(pdu::ESME_RSYSERR)
        }
    }
}

async fn store_part(
    state: &AppState,
    template: MobileTerminatedTemplate,
    part: ConcatenatedPart,
    data_coding: u8,
    octets: Vec<u8>,
) -> Result<String, u32> {
    let wants_receipt = template.wants_receipt;
    let (system_id, destination) = (template.account.clone(), template.destination.as_digits().to_owned());
    let new_part = NewPart {
        account: system_id.clone(),
        destination_msisdn: destination.clone(),
        part,
        data_coding,
        octets,
        now_ms: now_unix_ms(),
    };
    let assemble = move |coding: u8, whole: &[u8]| decode_text(coding, whole).ok().map(|text| template.build(text));
    match state.store.call(move |store| store.insert_mobile_terminated_part(&new_part, assemble)).await {
        Ok(PartOutcome::Waiting) => Ok(MessageId::generate().to_string()),
        Ok(PartOutcome::Completed { message_id }) => {
            announce_mobile_terminated(state, &system_id, &message_id, &destination, wants_receipt);
            Ok(message_id)
        }
        Ok(PartOutcome::Refused) => Err(pdu::ESME_RINVMSGLEN),
        Err(error) => {
            tracing::error!(%error, "cannot store an mt part");
            Err(pdu::ESME_RSYSERR)
        }
    }
}

fn announce_mobile_terminated(state: &AppState, system_id: &str, message_id: &str, destination: &str, receipt: bool) {
    state.metrics.mt_submitted.inc();
    let to = Msisdn::parse(destination).map(|msisdn| msisdn.masked()).unwrap_or_default();
    tracing::info!(%system_id, %message_id, %to, "mt stored");
    if receipt {
        state.delivery_wakeup.notify_one();
    }
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
