//! The ISMG beyond one PDU at a time: a long MO sent as UDH-concatenated DELIVERs and delivered once every part
//! is answered, a window of SUBMITs stored in shared commits, QUERY answered with the day's counts, and CANCEL
//! of a waiting part.

use crate::cmpp_ismg::{answer, connect_as, next_deliver, next_pdu, submit};
use crate::helpers::{spawn_app_with, test_config, TestApp, PHONE, SP_CODE, SP_SECRET, SP_SERVICE_CODE};
use numbind_cmpp::concatenation::{parse_user_data_header, split_text};
use numbind_cmpp::pdu::{QUERY_TYPE_SERVICE, QUERY_TYPE_TOTAL};
use numbind_cmpp::text::decode_text;
use numbind_cmpp::{
    Cancel, CancelResp, CivilTime, ConnectStatus, Connection, MsgFmt, MsgId, Pdu, PduBody, Query, QueryCounts,
    SubmitResult,
};
use numbind_sms_sim::EsmeAccount;
use numbind_wire::ShortCode;
use std::collections::HashMap;

/// The SMS centre with the provider's throttle out of the way.
async fn spawn_unthrottled(directory: &std::path::Path) -> TestApp {
    let mut config = test_config(directory);
    let mut provider =
        EsmeAccount::cmpp(SP_CODE, SP_SECRET, vec![ShortCode::parse(SP_SERVICE_CODE).expect("service code")]);
    provider.max_submits_per_second = 10_000;
    config.accounts.retain(|account| account.system_id != SP_CODE);
    config.accounts.push(provider);
    spawn_app_with(config).await
}

async fn logged_in(app: &TestApp, version: u8) -> Connection {
    let (connection, status) = connect_as(&app.cmpp_address, SP_CODE, SP_SECRET, version).await;
    assert_eq!(status, ConnectStatus::Ok);
    connection
}

#[tokio::test]
async fn a_long_chinese_mo_arrives_as_udh_parts_and_is_delivered_only_once_every_part_is_answered() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let app = spawn_unthrottled(directory.path()).await;
    let mut connection = logged_in(&app, 0x20).await;
    let text = "我想绑定客厅的机顶盒，请把验证码发给我。".repeat(8);
    let response = app.phone_sends(PHONE, SP_SERVICE_CODE, &text).await;
    assert_eq!(response.status().as_u16(), 202);
    let body: serde_json::Value = response.json().await.expect("json");
    let message_id = body["message_id"].as_str().expect("message_id").to_owned();

    let mut parts = Vec::new();
    let mut whole = vec![Vec::new(); 3];
    for _ in 0..3 {
        let part = next_deliver(&mut connection).await;
        assert_eq!((part.1.tp_udhi, part.1.msg_fmt, part.1.registered_delivery), (1, MsgFmt::Ucs2, 0));
        let (concatenation, payload) = parse_user_data_header(&part.1.msg_content).expect("a user data header");
        let concatenation = concatenation.expect("a concatenation element");
        assert_eq!(concatenation.total, 3);
        whole[usize::from(concatenation.number) - 1] = payload.to_vec();
        parts.push(part);
    }
    assert_eq!(decode_text(MsgFmt::Ucs2, &whole.concat()).expect("ucs-2"), text);
    let last = parts.pop().expect("three parts");
    for part in parts {
        answer(&mut connection, part).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, status) = app.get_json(&format!("/v1/messages/{message_id}")).await;
    assert_eq!(status["state"], "queued", "one part is still unanswered: {status}");
    answer(&mut connection, last).await;
    let delivered = app.wait_for_state(&message_id, "delivered").await;
    assert_eq!(delivered["attempts"], 1, "{delivered}");
    app.stop().await;
}

async fn database_commits(app: &TestApp) -> u64 {
    let metrics = app.http.get(format!("{}/metrics", app.http_url)).send().await.expect("metrics");
    let text = metrics.text().await.expect("metrics text");
    text.lines()
        .find_map(|line| line.split_once("database_commits_total ").and_then(|(_, value)| value.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no database commit counter in\n{text}"))
}

#[tokio::test]
async fn a_window_of_sixteen_submits_shares_commits_and_each_is_answered_once_after_it() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let app = spawn_unthrottled(directory.path()).await;
    let mut connection = logged_in(&app, 0x30).await;
    let commits_before = database_commits(&app).await;
    for sequence in 100..116 {
        let pdu = Pdu::new(sequence, PduBody::Submit(Box::new(submit(&format!("通知 {sequence}"), 0))));
        connection.write_pdu(&pdu).await.expect("write submit");
    }
    let mut answered = HashMap::new();
    while answered.len() < 16 {
        let Pdu { sequence_id, body: PduBody::SubmitResp(resp) } = next_pdu(&mut connection).await else {
            panic!("expected submit_resp")
        };
        assert_eq!(resp.result, SubmitResult::Ok, "sequence {sequence_id}");
        assert!(answered.insert(sequence_id, resp.msg_id).is_none(), "sequence {sequence_id} answered twice");
    }
    let commits = database_commits(&app).await - commits_before;
    assert!(commits < 8, "16 submits took {commits} commits");
    let inbox = app.inbox_texts(PHONE).await;
    assert_eq!(inbox.len(), 16, "{inbox:?}");
    for msg_id in answered.values() {
        let (status, _) = app.get_json(&format!("/v1/messages/{}", msg_id.value())).await;
        assert_eq!(status, 200, "every answered msg_id names its stored message");
    }
    app.stop().await;
}

fn today() -> String {
    let now = CivilTime::china(std::time::SystemTime::now());
    format!("{:04}{:02}{:02}", now.year, now.month, now.day)
}

async fn query(connection: &mut Connection, sequence: u32, query_type: u8, query_code: &str) -> QueryCounts {
    let query = Query { time: today(), query_type, query_code: query_code.into(), reserve: String::new() };
    connection.write_pdu(&Pdu::new(sequence, PduBody::Query(query))).await.expect("write query");
    match next_pdu(connection).await {
        Pdu { sequence_id, body: PduBody::QueryResp(resp) } if sequence_id == sequence => {
            assert_eq!((resp.time, resp.query_type, resp.query_code.as_str()), (today(), query_type, query_code));
            resp.counts
        }
        other => panic!("expected query_resp, got {other:?}"),
    }
}

async fn cancel(connection: &mut Connection, sequence: u32, msg_id: MsgId) -> CancelResp {
    connection.write_pdu(&Pdu::new(sequence, PduBody::Cancel(Cancel { msg_id }))).await.expect("write cancel");
    match next_pdu(connection).await {
        Pdu { sequence_id, body: PduBody::CancelResp(resp) } if sequence_id == sequence => resp,
        other => panic!("expected cancel_resp, got {other:?}"),
    }
}

async fn submitted(connection: &mut Connection, sequence: u32, submit: numbind_cmpp::Submit) -> MsgId {
    connection.write_pdu(&Pdu::new(sequence, PduBody::Submit(Box::new(submit)))).await.expect("write submit");
    match next_pdu(connection).await {
        Pdu { sequence_id, body: PduBody::SubmitResp(resp) } if sequence_id == sequence => {
            assert_eq!(resp.result, SubmitResult::Ok);
            resp.msg_id
        }
        other => panic!("expected submit_resp, got {other:?}"),
    }
}

#[tokio::test]
async fn query_counts_the_day_and_cancel_withdraws_only_a_part_still_waiting() {
    for version in [0x20, 0x30] {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let app = spawn_unthrottled(directory.path()).await;
        let mut connection = logged_in(&app, version).await;
        let whole = submitted(&mut connection, 1, submit("收据：影片 15.00 元", 0)).await;
        let first_part = split_text(&"定".repeat(100), 5).expect("two parts").remove(0);
        let mut part = submit("", 0);
        (part.pk_total, part.pk_number, part.tp_udhi) = (first_part.pk_total, first_part.pk_number, 1);
        (part.msg_fmt, part.msg_content) = (first_part.msg_fmt, first_part.content);
        let waiting = submitted(&mut connection, 2, part).await;

        let counts = query(&mut connection, 3, QUERY_TYPE_TOTAL, "").await;
        let expected = QueryCounts {
            mt_total_messages: 2,
            mt_total_users: 1,
            mt_succeeded: 1,
            mt_waiting: 1,
            ..QueryCounts::default()
        };
        assert_eq!(counts, expected);
        let service = query(&mut connection, 4, QUERY_TYPE_SERVICE, "NUMBIND").await;
        assert_eq!(
            service,
            QueryCounts { mt_total_messages: 1, mt_total_users: 1, mt_succeeded: 1, ..QueryCounts::default() }
        );
        assert_eq!(query(&mut connection, 5, QUERY_TYPE_SERVICE, "OTHER").await, QueryCounts::default());

        assert_eq!(cancel(&mut connection, 6, whole).await, CancelResp::NOT_CANCELLED, "already on the phone");
        assert_eq!(cancel(&mut connection, 7, waiting).await, CancelResp::CANCELLED);
        assert_eq!(cancel(&mut connection, 8, waiting).await, CancelResp::NOT_CANCELLED, "no longer waiting");
        assert_eq!(cancel(&mut connection, 9, MsgId::from_u64(42)).await, CancelResp::NOT_CANCELLED);
        let counts = query(&mut connection, 10, QUERY_TYPE_TOTAL, "").await;
        assert_eq!((counts.mt_waiting, counts.mt_failed, counts.mt_total_messages), (0, 1, 2));
        let (_, status) = app.get_json(&format!("/v1/messages/{}", waiting.value())).await;
        assert_eq!(status["state"], "failed", "{status}");
        app.stop().await;
    }
}
