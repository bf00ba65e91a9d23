//! The binding flow with the real platform and the real SMS centre: bind, deny, and a duplicated delivery.

use crate::helpers::{spawn_app_with, AppOptions, TestApp};
use crate::terminal::TestTerminal;
use serde_json::Value;

const PAYER: &str = "13800138000";
const SUSPENDED: &str = "13900139000";

async fn whole_system(duplicate_deliveries: bool) -> TestApp {
    spawn_app_with(AppOptions {
        seed_demo: true,
        sms_centre: Some(duplicate_deliveries),
        platform: true,
        ..AppOptions::default()
    })
    .await
}

async fn active_bindings(app: &TestApp, terminal: &TestTerminal) -> Vec<Value> {
    let body: Value =
        app.get(&format!("/v1/bindings?terminal_id={}&state=active", terminal.terminal_id)).await.json().await.unwrap();
    body["bindings"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_sms_with_a_valid_code_binds_the_terminal_to_the_sender() {
    let app = whole_system(false).await;
    let terminal = TestTerminal::register(app.platform_url.as_deref().unwrap(), "Skyworth E900").await;
    let activation = terminal.activation(&app.platform_keys).await;
    let message_id = app.phone_sends(PAYER, &activation.sms_text).await;
    let view = app.wait_for_inbox(&message_id, |view| view["state"] == "processed").await;
    assert_eq!(view["outcome"], "bound", "{view}");
    assert_eq!(view["replies"], serde_json::json!([]), "the platform, not the OSS, confirms a binding");
    let bindings = active_bindings(&app, &terminal).await;
    assert_eq!(bindings.len(), 1);
    assert_eq!(bindings[0]["msisdn"], PAYER);
    assert_eq!(bindings[0]["device_model"], "Skyworth E900");
    assert_eq!(bindings[0]["activation_id"], activation.activation_id.as_str());
    app.wait_for_reply(PAYER, "Skyworth E900").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_suspended_number_is_denied_and_told_why_by_sms() {
    let app = whole_system(false).await;
    let terminal = TestTerminal::register(app.platform_url.as_deref().unwrap(), "Skyworth E900").await;
    let activation = terminal.activation(&app.platform_keys).await;
    let message_id = app.phone_sends(SUSPENDED, &activation.sms_text).await;
    app.wait_for_reply(SUSPENDED, "欠费停机").await;
    let view = app.wait_for_inbox(&message_id, |view| view["state"] == "processed").await;
    assert_eq!(view["outcome"], "denied_subscriber_suspended");
    assert!(active_bindings(&app, &terminal).await.is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicated_delivery_of_a_bind_binds_once() {
    let app = whole_system(true).await;
    let terminal = TestTerminal::register(app.platform_url.as_deref().unwrap(), "Skyworth E900").await;
    let activation = terminal.activation(&app.platform_keys).await;
    let message_id = app.phone_sends(PAYER, &activation.sms_text).await;
    app.wait_for_inbox(&message_id, |view| view["outcome"] == "bound").await;
    let deadline = tokio::time::Instant::now() + crate::helpers::DEADLINE;
    while !app.metrics().await.contains("sms_duplicates_total 1") {
        assert!(tokio::time::Instant::now() < deadline, "the duplicate delivery never arrived");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let metrics = app.metrics().await;
    assert!(metrics.contains(r#"commands_total{kind="bind",outcome="bound"} 1"#), "{metrics}");
    assert!(metrics.contains(r#"platform_calls_total{endpoint="redemptions",result="ok"} 1"#), "{metrics}");
    let all: Value = app.get(&format!("/v1/bindings?terminal_id={}", terminal.terminal_id)).await.json().await.unwrap();
    assert_eq!(all["bindings"].as_array().unwrap().len(), 1, "{all}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unbind_by_sms_revokes_the_binding_and_names_the_device() {
    let app = whole_system(false).await;
    let terminal = TestTerminal::register(app.platform_url.as_deref().unwrap(), "Skyworth E900").await;
    let activation = terminal.activation(&app.platform_keys).await;
    let bind_id = app.phone_sends(PAYER, &activation.sms_text).await;
    app.wait_for_inbox(&bind_id, |view| view["outcome"] == "bound").await;

    let unbind_id = app.phone_sends(PAYER, "解绑").await;
    let expected = format!("Skyworth E900（终端尾号{}）", terminal.terminal_id.tail());
    app.wait_for_reply(PAYER, &expected).await;
    let view = app.wait_for_inbox(&unbind_id, |view| view["state"] == "processed").await;
    assert_eq!(view["outcome"], "unbound");
    assert!(active_bindings(&app, &terminal).await.is_empty(), "the OSS record is revoked too");

    let again = app.phone_sends(PAYER, "UNBIND").await;
    app.wait_for_reply(PAYER, "没有绑定任何设备").await;
    let view = app.wait_for_inbox(&again, |view| view["state"] == "processed").await;
    assert_eq!(view["outcome"], "nothing_to_unbind");
    app.stop().await;
}
