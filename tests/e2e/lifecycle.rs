//! A binding's life after it is made: operator unbind and factory reset reach the OSS, a box changes its paying
//! number, and a watching box learns of an unbinding by SMS.

use crate::helpers::{next_event, System, FLOW_TIMEOUT};
use serde_json::Value;

/// Waits until the OSS records the terminal's binding as revoked for `reason`.
async fn wait_for_oss_revocation(system: &System, terminal_id: &str, reason: &str) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + FLOW_TIMEOUT;
    loop {
        let records = system.oss_bindings_of(terminal_id).await;
        if records.iter().any(|record| record["state"] == "revoked" && record["revoked_reason"] == reason) {
            return records;
        }
        assert!(tokio::time::Instant::now() < deadline, "the OSS never heard of the {reason} revocation: {records:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn terminal_of(system: &System, state: &str) -> String {
    let mut identity = system.agent(state, &["show-identity"]);
    next_event(&mut identity, &["identity"]).await["terminal_id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_unbind_reaches_the_oss_the_user_and_the_box() {
    let system = System::start().await;
    system.bind_a_box("box", "13800138000").await;
    let terminal_id = terminal_of(&system, "box").await;
    let token = system.admin_token().await;
    let response = system
        .http
        .post(format!("{}/v1/operator/terminals/{terminal_id}/unbind", system.platform_url))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "reason": "customer asked by phone" }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());

    wait_for_oss_revocation(&system, &terminal_id, "operator").await;
    system.wait_for_sms("13800138000", "运营商已解除").await;
    let (agreed, summary) = system.reconcile(&token).await;
    assert!(agreed, "platform and OSS agree after the operator unbind: {summary}");
    let mut status = system.agent("box", &["status"]);
    assert_eq!(next_event(&mut status, &["status"]).await["state"], "unbound");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_factory_reset_unbinds_on_the_platform_and_in_the_oss() {
    let system = System::start().await;
    system.bind_a_box("box", "13800138000").await;
    let terminal_id = terminal_of(&system, "box").await;
    let mut reset = system.agent("box", &["reset"]);
    next_event(&mut reset, &["reset"]).await;
    assert_eq!(reset.wait_exit(FLOW_TIMEOUT).await, Some(0));

    wait_for_oss_revocation(&system, &terminal_id, "factory_reset").await;
    system.wait_for_sms("13800138000", "恢复出厂设置").await;
    let (agreed, summary) = system.reconcile(&system.admin_token().await).await;
    assert!(agreed, "{summary}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bound_box_changes_its_paying_number_and_the_old_number_is_told() {
    let system = System::start().await;
    system.bind_a_box("box", "13800138000").await;
    let terminal_id = terminal_of(&system, "box").await;

    let mut change = system.agent("box", &["run", "--change-number"]);
    let activation = next_event(&mut change, &["activation"]).await;
    system.phone_sends("13800138001", activation["sms_text"].as_str().unwrap()).await;
    let bound = next_event(&mut change, &["bound"]).await;
    assert_eq!(bound["msisdn_masked"], "138****8001");

    system.wait_for_sms("13800138000", "取代").await;
    let records = system.oss_bindings_of(&terminal_id).await;
    let state_of = |msisdn: &str| {
        records
            .iter()
            .find(|record| record["msisdn"] == msisdn)
            .map(|record| record["state"].clone())
            .unwrap_or_default()
    };
    assert_eq!((state_of("13800138000"), state_of("13800138001")), ("revoked".into(), "active".into()), "{records:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watching_box_learns_of_an_unbinding_by_sms_and_clears_its_flag() {
    let system = System::start().await;
    system.bind_a_box("box", "13800138000").await;
    let mut watch = system.agent("box", &["watch", "--interval-seconds", "1"]);
    system.phone_sends("13800138000", "UNBIND").await;
    next_event(&mut watch, &["unbound"]).await;
    let flag: Value = serde_json::from_slice(&std::fs::read(system.path("box").join("binding.json")).unwrap()).unwrap();
    assert_eq!(flag["bound"], false);
}
