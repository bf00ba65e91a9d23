//! Every refusal path: each ends in the right SMS to the user and the right state on the box.

use crate::helpers::{next_event, System, SystemOptions, FLOW_TIMEOUT};

const PAYER: &str = "13800138000";
const PREPAID_ONE_DEVICE: &str = "13800138001";

#[tokio::test(flavor = "multi_thread")]
async fn each_ineligible_subscriber_is_denied_on_the_box_and_told_why_by_sms() {
    let system = System::start().await;
    let cases = [
        ("13900139000", "subscriber_suspended", "欠费"),
        ("13700137000", "subscriber_blacklisted", "暂不能办理"),
        ("13600136000", "subscriber_cancelled", "销户"),
        ("13100131000", "unknown_subscriber", "不是本网用户"),
        ("13500135000", "billing_not_allowed", "未开通"),
    ];
    for (msisdn, reason, sms_phrase) in cases {
        let mut agent = system.agent(&format!("box-{msisdn}"), &["run", "--exit-on-denied"]);
        let activation = next_event(&mut agent, &["activation"]).await;
        system.phone_sends(msisdn, activation["sms_text"].as_str().unwrap()).await;
        let denied = next_event(&mut agent, &["denied", "bound"]).await;
        assert_eq!(denied["event"], "denied", "{msisdn} must not bind");
        assert_eq!(denied["reason"], reason, "{msisdn}");
        assert_eq!(agent.wait_exit(FLOW_TIMEOUT).await, Some(3), "--exit-on-denied exits 3 ({msisdn})");
        system.wait_for_sms(msisdn, sms_phrase).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_number_at_its_device_limit_is_denied_for_another_box() {
    let system = System::start().await;
    let mut first = system.agent("first", &["run"]);
    let activation = next_event(&mut first, &["activation"]).await;
    system.phone_sends(PREPAID_ONE_DEVICE, activation["sms_text"].as_str().unwrap()).await;
    next_event(&mut first, &["bound"]).await;

    let mut second = system.agent("second", &["run", "--exit-on-denied"]);
    let activation = next_event(&mut second, &["activation"]).await;
    system.phone_sends(PREPAID_ONE_DEVICE, activation["sms_text"].as_str().unwrap()).await;
    let denied = next_event(&mut second, &["denied", "bound"]).await;
    assert_eq!(denied["reason"], "device_limit_reached");
    system.wait_for_sms(PREPAID_ONE_DEVICE, "上限").await;

    // The OSS, the billing record of truth, holds exactly the first binding.
    let url = format!("{}/v1/bindings?msisdn={PREPAID_ONE_DEVICE}&state=active", system.oss_url);
    let bindings: serde_json::Value =
        system.oss_admin(system.http.get(url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(bindings["bindings"].as_array().map(Vec::len), Some(1), "{bindings}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_and_mistyped_codes_are_answered_by_sms_and_the_box_keeps_waiting() {
    let system = System::start().await;
    let mut agent = system.agent("box", &["run"]);
    let activation = next_event(&mut agent, &["activation"]).await;

    system.phone_sends(PAYER, "BIND BCDFGHJK").await;
    system.wait_for_sms(PAYER, "验证码无效").await;
    system.phone_sends(PAYER, "BIND 1234").await;
    system.phone_sends(PAYER, "hello").await;
    let inbox = system.wait_for_sms(PAYER, "无法识别").await;
    assert!(inbox.len() >= 3, "one answer per message: {inbox:?}");

    // The box was not disturbed: the right code still binds it.
    system.phone_sends(PAYER, activation["sms_text"].as_str().unwrap()).await;
    next_event(&mut agent, &["bound"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_used_code_is_refused_to_a_second_phone() {
    let system = System::start().await;
    let mut agent = system.agent("box", &["run"]);
    let activation = next_event(&mut agent, &["activation"]).await;
    let sms_text = activation["sms_text"].as_str().unwrap();
    system.phone_sends(PAYER, sms_text).await;
    let bound = next_event(&mut agent, &["bound"]).await;

    system.phone_sends(PREPAID_ONE_DEVICE, sms_text).await;
    system.wait_for_sms(PREPAID_ONE_DEVICE, "已被使用").await;
    let mut status = system.agent("box", &["status"]);
    let state = next_event(&mut status, &["status"]).await;
    assert_eq!(state["binding_id"], bound["binding_id"], "the box stays bound to the first number");
    assert_eq!(state["msisdn_masked"], "138****8000");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_code_is_refused_and_the_box_shows_a_new_one() {
    let system = System::start_with(SystemOptions { activation_ttl_seconds: 2, ..SystemOptions::default() }).await;
    let mut agent = system.agent("box", &["run"]);
    let first = next_event(&mut agent, &["activation"]).await;
    next_event(&mut agent, &["expired"]).await;
    let second = next_event(&mut agent, &["activation"]).await;
    assert_ne!(first["code"], second["code"], "a new code replaces the expired one");

    system.phone_sends(PAYER, first["sms_text"].as_str().unwrap()).await;
    system.wait_for_sms(PAYER, "已过期").await;
}
