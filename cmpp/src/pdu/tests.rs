//! Byte-exact vectors written from the layouts in the specification, and property tests over every PDU.

use super::*;
use crate::fee::{Fee, FeeCode, FeeType, FeeUserType};
use crate::msg_id::MsgId;
use crate::text::MsgFmt;
use proptest::prelude::*;

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16).expect("hex"))
        .collect()
}

fn padded(text: &str, width: usize) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    bytes.resize(width, 0);
    bytes
}

#[test]
fn authenticator_source_is_the_md5_of_address_zeros_secret_and_timestamp() {
    // MD5("901234" ‖ 9 × 0x00 ‖ "secret" ‖ "0102030405"), computed with Python's hashlib.
    let expected = hex("1c39df8b9c01798a8f35c3c785cf91ce");
    assert_eq!(authenticator_source("901234", "secret", 102_030_405).to_vec(), expected);
    let ismg = authenticator_ismg(ConnectStatus::Ok, &authenticator_source("901234", "secret", 102_030_405), "secret");
    assert_eq!(ismg.to_vec(), hex("9e21b4ca73ef610ad7e2a0c6990e1098"));
}

#[test]
fn a_connect_encodes_byte_for_byte() {
    let connect = Connect::new("901234", "secret", Version::V3, 102_030_405);
    let bytes = Pdu::new(7, PduBody::Connect(connect.clone())).encode(Version::V3).unwrap();
    let mut expected = hex("00000027 00000001 00000007");
    expected.extend_from_slice(b"901234");
    expected.extend(hex("1c39df8b9c01798a8f35c3c785cf91ce 30 0614dc45"));
    assert_eq!(bytes, expected);
    assert_eq!(Pdu::decode(&bytes, Version::V2).unwrap().body, PduBody::Connect(connect.clone()));
    assert!(connect.is_authentic("secret"));
    assert!(!connect.is_authentic("Secret"));
}

#[test]
fn a_client_that_does_not_pad_the_timestamp_digits_still_authenticates() {
    let mut connect = Connect::new("901234", "secret", Version::V2, 102_030_405);
    connect.authenticator_source.copy_from_slice(&hex("7a1acf577c3b715aad131fc55324e831"));
    assert!(connect.is_authentic("secret"));
}

#[test]
fn connect_resp_has_a_one_byte_status_in_2_0_and_four_bytes_in_3_0() {
    let connect = Connect::new("901234", "secret", Version::V2, 102_030_405);
    let response = ConnectResp::answer(&connect, ConnectStatus::Ok, "secret", Version::V2);
    let v2 = Pdu::new(1, PduBody::ConnectResp(response.clone())).encode(Version::V2).unwrap();
    assert_eq!(v2, hex("0000001e 80000001 00000001 00 9e21b4ca73ef610ad7e2a0c6990e1098 20"));
    let refused = ConnectResp::answer(&connect, ConnectStatus::AuthenticationFailed, "secret", Version::V3);
    let v3 = Pdu::new(1, PduBody::ConnectResp(refused.clone())).encode(Version::V3).unwrap();
    assert_eq!(v3, hex("00000021 80000001 00000001 00000003 00000000000000000000000000000000 30"));
    // Read by length, whatever the reader expected.
    assert_eq!(Pdu::decode(&v3, Version::V2).unwrap().body, PduBody::ConnectResp(refused));
    assert_eq!(Pdu::decode(&v2, Version::V3).unwrap().body, PduBody::ConnectResp(response));
}

#[test]
fn active_test_and_terminate_are_header_only_and_the_answer_has_a_reserved_byte() {
    assert_eq!(Pdu::new(9, PduBody::ActiveTest).encode(Version::V2).unwrap(), hex("0000000c 00000008 00000009"));
    assert_eq!(Pdu::new(9, PduBody::Terminate).encode(Version::V3).unwrap(), hex("0000000c 00000002 00000009"));
    let answer = Pdu::new(9, PduBody::ActiveTestResp { reserved: 0 }).encode(Version::V2).unwrap();
    assert_eq!(answer, hex("0000000d 80000008 00000009 00"));
    let bare = hex("0000000c 80000008 00000009");
    assert_eq!(Pdu::decode(&bare, Version::V2).unwrap().body, PduBody::ActiveTestResp { reserved: 0 });
}

#[test]
fn query_and_its_answer_follow_the_specified_layout_in_both_versions() {
    let query = Query {
        time: "20261207".into(),
        query_type: QUERY_TYPE_SERVICE,
        query_code: "BIND".into(),
        ..Query::default()
    };
    let mut expected = hex("00000027 00000006 00000003");
    expected.extend(b"20261207");
    expected.push(1);
    expected.extend(padded("BIND", 10));
    expected.extend([0; 8]);
    for version in [Version::V2, Version::V3] {
        let bytes = Pdu::new(3, PduBody::Query(query.clone())).encode(version).unwrap();
        assert_eq!(bytes, expected);
        assert_eq!(Pdu::decode(&bytes, version).unwrap().body, PduBody::Query(query.clone()));
    }
    let answer = QueryResp {
        time: "20261207".into(),
        query_type: QUERY_TYPE_TOTAL,
        query_code: String::new(),
        counts: counts_from([1, 2, 3, 4, 5, 6, 7, 8]),
    };
    let bytes = Pdu::new(3, PduBody::QueryResp(answer.clone())).encode(Version::V2).unwrap();
    assert_eq!(bytes.len(), 12 + 8 + 1 + 10 + 8 * 4);
    assert_eq!(&bytes[31..39], &hex("00000001 00000002"));
    assert_eq!(&bytes[bytes.len() - 4..], &hex("00000008"));
    assert_eq!(Pdu::decode(&bytes, Version::V3).unwrap().body, PduBody::QueryResp(answer));
}

#[test]
fn cancel_carries_the_msg_id_and_its_answer_is_one_byte_in_2_0_and_four_in_3_0() {
    let cancel = Pdu::new(4, PduBody::Cancel(Cancel { msg_id: MsgId::from_u64(0x0102_0304_0506_0708) }));
    assert_eq!(cancel.encode(Version::V2).unwrap(), hex("00000014 00000007 00000004 0102030405060708"));
    let v2 = Pdu::new(4, PduBody::CancelResp(CancelResp::NOT_CANCELLED)).encode(Version::V2).unwrap();
    assert_eq!(v2, hex("0000000d 80000007 00000004 01"));
    let v3 = Pdu::new(4, PduBody::CancelResp(CancelResp::CANCELLED)).encode(Version::V3).unwrap();
    assert_eq!(v3, hex("00000010 80000007 00000004 00000000"));
    assert_eq!(Pdu::decode(&v3, Version::V3).unwrap().body, PduBody::CancelResp(CancelResp::CANCELLED));
    assert!(Pdu::decode(&v2, Version::V3).is_err(), "a 2.0 answer is too short for the 3.0 layout");
}

fn sample_submit() -> Submit {
    Submit {
        pk_total: 1,
        pk_number: 1,
        registered_delivery: 1,
        service_id: "BIND".into(),
        fee: Fee {
            user_type: FeeUserType::FeeTerminal,
            terminal_id: "13800138000".into(),
            terminal_type: 0,
            fee_type: FeeType::PerMessage,
            fee_code: FeeCode::from_fen(150).unwrap(),
        },
        msg_fmt: MsgFmt::Ascii,
        msg_src: "901234".into(),
        src_id: "1065800".into(),
        dest_terminal_ids: vec!["13800138000".into()],
        msg_content: bytes::Bytes::from_static(b"hello"),
        ..Submit::default()
    }
}

#[test]
fn a_2_0_submit_follows_the_specified_layout() {
    let bytes = Pdu::new(3, PduBody::Submit(Box::new(sample_submit()))).encode(Version::V2).unwrap();
    let mut expected = hex("00000000 00000004 00000003 0000000000000000 01 01 01 00");
    expected.extend(padded("BIND", 10));
    expected.push(3);
    expected.extend(padded("13800138000", 21));
    expected.extend([0, 0, 0]); // TP_pId, TP_udhi, Msg_Fmt
    expected.extend(padded("901234", 6));
    expected.extend(b"02000150");
    expected.extend([0; 34]); // ValId_Time, At_Time
    expected.extend(padded("1065800", 21));
    expected.push(1);
    expected.extend(padded("13800138000", 21));
    expected.extend(b"\x05hello");
    expected.extend([0; 8]); // Reserve
    let length = expected.len() as u32;
    expected[..4].copy_from_slice(&length.to_be_bytes());
    assert_eq!(length, 12 + 147 + 5);
    assert_eq!(bytes, expected);
}

#[test]
fn a_3_0_submit_has_wide_terminals_their_types_and_a_link_id() {
    let mut submit = sample_submit();
    submit.link_id = "link-1".into();
    let bytes = Pdu::new(3, PduBody::Submit(Box::new(submit.clone()))).encode(Version::V3).unwrap();
    // 2.0's 147 fixed bytes + 11 + 1 (fee terminal) + 11 + 1 (destination) + 12 (LinkID over Reserve).
    assert_eq!(bytes.len(), 12 + 147 + 36 + 5);
    assert_eq!(Pdu::decode(&bytes, Version::V3).unwrap().body, PduBody::Submit(Box::new(submit)));
    assert!(Pdu::decode(&bytes, Version::V2).is_err());
}

#[test]
fn a_3_0_status_report_is_71_bytes_and_a_gocmpp_style_60_byte_one_also_reads() {
    let report = StatusReport {
        msg_id: MsgId::from_u64(0x0102_0304_0506_0708),
        stat: STAT_DELIVERED.into(),
        submit_time: "2612071500".into(),
        done_time: "2612071501".into(),
        dest_terminal_id: "13800138000".into(),
        smsc_sequence: 42,
    };
    let wide = report.encode(Version::V3).unwrap();
    assert_eq!(wide.len(), 71);
    assert_eq!(&wide[..15], &hex("0102030405060708 44454c49565244")[..]);
    assert_eq!(&wide[67..], &[0, 0, 0, 42]);
    assert_eq!(StatusReport::decode(&wide).unwrap(), report);
    assert_eq!(StatusReport::decode(&report.encode(Version::V2).unwrap()).unwrap(), report);
    let deliver = Deliver { registered_delivery: 1, msg_content: wide.into(), ..Deliver::default() };
    assert!(deliver.status_report().unwrap().unwrap().is_delivered());
}

#[test]
fn a_msg_length_that_disagrees_with_the_body_is_refused_with_result_4() {
    let mut bytes = Pdu::new(3, PduBody::Submit(Box::new(sample_submit()))).encode(Version::V2).unwrap();
    let position = bytes.len() - 8 - 5 - 1;
    assert_eq!(bytes[position], 5);
    bytes[position] = 6;
    let error = Pdu::decode(&bytes, Version::V2).unwrap_err();
    assert_eq!(error, DecodeError::InvalidMsgLength { declared: 6, available: 5 });
    assert_eq!(error.submit_result(), SubmitResult::InvalidLength);
}

#[test]
fn a_fee_code_that_is_not_decimal_is_refused_with_result_5() {
    let mut bytes = Pdu::new(3, PduBody::Submit(Box::new(sample_submit()))).encode(Version::V2).unwrap();
    let fee_code_at = 12 + 8 + 4 + 10 + 1 + 21 + 3 + 6 + 2;
    assert_eq!(&bytes[fee_code_at..fee_code_at + 6], b"000150");
    bytes[fee_code_at] = b'x';
    assert_eq!(Pdu::decode(&bytes, Version::V2).unwrap_err().submit_result(), SubmitResult::InvalidFeeCode);
}

#[test]
fn values_that_do_not_fit_the_layout_are_refused_when_encoding() {
    let mut submit = sample_submit();
    submit.dest_terminal_ids = vec!["8".repeat(25)];
    let pdu = Pdu::new(1, PduBody::Submit(Box::new(submit)));
    assert!(pdu.encode(Version::V3).is_ok());
    assert_eq!(pdu.encode(Version::V2), Err(EncodeError::FieldTooLong { field: "Dest_terminal_Id", width: 21 }));
    let response = SubmitResp { msg_id: MsgId::default(), result: SubmitResult::Other(300) };
    assert!(Pdu::new(1, PduBody::SubmitResp(response)).encode(Version::V2).is_err());
}

#[test]
fn lengths_outside_the_limits_are_refused() {
    assert_eq!(check(&[0, 0, 0, 8, 0, 0]), Err(FrameError::TooShort { length: 8 }));
    assert_eq!(check(&[0, 1, 0, 1]), Err(FrameError::TooLong { length: 65537, limit: MAX_PDU_LENGTH }));
    assert_eq!(check_with_limit(&[0, 0, 0, 40], 39), Err(FrameError::TooLong { length: 40, limit: 39 }));
}

fn ascii(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ -~]{{0,{max}}}")).expect("regex")
}

fn version_strategy() -> impl Strategy<Value = Version> {
    prop_oneof![Just(Version::V2), Just(Version::V3)]
}

fn submit_strategy(version: Version) -> impl Strategy<Value = Submit> {
    let width = version.terminal_id_width();
    let v3 = version.is_v3();
    let numbers = (any::<u64>(), any::<[u8; 10]>(), 0u32..=999_999);
    let texts = (ascii(10), ascii(width), ascii(6), ascii(17), ascii(17), ascii(21), ascii(version.link_id_width()));
    let payload = (proptest::collection::vec(ascii(width), 1..4), proptest::collection::vec(any::<u8>(), 0..=255));
    (numbers, texts, payload).prop_map(
        move |(
            (msg_id, flags, fen),
            (service, fee_terminal, src, valid, at, src_id, link),
            (destinations, content),
        )| {
            Submit {
                msg_id: MsgId::from_u64(msg_id),
                pk_total: flags[0],
                pk_number: flags[1],
                registered_delivery: flags[2],
                msg_level: flags[3],
                service_id: service,
                fee: Fee {
                    user_type: FeeUserType::from(flags[4]),
                    terminal_id: fee_terminal,
                    terminal_type: if v3 { flags[5] } else { 0 },
                    fee_type: FeeType::from(flags[6] % 100),
                    fee_code: FeeCode::from_fen(fen).expect("in range"),
                },
                tp_pid: flags[7],
                tp_udhi: flags[8],
                msg_fmt: MsgFmt::from(flags[9]),
                msg_src: src,
                valid_time: valid,
                at_time: at,
                src_id,
                dest_terminal_ids: destinations,
                dest_terminal_type: if v3 { flags[5] } else { 0 },
                msg_content: content.into(),
                link_id: link,
            }
        },
    )
}

fn deliver_strategy(version: Version) -> impl Strategy<Value = Deliver> {
    let v3 = version.is_v3();
    let texts = (ascii(21), ascii(10), ascii(version.terminal_id_width()), ascii(version.link_id_width()));
    (any::<u64>(), any::<[u8; 5]>(), texts, proptest::collection::vec(any::<u8>(), 0..=255)).prop_map(
        move |(msg_id, flags, (dest_id, service_id, src, link_id), content)| Deliver {
            msg_id: MsgId::from_u64(msg_id),
            dest_id,
            service_id,
            tp_pid: flags[0],
            tp_udhi: flags[1],
            msg_fmt: MsgFmt::from(flags[2]),
            src_terminal_id: src,
            src_terminal_type: if v3 { flags[3] } else { 0 },
            registered_delivery: flags[4],
            msg_content: content.into(),
            link_id,
        },
    )
}

fn body_strategy(version: Version) -> impl Strategy<Value = PduBody> {
    let result_limit = if version.is_v3() { u32::MAX } else { 255 };
    prop_oneof![
        (ascii(6), any::<[u8; 16]>(), any::<u8>(), any::<u32>()).prop_map(
            |(source_addr, authenticator_source, version, timestamp)| PduBody::Connect(Connect {
                source_addr,
                authenticator_source,
                version,
                timestamp
            })
        ),
        (0..=result_limit, any::<[u8; 16]>(), any::<u8>()).prop_map(|(status, authenticator_ismg, version)| {
            PduBody::ConnectResp(ConnectResp { status: ConnectStatus::from(status), authenticator_ismg, version })
        }),
        Just(PduBody::Terminate),
        Just(PduBody::TerminateResp),
        Just(PduBody::ActiveTest),
        any::<u8>().prop_map(|reserved| PduBody::ActiveTestResp { reserved }),
        submit_strategy(version).prop_map(|submit| PduBody::Submit(Box::new(submit))),
        deliver_strategy(version).prop_map(|deliver| PduBody::Deliver(Box::new(deliver))),
        (any::<u64>(), 0..=result_limit).prop_map(|(msg_id, result)| PduBody::SubmitResp(SubmitResp {
            msg_id: MsgId::from_u64(msg_id),
            result: SubmitResult::from(result)
        })),
        (any::<u64>(), 0..=result_limit).prop_map(|(msg_id, result)| PduBody::DeliverResp(DeliverResp {
            msg_id: MsgId::from_u64(msg_id),
            result: SubmitResult::from(result)
        })),
        (ascii(8), any::<u8>(), ascii(10), ascii(8)).prop_map(|(time, query_type, query_code, reserve)| {
            PduBody::Query(Query { time, query_type, query_code, reserve })
        }),
        (ascii(8), any::<u8>(), ascii(10), any::<[u32; 8]>()).prop_map(|(time, query_type, query_code, counts)| {
            PduBody::QueryResp(QueryResp { time, query_type, query_code, counts: counts_from(counts) })
        }),
        any::<u64>().prop_map(|msg_id| PduBody::Cancel(Cancel { msg_id: MsgId::from_u64(msg_id) })),
        (0..=result_limit).prop_map(|success_id| PduBody::CancelResp(CancelResp { success_id })),
        proptest::collection::vec(any::<u8>(), 0..40)
            .prop_map(|body| PduBody::Other { command_id: CommandId::Fwd, body: body.into() }),
    ]
}

fn counts_from(values: [u32; 8]) -> QueryCounts {
    let [mt_total_messages, mt_total_users, mt_succeeded, mt_waiting, mt_failed, mo_succeeded, mo_waiting, mo_failed] =
        values;
    QueryCounts {
        mt_total_messages,
        mt_total_users,
        mt_succeeded,
        mt_waiting,
        mt_failed,
        mo_succeeded,
        mo_waiting,
        mo_failed,
    }
}

fn versioned_body() -> impl Strategy<Value = (Version, PduBody)> {
    version_strategy().prop_flat_map(|version| (Just(version), body_strategy(version)))
}

proptest! {
    #[test]
    fn every_pdu_kind_round_trips_in_both_versions((version, body) in versioned_body(), sequence in any::<u32>()) {
        let pdu = Pdu::new(sequence, body);
        let bytes = pdu.encode(version).expect("fits the layout");
        prop_assert_eq!(check(&bytes), Ok(bytes.len()));
        prop_assert_eq!(Pdu::decode(&bytes, version), Ok(pdu));
    }

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = check(&bytes);
        let _ = Pdu::decode(&bytes, Version::V2);
        let _ = Pdu::decode(&bytes, Version::V3);
        let _ = StatusReport::decode(&bytes);
    }

    #[test]
    fn decode_never_panics_on_a_valid_header_with_an_arbitrary_body(id in prop_oneof![Just(1u32), Just(0x8000_0001), Just(4), Just(0x8000_0004), Just(5), Just(0x8000_0005), Just(6), Just(0x8000_0006), Just(7), Just(0x8000_0007), Just(0x8000_0008)], sequence in any::<u32>(), junk in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut bytes = Vec::new();
        bytes.put_u32((HEADER_LENGTH + junk.len()) as u32);
        bytes.put_u32(id);
        bytes.put_u32(sequence);
        bytes.extend_from_slice(&junk);
        for version in [Version::V2, Version::V3] {
            if let Ok(pdu) = Pdu::decode(&bytes, version) {
                let again = pdu.encode(Pdu::layout_of(&bytes, version)).expect("a decoded pdu encodes");
                prop_assert_eq!(Pdu::decode(&again, version), Ok(pdu));
            }
        }
        prop_assert_eq!(Header::parse(&bytes).map(|header| header.sequence_id), Ok(sequence));
    }

    #[test]
    fn truncated_input_is_incomplete((version, body) in versioned_body(), cut in 0usize..5000) {
        let bytes = Pdu::new(7, body).encode(version).expect("fits");
        let cut = cut % bytes.len();
        prop_assert_eq!(check(&bytes[..cut]), Err(FrameError::Incomplete));
    }
}

#[test]
fn every_committed_fuzz_seed_decodes_and_round_trips() {
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/cmpp_pdu");
    let mut seeds = 0;
    for entry in std::fs::read_dir(directory).expect("the seed directory exists") {
        let path = entry.expect("an entry").path();
        let bytes = std::fs::read(&path).expect("a readable seed");
        let version = if path.to_string_lossy().ends_with("v3") { Version::V3 } else { Version::V2 };
        let pdu = Pdu::decode(&bytes, version).unwrap_or_else(|error| panic!("{path:?}: {error}"));
        assert_eq!(pdu.encode(Pdu::layout_of(&bytes, version)).unwrap(), bytes, "{path:?}");
        seeds += 1;
    }
    assert!(seeds >= 8);
}
