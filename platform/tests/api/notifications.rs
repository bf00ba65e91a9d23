//! Notification SMS leave the outbox through a real SMS centre (sms-sim over SMPP) and reach the phone once.

use crate::helpers::{spawn_app_with, DEVICE_MODEL};
use numbind_platform::SmscLink;
use numbind_wire::Msisdn;
use std::time::{Duration, Instant};

/// SMPP 3.4 passwords are at most 8 characters.
const SMSC_PASSWORD: &str = "plat-pw1";

/// Starts sms-sim with a `platform` account; returns its HTTP base URL and SMPP address.
async fn spawn_sms_centre(directory: &std::path::Path) -> (String, String, tokio_util::sync::CancellationToken) {
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let smpp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (http_url, smpp_address) =
        (format!("http://{}", http.local_addr().unwrap()), smpp.local_addr().unwrap().to_string());
    let account = numbind_sms_sim::EsmeAccount::new("platform", SMSC_PASSWORD, vec![]);
    let config = numbind_sms_sim::Config::new(directory.join("smsc.db"), vec![account]);
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(numbind_sms_sim::run(
        config,
        numbind_sms_sim::Listeners { http, smpp, smpp_tls: None, cmpp: None },
        shutdown.clone().cancelled_owned(),
    ));
    (http_url, smpp_address, shutdown)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_confirmation_sms_reaches_the_phone_through_the_sms_centre_exactly_once() {
    let smsc_directory = tempfile::tempdir().unwrap();
    let (smsc_url, smpp_address, smsc_shutdown) = spawn_sms_centre(smsc_directory.path()).await;
    let app = spawn_app_with(|config| {
        config.smsc = Some(numbind_platform::LinkConfig::Smpp(SmscLink {
            address: smpp_address,
            system_id: "platform".into(),
            password: SMSC_PASSWORD.into(),
            tls: None,
        }))
    })
    .await;
    app.bind_test_terminal("13800138000", "bnd-1").await;

    let inbox_url = format!("{smsc_url}/v1/phones/13800138000/inbox");
    let deadline = Instant::now() + Duration::from_secs(20);
    let messages = loop {
        let inbox: serde_json::Value = app.http.get(&inbox_url).send().await.unwrap().json().await.unwrap();
        let messages = inbox["messages"].as_array().cloned().unwrap_or_default();
        if !messages.is_empty() {
            break messages;
        }
        let outbox = app.store.notifications_to(&Msisdn::parse("13800138000").unwrap()).unwrap();
        assert!(Instant::now() < deadline, "the confirmation sms never reached the phone: {outbox:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
        app.clock.advance(Duration::from_secs(1));
    };
    let text = messages[0]["text"].as_str().unwrap();
    assert!(text.contains("本号码已绑定设备") && text.contains(DEVICE_MODEL), "{text}");
    assert_eq!(messages[0]["from"], "10658000");

    let outbox = app.store.notifications_to(&Msisdn::parse("13800138000").unwrap()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !app.store.notifications_to(&Msisdn::parse("13800138000").unwrap()).unwrap()[0].sent {
        assert!(Instant::now() < deadline, "the outbox row was never marked sent: {outbox:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let inbox: serde_json::Value = app.http.get(&inbox_url).send().await.unwrap().json().await.unwrap();
    assert_eq!(inbox["messages"].as_array().map(Vec::len), Some(1), "delivered once: {inbox}");
    smsc_shutdown.cancel();
}
