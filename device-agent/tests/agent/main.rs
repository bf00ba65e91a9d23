//! Integration tests of the device agent against the real platform, in-process on loopback.

mod config_files;
mod helpers;
mod lifecycle;
mod sessions;

use helpers::{spawn_platform, spawn_platform_with, start_boot_flow, PlatformOptions, SHORT_CODE};
use numbind_device_agent::{Agent, AgentError, AgentEvent, BindingStatus, DenialReason, LocalBindingState};
use numbind_wire::api::BindingOutcome;
use numbind_wire::statement::{PlatformSigningKey, StatementError};
use numbind_wire::BindingId;
use std::time::Duration;

pub(crate) const PAYER: &str = "13800138000";

pub(crate) fn flag_file_bound(state_dir: &std::path::Path) -> Option<bool> {
    let bytes = std::fs::read(state_dir.join("binding.json")).ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes).ok()?["bound"].as_bool()
}

/// Runs the boot flow, binds it through the OSS API, returns the agent's binding ID.
pub(crate) async fn bind_box(platform: &helpers::TestPlatform, state_name: &str) -> String {
    let mut running = start_boot_flow(platform.agent_config(state_name));
    let activation = running.next_activation().await;
    let claimed = platform.redeem(&activation.code, PAYER, &format!("sms-{state_name}")).await;
    let binding_id = format!("bnd-{state_name}");
    platform
        .confirm(
            &claimed.activation_id,
            PAYER,
            BindingOutcome::Bound { binding_id: BindingId::parse(&binding_id).expect("test binding id") },
        )
        .await;
    let bound = running.outcome.await.expect("boot flow task").expect("boot flow ends bound");
    assert_eq!(bound.binding_id, binding_id);
    binding_id
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unbound_box_shows_a_code_and_ends_bound_durably_once_the_oss_confirms() {
    let platform = spawn_platform().await;
    let mut running = start_boot_flow(platform.agent_config("box"));
    let activation = running.next_activation().await;
    assert_eq!(&activation.terminal_id, running.agent.terminal_id());
    assert_eq!(activation.short_code.as_str(), SHORT_CODE);
    assert_eq!(activation.sms_text, format!("BIND {}", activation.code.replace('-', "")));
    assert_eq!(activation.qr_payload, format!("SMSTO:{SHORT_CODE}:{}", activation.sms_text));
    assert_eq!(running.agent.local_state(), LocalBindingState::Unbound);

    let claimed = platform.redeem(&activation.code, PAYER, "sms-1").await;
    assert_eq!(claimed.activation_id.as_str(), activation.activation_id);
    assert_eq!(claimed.device_model, "Skyworth E900");
    platform
        .confirm(
            &claimed.activation_id,
            PAYER,
            BindingOutcome::Bound { binding_id: BindingId::parse("bnd-1").expect("test binding id") },
        )
        .await;

    let bound = running
        .next_event(|event| match event {
            AgentEvent::Bound(binding) => Some(binding),
            _ => None,
        })
        .await;
    assert_eq!(bound.msisdn_masked, "138****8000");
    assert_eq!(bound.activation_id.as_deref(), Some(activation.activation_id.as_str()));
    assert_eq!(running.outcome.await.unwrap().unwrap(), bound);

    // The flag is on, survives a new Agent on the same state dir, and the platform agrees.
    let state_dir = platform.state_dir("box");
    assert_eq!(flag_file_bound(&state_dir), Some(true));
    let rebooted = Agent::new(platform.agent_config("box")).unwrap();
    assert_eq!(rebooted.local_state(), LocalBindingState::Bound(bound.clone()));
    let BindingStatus::Bound(confirmed) = rebooted.check_status().await.unwrap() else { panic!("not bound") };
    assert_eq!(confirmed.binding_id, "bnd-1");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bound_box_reports_already_bound_on_its_next_boot_without_a_new_code() {
    let platform = spawn_platform().await;
    let binding_id = bind_box(&platform, "box").await;
    let mut reboot = start_boot_flow(platform.agent_config("box"));
    let first_decisive = reboot
        .next_event(|event| match event {
            AgentEvent::AlreadyBound(binding) => Some(Ok(binding)),
            AgentEvent::ActivationShown(_) => Some(Err(())),
            _ => None,
        })
        .await;
    assert_eq!(first_decisive.expect("a bound box must not show a code").binding_id, binding_id);
    assert_eq!(reboot.outcome.await.unwrap().unwrap().binding_id, binding_id);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denial_reaches_the_box_with_its_reason_and_a_new_code_follows() {
    let platform = spawn_platform().await;
    let mut running = start_boot_flow(platform.agent_config("box"));
    let first = running.next_activation().await;
    let claimed = platform.redeem(&first.code, PAYER, "sms-1").await;
    let denial = BindingOutcome::Denied { reason: DenialReason::DeviceLimitReached };
    platform.confirm(&claimed.activation_id, PAYER, denial).await;

    let reason = running
        .next_event(|event| match event {
            AgentEvent::Denied { reason } => Some(reason),
            AgentEvent::Bound(_) => panic!("a denied box must not bind"),
            _ => None,
        })
        .await;
    assert_eq!(reason, DenialReason::DeviceLimitReached);
    let second = running.next_activation().await;
    assert_ne!(second.activation_id, first.activation_id);
    assert_ne!(second.code, first.code);
    assert_eq!(running.agent.local_state(), LocalBindingState::Unbound);
    running.outcome.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_code_is_reported_and_replaced() {
    let platform = spawn_platform_with(PlatformOptions { activation_ttl: Duration::from_secs(2) }).await;
    let mut running = start_boot_flow(platform.agent_config("box"));
    let first = running.next_activation().await;
    running.next_event(|event| matches!(event, AgentEvent::Expired).then_some(())).await;
    let second = running.next_activation().await;
    assert_ne!(second.code, first.code);
    running.outcome.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_box_pinned_to_another_key_refuses_genuine_statements_and_never_flips_its_flag() {
    let platform = spawn_platform().await;
    let (other_key, _) = PlatformSigningKey::generate(&ring::rand::SystemRandom::new()).unwrap();
    let mut wrong_config = platform.agent_config("box");
    wrong_config.platform_keys = vec![other_key.public_key()];

    let misconfigured = Agent::new(wrong_config.clone()).unwrap();
    let refused = misconfigured.check_status().await;
    assert!(matches!(refused, Err(AgentError::Statement(StatementError::UnknownKey(_)))), "{refused:?}");
    assert_ne!(flag_file_bound(&platform.state_dir("box")), Some(true));

    // The same box, correctly pinned, binds; the flag it writes does not verify under the other key.
    bind_box(&platform, "box").await;
    let misconfigured = Agent::new(wrong_config).unwrap();
    assert_eq!(misconfigured.local_state(), LocalBindingState::Unbound);
    assert!(matches!(misconfigured.run_until_bound(&mut |_| {}).await, Err(AgentError::Statement(_))));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_factory_reset_unbinds_at_the_platform_and_clears_the_flag_but_keeps_the_identity() {
    let platform = spawn_platform().await;
    bind_box(&platform, "box").await;
    let agent = Agent::new(platform.agent_config("box")).unwrap();
    let terminal_id = agent.terminal_id().clone();
    agent.reset().await.unwrap();
    assert_eq!(agent.local_state(), LocalBindingState::Unbound);
    assert_eq!(flag_file_bound(&platform.state_dir("box")), Some(false));
    assert_eq!(agent.check_status().await.unwrap(), BindingStatus::Unbound);
    assert_eq!(Agent::new(platform.agent_config("box")).unwrap().terminal_id(), &terminal_id);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_platform_is_retried_with_growing_full_jitter_waits() {
    let platform = spawn_platform().await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = platform.agent_config("box");
    config.platform_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut running = start_boot_flow(config);
    let mut waits = Vec::new();
    for _ in 0..4 {
        let (after, cause) = running
            .next_event(|event| match event {
                AgentEvent::Retrying { after, cause } => Some((after, cause)),
                _ => None,
            })
            .await;
        assert!(cause.contains("request to the platform failed"), "{cause}");
        waits.push(after);
    }
    // Base 50 ms, cap 500 ms: attempt n draws from [0, min(500, 50 * 2^n)] ms.
    for (attempt, wait) in waits.iter().enumerate() {
        assert!(*wait <= Duration::from_millis((50 << attempt).min(500)), "attempt {attempt}: {wait:?}");
    }
    running.outcome.abort();
}
