//! Between CMPP PDUs and the message store: a SUBMIT checked (flow control, destination, content, fee) into what
//! the store writes, the 64-bit `Msg_Id` of stored messages, and the DELIVER of a queued MO or status report.

use crate::config::EsmeAccount;
use crate::domain::message::{Direction, MessageId};
use crate::domain::receipt::{receipt_text, FinalState};
use crate::state::AppState;
use crate::store::{MobileTerminatedFee, NewMobileTerminated, NewPart, QueuedDelivery, SubmitToStore};
use numbind_cmpp::concatenation::{parse_user_data_header, split_content};
use numbind_cmpp::text::{decode_text, encode_text};
use numbind_cmpp::{CivilTime, Deliver, MsgFmt, MsgId, StatusReport, Submit, SubmitResult};
use numbind_process::clock::now_unix_millis;
use numbind_wire::Msisdn;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The gateway code in every `Msg_Id` this ISMG makes (22 bits).
const GATEWAY_CODE: u32 = 0x0A_0001;
/// `Stat` of a delivered message in a status report.
const STAT_DELIVERED: &str = "DELIVRD";
/// `Stat` of a message that never reached the phone (a part whose siblings never arrived).
const STAT_UNDELIVERABLE: &str = "UNDELIV";

/// A SUBMIT that passed every check that needs no store.
pub(super) struct CheckedSubmit {
    pub(super) msg_id: MsgId,
    pub(super) to_store: SubmitToStore,
    pub(super) fee: MobileTerminatedFee,
}

/// Flow control, then the SUBMIT's fields; the Result to refuse it with otherwise. One destination per SUBMIT.
pub(super) fn check_submit(
    state: &AppState,
    account: &EsmeAccount,
    submit: &Submit,
) -> Result<CheckedSubmit, SubmitResult> {
    if !state.submit_throttle.try_take(&account.system_id, account.max_submits_per_second) {
        state.metrics.throttled.inc();
        return Err(SubmitResult::FlowControl);
    }
    let [destination] = submit.dest_terminal_ids.as_slice() else {
        return Err(SubmitResult::InvalidDestTerminalId);
    };
    let destination = Msisdn::parse(destination).map_err(|_| SubmitResult::InvalidDestTerminalId)?;
    let msg_id = next_mt_msg_id();
    let template = Template {
        msg_id,
        // pycmpp and others leave Src_Id empty: the account's first service code stands in for it.
        source: match submit.src_id.as_str() {
            "" => account.routes.first().map(|code| code.as_str().to_owned()).unwrap_or(account.system_id.clone()),
            source => source.to_owned(),
        },
        destination,
        account: account.system_id.clone(),
        wants_receipt: submit.registered_delivery == 1,
    };
    let fee = MobileTerminatedFee {
        service_id: submit.service_id.clone(),
        fee_user_type: submit.fee.user_type.value(),
        fee_type: submit.fee.fee_type.value(),
        fee_code_fen: submit.fee.fee_code.fen(),
        fee_terminal_id: submit.fee.terminal_id.clone(),
    };
    let to_store = to_store(submit, template)?;
    Ok(CheckedSubmit { msg_id, to_store, fee })
}

fn to_store(submit: &Submit, mut template: Template) -> Result<SubmitToStore, SubmitResult> {
    let (concatenation, octets) = if submit.tp_udhi == 1 {
        parse_user_data_header(&submit.msg_content).ok_or(SubmitResult::InvalidStructure)?
    } else {
        (None, &submit.msg_content[..])
    };
    match concatenation.filter(|part| part.total > 1) {
        Some(part) => {
            // Each part is stored and receipted under its own Msg_Id, the one its SUBMIT_RESP answered; the
            // reassembled whole, whose ID no provider knows, is not receipted.
            let new_part = NewPart {
                message_id: message_id_of(template.msg_id),
                account: template.account.clone(),
                source: template.source.clone(),
                destination_msisdn: template.destination.as_digits().to_owned(),
                part: crate::domain::concatenation::ConcatenatedPart {
                    reference: part.reference,
                    total: part.total,
                    sequence: part.number,
                },
                data_coding: submit.msg_fmt.value(),
                octets: octets.to_vec(),
                wants_receipt: template.wants_receipt,
                now_ms: now_unix_millis(),
            };
            template.wants_receipt = false;
            let assemble = move |format: u8, whole: &[u8]| {
                decode_text(MsgFmt::from(format), whole).ok().map(|text| template.build(text))
            };
            Ok(SubmitToStore::Part { part: new_part, assemble: Box::new(assemble) })
        }
        None => {
            let text = decode_text(submit.msg_fmt, octets).map_err(|_| SubmitResult::InvalidStructure)?;
            Ok(SubmitToStore::Whole(template.build(text)))
        }
    }
}

/// What the MT built from one SUBMIT (or from all its parts) has.
struct Template {
    msg_id: MsgId,
    source: String,
    destination: Msisdn,
    account: String,
    wants_receipt: bool,
}

impl Template {
    fn build(self, text: String) -> NewMobileTerminated {
        let message_id = message_id_of(self.msg_id);
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
            client_reference: None,
            receipt,
            now_ms,
        }
    }
}

/// The store's ID of an MT submitted over CMPP: its `Msg_Id` in decimal, what `GET /v1/messages/{id}` takes.
pub(super) fn message_id_of(msg_id: MsgId) -> MessageId {
    MessageId::parse(&msg_id.value().to_string()).unwrap_or_else(|_| MessageId::generate())
}

/// A new MT `Msg_Id`: the China Standard Time now, our gateway code and a sequence that starts at a random
/// point, so that a restart within the same second does not reuse IDs.
fn next_mt_msg_id() -> MsgId {
    static SEQUENCE: std::sync::OnceLock<AtomicU16> = std::sync::OnceLock::new();
    let sequence = SEQUENCE.get_or_init(|| AtomicU16::new(uuid::Uuid::new_v4().as_u128() as u16));
    let now = CivilTime::china(SystemTime::now());
    MsgId::at(now, GATEWAY_CODE, sequence.fetch_add(1, Ordering::Relaxed)).unwrap_or(MsgId::from_u64(0))
}

/// The `Msg_Id` of a queued MO or report, the same on every redelivery: the time and low bits of its UUIDv7.
pub(super) fn msg_id_of_delivery(message_id: &MessageId) -> MsgId {
    let text = message_id.as_str();
    let unix_ms = text.get(..12).and_then(|hex| u64::from_str_radix(hex, 16).ok()).unwrap_or(0);
    let sequence = text.get(text.len().saturating_sub(4)..).and_then(|hex| u16::from_str_radix(hex, 16).ok());
    let time = CivilTime::china(UNIX_EPOCH + Duration::from_millis(unix_ms));
    MsgId::at(time, GATEWAY_CODE, sequence.unwrap_or(0)).unwrap_or(MsgId::from_u64(0))
}

/// Why a queued message cannot go out as DELIVERs (the delivery loop marks it failed).
#[derive(Debug, thiserror::Error)]
pub(super) enum DeliverBuildError {
    #[error("the message does not fit one deliver: {0}")]
    Encode(#[from] numbind_cmpp::EncodeError),
    #[error("the receipted message id is not a cmpp msg_id")]
    NotCmppMessage,
    #[error("the content needs more than 255 parts")]
    TooLong,
}

/// The DELIVERs for a queued MO (Registered_Delivery 0): one, or for a text longer than one DELIVER carries
/// the parts of a UDH-concatenated message (TP_udhi 1, `05 00 03 reference total number`, the same Msg_Fmt in
/// each); or the one DELIVER of a status report (Registered_Delivery 1). The same every time it is built, so
/// that a redelivery carries the same Msg_Ids and concatenation reference.
pub(super) fn build_delivers(
    delivery: &QueuedDelivery,
    version: numbind_cmpp::Version,
) -> Result<Vec<Deliver>, DeliverBuildError> {
    let template = Deliver {
        msg_id: msg_id_of_delivery(&delivery.message_id),
        dest_id: delivery.destination.clone(),
        src_terminal_id: delivery.source.clone(),
        ..Deliver::default()
    };
    if delivery.direction == Direction::Receipt {
        return Ok(vec![status_report_deliver(delivery, template, version)?]);
    }
    let (format, octets) = encode_text(&delivery.text);
    if octets.is_empty() {
        return Ok(vec![Deliver { msg_fmt: format, ..template }]);
    }
    let segments = split_content(format, &octets, concatenation_reference(&delivery.message_id))
        .map_err(|_| DeliverBuildError::TooLong)?;
    Ok(segments
        .into_iter()
        .map(|segment| Deliver {
            // Each part has its own Msg_Id (a provider may drop a repeated one as a redelivery).
            msg_id: part_msg_id(template.msg_id, segment.pk_number),
            tp_udhi: segment.tp_udhi,
            msg_fmt: segment.msg_fmt,
            msg_content: segment.content,
            ..template.clone()
        })
        .collect())
}

fn status_report_deliver(
    delivery: &QueuedDelivery,
    mut deliver: Deliver,
    version: numbind_cmpp::Version,
) -> Result<Deliver, DeliverBuildError> {
    let receipted = delivery.receipted_message_id.as_deref().and_then(|id| id.parse::<u64>().ok());
    let now = CivilTime::china(SystemTime::now());
    let time = now.report_time();
    let report = StatusReport {
        msg_id: MsgId::from_u64(receipted.ok_or(DeliverBuildError::NotCmppMessage)?),
        stat: match delivery.receipt_state {
            FinalState::Delivered => STAT_DELIVERED,
            FinalState::Undeliverable => STAT_UNDELIVERABLE,
        }
        .to_owned(),
        submit_time: time.clone(),
        done_time: time,
        dest_terminal_id: delivery.source.clone(),
        smsc_sequence: 0,
    };
    deliver.registered_delivery = 1;
    deliver.msg_fmt = MsgFmt::Ascii;
    deliver.msg_content = report.encode(version)?.into();
    Ok(deliver)
}

/// The concatenation reference of a long MO: from its message ID, so the same on every redelivery.
fn concatenation_reference(message_id: &MessageId) -> u8 {
    message_id.as_str().bytes().fold(0u8, |sum, byte| sum.wrapping_add(byte))
}

/// The Msg_Id of part `number` (from 1): the first part's, its sequence field advanced by `number - 1`.
fn part_msg_id(first: MsgId, number: u8) -> MsgId {
    let mut fields = first.fields();
    fields.sequence = fields.sequence.wrapping_add(u16::from(number.saturating_sub(1)));
    MsgId::build(fields).unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(direction: Direction, receipted: Option<&str>) -> QueuedDelivery {
        QueuedDelivery {
            message_id: MessageId::generate(),
            direction,
            source: "13800138000".into(),
            destination: "1065800".into(),
            text: "绑定 BIND".into(),
            account: "901234".into(),
            receipted_message_id: receipted.map(str::to_owned),
            receipt_state: FinalState::Delivered,
            attempts: 0,
        }
    }

    fn build_deliver(delivery: &QueuedDelivery, version: numbind_cmpp::Version) -> Result<Deliver, DeliverBuildError> {
        let mut delivers = build_delivers(delivery, version)?;
        assert_eq!(delivers.len(), 1, "one deliver expected");
        Ok(delivers.remove(0))
    }

    #[test]
    fn an_mo_is_a_deliver_in_ucs2_with_the_same_msg_id_every_time() {
        let mo = queued(Direction::MobileOriginated, None);
        let deliver = build_deliver(&mo, numbind_cmpp::Version::V2).unwrap();
        assert_eq!(deliver.msg_fmt, MsgFmt::Ucs2);
        assert_eq!(decode_text(deliver.msg_fmt, &deliver.msg_content).unwrap(), "绑定 BIND");
        assert_eq!((deliver.registered_delivery, deliver.tp_udhi), (0, 0));
        assert_eq!(deliver.msg_id, build_deliver(&mo, numbind_cmpp::Version::V2).unwrap().msg_id);
        assert_ne!(deliver.msg_id.value(), 0);
    }

    #[test]
    fn a_long_mo_becomes_udh_parts_in_ucs2_with_their_own_msg_ids_the_same_on_every_redelivery() {
        let mut mo = queued(Direction::MobileOriginated, None);
        mo.text = format!("{}𠮷{}", "绑".repeat(66), "定".repeat(100));
        let parts = build_delivers(&mo, numbind_cmpp::Version::V3).unwrap();
        assert_eq!(parts.len(), 3);
        let reference = parts[0].msg_content[3];
        let mut whole = Vec::new();
        for (index, part) in parts.iter().enumerate() {
            assert_eq!((part.tp_udhi, part.msg_fmt, part.registered_delivery), (1, MsgFmt::Ucs2, 0));
            assert_eq!(&part.msg_content[..6], &[0x05, 0x00, 0x03, reference, 3, index as u8 + 1]);
            assert!(part.msg_content.len() <= 140);
            decode_text(MsgFmt::Ucs2, &part.msg_content[6..]).expect("no part ends inside a surrogate pair");
            whole.extend_from_slice(&part.msg_content[6..]);
            numbind_cmpp::Pdu::new(1, numbind_cmpp::PduBody::Deliver(Box::new(part.clone())))
                .encode(numbind_cmpp::Version::V2)
                .expect("each part fits one deliver");
        }
        assert_eq!(decode_text(MsgFmt::Ucs2, &whole).unwrap(), mo.text);
        let msg_ids: std::collections::HashSet<_> = parts.iter().map(|part| part.msg_id).collect();
        assert_eq!(msg_ids.len(), 3, "each part has its own msg_id");
        assert_eq!(build_delivers(&mo, numbind_cmpp::Version::V3).unwrap(), parts, "a redelivery is the same");
    }

    #[test]
    fn a_report_names_the_submitted_msg_id_and_a_non_cmpp_one_is_refused() {
        let deliver = build_deliver(&queued(Direction::Receipt, Some("1234567")), numbind_cmpp::Version::V3).unwrap();
        let report = deliver.status_report().unwrap().unwrap();
        assert_eq!(report.msg_id.value(), 1234567);
        assert!(report.is_delivered());
        assert_eq!(report.dest_terminal_id, "13800138000");
        let smpp_receipt = queued(Direction::Receipt, Some("0190abcdef"));
        assert!(matches!(
            build_deliver(&smpp_receipt, numbind_cmpp::Version::V3),
            Err(DeliverBuildError::NotCmppMessage)
        ));
    }

    #[test]
    fn new_msg_ids_differ_and_name_the_stored_message() {
        let (first, second) = (next_mt_msg_id(), next_mt_msg_id());
        assert_ne!(first, second);
        assert_eq!(message_id_of(first).as_str(), first.value().to_string());
    }
}
