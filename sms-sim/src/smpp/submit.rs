//! submit_sm handling (validate, throttle, store durably, then answer) and deliver_sm construction.

use crate::config::EsmeAccount;
use crate::domain::message::{Direction, MessageId};
use crate::domain::receipt::receipt_text;
use crate::state::{now_unix_ms, AppState};
use crate::store::{NewMobileTerminated, QueuedDelivery};
use numbind_smpp::pdu::{self, ShortMessage, ESM_CLASS_DELIVERY_RECEIPT, ESM_CLASS_UDH_INDICATOR};
use numbind_smpp::{decode_text, encode_text};
use numbind_wire::Msisdn;

/// Stores one MT and returns the message_id, or the command_status to refuse it with.
pub(super) async fn accept_submit(
    state: &AppState,
    account: &EsmeAccount,
    message: ShortMessage,
) -> Result<String, u32> {
    if !state.try_take_submit_token(&account.system_id, account.max_submits_per_second) {
        state.metrics.throttled.inc();
        return Err(pdu::ESME_RTHROTTLED);
    }
    let destination = Msisdn::parse(&message.destination_addr).map_err(|_| pdu::ESME_RINVDSTADR)?;
    if message.source_addr.is_empty() {
        return Err(pdu::ESME_RINVSRCADR);
    }
    let text = decode_text(message.data_coding, strip_user_data_header(&message)).map_err(|_| pdu::ESME_RINVMSGLEN)?;
    let message_id = MessageId::generate();
    let now_ms = now_unix_ms();
    let receipt = (message.registered_delivery & 0x01 == 0x01)
        .then(|| (MessageId::generate(), receipt_text(message_id.as_str(), now_ms, now_ms)));
    let new_message = NewMobileTerminated {
        message_id,
        source: message.source_addr.clone(),
        destination_msisdn: destination.as_digits().to_owned(),
        text,
        account: account.system_id.clone(),
        client_reference: message.ascii_tlv(pdu::TAG_CLIENT_REFERENCE),
        receipt,
        now_ms,
    };
    let wants_receipt = new_message.receipt.is_some();
    let stored = state.store.call(move |store| store.insert_mobile_terminated(&new_message)).await;
    match stored {
        Ok((message_id, newly_stored)) => {
            if newly_stored {
                state.metrics.mt_submitted.inc();
                tracing::info!(system_id = %account.system_id, %message_id, to = %destination, "mt stored");
                if wants_receipt {
                    state.delivery_wakeup.notify_one();
                }
            } else {
                tracing::info!(system_id = %account.system_id, %message_id, "resubmitted mt answered with its original id");
            }
            Ok(message_id)
        }
        Err(error) => {
            tracing::error!(%error, "cannot store an mt");
            Err(pdu::ESME_RSYSERR)
        }
    }
}

/// The text octets without a user data header (each concatenated part is kept as its own message).
fn strip_user_data_header(message: &ShortMessage) -> &[u8] {
    let octets = message.text_octets();
    if message.esm_class & ESM_CLASS_UDH_INDICATOR == 0 {
        return octets;
    }
    let header_length = octets.first().map(|length| usize::from(*length) + 1).unwrap_or(0);
    octets.get(header_length..).unwrap_or_default()
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

    #[test]
    fn a_user_data_header_is_stripped() {
        let message = ShortMessage {
            esm_class: ESM_CLASS_UDH_INDICATOR,
            short_message: bytes::Bytes::from_static(&[5, 0, 3, 7, 2, 1, b'h', b'i']),
            ..ShortMessage::default()
        };
        assert_eq!(strip_user_data_header(&message), b"hi");
    }
}
