//! The SP client against a tiny in-test ISMG over real sockets, in both protocol versions.

mod helpers;

use helpers::{fast_config, read, start_client, wait_until, TinyIsmg, SHARED_SECRET, SOURCE_ADDR};
use numbind_cmpp::concatenation::{parse_user_data_header, split_text, Reassembly};
use numbind_cmpp::pdu::{
    ConnectStatus, Deliver, DeliverResp, Pdu, PduBody, StatusReport, SubmitResp, SubmitResult, Version, STAT_DELIVERED,
};
use numbind_cmpp::{decode_text, DeliverVerdict, Fee, FeeCode, FeeUserType, MsgFmt, MsgId, OutgoingSms, SpError};
use std::time::{Duration, Instant};

fn msg_id(sequence: u16) -> MsgId {
    MsgId::build(numbind_cmpp::MsgIdFields {
        month: 12,
        day: 7,
        hour: 15,
        minute: 0,
        second: 0,
        gateway_code: 123_456,
        sequence,
    })
    .expect("valid fields")
}

#[tokio::test]
async fn a_long_chinese_message_with_a_fee_is_sent_in_parts_and_each_part_gets_its_msg_id() {
    for version in [Version::V2, Version::V3] {
        let ismg = TinyIsmg::start().await;
        let (client, _deliveries, shutdown) = start_client(fast_config(ismg.address(), version, SHARED_SECRET));
        let (mut connection, connect) = ismg.accept_login(version, ConnectStatus::Ok).await;
        assert_eq!((connect.source_addr.as_str(), connect.version), (SOURCE_ADDR, version.byte()));
        wait_until("logged in", || client.is_connected()).await;

        let text = "您的机顶盒已绑定到本号码，".repeat(8);
        let mut sms = OutgoingSms::new("1065800", "13800138000", text.clone());
        sms.fee = Fee {
            user_type: FeeUserType::FeeTerminal,
            terminal_id: "13900139000".into(),
            ..Fee::per_message(FeeCode::from_fen(150).unwrap())
        };
        let submitting = tokio::spawn({
            let client = client.clone();
            async move { client.submit(sms).await }
        });
        let mut reassembly: Reassembly<(), u8> = Reassembly::new(Duration::from_secs(60), 1);
        let mut whole = None;
        for number in 1..=2u16 {
            let pdu = read(&mut connection).await;
            let PduBody::Submit(submit) = pdu.body else { panic!("expected a submit, got {pdu:?}") };
            assert_eq!((submit.pk_total, submit.tp_udhi, submit.msg_fmt), (2, 1, MsgFmt::Ucs2));
            assert_eq!((submit.fee.fee_code.fen(), submit.fee.terminal_id.as_str()), (150, "13900139000"));
            assert_eq!((submit.msg_src.as_str(), submit.service_id.as_str()), (SOURCE_ADDR, "BIND"));
            let (concatenation, payload) = parse_user_data_header(&submit.msg_content).expect("a header");
            whole = reassembly
                .insert((), concatenation.expect("concatenation"), submit.pk_number, payload, Instant::now())
                .unwrap();
            let answer = SubmitResp { msg_id: msg_id(number), result: SubmitResult::Ok };
            connection.write_pdu(&Pdu::new(pdu.sequence_id, PduBody::SubmitResp(answer))).await.unwrap();
        }
        assert_eq!(decode_text(MsgFmt::Ucs2, &whole.expect("complete").content).unwrap(), text);
        assert_eq!(submitting.await.unwrap(), Ok(vec![msg_id(1), msg_id(2)]));
        shutdown.cancel();
        assert!(matches!(read(&mut connection).await.body, PduBody::Terminate));
    }
}

#[tokio::test]
async fn flow_control_is_reported_as_a_rejection_with_result_8() {
    let ismg = TinyIsmg::start().await;
    let (client, _deliveries, _shutdown) = start_client(fast_config(ismg.address(), Version::V3, SHARED_SECRET));
    let (mut connection, _) = ismg.accept_login(Version::V3, ConnectStatus::Ok).await;
    wait_until("logged in", || client.is_connected()).await;
    let submitting = tokio::spawn({
        let client = client.clone();
        async move { client.submit(OutgoingSms::new("1065800", "13800138000", "hello")).await }
    });
    let pdu = read(&mut connection).await;
    let answer = SubmitResp { msg_id: MsgId::default(), result: SubmitResult::FlowControl };
    connection.write_pdu(&Pdu::new(pdu.sequence_id, PduBody::SubmitResp(answer))).await.unwrap();
    assert_eq!(submitting.await.unwrap(), Err(SpError::Rejected { result: SubmitResult::FlowControl }));
}

#[tokio::test]
async fn a_fee_number_too_wide_for_2_0_is_refused_before_sending_and_the_link_stays_up() {
    let ismg = TinyIsmg::start().await;
    let (client, _deliveries, _shutdown) = start_client(fast_config(ismg.address(), Version::V2, SHARED_SECRET));
    let (mut connection, _) = ismg.accept_login(Version::V2, ConnectStatus::Ok).await;
    wait_until("logged in", || client.is_connected()).await;
    let mut sms = OutgoingSms::new("1065800", "13800138000", "hello");
    sms.fee.terminal_id = "8".repeat(25);
    assert!(matches!(client.submit(sms).await, Err(SpError::DoesNotFit(_))));
    let submitting = tokio::spawn({
        let client = client.clone();
        async move { client.submit(OutgoingSms::new("1065800", "13800138000", "hello")).await }
    });
    let pdu = read(&mut connection).await;
    let answer = SubmitResp { msg_id: msg_id(9), result: SubmitResult::Ok };
    connection.write_pdu(&Pdu::new(pdu.sequence_id, PduBody::SubmitResp(answer))).await.unwrap();
    assert_eq!(submitting.await.unwrap(), Ok(vec![msg_id(9)]));
}

#[tokio::test]
async fn a_wrong_shared_secret_is_refused_and_the_client_logs_in_again_later() {
    let ismg = TinyIsmg::start().await;
    let (client, _deliveries, _shutdown) = start_client(fast_config(ismg.address(), Version::V2, "wrong"));
    let (_refused, _) = ismg.accept_login(Version::V2, ConnectStatus::Ok).await;
    let (_again, connect) = ismg.accept_login(Version::V2, ConnectStatus::Ok).await;
    assert!(!connect.is_authentic(SHARED_SECRET));
    assert!(!client.is_connected());
    let refused = client.submit(OutgoingSms::new("1065800", "13800138000", "x")).await;
    assert_eq!(refused, Err(SpError::NotConnected));
}

fn mo_part(version: Version, sequence_id: u32, content: Vec<u8>, tp_udhi: u8, format: MsgFmt) -> Pdu {
    let deliver = Deliver {
        msg_id: msg_id(sequence_id as u16),
        dest_id: "1065800".into(),
        service_id: "BIND".into(),
        tp_udhi,
        msg_fmt: format,
        src_terminal_id: "13800138000".into(),
        msg_content: content.into(),
        link_id: if version == Version::V3 { "link".into() } else { String::new() },
        ..Deliver::default()
    };
    Pdu::new(sequence_id, PduBody::Deliver(Box::new(deliver)))
}

#[tokio::test]
async fn a_long_mo_message_is_reassembled_and_every_part_answered_after_the_verdict() {
    let ismg = TinyIsmg::start().await;
    let (client, mut deliveries, _shutdown) = start_client(fast_config(ismg.address(), Version::V3, SHARED_SECRET));
    let (mut connection, _) = ismg.accept_login(Version::V3, ConnectStatus::Ok).await;
    wait_until("logged in", || client.is_connected()).await;
    let text = "绑定 123456 ".repeat(20);
    let parts = split_text(&text, 9).unwrap();
    assert_eq!(parts.len(), 3);
    for (index, part) in parts.iter().enumerate().rev() {
        let pdu = mo_part(Version::V3, 100 + index as u32, part.content.to_vec(), 1, part.msg_fmt);
        connection.write_pdu(&pdu).await.unwrap();
    }
    let delivery = tokio::time::timeout(helpers::DEADLINE, deliveries.recv()).await.unwrap().unwrap();
    assert_eq!((delivery.sms.text.as_str(), delivery.sms.source.as_str()), (text.as_str(), "13800138000"));
    assert_eq!(delivery.sms.msg_id, msg_id(100));
    delivery.reply.send(DeliverVerdict::Accept).unwrap();
    let mut answered = Vec::new();
    for _ in 0..3 {
        let pdu = read(&mut connection).await;
        let PduBody::DeliverResp(DeliverResp { msg_id, result }) = pdu.body else { panic!("{pdu:?}") };
        assert_eq!(result, SubmitResult::Ok);
        answered.push((pdu.sequence_id, msg_id));
    }
    answered.sort();
    assert_eq!(answered, vec![(100, msg_id(100)), (101, msg_id(101)), (102, msg_id(102))]);
}

#[tokio::test]
async fn a_part_whose_siblings_never_come_is_answered_with_result_8_once_its_time_is_up_and_never_handed_over() {
    let ismg = TinyIsmg::start().await;
    let mut config = fast_config(ismg.address(), Version::V2, SHARED_SECRET);
    (config.active_test_interval, config.reassembly_time_limit) =
        (Duration::from_millis(100), Duration::from_millis(250));
    let (client, mut deliveries, _shutdown) = start_client(config);
    let (mut connection, _) = ismg.accept_login(Version::V2, ConnectStatus::Ok).await;
    wait_until("logged in", || client.is_connected()).await;
    let parts = split_text(&"定".repeat(100), 4).unwrap();
    let sent_at = Instant::now();
    connection.write_pdu(&mo_part(Version::V2, 100, parts[0].content.to_vec(), 1, MsgFmt::Ucs2)).await.unwrap();
    let answer = loop {
        let pdu = read(&mut connection).await;
        match pdu.body {
            PduBody::ActiveTest => {
                let resp = Pdu::new(pdu.sequence_id, PduBody::ActiveTestResp { reserved: 0 });
                connection.write_pdu(&resp).await.unwrap();
            }
            PduBody::DeliverResp(answer) => break (pdu.sequence_id, answer),
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(answer, (100, DeliverResp { msg_id: msg_id(100), result: SubmitResult::FlowControl }));
    assert!(sent_at.elapsed() >= Duration::from_millis(250), "answered after {:?}", sent_at.elapsed());
    assert!(deliveries.try_recv().is_err(), "a part alone is never handed over");
}

#[tokio::test]
async fn a_status_report_is_handed_over_and_a_refused_delivery_is_answered_with_result_8() {
    for version in [Version::V2, Version::V3] {
        let ismg = TinyIsmg::start().await;
        let (client, mut deliveries, _shutdown) = start_client(fast_config(ismg.address(), version, SHARED_SECRET));
        let (mut connection, _) = ismg.accept_login(version, ConnectStatus::Ok).await;
        wait_until("logged in", || client.is_connected()).await;
        let report = StatusReport {
            msg_id: msg_id(1),
            stat: STAT_DELIVERED.into(),
            submit_time: "2612071500".into(),
            done_time: "2612071501".into(),
            dest_terminal_id: "13800138000".into(),
            smsc_sequence: 5,
        };
        let mut pdu = mo_part(version, 7, report.encode(version).unwrap(), 0, MsgFmt::Ascii);
        if let PduBody::Deliver(deliver) = &mut pdu.body {
            deliver.registered_delivery = 1;
        }
        connection.write_pdu(&pdu).await.unwrap();
        let delivery = tokio::time::timeout(helpers::DEADLINE, deliveries.recv()).await.unwrap().unwrap();
        assert_eq!(delivery.sms.status_report.as_ref(), Some(&report));
        drop(delivery.reply);
        let answer = read(&mut connection).await;
        assert!(matches!(answer.body, PduBody::DeliverResp(DeliverResp { result: SubmitResult::FlowControl, .. })));
        assert_eq!(answer.sequence_id, 7);
    }
}

#[tokio::test]
async fn a_gateway_that_stops_answering_is_declared_dead_after_three_silent_intervals() {
    let ismg = TinyIsmg::start().await;
    let mut config = fast_config(ismg.address(), Version::V2, SHARED_SECRET);
    config.active_test_interval = Duration::from_millis(100);
    let (client, _deliveries, _shutdown) = start_client(config);
    let (mut silent, _) = ismg.accept_login(Version::V2, ConnectStatus::Ok).await;
    wait_until("logged in", || client.is_connected()).await;
    let started = tokio::time::Instant::now();
    let mut active_tests = 0;
    while let Ok(Some(outcome)) = silent.read_pdu().await {
        assert!(matches!(outcome, numbind_cmpp::ReadOutcome::Pdu(Pdu { body: PduBody::ActiveTest, .. })));
        active_tests += 1;
    }
    assert_eq!(active_tests, 3);
    assert!(started.elapsed() >= Duration::from_millis(350));
    let (_again, _) = ismg.accept_login(Version::V2, ConnectStatus::Ok).await;
    wait_until("logged in again", || client.is_connected()).await;
}

#[tokio::test]
async fn the_gateways_active_test_is_answered_even_before_the_login_answer() {
    let ismg = TinyIsmg::start().await;
    let (client, _deliveries, _shutdown) = start_client(fast_config(ismg.address(), Version::V3, SHARED_SECRET));
    let (stream, _) = ismg.listener.accept().await.unwrap();
    let mut connection = numbind_cmpp::Connection::new(stream, Version::V3);
    let login = read(&mut connection).await;
    connection.write_pdu(&Pdu::new(77, PduBody::ActiveTest)).await.unwrap();
    let answer = read(&mut connection).await;
    assert_eq!(answer, Pdu::new(77, PduBody::ActiveTestResp { reserved: 0 }));
    let PduBody::Connect(connect) = login.body else { panic!("expected a connect") };
    let response = numbind_cmpp::ConnectResp::answer(&connect, ConnectStatus::Ok, SHARED_SECRET, Version::V3);
    connection.write_pdu(&Pdu::new(login.sequence_id, PduBody::ConnectResp(response))).await.unwrap();
    wait_until("logged in", || client.is_connected()).await;
}
