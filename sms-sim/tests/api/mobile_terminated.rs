//! MT: ESME submit_sm -> stored -> the phone's inbox; dedupe by client reference; delivery receipts.

use crate::helpers::{bind_pdu, read_pdu, spawn_app, OSS_PASSWORD, PHONE, PLATFORM_PASSWORD, SHORT_CODE};
use numbind_smpp::pdu::{self, CommandStatus, Pdu, PduBody, ShortMessage};
use numbind_smpp::{encode_text, BindMode, OutgoingSms};

fn outgoing(text: &str, reference: Option<&str>) -> OutgoingSms {
    OutgoingSms {
        source: SHORT_CODE.into(),
        destination: PHONE.into(),
        text: text.into(),
        client_reference: reference.map(str::to_owned),
    }
}

#[tokio::test]
async fn an_mt_submit_lands_in_the_inbox_with_ucs2_chinese_intact() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let platform = app.esme("platform", PLATFORM_PASSWORD, BindMode::Transmitter).await;
    let text = "您的机顶盒 Skyworth E900 已绑定本号码。回复 UNBIND 可解除 𠮷";
    let message_id = platform.client.submit(outgoing(text, None)).await.unwrap();

    let (status, body) = app.get_json(&format!("/v1/phones/{PHONE}/inbox")).await;
    assert_eq!(status, 200);
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["text"], text);
    assert_eq!(messages[0]["from"], SHORT_CODE);
    assert_eq!(messages[0]["message_id"], message_id.as_str());
    let (_, status) = app.get_json(&format!("/v1/messages/{message_id}")).await;
    assert_eq!((status["direction"].as_str(), status["state"].as_str()), (Some("mt"), Some("delivered")));
}

#[tokio::test]
async fn a_long_mt_travels_in_message_payload_and_arrives_whole() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let platform = app.esme("platform", PLATFORM_PASSWORD, BindMode::Transceiver).await;
    let text = "绑定成功。".repeat(40);
    platform.client.submit(outgoing(&text, None)).await.unwrap();
    assert_eq!(app.inbox_texts(PHONE).await, vec![text]);
}

#[tokio::test]
async fn resubmission_with_the_same_reference_gives_the_same_message_id_and_one_inbox_entry() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let platform = app.esme("platform", PLATFORM_PASSWORD, BindMode::Transmitter).await;
    let first = platform.client.submit(outgoing("绑定成功", Some("outbox-1"))).await.unwrap();
    let second = platform.client.submit(outgoing("绑定成功", Some("outbox-1"))).await.unwrap();
    assert_eq!(first, second);
    let other = platform.client.submit(outgoing("绑定成功", Some("outbox-2"))).await.unwrap();
    assert_ne!(first, other);
    assert_eq!(app.inbox_texts(PHONE).await.len(), 2);
}

#[tokio::test]
async fn a_submit_to_a_non_mobile_destination_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let platform = app.esme("platform", PLATFORM_PASSWORD, BindMode::Transmitter).await;
    let mut sms = outgoing("hi", None);
    sms.destination = "95588".into();
    let refusal = platform.client.submit(sms).await.unwrap_err();
    assert_eq!(refusal, numbind_smpp::EsmeError::Rejected { command_status: CommandStatus::EsmeRinvdstadr });
}

#[tokio::test]
async fn a_registered_delivery_gets_a_delivery_receipt() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = app.raw_connection().await;
    connection.write_pdu(&bind_pdu(1, "oss", OSS_PASSWORD)).await.unwrap();
    assert_eq!(read_pdu(&mut connection).await.command_status, CommandStatus::EsmeRok);

    let (data_coding, octets) = encode_text("余额提醒");
    let mut message = ShortMessage {
        source_addr: SHORT_CODE.into(),
        destination_addr: PHONE.into(),
        registered_delivery: 1,
        ..ShortMessage::default()
    };
    message.set_text_octets(data_coding, octets);
    connection.write_pdu(&Pdu::new(2, PduBody::SubmitSm(message))).await.unwrap();
    // The answer and the receipt are both sent once the submit is committed, on two paths: either may come
    // first (an ESME must accept a receipt for a message whose submit_sm_resp it has not read yet).
    let (first, second) = (read_pdu(&mut connection).await, read_pdu(&mut connection).await);
    let (response, receipt) =
        if matches!(first.body, PduBody::SubmitSmResp { .. }) { (first, second) } else { (second, first) };
    let PduBody::SubmitSmResp { message_id } = response.body else { panic!("expected submit_sm_resp: {response:?}") };
    assert_eq!(response.command_status, CommandStatus::EsmeRok);

    let PduBody::DeliverSm(receipt_message) = &receipt.body else { panic!("expected a receipt: {receipt:?}") };
    assert_eq!(receipt_message.esm_class, 0x04);
    assert_eq!(receipt_message.ascii_tlv(pdu::TAG_RECEIPTED_MESSAGE_ID), Some(message_id.clone()));
    let text = numbind_smpp::decode_text(receipt_message.data_coding, receipt_message.text_octets()).unwrap();
    assert!(text.starts_with(&format!("id:{message_id} sub:001 dlvrd:001 submit date:")), "{text}");
    assert!(text.ends_with("stat:DELIVRD err:000"), "{text}");
    let acknowledgement = Pdu::new(receipt.sequence_number, PduBody::DeliverSmResp { message_id: String::new() });
    connection.write_pdu(&acknowledgement).await.unwrap();
}

#[tokio::test]
async fn concatenated_parts_are_reassembled_into_one_inbox_message() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = app.raw_connection().await;
    connection.write_pdu(&bind_pdu(1, "platform", PLATFORM_PASSWORD)).await.unwrap();
    assert_eq!(read_pdu(&mut connection).await.command_status, CommandStatus::EsmeRok);

    let text = "绑定成功𠮷请保管好机顶盒";
    let (data_coding, octets) = encode_text(text);
    // Cut inside the surrogate pair of 𠮷 (octets 8..12), as a client splitting at octet boundaries would.
    let pieces = [&octets[..10], &octets[10..]];
    for (index, piece) in pieces.iter().enumerate().rev() {
        let mut short_message = vec![6, 0x08, 4, 0x12, 0x34, 2, index as u8 + 1];
        short_message.extend_from_slice(piece);
        let message = ShortMessage {
            source_addr: SHORT_CODE.into(),
            destination_addr: PHONE.into(),
            esm_class: pdu::ESM_CLASS_UDH_INDICATOR,
            data_coding,
            short_message: bytes::Bytes::from(short_message),
            ..ShortMessage::default()
        };
        connection.write_pdu(&Pdu::new(10 + index as u32, PduBody::SubmitSm(message))).await.unwrap();
        assert_eq!(read_pdu(&mut connection).await.command_status, CommandStatus::EsmeRok);
    }
    assert_eq!(app.inbox_texts(PHONE).await, vec![text.to_owned()]);
}
