//! SMS commands end to end through a real SMS centre (the platform is down in these tests).

use crate::helpers::{spawn_app_with, AppOptions};
use serde_json::Value;

const PHONE: &str = "13800138000";

fn with_sms_centre(duplicate: bool) -> AppOptions {
    AppOptions { seed_demo: true, sms_centre: Some(duplicate), ..AppOptions::default() }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_that_is_not_a_command_is_answered_with_how_to_bind() {
    let app = spawn_app_with(with_sms_centre(false)).await;
    let message_id = app.phone_sends(PHONE, "hello").await;
    let inbox = app.wait_for_reply(PHONE, "无法识别").await;
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert!(inbox[0].starts_with("【numbind】"));
    let view = app.wait_for_inbox(&message_id, |view| view["state"] == "processed").await;
    assert_eq!(view["outcome"], "unknown_command");
    assert_eq!(view["replies"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mistyped_code_is_answered_without_asking_the_platform() {
    let app = spawn_app_with(with_sms_centre(false)).await;
    let message_id = app.phone_sends(PHONE, "BIND 1234").await;
    app.wait_for_reply(PHONE, "格式不正确").await;
    let view = app.wait_for_inbox(&message_id, |view| view["state"] == "processed").await;
    assert_eq!(view["outcome"], "invalid_code");
    assert!(!app.metrics().await.contains("platform_calls_total{"), "no platform call for a malformed code");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicated_delivery_is_processed_and_answered_once() {
    let app = spawn_app_with(with_sms_centre(true)).await;
    let message_id = app.phone_sends(PHONE, "查询").await;
    app.wait_for_reply(PHONE, "没有绑定任何设备").await;
    app.wait_for_inbox(&message_id, |view| view["state"] == "processed").await;
    // Wait (bounded) until the second delivery has arrived and been recognised.
    let deadline = tokio::time::Instant::now() + crate::helpers::DEADLINE;
    while !app.metrics().await.contains("sms_duplicates_total 1") {
        assert!(tokio::time::Instant::now() < deadline, "the duplicate delivery never arrived");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let metrics = app.metrics().await;
    assert!(metrics.contains("sms_received_total 2"), "{metrics}");
    assert!(metrics.contains(r#"commands_total{kind="query",outcome="answered"} 1"#), "{metrics}");
    assert_eq!(app.phone_inbox(PHONE).await.len(), 1, "one answer for one sms");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bind_while_the_platform_is_down_stays_pending_and_is_retried() {
    let app = spawn_app_with(with_sms_centre(false)).await;
    let message_id = app.phone_sends(PHONE, "BIND WDJBMJHT").await;
    let view: Value = app
        .wait_for_inbox(&message_id, |view| view["state"] == "pending" && view["attempts"].as_u64() >= Some(2))
        .await;
    assert!(view["last_error"].as_str().unwrap_or_default().contains("platform"), "{view}");
    assert!(app.phone_inbox(PHONE).await.is_empty(), "nothing is answered until the platform answers");
    let metrics = app.metrics().await;
    assert!(metrics.contains(r#"platform_calls_total{endpoint="redemptions",result="unavailable"}"#), "{metrics}");
    app.stop().await;
}
