//! deliver_sm construction for a queued MO (esm_class 0x00) or delivery receipt (esm_class 0x04), in the form
//! the bound ESME asked for: its number format, numbind's vendor TLV only when its account wants it, and no TLV
//! at all for a version 3.3 session (a text too long for one short_message goes there as UDH parts).

use crate::config::{EsmeAccount, NumberFormat};
use crate::domain::message::Direction;
use crate::domain::session_state::InterfaceVersion;
use crate::store::QueuedDelivery;
use numbind_smpp::encode_text;
use numbind_smpp::pdu::{self, ShortMessage, ESM_CLASS_DELIVERY_RECEIPT, ESM_CLASS_UDH_INDICATOR};
use numbind_smpp::text::DATA_CODING_UCS2;
use numbind_wire::Msisdn;

/// Type of number: international (SMPP 3.4 section 5.2.5).
const TON_INTERNATIONAL: u8 = 0x01;
/// Type of number: national.
const TON_NATIONAL: u8 = 0x02;
/// Numbering plan: ISDN (E.164).
const NPI_E164: u8 = 0x01;
/// The country code of the phones numbind serves.
const COUNTRY_CODE: &str = "86";
/// Longest `short_message`: its length field is one octet.
const MAX_SHORT_MESSAGE: usize = 254;
/// The GSM 03.38 escape to the extension table: a part never ends on it.
const GSM_ESCAPE: u8 = 0x1B;
/// Text octets per UDH part: 140 octets of user data less the 6-octet header (67 UCS-2 characters).
const PART_OCTETS: usize = 134;

/// How one bound ESME wants its deliver_sm.
#[derive(Debug, Clone, Copy)]
pub(super) struct DeliveryFormat {
    pub(super) number_format: NumberFormat,
    pub(super) vendor_tlvs: bool,
    pub(super) version: InterfaceVersion,
}

impl DeliveryFormat {
    pub(super) fn new(account: &EsmeAccount, version: InterfaceVersion) -> DeliveryFormat {
        DeliveryFormat { number_format: account.number_format, vendor_tlvs: account.vendor_tlvs, version }
    }
}

/// The deliver_sm of one delivery: one, or for a version 3.3 session a text over 254 octets as UDH parts.
pub(super) fn build_deliver_sms(delivery: &QueuedDelivery, format: DeliveryFormat) -> Vec<ShortMessage> {
    let (source_addr_ton, source_addr) = phone_address(&delivery.source, format.number_format);
    let mut message = ShortMessage {
        source_addr_ton,
        source_addr_npi: NPI_E164,
        source_addr,
        destination_addr: delivery.destination.clone(),
        esm_class: 0x00,
        ..ShortMessage::default()
    };
    if delivery.direction == Direction::Receipt {
        message.esm_class = ESM_CLASS_DELIVERY_RECEIPT;
    }
    let (data_coding, octets) = encode_text(&delivery.text);
    if !format.version.carries_tlvs() {
        message.data_coding = data_coding;
        if octets.len() <= MAX_SHORT_MESSAGE {
            message.short_message = octets.into();
            return vec![message];
        }
        return split_with_user_data_header(&message, delivery, &octets);
    }
    message.set_text_octets(data_coding, octets);
    if delivery.direction == Direction::Receipt {
        if let Some(receipted) = &delivery.receipted_message_id {
            let mut value = receipted.clone().into_bytes();
            value.push(0);
            message.set_tlv(pdu::TAG_RECEIPTED_MESSAGE_ID, value);
        }
        message.set_tlv(pdu::TAG_MESSAGE_STATE, vec![delivery.receipt_state.message_state()]);
    }
    if format.vendor_tlvs {
        message.set_tlv(pdu::TAG_SMSC_MESSAGE_ID, delivery.message_id.as_str().as_bytes().to_vec());
    }
    vec![message]
}

/// `template` with the octets cut into parts of at most `PART_OCTETS`, never inside a GSM escape or a UCS-2
/// surrogate pair, each behind a UDH (IEI 0x00) whose reference comes from the message ID.
fn split_with_user_data_header(template: &ShortMessage, delivery: &QueuedDelivery, octets: &[u8]) -> Vec<ShortMessage> {
    let ucs2 = template.data_coding == DATA_CODING_UCS2;
    let mut chunks = Vec::new();
    let mut rest = octets;
    while !rest.is_empty() {
        let mut cut = rest.len().min(PART_OCTETS);
        if cut < rest.len() && ucs2 {
            cut -= cut % 2;
            if (0xD8..=0xDB).contains(&rest[cut - 2]) {
                cut -= 2;
            }
        } else if cut < rest.len() && rest[cut - 1] == GSM_ESCAPE {
            cut -= 1;
        }
        chunks.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    let reference = delivery.message_id.as_str().bytes().fold(0u8, |sum, byte| sum.wrapping_add(byte));
    let total = chunks.len().min(255) as u8;
    chunks
        .into_iter()
        .take(255)
        .enumerate()
        .map(|(index, chunk)| {
            let mut user_data = vec![5, 0x00, 3, reference, total, index as u8 + 1];
            user_data.extend_from_slice(chunk);
            ShortMessage {
                esm_class: template.esm_class | ESM_CLASS_UDH_INDICATOR,
                short_message: user_data.into(),
                ..template.clone()
            }
        })
        .collect()
}

/// A phone number in the account's format (type of number and digits); anything that is not a phone number
/// (a short code) goes as it is, type unknown.
fn phone_address(digits: &str, format: NumberFormat) -> (u8, String) {
    let Ok(msisdn) = Msisdn::parse(digits) else { return (0x00, digits.to_owned()) };
    match format {
        NumberFormat::National => (TON_NATIONAL, msisdn.as_digits().to_owned()),
        NumberFormat::International => (TON_INTERNATIONAL, format!("{COUNTRY_CODE}{}", msisdn.as_digits())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::message::MessageId;
    use crate::domain::receipt::FinalState;
    use numbind_smpp::decode_text;

    fn queued(direction: Direction, receipt_state: FinalState) -> QueuedDelivery {
        QueuedDelivery {
            message_id: MessageId::parse("m1").unwrap(),
            direction,
            source: "13800138000".into(),
            destination: "10658000".into(),
            text: "绑定 BIND".into(),
            account: "oss".into(),
            receipted_message_id: Some("mt1".into()),
            receipt_state,
            attempts: 0,
        }
    }

    fn one(delivery: &QueuedDelivery, format: DeliveryFormat) -> ShortMessage {
        let mut messages = build_deliver_sms(delivery, format);
        assert_eq!(messages.len(), 1);
        messages.remove(0)
    }

    fn format(vendor_tlvs: bool, version: InterfaceVersion) -> DeliveryFormat {
        DeliveryFormat { number_format: NumberFormat::National, vendor_tlvs, version }
    }

    #[test]
    fn an_mo_is_a_plain_deliver_sm_with_a_national_number_and_no_vendor_tlv_by_default() {
        let message =
            one(&queued(Direction::MobileOriginated, FinalState::Delivered), format(false, InterfaceVersion::V34));
        assert_eq!((message.esm_class, message.data_coding), (0x00, 0x08));
        assert_eq!((message.source_addr_ton, message.source_addr.as_str()), (TON_NATIONAL, "13800138000"));
        assert!(message.tlvs.is_empty(), "{:?}", message.tlvs);
        assert_eq!(decode_text(message.data_coding, message.text_octets()).unwrap(), "绑定 BIND");
    }

    #[test]
    fn an_account_that_asks_gets_our_message_id_and_international_numbers() {
        let mut wanted = format(true, InterfaceVersion::V50);
        wanted.number_format = NumberFormat::International;
        let message = one(&queued(Direction::MobileOriginated, FinalState::Delivered), wanted);
        assert_eq!(message.ascii_tlv(pdu::TAG_SMSC_MESSAGE_ID).as_deref(), Some("m1"));
        assert_eq!((message.source_addr_ton, message.source_addr.as_str()), (TON_INTERNATIONAL, "8613800138000"));
    }

    #[test]
    fn a_receipt_carries_the_receipt_tlvs_with_its_state() {
        let message = one(&queued(Direction::Receipt, FinalState::Undeliverable), format(false, InterfaceVersion::V34));
        assert!(message.is_delivery_receipt());
        assert_eq!(message.ascii_tlv(pdu::TAG_RECEIPTED_MESSAGE_ID).as_deref(), Some("mt1"));
        assert_eq!(message.tlv(pdu::TAG_MESSAGE_STATE).map(|value| value.to_vec()), Some(vec![5]));
    }

    #[test]
    fn a_version_three_three_session_gets_no_tlv_and_a_long_text_in_udh_parts() {
        let mut long = queued(Direction::MobileOriginated, FinalState::Delivered);
        long.text = format!("{}𠮷{}", "绑".repeat(66), "定".repeat(100));
        let parts = build_deliver_sms(&long, format(true, InterfaceVersion::V33));
        assert_eq!(parts.len(), 3);
        let mut whole = Vec::new();
        for (index, part) in parts.iter().enumerate() {
            assert!(part.tlvs.is_empty(), "{:?}", part.tlvs);
            assert_eq!(part.esm_class, ESM_CLASS_UDH_INDICATOR);
            assert_eq!(&part.short_message[..6], &[5, 0, 3, part.short_message[3], 3, index as u8 + 1]);
            let text = &part.short_message[6..];
            assert!(text.len() <= PART_OCTETS && text.len() % 2 == 0);
            decode_text(part.data_coding, text).expect("no part ends inside a surrogate pair");
            whole.extend_from_slice(text);
        }
        assert_eq!(decode_text(0x08, &whole).unwrap(), long.text);
        let receipt = queued(Direction::Receipt, FinalState::Delivered);
        assert!(one(&receipt, format(true, InterfaceVersion::V33)).tlvs.is_empty());
    }
}
