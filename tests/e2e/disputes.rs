//! Disputes end to end: the payer texts `投诉 <receipt number>` through the real SMS centre, the OSS forwards it to
//! the platform, an operator resolves it over the operator API (reject with a reason, or refund on the refund
//! path), and the payer is told by SMS either way; another number cannot dispute the payer's receipt.

use crate::helpers::{numbind, System};
use crate::self_service::{ask_from, buy_five_yuan_on, merchant};
use serde_json::Value;

const PAYER: &str = "13800138000";
const OTHER_PHONE: &str = "13900139000";

/// The open disputes, as an operator lists them.
async fn open_disputes(system: &System, token: &str) -> Vec<Value> {
    let url = format!("{}/v1/operator/disputes?state=open", system.platform_url);
    let response = system.http.get(url).bearer_auth(token).send().await.expect("list disputes");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("json");
    body["disputes"].as_array().cloned().unwrap_or_default()
}

async fn resolve(system: &System, token: &str, dispute_id: &str, body: Value) -> (u16, Value) {
    let url = format!("{}/v1/operator/disputes/{dispute_id}/resolution", system.platform_url);
    let response = system.http.post(url).bearer_auth(token).json(&body).send().await.expect("resolve dispute");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `numbind operator disputes <arguments>` with the token; its stdout.
async fn disputes_command(system: &System, token: &str, arguments: &[&str]) -> String {
    let output = numbind()
        .args(["operator", "disputes"])
        .args(arguments)
        .args(["--platform-url", &system.platform_url, "--ca-file"])
        .arg(&system.ca_file)
        .env("NUMBIND_OPERATOR_TOKEN", token)
        .output()
        .await
        .expect("numbind operator disputes");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dispute_is_opened_by_sms_and_resolved_both_ways_with_the_user_told() {
    let system = System::start().await;
    system.bind_a_box("box", PAYER).await;
    system.bind_a_box("box2", PAYER).await;
    let credentials = merchant(&system).await;
    let first = buy_five_yuan_on(&system, "box", &credentials).await;
    let second = buy_five_yuan_on(&system, "box2", &credentials).await;
    let (first, second) = (first["payment_id"].as_str().unwrap(), second["payment_id"].as_str().unwrap());
    let refused = ask_from(&system, OTHER_PHONE, &format!("投诉 {first}"), "未找到").await;
    assert!(refused.contains("收据号"), "another number's receipt is refused like an unknown one: {refused}");
    assert!(ask_from(&system, OTHER_PHONE, "投诉 pay-000000000000000000000000", "未找到").await.contains("未找到"));
    let token = system.admin_token().await;
    assert!(open_disputes(&system, &token).await.is_empty(), "a refused dispute opens nothing");

    assert!(ask_from(&system, PAYER, &format!("投诉 {first}"), "已受理").await.contains(first));
    assert!(ask_from(&system, PAYER, &format!("DISPUTE {}", second.to_uppercase()), "已受理").await.contains(second));
    let open = open_disputes(&system, &token).await;
    assert_eq!(open.len(), 2, "{open:?}");
    assert!(open.iter().all(|dispute| dispute["msisdn_masked"] == "138****8000"), "numbers masked: {open:?}");
    let id_of = |payment: &str| {
        let dispute = open.iter().find(|dispute| dispute["payment_id"] == payment).expect("the dispute");
        dispute["dispute_id"].as_str().unwrap().to_owned()
    };
    let listed = disputes_command(&system, &token, &["list"]).await;
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(listed.contains("138****8000") && !listed.contains(PAYER), "numbers masked: {listed}");
    let reason = "the film was watched in full";
    let rejected = disputes_command(&system, &token, &["resolve", &id_of(first), "--reject", reason]).await;
    assert!(rejected.contains("rejected") && rejected.contains(reason), "{rejected}");
    let told = system.wait_for_sms(PAYER, "维持扣费").await;
    assert!(told.iter().any(|text| text.contains(reason) && text.contains(first)), "{told:?}");
    let (status, refunded) = resolve(&system, &token, &id_of(second), serde_json::json!({ "action": "refund" })).await;
    assert_eq!((status, refunded["state"].as_str()), (200, Some("refunded")), "{refunded}");
    assert!(refunded["refund_id"].as_str().is_some(), "{refunded}");
    system.wait_for_sms(PAYER, "将全额退款").await;
    system.wait_for_sms(PAYER, "已退款").await;
    // A resolution never changes; the list of open disputes is empty.
    let (status, again) = resolve(&system, &token, &id_of(second), serde_json::json!({ "action": "refund" })).await;
    assert_eq!((status, again["code"].as_str()), (409, Some("dispute_already_resolved")), "{again}");
    assert!(open_disputes(&system, &token).await.is_empty());
    let csv_url = format!("{}/v1/operator/exports/disputes.csv", system.platform_url);
    let csv = system.http.get(csv_url).bearer_auth(&token).send().await.expect("export").text().await.expect("text");
    assert_eq!(csv.lines().count(), 3, "a header and the two disputes: {csv}");
    assert!(csv.contains(",rejected,") && csv.contains(",refunded,") && !csv.contains(PAYER), "{csv}");
    let jsonl_url = format!("{}/v1/operator/exports/disputes.jsonl", system.platform_url);
    let jsonl =
        system.http.get(jsonl_url).bearer_auth(&token).send().await.expect("export").text().await.expect("text");
    let lines: Vec<Value> = jsonl.lines().map(|line| serde_json::from_str(line).expect("json line")).collect();
    assert!(lines.len() == 2 && lines.iter().all(|line| line["msisdn_masked"] == "138****8000"), "{jsonl}");
    let repeated = ask_from(&system, PAYER, &format!("投诉 {first}"), "已处理完毕").await;
    assert!(repeated.contains(first), "{repeated}");
}
