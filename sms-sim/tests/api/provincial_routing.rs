//! MO of a national short code routed to the ESME of the sender's home province, by the segment and portability
//! tables; numbers of no province of ours answered by the SMS centre itself.

use crate::helpers::{spawn_app_with, test_config, SHORT_CODE};
use numbind_routing::{PortabilityTable, ProvinceCode, RoutingTable, SegmentTable};
use numbind_smpp::{BindMode, DeliverVerdict};
use numbind_sms_sim::{Config, EsmeAccount};
use numbind_wire::ShortCode;
use serde_json::Value;

const BEIJING_PHONE: &str = "13801001000";
const GUANGDONG_PHONE: &str = "13802001000";
/// Beijing's segment, ported to Guangdong.
const PORTED_PHONE: &str = "13801009999";
/// In no segment of the table.
const UNKNOWN_PHONE: &str = "13800138000";

fn provincial_config(directory: &std::path::Path) -> Config {
    let mut config = test_config(directory);
    config.accounts.retain(|account| account.system_id != "oss");
    for (system_id, province) in [("oss-bj", "BJ"), ("oss-gd", "GD")] {
        let mut account =
            EsmeAccount::new(system_id, "oss-pass", vec![ShortCode::parse(SHORT_CODE).expect("short code")]);
        account.vendor_tlvs = true;
        account.province = Some(ProvinceCode::parse(province).expect("province"));
        config.accounts.push(account);
    }
    let segments = SegmentTable::parse_csv("segment,province\n1380100,BJ\n1380200,GD\n").expect("segments");
    let ported = PortabilityTable::parse_csv(&format!("number,destination\n{PORTED_PHONE},GD\n")).expect("ported");
    config.routing = Some(RoutingTable::new(segments, ported));
    config
}

async fn send(app: &crate::helpers::TestApp, from: &str, text: &str) -> Value {
    let response = app.phone_sends(from, SHORT_CODE, text).await;
    assert_eq!(response.status().as_u16(), 202);
    response.json().await.expect("json")
}

#[tokio::test]
async fn each_senders_mo_reaches_the_receiver_of_its_home_province_only() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app_with(provincial_config(directory.path())).await;
    let mut beijing = app.esme("oss-bj", "oss-pass", BindMode::Receiver).await;
    let mut guangdong = app.esme("oss-gd", "oss-pass", BindMode::Receiver).await;

    let from_beijing = send(&app, BEIJING_PHONE, "BIND AAAABBBB").await;
    let from_guangdong = send(&app, GUANGDONG_PHONE, "BIND CCCCDDDD").await;
    let from_ported = send(&app, PORTED_PHONE, "BIND FFFFGGGG").await;
    assert_eq!(from_beijing["state"], "queued");

    let delivery = beijing.next_delivery().await;
    assert_eq!((delivery.sms.source.as_str(), delivery.sms.text.as_str()), (BEIJING_PHONE, "BIND AAAABBBB"));
    delivery.reply.send(DeliverVerdict::Accept).unwrap();
    let mut guangdong_sources = Vec::new();
    for _ in 0..2 {
        let delivery = guangdong.next_delivery().await;
        guangdong_sources.push(delivery.sms.source.clone());
        delivery.reply.send(DeliverVerdict::Accept).unwrap();
    }
    guangdong_sources.sort();
    assert_eq!(guangdong_sources, vec![PORTED_PHONE.to_owned(), GUANGDONG_PHONE.to_owned()], "ported goes by its row");
    for sent in [from_beijing, from_guangdong, from_ported] {
        app.wait_for_state(sent["message_id"].as_str().unwrap(), "delivered").await;
    }
    assert!(beijing.deliveries.try_recv().is_err(), "beijing got nothing of guangdong's");
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_segment_is_answered_by_the_sms_centre_and_counted() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app_with(provincial_config(directory.path())).await;
    let mut beijing = app.esme("oss-bj", "oss-pass", BindMode::Receiver).await;
    let mut guangdong = app.esme("oss-gd", "oss-pass", BindMode::Receiver).await;

    let answered = send(&app, UNKNOWN_PHONE, "BIND AAAABBBB").await;
    assert_eq!(answered["state"], "answered");
    let inbox = app.inbox_texts(UNKNOWN_PHONE).await;
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert!(inbox[0].contains("号码归属地未知"), "{inbox:?}");
    let metrics = app.http.get(format!("{}/metrics", app.http_url)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("smsc_mo_refused_total{reason=\"unknown_segment\"} 1"), "{metrics}");

    // Neither province saw it: the next MO each receives is the one sent after.
    send(&app, BEIJING_PHONE, "BIND CCCCDDDD").await;
    let delivery = beijing.next_delivery().await;
    assert_eq!(delivery.sms.text, "BIND CCCCDDDD");
    delivery.reply.send(DeliverVerdict::Accept).unwrap();
    assert!(guangdong.deliveries.try_recv().is_err());
    app.stop().await;
}

#[tokio::test]
async fn an_account_with_a_province_and_no_segment_table_refuses_to_start() {
    let directory = tempfile::tempdir().unwrap();
    let mut config = provincial_config(directory.path());
    config.routing = None;
    let bind = || std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listener = |listener: std::net::TcpListener| {
        listener.set_nonblocking(true).unwrap();
        tokio::net::TcpListener::from_std(listener).unwrap()
    };
    let listeners =
        numbind_sms_sim::Listeners { http: listener(bind()), smpp: listener(bind()), smpp_tls: None, cmpp: None };
    let refused = numbind_sms_sim::run(config, listeners, std::future::pending()).await.unwrap_err();
    let message = format!("{refused:#}");
    assert!(message.contains("oss-bj") && message.contains("--segments-file"), "{message}");
}
