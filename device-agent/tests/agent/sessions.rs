//! The agent's platform session: a bound box reboots in one session-tagged request, a refused session falls back
//! to the signed path and is replaced, and a binding the flag does not hold is fetched signed.

#![allow(clippy::unwrap_used)] // a broken harness must fail the test loudly

use crate::helpers::{spawn_platform, start_boot_flow, TestPlatform};
use crate::{bind_box, flag_file_bound, PAYER};
use numbind_device_agent::{Agent, AgentEvent, BindingStatus, LocalBindingState};

const REGISTER: &str = "/v1/terminals";
const SIGNED_CHECK: &str = "/v1/terminals/{terminal_id}/binding";
const SESSION_CHECK: &str = "/v1/terminals/{terminal_id}/binding-check";
const OPEN_SESSION: &str = "/v1/terminals/{terminal_id}/sessions";

/// Requests the platform answered on `route`, any status, from its `/metrics`.
async fn answered_on(platform: &TestPlatform, route: &str) -> u64 {
    let text = reqwest::get(format!("{}/metrics", platform.url)).await.unwrap().text().await.unwrap();
    let label = format!("route=\"{route}\"");
    text.lines()
        .filter(|line| line.starts_with("http_requests_total{") && line.contains(&label))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

async fn counts(platform: &TestPlatform) -> [u64; 4] {
    [
        answered_on(platform, REGISTER).await,
        answered_on(platform, SIGNED_CHECK).await,
        answered_on(platform, SESSION_CHECK).await,
        answered_on(platform, OPEN_SESSION).await,
    ]
}

async fn reboot_until_already_bound(platform: &TestPlatform, state_name: &str) -> String {
    let mut reboot = start_boot_flow(platform.agent_config(state_name));
    let binding = reboot
        .next_event(|event| match event {
            AgentEvent::AlreadyBound(binding) => Some(binding),
            AgentEvent::ActivationShown(_) => panic!("a bound box must not show a code"),
            _ => None,
        })
        .await;
    reboot.outcome.await.unwrap().unwrap();
    binding.binding_id
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bound_box_reboots_with_one_session_check_and_no_registration_or_signature() {
    let platform = spawn_platform().await;
    let binding_id = bind_box(&platform, "box").await;
    let session_file = platform.state_dir("box").join("session.json");
    assert!(session_file.exists(), "the first boot opened a session");
    let before = counts(&platform).await;
    assert_eq!(reboot_until_already_bound(&platform, "box").await, binding_id);
    let after = counts(&platform).await;
    let delta: Vec<u64> = after.iter().zip(before).map(|(after, before)| after - before).collect();
    assert_eq!(delta, vec![0, 0, 1, 0], "register, signed check, session check, open session");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_session_falls_back_to_the_signed_check_and_is_replaced() {
    let platform = spawn_platform().await;
    let binding_id = bind_box(&platform, "box").await;
    let session_file = platform.state_dir("box").join("session.json");
    let mut stored: serde_json::Value = serde_json::from_slice(&std::fs::read(&session_file).unwrap()).unwrap();
    stored["ticket"] = serde_json::Value::String("A".repeat(120));
    std::fs::write(&session_file, stored.to_string()).unwrap();
    let before = counts(&platform).await;
    assert_eq!(reboot_until_already_bound(&platform, "box").await, binding_id);
    let after = counts(&platform).await;
    assert_eq!(after[1] - before[1], 1, "one signed check after the refused session");
    assert_eq!(after[3] - before[3], 1, "a new session was opened");
    let renewed: serde_json::Value = serde_json::from_slice(&std::fs::read(&session_file).unwrap()).unwrap();
    assert_ne!(renewed["ticket"], stored["ticket"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_binding_the_flag_does_not_hold_is_fetched_signed_and_written() {
    let platform = spawn_platform().await;
    let binding_id = bind_box(&platform, "box").await;
    let state_dir = platform.state_dir("box");
    std::fs::remove_file(state_dir.join("binding.json")).unwrap();
    let before = counts(&platform).await;
    assert_eq!(reboot_until_already_bound(&platform, "box").await, binding_id);
    let after = counts(&platform).await;
    assert_eq!((after[2] - before[2], after[1] - before[1]), (1, 1), "one session check, then the signed one");
    assert_eq!(flag_file_bound(&state_dir), Some(true), "the flag holds the signed statement again");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unbinding_reaches_a_box_over_its_session_and_clears_the_flag() {
    let platform = spawn_platform().await;
    bind_box(&platform, "box").await;
    platform.unbind_number(PAYER, "sms-unbind-1").await;
    let agent = Agent::new(platform.agent_config("box")).unwrap();
    let before = counts(&platform).await;
    assert_eq!(agent.check_status().await.unwrap(), BindingStatus::Unbound);
    let after = counts(&platform).await;
    assert_eq!((after[2] - before[2], after[1] - before[1]), (1, 0), "answered over the session alone");
    assert_eq!(agent.local_state(), LocalBindingState::Unbound);
    assert_eq!(flag_file_bound(&platform.state_dir("box")), Some(false));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unbound_box_with_a_session_checks_once_over_it_and_shows_a_code() {
    let platform = spawn_platform().await;
    bind_box(&platform, "box").await;
    platform.unbind_number(PAYER, "sms-unbind-2").await;
    let before = counts(&platform).await;
    let mut reboot = start_boot_flow(platform.agent_config("box"));
    reboot.next_activation().await;
    let after = counts(&platform).await;
    let delta: Vec<u64> = after.iter().zip(before).map(|(after, before)| after - before).collect();
    assert_eq!(delta, vec![1, 0, 1, 0], "register, signed check, session check, open session");
}
