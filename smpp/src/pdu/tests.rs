//! Round trips, fuzz-style properties and edge cases of the PDU codec.

use super::*;
use proptest::prelude::*;

fn ascii(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ -~]{{0,{max}}}")).expect("regex")
}

fn bind_strategy() -> impl Strategy<Value = Bind> {
    (ascii(15), ascii(8), ascii(12), any::<u8>(), any::<u8>(), any::<u8>(), ascii(40)).prop_map(
        |(system_id, password, system_type, interface_version, addr_ton, addr_npi, address_range)| Bind {
            system_id,
            password,
            system_type,
            interface_version,
            addr_ton,
            addr_npi,
            address_range,
        },
    )
}

fn short_message_strategy() -> impl Strategy<Value = ShortMessage> {
    let addresses = (ascii(5), any::<[u8; 4]>(), ascii(20), ascii(20), ascii(16), ascii(16));
    let flags = any::<[u8; 8]>();
    let payload = (
        proptest::collection::vec(any::<u8>(), 0..=254),
        proptest::collection::vec((any::<u16>(), proptest::collection::vec(any::<u8>(), 0..40)), 0..3),
    );
    (addresses, flags, payload).prop_map(
        |((service_type, tonnpi, source, destination, schedule, validity), flags, (text, tlvs))| ShortMessage {
            service_type,
            source_addr_ton: tonnpi[0],
            source_addr_npi: tonnpi[1],
            source_addr: source,
            dest_addr_ton: tonnpi[2],
            dest_addr_npi: tonnpi[3],
            destination_addr: destination,
            esm_class: flags[0],
            protocol_id: flags[1],
            priority_flag: flags[2],
            schedule_delivery_time: schedule,
            validity_period: validity,
            registered_delivery: flags[3],
            replace_if_present_flag: flags[4],
            data_coding: flags[5],
            sm_default_msg_id: flags[6],
            short_message: Bytes::from(text),
            tlvs: tlvs.into_iter().map(|(tag, value)| Tlv { tag, value: Bytes::from(value) }).collect(),
        },
    )
}

fn body_strategy() -> impl Strategy<Value = PduBody> {
    prop_oneof![
        bind_strategy().prop_map(PduBody::BindTransmitter),
        bind_strategy().prop_map(PduBody::BindReceiver),
        bind_strategy().prop_map(PduBody::BindTransceiver),
        ascii(15).prop_map(|system_id| PduBody::BindTransmitterResp { system_id }),
        ascii(15).prop_map(|system_id| PduBody::BindReceiverResp { system_id }),
        ascii(15).prop_map(|system_id| PduBody::BindTransceiverResp { system_id }),
        Just(PduBody::Unbind),
        Just(PduBody::UnbindResp),
        short_message_strategy().prop_map(PduBody::SubmitSm),
        ascii(64).prop_map(|message_id| PduBody::SubmitSmResp { message_id }),
        short_message_strategy().prop_map(PduBody::DeliverSm),
        ascii(64).prop_map(|message_id| PduBody::DeliverSmResp { message_id }),
        Just(PduBody::EnquireLink),
        Just(PduBody::EnquireLinkResp),
        Just(PduBody::GenericNack),
        (ascii(64), any::<[u8; 2]>(), ascii(20)).prop_map(|(message_id, tonnpi, source_addr)| PduBody::QuerySm(
            QuerySm { message_id, source_addr_ton: tonnpi[0], source_addr_npi: tonnpi[1], source_addr }
        )),
        (ascii(64), ascii(16), any::<[u8; 2]>()).prop_map(|(message_id, final_date, state)| PduBody::QuerySmResp(
            QuerySmResp { message_id, final_date, message_state: state[0], error_code: state[1] }
        )),
        Just(PduBody::CancelSmResp),
        Just(PduBody::ReplaceSmResp),
        ascii(64).prop_map(|message_id| PduBody::SubmitMultiResp { message_id }),
        ascii(64).prop_map(|message_id| PduBody::DataSmResp { message_id }),
        short_message_strategy().prop_map(|message| PduBody::DataSm(ShortMessage {
            protocol_id: 0,
            priority_flag: 0,
            schedule_delivery_time: String::new(),
            validity_period: String::new(),
            replace_if_present_flag: 0,
            sm_default_msg_id: 0,
            short_message: Bytes::new(),
            ..message
        })),
        proptest::collection::vec(any::<u8>(), 0..64)
            .prop_map(|body| PduBody::Other { command_id: CommandId::Outbind, body: Bytes::from(body) }),
    ]
}

proptest! {
    #[test]
    fn every_pdu_kind_round_trips(status in any::<u32>(), sequence in any::<u32>(), body in body_strategy()) {
        let pdu = Pdu { command_status: CommandStatus::from(status), sequence_number: sequence, body };
        let bytes = pdu.encode();
        prop_assert_eq!(check(&bytes), Ok(bytes.len()));
        if pdu.omits_body() {
            prop_assert_eq!(bytes.len(), HEADER_LENGTH);
            let decoded = Pdu::decode(&bytes).expect("an error response decodes");
            prop_assert!(decoded.omits_body());
            prop_assert_eq!(Pdu::decode(&decoded.encode()), Ok(decoded));
        } else {
            prop_assert_eq!(Pdu::decode(&bytes), Ok(pdu));
        }
    }

    /// The fuzz target's invariant, on frames that hold a body under any status (as a sloppy peer sends them).
    #[test]
    fn whatever_decodes_encodes_back_to_the_same_pdu(status in any::<u32>(), sequence in any::<u32>(), body in body_strategy()) {
        let mut bytes = Pdu::new(sequence, body).encode();
        bytes[8..12].copy_from_slice(&status.to_be_bytes());
        if let Ok(pdu) = Pdu::decode(&bytes) {
            prop_assert_eq!(Pdu::decode(&pdu.encode()), Ok(pdu));
        }
    }

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Pdu::decode(&bytes);
        let _ = check(&bytes);
    }

    #[test]
    fn a_garbled_body_still_exposes_its_header(id in prop_oneof![Just(CommandId::SubmitSm), Just(CommandId::BindTransmitter), Just(CommandId::DeliverSm)], sequence in any::<u32>(), junk in proptest::collection::vec(1u8..=255, 0..30)) {
        let mut bytes = Vec::new();
        bytes.put_u32((HEADER_LENGTH + junk.len()) as u32);
        bytes.put_u32(id.value());
        bytes.put_u32(0);
        bytes.put_u32(sequence);
        bytes.extend_from_slice(&junk);
        prop_assert!(Pdu::decode(&bytes).is_err());
        prop_assert_eq!(Header::parse(&bytes).map(|header| header.sequence_number), Ok(sequence));
    }

    #[test]
    fn truncated_input_is_incomplete(body in body_strategy(), cut in 0usize..1000) {
        let bytes = Pdu::new(7, body).encode();
        let cut = cut % bytes.len();
        prop_assert_eq!(check(&bytes[..cut]), Err(FrameError::Incomplete));
    }
}

#[test]
fn lengths_outside_the_limits_are_refused() {
    assert_eq!(check(&[0, 0, 0, 8, 0, 0]), Err(FrameError::TooShort { length: 8 }));
    assert_eq!(check(&[0, 1, 0, 1]), Err(FrameError::TooLong { length: 65537 }));
}

#[test]
fn an_unknown_command_decodes_as_other() {
    let bytes =
        Pdu::new(9, PduBody::Other { command_id: CommandId::SubmitMulti, body: Bytes::from_static(b"xyz") }).encode();
    let pdu = Pdu::decode(&bytes).expect("decodes");
    assert_eq!(pdu.command_id().value(), 0x21);
    assert_eq!(pdu.sequence_number, 9);
}

#[test]
fn an_error_response_that_carries_a_body_anyway_reads_without_it_and_encodes_back_the_same() {
    // submit_sm_resp, ESME_RTHROTTLED, with a message_id "ab" a sloppy SMSC left in.
    let bytes = [0, 0, 0, 19, 0x80, 0, 0, 4, 0, 0, 0, 0x58, 0, 0, 0, 3, b'a', b'b', 0];
    let pdu = Pdu::decode(&bytes).expect("decodes");
    assert_eq!(pdu.body, PduBody::SubmitSmResp { message_id: String::new() });
    assert_eq!(Pdu::decode(&pdu.encode()), Ok(pdu));
}

#[test]
fn an_error_submit_sm_resp_without_body_decodes() {
    let bytes = [0, 0, 0, 16, 0x80, 0, 0, 4, 0, 0, 0, 0x58, 0, 0, 0, 3];
    let pdu = Pdu::decode(&bytes).expect("decodes");
    assert_eq!(pdu.command_status, CommandStatus::EsmeRthrottled);
    assert_eq!(pdu.body, PduBody::SubmitSmResp { message_id: String::new() });
}

#[test]
fn an_error_response_is_sent_without_a_body() {
    let refusal = Pdu {
        command_status: CommandStatus::EsmeRinvpaswd,
        sequence_number: 1,
        body: PduBody::BindTransceiverResp { system_id: "numbind-smsc".into() },
    };
    assert_eq!(refusal.encode().len(), HEADER_LENGTH);
    let accepted = Pdu::new(2, PduBody::SubmitSmResp { message_id: "m1".into() });
    assert_eq!(accepted.encode().len(), HEADER_LENGTH + 3);
    let deliver_answer = Pdu {
        command_status: CommandStatus::EsmeRxTAppn,
        ..Pdu::new(3, PduBody::DeliverSmResp { message_id: String::new() })
    };
    assert_eq!(deliver_answer.encode().len(), HEADER_LENGTH + 1, "deliver_sm_resp always carries its empty id");
}

#[test]
fn an_overlong_system_id_is_a_field_error() {
    let bind = Bind { system_id: "x".repeat(20), ..Bind::default() };
    let bytes = Pdu::new(1, PduBody::BindTransmitter(bind)).encode();
    assert!(matches!(Pdu::decode(&bytes), Err(DecodeError::FieldTooLong { field: "system_id", .. })));
}
