//! The whole system with the platform's and the OSS's links to the SMS centre over CMPP 3.0 (`--smsc-protocol
//! cmpp`): the SMS centre has only CMPP accounts, so every SMS below went through its CMPP listener. A box binds
//! through the real SMS path, and a payment above the threshold is confirmed by SMS and receipted.

use crate::helpers::{next_event, Process, System, SystemOptions, FLOW_TIMEOUT};
use serde_json::Value;

const PAYER: &str = "13800138000";
const FILM: &str = "《流浪地球》高清";

async fn start_over_cmpp() -> System {
    System::start_with(SystemOptions { over_cmpp: true, ..SystemOptions::default() }).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_box_binds_through_sms_carried_over_cmpp() {
    let system = start_over_cmpp().await;
    let mut agent = system.agent("box", &["run"]);
    let activation = next_event(&mut agent, &["activation"]).await;
    let sms_text = activation["sms_text"].as_str().unwrap().to_owned();
    system.phone_sends(PAYER, &sms_text).await;
    let bound = next_event(&mut agent, &["bound"]).await;
    assert_eq!(bound["msisdn_masked"], "138****8000");
    assert_eq!(agent.wait_exit(FLOW_TIMEOUT).await, Some(0), "the agent exits 0 once bound");
    let inbox = system.wait_for_sms(PAYER, "已绑定").await;
    assert!(inbox.iter().any(|text| text.contains("已绑定") && text.contains("解绑")), "{inbox:?}");
}

/// A bind SMS longer than one DELIVER: the keyword in the first part, the code cut across the others (ideographic
/// spaces between, which the OSS skips), so the box binds only if the OSS got every part, in order.
fn long_bind_text(sms_text: &str) -> String {
    let code = sms_text.strip_prefix("BIND ").expect("a BIND text");
    let (first_half, second_half) = code.split_at(code.len() / 2);
    let gap = "\u{3000}".repeat(70);
    format!("绑定{gap}{first_half}{gap}{second_half}")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_chinese_mo_reaches_the_oss_whole_and_once_over_cmpp() {
    let system = start_over_cmpp().await;
    let mut agent = system.agent("box", &["run"]);
    let activation = next_event(&mut agent, &["activation"]).await;
    let text = long_bind_text(activation["sms_text"].as_str().unwrap());
    assert!(text.encode_utf16().count() * 2 > 2 * 134, "three UCS-2 parts: {} characters", text.chars().count());
    let message_id = system.phone_sends(PAYER, &text).await;
    next_event(&mut agent, &["bound"]).await;
    assert_eq!(agent.wait_exit(FLOW_TIMEOUT).await, Some(0), "the agent exits 0 once bound");

    let status_url = format!("{}/v1/messages/{message_id}", system.smsc_url);
    let deadline = tokio::time::Instant::now() + FLOW_TIMEOUT;
    let status = loop {
        let status: Value = system.http.get(&status_url).send().await.unwrap().json().await.unwrap();
        if status["state"] != "queued" || tokio::time::Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!((status["state"].as_str(), status["attempts"].as_u64()), (Some("delivered"), Some(1)), "{status}");
    let inbox = system.wait_for_sms(PAYER, "已绑定").await;
    assert_eq!(inbox.iter().filter(|text| text.contains("已绑定")).count(), 1, "{inbox:?}");
    assert!(!inbox.iter().any(|text| text.contains("已被使用")), "the message reached the OSS twice: {inbox:?}");
}

async fn next_stage(agent: &mut Process, stage: &str) -> Value {
    loop {
        let event = next_event(agent, &["purchase_progress", "purchase_outcome"]).await;
        assert_eq!(event["event"], "purchase_progress", "the purchase ended before {stage}: {event}");
        if event["stage"] == stage {
            return event;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_is_confirmed_and_receipted_by_sms_over_cmpp() {
    let system = start_over_cmpp().await;
    system.bind_a_box("box", PAYER).await;
    let (credentials, output) = system.create_merchant("e2e-films", "演示影院").await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let credentials = credentials.to_str().unwrap().to_owned();
    let arguments = ["buy", "--merchant-credentials", &credentials, "--item", "film-4412", "--description", FILM];
    let mut agent = system.agent("box", &[&arguments[..], &["--amount", "50.00"]].concat());
    next_stage(&mut agent, "waiting_for_confirmation").await;

    let inbox = system.wait_for_sms(PAYER, "回复 Y").await;
    let request = inbox.iter().find(|text| text.contains("回复 Y")).unwrap();
    assert!(request.contains("¥50.00") && request.contains(FILM), "the request names amount and item: {request}");
    let number: String = request.split("Y ").nth(1).unwrap().chars().take_while(char::is_ascii_digit).collect();
    system.phone_sends(PAYER, &format!("Y {number}")).await;

    let outcome = next_event(&mut agent, &["purchase_outcome"]).await;
    assert_eq!(outcome["outcome"], "succeeded", "{outcome}");
    assert_eq!(agent.wait_exit(FLOW_TIMEOUT).await, Some(0));
    let inbox = system.wait_for_sms(PAYER, "收据").await;
    assert!(inbox.iter().any(|text| text.contains("收据") && text.contains("¥50.00")), "{inbox:?}");
}
