//! The SMPP session state machine seen from raw PDUs: bind checks, bind state, malformed input, throttling.

use crate::helpers::{bind_pdu, read_pdu, spawn_app, spawn_app_with, test_config, OSS_PASSWORD, PHONE};
use numbind_smpp::pdu::{Bind, CommandId, CommandStatus, Pdu, PduBody, QuerySm, QuerySmResp, ShortMessage};

fn submit(sequence: u32, text: &str) -> Pdu {
    let mut message =
        ShortMessage { source_addr: "10658000".into(), destination_addr: PHONE.into(), ..ShortMessage::default() };
    message.set_text_octets(0x00, text.as_bytes().to_vec());
    Pdu::new(sequence, PduBody::SubmitSm(message))
}

#[tokio::test]
async fn binding_with_a_wrong_password_or_an_unknown_system_id_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = app.raw_connection().await;
    connection.write_pdu(&bind_pdu(1, "oss", "wrong")).await.unwrap();
    let refusal = read_pdu(&mut connection).await;
    assert_eq!(
        (refusal.command_id(), refusal.command_status),
        (CommandId::BindTransceiverResp, CommandStatus::EsmeRinvpaswd)
    );
    connection.write_pdu(&bind_pdu(2, "nobody", "x")).await.unwrap();
    assert_eq!(read_pdu(&mut connection).await.command_status, CommandStatus::EsmeRinvsysid);
    connection.write_pdu(&bind_pdu(3, "oss", OSS_PASSWORD)).await.unwrap();
    assert_eq!(read_pdu(&mut connection).await.command_status, CommandStatus::EsmeRok);
    connection.write_pdu(&bind_pdu(4, "oss", OSS_PASSWORD)).await.unwrap();
    assert_eq!(read_pdu(&mut connection).await.command_status, CommandStatus::EsmeRalybnd);
}

#[tokio::test]
async fn interface_version_five_is_accepted() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = app.raw_connection().await;
    let bind =
        Bind { system_id: "oss".into(), password: OSS_PASSWORD.into(), interface_version: 0x50, ..Bind::default() };
    connection.write_pdu(&Pdu::new(1, PduBody::BindReceiver(bind))).await.unwrap();
    let response = read_pdu(&mut connection).await;
    assert_eq!((response.command_id(), response.command_status), (CommandId::BindReceiverResp, CommandStatus::EsmeRok));
    // A receiver may not submit, nor query.
    connection.write_pdu(&submit(2, "hi")).await.unwrap();
    assert_eq!(read_pdu(&mut connection).await.command_status, CommandStatus::EsmeRinvbndsts);
    let query = QuerySm { message_id: "m1".into(), ..QuerySm::default() };
    connection.write_pdu(&Pdu::new(3, PduBody::QuerySm(query))).await.unwrap();
    let refusal = read_pdu(&mut connection).await;
    assert_eq!((refusal.command_id(), refusal.command_status), (CommandId::QuerySmResp, CommandStatus::EsmeRinvbndsts));
}

#[tokio::test]
async fn submit_before_bind_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = app.raw_connection().await;
    connection.write_pdu(&submit(7, "hi")).await.unwrap();
    let refusal = read_pdu(&mut connection).await;
    assert_eq!(refusal.command_id(), CommandId::SubmitSmResp);
    assert_eq!((refusal.command_status, refusal.sequence_number), (CommandStatus::EsmeRinvbndsts, 7));
    assert!(app.inbox_texts(PHONE).await.is_empty());
}

#[tokio::test]
async fn every_pdu_before_bind_but_enquire_link_is_refused_and_the_session_can_still_bind() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = app.raw_connection().await;
    let mut deliver =
        ShortMessage { source_addr: PHONE.into(), destination_addr: "10658000".into(), ..ShortMessage::default() };
    deliver.set_text_octets(0x00, b"BIND BCDFGHJK".to_vec());
    let query_sm = PduBody::QuerySm(QuerySm { message_id: "m1".into(), ..QuerySm::default() });
    let refused = [
        (submit(7, "hi"), PduBody::SubmitSmResp { message_id: String::new() }),
        (Pdu::new(8, PduBody::DeliverSm(deliver)), PduBody::DeliverSmResp { message_id: String::new() }),
        (Pdu::new(9, PduBody::Unbind), PduBody::UnbindResp),
        (Pdu::new(10, query_sm), PduBody::QuerySmResp(QuerySmResp::default())),
    ];
    for (request, expected_body) in refused {
        let sequence = request.sequence_number;
        connection.write_pdu(&request).await.unwrap();
        let answer = read_pdu(&mut connection).await;
        assert_eq!(
            answer,
            Pdu { command_status: CommandStatus::EsmeRinvbndsts, sequence_number: sequence, body: expected_body }
        );
    }
    // enquire_link is the one exception, deliberately: SMPP 5.0 section 2.4 allows it in the open state (many
    // SMSCs answer it there, and ESMEs use it to test a fresh connection); it reveals and changes nothing.
    connection.write_pdu(&Pdu::new(11, PduBody::EnquireLink)).await.unwrap();
    assert_eq!(read_pdu(&mut connection).await, Pdu::new(11, PduBody::EnquireLinkResp));
    connection.write_pdu(&bind_pdu(12, "oss", OSS_PASSWORD)).await.unwrap();
    assert_eq!(read_pdu(&mut connection).await.command_status, CommandStatus::EsmeRok, "the refusals kept the session");
    assert!(app.inbox_texts(PHONE).await.is_empty(), "nothing was delivered");
}

#[tokio::test]
async fn a_malformed_pdu_gets_its_own_error_response_and_the_session_still_works() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = app.raw_connection().await;
    connection.write_pdu(&bind_pdu(1, "oss", OSS_PASSWORD)).await.unwrap();
    assert_eq!(read_pdu(&mut connection).await.command_status, CommandStatus::EsmeRok);

    let mut garbage = vec![0, 0, 0, 24];
    garbage.extend_from_slice(&CommandId::SubmitSm.value().to_be_bytes());
    garbage.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 42]);
    garbage.extend_from_slice(&[0xFF; 8]);
    connection.writer.write_raw(&garbage).await.unwrap();
    let refusal = read_pdu(&mut connection).await;
    assert_eq!(refusal.body, PduBody::SubmitSmResp { message_id: String::new() });
    assert_eq!((refusal.sequence_number, refusal.command_status), (42, CommandStatus::EsmeRinvcmdlen));

    let unknown = Pdu::new(43, PduBody::Other { command_id: CommandId::Other(0x42), body: bytes::Bytes::new() });
    connection.write_pdu(&unknown).await.unwrap();
    assert_eq!(read_pdu(&mut connection).await, Pdu::generic_nack(43, CommandStatus::EsmeRinvcmdid));

    connection.write_pdu(&submit(44, "still here")).await.unwrap();
    let accepted = read_pdu(&mut connection).await;
    assert_eq!((accepted.sequence_number, accepted.command_status), (44, CommandStatus::EsmeRok));
    assert_eq!(app.inbox_texts(PHONE).await, vec!["still here".to_owned()]);

    connection.write_pdu(&Pdu::new(45, PduBody::Unbind)).await.unwrap();
    assert_eq!(read_pdu(&mut connection).await, Pdu::new(45, PduBody::UnbindResp));
    let closed = tokio::time::timeout(crate::helpers::DEADLINE, connection.read_pdu()).await.unwrap();
    assert!(matches!(closed, Ok(None) | Err(_)), "{closed:?}");
}

#[tokio::test]
async fn submits_over_the_account_rate_are_throttled() {
    let directory = tempfile::tempdir().unwrap();
    let mut config = test_config(directory.path());
    config.accounts[0].max_submits_per_second = 2;
    let app = spawn_app_with(config).await;
    let mut connection = app.raw_connection().await;
    connection.write_pdu(&bind_pdu(1, "oss", OSS_PASSWORD)).await.unwrap();
    assert_eq!(read_pdu(&mut connection).await.command_status, CommandStatus::EsmeRok);
    // All four are written before any answer is read: the throttle decides as each arrives, so the rate the SMS
    // centre sees is the rate they were sent at, not one slowed by each accepted submit's commit to disk.
    for sequence in 2..6 {
        connection.write_pdu(&submit(sequence, "x")).await.unwrap();
    }
    let mut statuses = std::collections::BTreeMap::new();
    for _ in 2..6 {
        let answer = read_pdu(&mut connection).await;
        statuses.insert(answer.sequence_number, answer.command_status);
    }
    let statuses: Vec<CommandStatus> = statuses.into_values().collect();
    assert_eq!(&statuses[..2], &[CommandStatus::EsmeRok, CommandStatus::EsmeRok], "{statuses:?}");
    assert!(statuses[2..].contains(&CommandStatus::EsmeRthrottled), "{statuses:?}");
    let metrics = app.http.get(format!("{}/metrics", app.http_url)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("smsc_throttled_total"), "{metrics}");
}

#[tokio::test]
async fn the_smsc_unbinds_its_esmes_on_shutdown() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = app.raw_connection().await;
    connection.write_pdu(&bind_pdu(1, "oss", OSS_PASSWORD)).await.unwrap();
    assert_eq!(read_pdu(&mut connection).await.command_status, CommandStatus::EsmeRok);
    let stopping = tokio::spawn(app.stop());
    let unbind = read_pdu(&mut connection).await;
    assert_eq!(unbind.body, PduBody::Unbind);
    connection.write_pdu(&Pdu::new(unbind.sequence_number, PduBody::UnbindResp)).await.unwrap();
    stopping.await.unwrap();
    let closed = tokio::time::timeout(crate::helpers::DEADLINE, connection.read_pdu()).await.unwrap();
    assert!(matches!(closed, Ok(None) | Err(_)), "{closed:?}");
}

#[tokio::test]
async fn an_esme_that_never_answers_unbind_is_closed_after_the_timeout() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut connection = app.raw_connection().await;
    connection.write_pdu(&bind_pdu(1, "oss", OSS_PASSWORD)).await.unwrap();
    assert_eq!(read_pdu(&mut connection).await.command_status, CommandStatus::EsmeRok);
    let stopping = tokio::spawn(app.stop());
    assert_eq!(read_pdu(&mut connection).await.body, PduBody::Unbind);
    // No unbind_resp: the SMS centre still stops (within esme_response_timeout) and closes the connection.
    stopping.await.unwrap();
    let closed = tokio::time::timeout(crate::helpers::DEADLINE, connection.read_pdu()).await.unwrap();
    assert!(matches!(closed, Ok(None) | Err(_)), "{closed:?}");
}
