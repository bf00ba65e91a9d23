//! The SMS centre as a CMPP ISMG over a real socket, driven with the `numbind_cmpp` codec as a service provider:
//! CONNECT statuses, a Chinese SUBMIT with fee fields stored and its status report, MO as DELIVER, flow control,
//! ACTIVE_TEST and TERMINATE.

use crate::helpers::{spawn_app, spawn_app_with, test_config, DEADLINE, PHONE, SP_CODE, SP_SECRET, SP_SERVICE_CODE};
use numbind_cmpp::text::{decode_text, encode_text};
use numbind_cmpp::{
    Connect, ConnectStatus, Connection, Deliver, DeliverResp, Fee, FeeCode, FeeUserType, MsgId, Pdu, PduBody,
    ReadOutcome, Submit, SubmitResult, Version,
};
use numbind_sms_sim::EsmeAccount;
use numbind_wire::ShortCode;

pub(crate) async fn connect_as(address: &str, sp_code: &str, secret: &str, version: u8) -> (Connection, ConnectStatus) {
    let stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    let mut connection = Connection::new(stream, Version::V3);
    let mut connect = Connect::new(sp_code, secret, Version::V3, 1_207_153_000);
    connect.version = version;
    connection.write_pdu(&Pdu::new(1, PduBody::Connect(connect))).await.expect("write connect");
    let status = match next_pdu(&mut connection).await.body {
        PduBody::ConnectResp(resp) => resp.status,
        other => panic!("expected connect_resp, got {other:?}"),
    };
    if let Some(version) = Version::from_byte(version) {
        connection.set_version(version);
    }
    (connection, status)
}

pub(crate) async fn next_pdu(connection: &mut Connection) -> Pdu {
    match tokio::time::timeout(DEADLINE, connection.read_pdu()).await.expect("a pdu in time") {
        Ok(Some(ReadOutcome::Pdu(pdu))) => pdu,
        other => panic!("expected a pdu, got {other:?}"),
    }
}

pub(crate) fn submit(text: &str, registered_delivery: u8) -> Submit {
    let (msg_fmt, content) = encode_text(text);
    Submit {
        registered_delivery,
        service_id: "NUMBIND".into(),
        fee: Fee {
            user_type: FeeUserType::FeeTerminal,
            terminal_id: PHONE.into(),
            ..Fee::per_message(FeeCode::from_fen(150).expect("a cmpp test step"))
        },
        msg_fmt,
        msg_src: SP_CODE.into(),
        src_id: SP_SERVICE_CODE.into(),
        dest_terminal_ids: vec![PHONE.into()],
        msg_content: content.into(),
        ..Submit::default()
    }
}

#[tokio::test]
async fn connect_answers_bad_address_failed_authentication_and_too_high_a_version() {
    let directory = tempfile::tempdir().expect("a cmpp test step");
    let app = spawn_app(directory.path()).await;
    let address = app.cmpp_address.clone();
    assert_eq!(connect_as(&address, SP_CODE, "wrong", 0x30).await.1, ConnectStatus::AuthenticationFailed);
    assert_eq!(connect_as(&address, "999999", SP_SECRET, 0x30).await.1, ConnectStatus::InvalidSourceAddress);
    assert_eq!(connect_as(&address, "oss", "oss-pass", 0x30).await.1, ConnectStatus::InvalidSourceAddress);
    assert_eq!(connect_as(&address, SP_CODE, SP_SECRET, 0x40).await.1, ConnectStatus::VersionTooHigh);
    assert_eq!(connect_as(&address, SP_CODE, SP_SECRET, 0x20).await.1, ConnectStatus::Ok);
    app.stop().await;
}

#[tokio::test]
async fn a_refused_2_0_connect_is_answered_in_the_2_0_layout_that_a_2_0_client_reads() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let directory = tempfile::tempdir().expect("a temporary directory");
    let app = spawn_app(directory.path()).await;
    let mut stream = tokio::net::TcpStream::connect(&app.cmpp_address).await.expect("connect");
    let connect = Connect::new(SP_CODE, "wrong", Version::V2, 1_207_153_000);
    let bytes = Pdu::new(1, PduBody::Connect(connect)).encode(Version::V2).expect("encodes");
    stream.write_all(&bytes).await.expect("write connect");
    let mut answer = [0u8; 30];
    stream.read_exact(&mut answer).await.expect("a 30-byte connect_resp");
    assert_eq!(u32::from_be_bytes([answer[0], answer[1], answer[2], answer[3]]), 30, "12 + 18 bytes: the 2.0 layout");
    assert_eq!(answer[12], 3, "the one-byte Status: authentication failed");
    app.stop().await;
}

#[tokio::test]
async fn a_chinese_submit_lands_on_the_phone_with_its_fee_and_a_status_report_follows() {
    for version in [0x20, 0x30] {
        let directory = tempfile::tempdir().expect("a cmpp test step");
        let app = spawn_app(directory.path()).await;
        let (mut connection, status) = connect_as(&app.cmpp_address, SP_CODE, SP_SECRET, version).await;
        assert_eq!(status, ConnectStatus::Ok);
        connection
            .write_pdu(&Pdu::new(7, PduBody::Submit(Box::new(submit("收据：影片 15.00 元", 1)))))
            .await
            .expect("a cmpp test step");
        let msg_id = match next_pdu(&mut connection).await {
            Pdu { sequence_id: 7, body: PduBody::SubmitResp(resp) } => {
                assert_eq!(resp.result, SubmitResult::Ok);
                resp.msg_id
            }
            other => panic!("expected submit_resp, got {other:?}"),
        };
        assert_eq!(app.inbox_texts(PHONE).await, vec!["收据：影片 15.00 元".to_owned()]);
        let (status, body) = app.get_json(&format!("/v1/messages/{}", msg_id.value())).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["direction"], "mt");
        assert_eq!(body["fee"]["fee_code_fen"], 150);
        assert_eq!(body["fee"]["fee_user_type"], 3);
        assert_eq!(body["fee"]["fee_type"], 2);
        assert_eq!(body["fee"]["fee_terminal_id"], PHONE);
        assert_eq!(body["fee"]["service_id"], "NUMBIND");

        let deliver = next_deliver(&mut connection).await;
        let report = deliver.1.status_report().expect("a status report").expect("a valid report");
        assert_eq!(report.msg_id, msg_id);
        assert!(report.is_delivered());
        answer(&mut connection, deliver).await;
        app.stop().await;
    }
}

pub(crate) async fn next_deliver(connection: &mut Connection) -> (u32, Deliver) {
    loop {
        match next_pdu(connection).await {
            Pdu { sequence_id, body: PduBody::Deliver(deliver) } => return (sequence_id, *deliver),
            Pdu { sequence_id, body: PduBody::ActiveTest } => {
                connection
                    .write_pdu(&Pdu::new(sequence_id, PduBody::ActiveTestResp { reserved: 0 }))
                    .await
                    .expect("a cmpp test step");
            }
            other => panic!("expected deliver, got {other:?}"),
        }
    }
}

pub(crate) async fn answer(connection: &mut Connection, (sequence_id, deliver): (u32, Deliver)) {
    let resp = DeliverResp { msg_id: deliver.msg_id, result: SubmitResult::Ok };
    connection.write_pdu(&Pdu::new(sequence_id, PduBody::DeliverResp(resp))).await.expect("a cmpp test step");
}

#[tokio::test]
async fn a_phones_message_to_the_service_code_arrives_as_deliver_and_is_delivered_once_answered() {
    let directory = tempfile::tempdir().expect("a cmpp test step");
    let app = spawn_app(directory.path()).await;
    let (mut connection, status) = connect_as(&app.cmpp_address, SP_CODE, SP_SECRET, 0x30).await;
    assert_eq!(status, ConnectStatus::Ok);
    let response = app.phone_sends(PHONE, SP_SERVICE_CODE, "绑定 123456").await;
    assert_eq!(response.status().as_u16(), 202);
    let message_id = response.json::<serde_json::Value>().await.expect("a cmpp test step")["message_id"]
        .as_str()
        .expect("a cmpp test step")
        .to_owned();
    let deliver = next_deliver(&mut connection).await;
    assert!(!deliver.1.is_status_report());
    assert_eq!(deliver.1.src_terminal_id, PHONE);
    assert_eq!(deliver.1.dest_id, SP_SERVICE_CODE);
    assert_eq!(decode_text(deliver.1.msg_fmt, &deliver.1.msg_content).expect("a cmpp test step"), "绑定 123456");
    assert_ne!(deliver.1.msg_id, MsgId::from_u64(0));
    answer(&mut connection, deliver).await;
    app.wait_for_state(&message_id, "delivered").await;

    connection.write_pdu(&Pdu::new(90, PduBody::ActiveTest)).await.expect("a cmpp test step");
    assert!(matches!(next_pdu(&mut connection).await, Pdu { sequence_id: 90, body: PduBody::ActiveTestResp { .. } }));
    connection.write_pdu(&Pdu::new(91, PduBody::Terminate)).await.expect("a cmpp test step");
    assert_eq!(next_pdu(&mut connection).await, Pdu::new(91, PduBody::TerminateResp));
    app.stop().await;
}

#[tokio::test]
async fn an_account_over_its_rate_is_answered_flow_control() {
    let directory = tempfile::tempdir().expect("a cmpp test step");
    let mut config = test_config(directory.path());
    let mut slow =
        EsmeAccount::cmpp(SP_CODE, SP_SECRET, vec![ShortCode::parse(SP_SERVICE_CODE).expect("a cmpp test step")]);
    slow.max_submits_per_second = 1;
    config.accounts.retain(|account| account.system_id != SP_CODE);
    config.accounts.push(slow);
    let app = spawn_app_with(config).await;
    let (mut connection, _) = connect_as(&app.cmpp_address, SP_CODE, SP_SECRET, 0x30).await;
    let mut results = Vec::new();
    for sequence in 10..14 {
        connection
            .write_pdu(&Pdu::new(sequence, PduBody::Submit(Box::new(submit("hello", 0)))))
            .await
            .expect("a cmpp test step");
        match next_pdu(&mut connection).await.body {
            PduBody::SubmitResp(resp) => results.push(resp.result),
            other => panic!("expected submit_resp, got {other:?}"),
        }
    }
    assert_eq!(results[0], SubmitResult::Ok);
    assert!(results.contains(&SubmitResult::FlowControl), "{results:?}");
    app.stop().await;
}
