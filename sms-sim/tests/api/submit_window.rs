//! A window of submit_sm on one session, sent without waiting: every one answered once (in any order, paired by
//! sequence number), every accepted MT stored once, client references still deduplicated, unbind after the rest.

use crate::helpers::{read_pdu, spawn_app, spawn_app_with, test_config, TestApp, OSS_PASSWORD, PHONE, SHORT_CODE};
use numbind_smpp::pdu::{self, Bind, CommandId, CommandStatus, Pdu, PduBody, ShortMessage};
use numbind_smpp::{encode_text, Connection};
use std::collections::{BTreeSet, HashMap, HashSet};

/// More than the SMS centre stores at once on one session, so its read backpressure is exercised too.
const BURST: u32 = 100;

fn submit(sequence: u32, text: &str, reference: Option<&str>) -> Pdu {
    let mut message =
        ShortMessage { source_addr: SHORT_CODE.into(), destination_addr: PHONE.into(), ..ShortMessage::default() };
    let (data_coding, octets) = encode_text(text);
    message.set_text_octets(data_coding, octets);
    if let Some(reference) = reference {
        message.set_tlv(pdu::TAG_CLIENT_REFERENCE, reference.as_bytes().to_vec());
    }
    Pdu::new(sequence, PduBody::SubmitSm(message))
}

/// A raw transmitter session of the `oss` account (1000 submits/s in the test configuration).
async fn bound_transmitter(app: &TestApp) -> Connection {
    let mut connection = app.raw_connection().await;
    let bind =
        Bind { system_id: "oss".into(), password: OSS_PASSWORD.into(), interface_version: 0x34, ..Bind::default() };
    connection.write_pdu(&Pdu::new(1, PduBody::BindTransmitter(bind))).await.expect("write bind");
    assert_eq!(read_pdu(&mut connection).await.command_status, CommandStatus::EsmeRok);
    connection
}

/// Reads `count` submit_sm_resp; returns message_id by sequence number (each sequence answered exactly once).
async fn read_submit_responses(connection: &mut Connection, count: usize) -> HashMap<u32, String> {
    let mut answered = HashMap::new();
    while answered.len() < count {
        let response = read_pdu(connection).await;
        let PduBody::SubmitSmResp { message_id } = response.body else {
            panic!("expected submit_sm_resp: {response:?}")
        };
        assert_eq!(response.command_status, CommandStatus::EsmeRok, "sequence {}", response.sequence_number);
        let previous = answered.insert(response.sequence_number, message_id);
        assert!(previous.is_none(), "sequence {} answered twice", response.sequence_number);
    }
    answered
}

/// message_id of every message in the phone's inbox.
async fn inbox_message_ids(app: &TestApp) -> Vec<String> {
    let (status, body) = app.get_json(&format!("/v1/phones/{PHONE}/inbox")).await;
    assert_eq!(status, 200);
    let messages = body["messages"].as_array().expect("messages");
    messages.iter().map(|message| message["message_id"].as_str().expect("message_id").to_owned()).collect()
}

#[tokio::test]
async fn a_burst_of_submits_sent_without_waiting_is_answered_once_each_and_stored_once_each() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = bound_transmitter(&app).await;
    for sequence in 2..2 + BURST {
        connection.write_pdu(&submit(sequence, &format!("通知 {sequence}"), None)).await.unwrap();
    }
    let answered = read_submit_responses(&mut connection, BURST as usize).await;

    assert_eq!(answered.keys().copied().collect::<BTreeSet<_>>(), (2..2 + BURST).collect::<BTreeSet<_>>());
    let message_ids: HashSet<String> = answered.values().cloned().collect();
    assert_eq!(message_ids.len(), BURST as usize, "message ids are distinct");
    let stored = inbox_message_ids(&app).await;
    assert_eq!(stored.len(), BURST as usize, "each MT stored once");
    assert_eq!(stored.into_iter().collect::<HashSet<_>>(), message_ids);
    let texts: HashSet<String> = app.inbox_texts(PHONE).await.into_iter().collect();
    assert_eq!(texts, (2..2 + BURST).map(|sequence| format!("通知 {sequence}")).collect::<HashSet<_>>());
}

#[tokio::test]
async fn a_burst_repeating_client_references_stores_one_message_per_reference() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = bound_transmitter(&app).await;
    let references = 10;
    let reference_of = |sequence: u32| format!("outbox-{}", sequence % references);
    for sequence in 2..2 + BURST {
        let reference = reference_of(sequence);
        connection.write_pdu(&submit(sequence, &format!("绑定成功 {reference}"), Some(&reference))).await.unwrap();
    }
    let answered = read_submit_responses(&mut connection, BURST as usize).await;

    let mut message_id_of_reference: HashMap<String, String> = HashMap::new();
    for (sequence, message_id) in &answered {
        let known = message_id_of_reference.entry(reference_of(*sequence)).or_insert_with(|| message_id.clone());
        assert_eq!(known, message_id, "every submit of one reference gets the same message id");
    }
    assert_eq!(message_id_of_reference.len(), references as usize);
    let distinct: HashSet<&String> = message_id_of_reference.values().collect();
    assert_eq!(distinct.len(), references as usize, "references do not share a message id");
    let stored = inbox_message_ids(&app).await;
    assert_eq!(stored.len(), references as usize, "one stored message per reference");
    assert_eq!(stored.iter().collect::<HashSet<_>>(), distinct);
}

#[tokio::test]
async fn an_unbind_right_after_a_burst_is_answered_after_every_submit() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = bound_transmitter(&app).await;
    let burst = 20;
    for sequence in 2..2 + burst {
        connection.write_pdu(&submit(sequence, "余额提醒", None)).await.unwrap();
    }
    let unbind_sequence = 2 + burst;
    connection.write_pdu(&Pdu::new(unbind_sequence, PduBody::Unbind)).await.unwrap();

    let answered = read_submit_responses(&mut connection, burst as usize).await;
    assert_eq!(answered.keys().copied().collect::<BTreeSet<_>>(), (2..2 + burst).collect::<BTreeSet<_>>());
    assert_eq!(read_pdu(&mut connection).await, Pdu::new(unbind_sequence, PduBody::UnbindResp));
    let closed = tokio::time::timeout(crate::helpers::DEADLINE, connection.read_pdu()).await.unwrap();
    assert!(matches!(closed, Ok(None) | Err(_)), "{closed:?}");
    assert_eq!(inbox_message_ids(&app).await.len(), burst as usize);
}

#[tokio::test]
async fn a_burst_over_the_account_rate_is_partly_throttled_and_only_accepted_submits_are_stored() {
    let directory = tempfile::tempdir().unwrap();
    let mut config = test_config(directory.path());
    config.accounts[0].max_submits_per_second = 5;
    let app = spawn_app_with(config).await;
    let mut connection = bound_transmitter(&app).await;
    let burst = 30;
    for sequence in 2..2 + burst {
        connection.write_pdu(&submit(sequence, "x", None)).await.unwrap();
    }
    let mut statuses: HashMap<u32, CommandStatus> = HashMap::new();
    while statuses.len() < burst as usize {
        let response = read_pdu(&mut connection).await;
        assert_eq!(response.command_id(), CommandId::SubmitSmResp);
        assert!(statuses.insert(response.sequence_number, response.command_status).is_none());
    }
    let accepted = statuses.values().filter(|status| **status == CommandStatus::EsmeRok).count();
    let throttled = statuses.values().filter(|status| **status == CommandStatus::EsmeRthrottled).count();
    assert_eq!(accepted + throttled, burst as usize, "{statuses:?}");
    assert!((5..burst as usize).contains(&accepted), "accepted {accepted}");
    assert_eq!(inbox_message_ids(&app).await.len(), accepted);
}

/// A part of a concatenated UCS-2 message (UDH reference 0x77, 2 parts) carrying `octets`.
fn part(sequence: u32, part_number: u8, octets: &[u8]) -> Pdu {
    let mut short_message = vec![5, 0x00, 3, 0x77, 2, part_number];
    short_message.extend_from_slice(octets);
    let message = ShortMessage {
        source_addr: SHORT_CODE.into(),
        destination_addr: PHONE.into(),
        esm_class: pdu::ESM_CLASS_UDH_INDICATOR,
        data_coding: 0x08,
        short_message: bytes::Bytes::from(short_message),
        ..ShortMessage::default()
    };
    Pdu::new(sequence, PduBody::SubmitSm(message))
}

#[tokio::test]
async fn a_window_with_a_refused_message_and_a_resubmission_answers_each_submit_on_its_own() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = bound_transmitter(&app).await;
    let window = [
        submit(2, "第一条", Some("window-a")),
        part(3, 1, &[0x4E, 0x2D, 0x4E]),
        part(4, 2, &[0x2D, 0x4E]), // completes five octets: not UCS-2, so the whole is refused
        submit(5, "第二条", Some("window-b")),
        submit(6, "第二条 again", Some("window-b")),
    ];
    for pdu in &window {
        connection.write_pdu(pdu).await.unwrap();
    }
    let mut answers: HashMap<u32, (CommandStatus, String)> = HashMap::new();
    while answers.len() < window.len() {
        let response = read_pdu(&mut connection).await;
        let PduBody::SubmitSmResp { message_id } = response.body else { panic!("{response:?}") };
        assert!(answers.insert(response.sequence_number, (response.command_status, message_id)).is_none());
    }

    let status_of = |sequence: u32| answers[&sequence].0;
    assert_eq!([2, 3, 5, 6].map(status_of), [CommandStatus::EsmeRok; 4], "{answers:?}");
    assert_eq!(status_of(4), CommandStatus::EsmeRinvmsglen, "{answers:?}");
    assert_eq!(answers[&6].1, answers[&5].1, "the resubmission gets the original id");
    let stored: HashSet<String> = inbox_message_ids(&app).await.into_iter().collect();
    assert_eq!(stored, HashSet::from([answers[&2].1.clone(), answers[&5].1.clone()]));
}
