//! What a third-party ESME expects of a carrier's SMS centre, over raw PDUs: concatenated parts with their own IDs
//! and receipts, error responses without a body, version 3.3 binds, no unknown TLV unless asked for, strict
//! message bodies, data codings, and every command answered in its own response type.

use crate::helpers::{bind_pdu, read_pdu, spawn_app, spawn_app_with, test_config, TestApp, PHONE, PLATFORM_PASSWORD};
use bytes::Bytes;
use numbind_smpp::pdu::{self, message_state, Bind, CommandId, CommandStatus, Pdu, PduBody, QuerySm, ShortMessage};
use numbind_smpp::{decode_text, encode_text, Connection};
use numbind_sms_sim::EsmeAccount;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SOURCE: &str = "10658000";

fn message(data_coding: u8, octets: &[u8]) -> ShortMessage {
    ShortMessage {
        source_addr: SOURCE.into(),
        destination_addr: PHONE.into(),
        data_coding,
        short_message: Bytes::copy_from_slice(octets),
        ..ShortMessage::default()
    }
}

/// Part `sequence` of 2 (UDH, 8-bit reference 0x2A), asking for a receipt.
fn part(sequence: u8, octets: &[u8]) -> ShortMessage {
    let mut user_data = vec![5, 0x00, 3, 0x2A, 2, sequence];
    user_data.extend_from_slice(octets);
    let mut part = message(0x08, &user_data);
    part.esm_class = pdu::ESM_CLASS_UDH_INDICATOR;
    part.registered_delivery = 1;
    part
}

async fn bound(app: &TestApp, system_id: &str, password: &str) -> Connection {
    let mut connection = app.raw_connection().await;
    connection.write_pdu(&bind_pdu(1, system_id, password)).await.expect("bind");
    assert_eq!(read_pdu(&mut connection).await.command_status, CommandStatus::EsmeRok);
    connection
}

async fn submit(connection: &mut Connection, sequence: u32, message: ShortMessage) -> Pdu {
    connection.write_pdu(&Pdu::new(sequence, PduBody::SubmitSm(message))).await.expect("submit");
    read_pdu(connection).await
}

/// Reads `count` receipts (answering each); returns (receipted ID, message_state TLV, text) in arrival order.
async fn receipts(connection: &mut Connection, count: usize) -> Vec<(String, u8, String)> {
    let mut found = Vec::new();
    while found.len() < count {
        let pdu = read_pdu(connection).await;
        let PduBody::DeliverSm(receipt) = &pdu.body else { panic!("expected a receipt: {pdu:?}") };
        assert!(receipt.is_delivery_receipt());
        let receipted = receipt.ascii_tlv(pdu::TAG_RECEIPTED_MESSAGE_ID).expect("receipted_message_id");
        let state = receipt.tlv(pdu::TAG_MESSAGE_STATE).expect("message_state")[0];
        let text = decode_text(receipt.data_coding, receipt.text_octets()).expect("receipt text");
        let answer = Pdu::new(pdu.sequence_number, PduBody::DeliverSmResp { message_id: String::new() });
        connection.write_pdu(&answer).await.expect("answer");
        found.push((receipted, state, text));
    }
    found
}

#[tokio::test]
async fn each_part_of_a_concatenated_message_gets_its_own_id_state_and_receipt() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = bound(&app, "platform", PLATFORM_PASSWORD).await;
    let (_, octets) = encode_text("绑定成功请保管好机顶盒");
    for (index, piece) in [&octets[..10], &octets[10..]].into_iter().enumerate() {
        let part = Pdu::new(10 + index as u32, PduBody::SubmitSm(part(index as u8 + 1, piece)));
        connection.write_pdu(&part).await.unwrap();
    }
    // Each part's answer and receipts come once the parts are committed, on two paths: in either order.
    let (mut part_ids, mut receipted) = (Vec::new(), Vec::new());
    while part_ids.len() < 2 || receipted.len() < 2 {
        let pdu = read_pdu(&mut connection).await;
        match pdu.body {
            PduBody::SubmitSmResp { message_id } if pdu.command_status.is_ok() => part_ids.push(message_id),
            PduBody::DeliverSm(receipt) => {
                let id = receipt.ascii_tlv(pdu::TAG_RECEIPTED_MESSAGE_ID).expect("receipted_message_id");
                let state = receipt.tlv(pdu::TAG_MESSAGE_STATE).expect("message_state")[0];
                let text = decode_text(receipt.data_coding, receipt.text_octets()).unwrap();
                receipted.push((id, state, text));
                let answer = Pdu::new(pdu.sequence_number, PduBody::DeliverSmResp { message_id: String::new() });
                connection.write_pdu(&answer).await.unwrap();
            }
            _ => panic!("unexpected pdu: {pdu:?}"),
        }
    }
    assert_ne!(part_ids[0], part_ids[1]);
    assert_eq!(app.inbox_texts(PHONE).await, vec!["绑定成功请保管好机顶盒".to_owned()]);
    for id in &part_ids {
        let (status, body) = app.get_json(&format!("/v1/messages/{id}")).await;
        assert_eq!((status, body["state"].as_str()), (200, Some("delivered")), "{body}");
    }
    receipted.sort();
    let mut expected_ids = part_ids.clone();
    expected_ids.sort();
    assert_eq!(receipted.iter().map(|(id, _, _)| id.clone()).collect::<Vec<_>>(), expected_ids);
    assert!(receipted
        .iter()
        .all(|(_, state, text)| *state == message_state::DELIVERED && text.contains("stat:DELIVRD")));
}

#[tokio::test]
async fn a_part_whose_siblings_never_arrive_is_reported_undeliverable() {
    let directory = tempfile::tempdir().unwrap();
    let mut config = test_config(directory.path());
    config.concatenation_timeout = Duration::from_millis(300);
    let app = spawn_app_with(config).await;
    let mut connection = bound(&app, "platform", PLATFORM_PASSWORD).await;
    let answer = submit(&mut connection, 2, part(1, &[0x7E, 0xD1])).await;
    let PduBody::SubmitSmResp { message_id } = answer.body else { panic!("{answer:?}") };

    let receipt = receipts(&mut connection, 1).await.remove(0);
    assert_eq!((receipt.0.as_str(), receipt.1), (message_id.as_str(), message_state::UNDELIVERABLE));
    assert!(receipt.2.contains("stat:UNDELIV"), "{}", receipt.2);
    app.wait_for_state(&message_id, "failed").await;
    assert!(app.inbox_texts(PHONE).await.is_empty());
}

#[tokio::test]
async fn a_refused_bind_and_a_refused_submit_carry_no_body() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut stream = tokio::net::TcpStream::connect(&app.smpp_address).await.unwrap();
    let mut header = [0u8; 16];
    stream.write_all(&bind_pdu(1, "platform", "wrong").encode()).await.unwrap();
    stream.read_exact(&mut header).await.unwrap();
    assert_eq!(&header[..4], &16u32.to_be_bytes(), "bind_transceiver_resp with an error is the header alone");
    assert_eq!(&header[8..12], &CommandStatus::EsmeRinvpaswd.value().to_be_bytes());

    stream.write_all(&bind_pdu(2, "platform", PLATFORM_PASSWORD).encode()).await.unwrap();
    let mut bound = vec![0u8; 16 + "numbind-smsc".len() + 1];
    stream.read_exact(&mut bound).await.unwrap();
    let mut to_nowhere = message(0x00, b"hi");
    to_nowhere.destination_addr = "95588".into();
    stream.write_all(&Pdu::new(3, PduBody::SubmitSm(to_nowhere)).encode()).await.unwrap();
    stream.read_exact(&mut header).await.unwrap();
    assert_eq!(&header[..4], &16u32.to_be_bytes(), "submit_sm_resp with an error is the header alone");
    assert_eq!(&header[8..12], &CommandStatus::EsmeRinvdstadr.value().to_be_bytes());
}

#[tokio::test]
async fn a_version_three_three_bind_is_served_without_tlvs_and_other_accounts_get_no_vendor_tlv() {
    let directory = tempfile::tempdir().unwrap();
    let mut config = test_config(directory.path());
    let mut partner =
        EsmeAccount::new("partner", "partner1", vec![numbind_wire::ShortCode::parse("10659999").unwrap()]);
    partner.number_format = numbind_sms_sim::NumberFormat::International;
    config.accounts.push(partner);
    let app = spawn_app_with(config).await;

    // The OSS account asks for the vendor TLV, but a 3.3 session must get no TLV at all.
    let mut legacy = app.raw_connection().await;
    let bind = Bind {
        system_id: "oss".into(),
        password: crate::helpers::OSS_PASSWORD.into(),
        interface_version: 0x33,
        ..Bind::default()
    };
    legacy.write_pdu(&Pdu::new(1, PduBody::BindReceiver(bind))).await.unwrap();
    assert_eq!(read_pdu(&mut legacy).await.command_status, CommandStatus::EsmeRok);
    app.phone_sends_ok("BIND BCDFGHJK").await;
    let delivery = read_pdu(&mut legacy).await;
    let PduBody::DeliverSm(mo) = &delivery.body else { panic!("{delivery:?}") };
    assert!(mo.tlvs.is_empty(), "{:?}", mo.tlvs);
    assert_eq!((mo.source_addr_ton, mo.source_addr.as_str()), (2, PHONE));

    let mut partner = bound(&app, "partner", "partner1").await;
    let response = app.phone_sends(PHONE, "10659999", "PARTNER ONE").await;
    assert_eq!(response.status().as_u16(), 202);
    let delivery = read_pdu(&mut partner).await;
    let PduBody::DeliverSm(mo) = &delivery.body else { panic!("{delivery:?}") };
    assert!(mo.tlv(pdu::TAG_SMSC_MESSAGE_ID).is_none(), "no vendor TLV unless the account asks for it");
    assert_eq!((mo.source_addr_ton, mo.source_addr.as_str()), (1, "8613800138000"));
}

#[tokio::test]
async fn a_long_mo_reaches_a_version_three_three_receiver_whole_in_udh_parts() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut legacy = app.raw_connection().await;
    let bind = Bind {
        system_id: "oss".into(),
        password: crate::helpers::OSS_PASSWORD.into(),
        interface_version: 0x00,
        ..Bind::default()
    };
    legacy.write_pdu(&Pdu::new(1, PduBody::BindTransceiver(bind))).await.unwrap();
    assert_eq!(read_pdu(&mut legacy).await.command_status, CommandStatus::EsmeRok);
    let text = "绑定".repeat(80);
    let message_id = app.phone_sends_ok(&text).await;
    let mut whole = Vec::new();
    for sequence in 1..=3u8 {
        let delivery = read_pdu(&mut legacy).await;
        let PduBody::DeliverSm(part) = &delivery.body else { panic!("{delivery:?}") };
        assert!(part.tlvs.is_empty() && part.esm_class == pdu::ESM_CLASS_UDH_INDICATOR, "{part:?}");
        assert_eq!(&part.short_message[4..6], &[3, sequence]);
        whole.extend_from_slice(&part.short_message[6..]);
        let (_, status) = app.get_json(&format!("/v1/messages/{message_id}")).await;
        assert_eq!(status["state"], "queued", "delivered only once every part is accepted");
        let answer = Pdu::new(delivery.sequence_number, PduBody::DeliverSmResp { message_id: String::new() });
        legacy.write_pdu(&answer).await.unwrap();
    }
    assert_eq!(decode_text(0x08, &whole).unwrap(), text);
    let status = app.wait_for_state(&message_id, "delivered").await;
    assert_eq!(status["attempts"], 1);
}

#[tokio::test]
async fn message_bodies_are_checked_strictly_and_binary_and_class_zero_codings_are_carried() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = bound(&app, "platform", PLATFORM_PASSWORD).await;

    let mut both = message(0x00, b"short");
    both.set_tlv(pdu::TAG_MESSAGE_PAYLOAD, &b"payload"[..]);
    assert_eq!(submit(&mut connection, 2, both).await.command_status, CommandStatus::EsmeRinvmsglen);
    let unsupported = submit(&mut connection, 3, message(0x05, b"kanji")).await;
    assert_eq!(unsupported.command_status, CommandStatus::EsmeRinvdcs);

    let mut bytes = Pdu::new(4, PduBody::SubmitSm(message(0x00, b"hello"))).encode();
    let length_at = bytes.len() - 6; // sm_length, then the five octets
    bytes[length_at] = 9;
    connection.writer.write_raw(&bytes).await.unwrap();
    let answer = read_pdu(&mut connection).await;
    assert_eq!((answer.command_id(), answer.command_status), (CommandId::SubmitSmResp, CommandStatus::EsmeRinvmsglen));

    for (sequence, data_coding, octets) in [(5, 0x04, &[0xCA, 0xFE][..]), (6, 0x02, &[0x01][..]), (7, 0xF0, b"FLASH")] {
        assert_eq!(
            submit(&mut connection, sequence, message(data_coding, octets)).await.command_status,
            CommandStatus::EsmeRok
        );
    }
    assert_eq!(app.inbox_texts(PHONE).await, vec!["binary:cafe", "binary:01", "FLASH"]);
}

#[tokio::test]
async fn data_sm_is_a_submit_answered_with_data_sm_resp() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = bound(&app, "platform", PLATFORM_PASSWORD).await;
    let (data_coding, octets) = encode_text("数据短信 data_sm");
    let mut data = ShortMessage {
        source_addr: SOURCE.into(),
        destination_addr: PHONE.into(),
        data_coding,
        ..ShortMessage::default()
    };
    data.set_tlv(pdu::TAG_MESSAGE_PAYLOAD, octets);
    connection.write_pdu(&Pdu::new(2, PduBody::DataSm(data.clone()))).await.unwrap();
    let answer = read_pdu(&mut connection).await;
    let PduBody::DataSmResp { message_id } = answer.body else { panic!("{answer:?}") };
    assert_eq!(answer.command_status, CommandStatus::EsmeRok);
    app.wait_for_state(&message_id, "delivered").await;
    assert_eq!(app.inbox_texts(PHONE).await, vec!["数据短信 data_sm".to_owned()]);

    data.destination_addr = "95588".into();
    connection.write_pdu(&Pdu::new(3, PduBody::DataSm(data))).await.unwrap();
    let refusal = read_pdu(&mut connection).await;
    assert_eq!((refusal.command_id(), refusal.command_status), (CommandId::DataSmResp, CommandStatus::EsmeRinvdstadr));
}

#[tokio::test]
async fn query_sm_reads_the_store_and_other_commands_answer_in_their_own_type() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = bound(&app, "platform", PLATFORM_PASSWORD).await;
    let answer = submit(&mut connection, 2, message(0x00, b"hi")).await;
    let PduBody::SubmitSmResp { message_id } = answer.body else { panic!("{answer:?}") };

    let query = |sequence, message_id: &str| {
        Pdu::new(
            sequence,
            PduBody::QuerySm(QuerySm {
                message_id: message_id.into(),
                source_addr: SOURCE.into(),
                ..QuerySm::default()
            }),
        )
    };
    connection.write_pdu(&query(3, &message_id)).await.unwrap();
    let answer = read_pdu(&mut connection).await;
    let PduBody::QuerySmResp(state) = answer.body else { panic!("{answer:?}") };
    assert_eq!((state.message_id.as_str(), state.message_state), (message_id.as_str(), message_state::DELIVERED));
    assert_eq!(state.final_date.len(), 16, "{}", state.final_date);

    connection.write_pdu(&query(4, "0123456789abcdef")).await.unwrap();
    let unknown = read_pdu(&mut connection).await;
    assert_eq!((unknown.command_id(), unknown.command_status), (CommandId::QuerySmResp, CommandStatus::EsmeRinvmsgid));

    let others = [
        (CommandId::CancelSm, CommandId::CancelSmResp, CommandStatus::EsmeRcancelfail),
        (CommandId::ReplaceSm, CommandId::ReplaceSmResp, CommandStatus::EsmeRreplacefail),
        (CommandId::SubmitMulti, CommandId::SubmitMultiResp, CommandStatus::EsmeRinvcmdid),
    ];
    for (sequence, (request, response, status)) in (10..).zip(others) {
        let body = PduBody::Other { command_id: request, body: Bytes::from_static(b"\0\0\0") };
        connection.write_pdu(&Pdu::new(sequence, body)).await.unwrap();
        let answer = read_pdu(&mut connection).await;
        assert_eq!((answer.command_id(), answer.command_status, answer.sequence_number), (response, status, sequence));
    }
}
