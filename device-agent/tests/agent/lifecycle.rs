//! Lifecycle (issue 4): changing the paying number from a bound box, and the watch that notices an unbinding.

use crate::helpers::{spawn_platform, EVENT_TIMEOUT};
use crate::{bind_box, flag_file_bound, PAYER};
use numbind_device_agent::{Agent, AgentEvent, LocalBindingState};
use numbind_wire::api::BindingOutcome;
use numbind_wire::BindingId;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

const NEW_PAYER: &str = "13900139000";

async fn next_event<T>(
    events: &mut mpsc::UnboundedReceiver<AgentEvent>,
    wanted: impl Fn(AgentEvent) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("no wanted event in time")
            .expect("events end");
        if let Some(found) = wanted(event) {
            return found;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bound_box_changing_its_number_shows_a_code_and_ends_bound_to_the_new_number() {
    let platform = spawn_platform().await;
    let old_binding_id = bind_box(&platform, "box").await;
    let agent = Arc::new(Agent::new(platform.agent_config("box")).unwrap());
    let (sender, mut events) = mpsc::unbounded_channel();
    let running = agent.clone();
    let flow = tokio::spawn(async move {
        let mut report = |event: AgentEvent| {
            let _ = sender.send(event);
        };
        running.run_until_bound_replacing(&mut report).await
    });
    let shown = next_event(&mut events, |event| match event {
        AgentEvent::ActivationShown(display) => Some(display),
        _ => None,
    })
    .await;
    let claimed = platform.redeem(&shown.code, NEW_PAYER, "sms-change").await;
    assert_eq!(claimed.currently_bound_msisdn.map(|msisdn| msisdn.as_digits().to_owned()), Some(PAYER.to_owned()));
    platform
        .confirm(
            &claimed.activation_id,
            NEW_PAYER,
            BindingOutcome::Bound { binding_id: BindingId::parse("bnd-new").expect("test binding id") },
        )
        .await;
    let bound = flow.await.unwrap().unwrap();
    assert_eq!((bound.binding_id.as_str(), bound.msisdn_masked.as_str()), ("bnd-new", "139****9000"));
    assert_ne!(bound.binding_id, old_binding_id);
    match agent.local_state() {
        LocalBindingState::Bound(binding) => assert_eq!(binding.binding_id, "bnd-new"),
        LocalBindingState::Unbound => panic!("the flag must name the new binding"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watching_box_clears_its_flag_when_the_number_unbinds_it_and_keeps_watching() {
    let platform = spawn_platform().await;
    bind_box(&platform, "box").await;
    let agent = Arc::new(Agent::new(platform.agent_config("box")).unwrap());
    let (sender, mut events) = mpsc::unbounded_channel();
    let watching = agent.clone();
    let watch = tokio::spawn(async move {
        let mut report = |event: AgentEvent| {
            let _ = sender.send(event);
        };
        watching.watch(Duration::from_millis(100), &mut report).await
    });
    assert_eq!(flag_file_bound(&platform.state_dir("box")), Some(true));
    platform.unbind_number(PAYER, "sms-unbind-1").await;
    next_event(&mut events, |event| matches!(event, AgentEvent::Unbound).then_some(())).await;
    assert_eq!(agent.local_state(), LocalBindingState::Unbound);
    assert_eq!(flag_file_bound(&platform.state_dir("box")), Some(false));
    // The watch keeps going: it checks the binding again after the unbinding (an event, not a pause).
    let checks_at_unbinding = platform.requests_on_routes_containing("binding").await;
    let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
    while platform.requests_on_routes_containing("binding").await < checks_at_unbinding + 2 {
        assert!(!watch.is_finished(), "the watch stopped after the unbinding: {:?}", watch.await);
        assert!(tokio::time::Instant::now() < deadline, "the watch made no further check after the unbinding");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!watch.is_finished(), "the watch keeps going after an unbinding");
    watch.abort();
}
