//! The crash batch: 200 boxes in this process plus boxes as processes, while the operator side is killed.

use crate::helpers::{next_event, Component, Process, System, SystemOptions, SHORT_CODE};
use crate::ledger::reconcile;
use numbind_device_agent::{Agent, AgentConfig, AgentEvent, LocalBindingState};
use numbind_wire::statement::PlatformPublicKey;
use ring::rand::{SecureRandom, SystemRandom};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

const IN_PROCESS_BOXES: usize = 200;
const PROCESS_BOXES: usize = 6;
const BATCH_TIMEOUT: Duration = Duration::from_secs(240);
/// Boxes start in waves; each fault strikes just after the SMS centre accepted a whole wave's SMS.
const FAULTS: [(Component, Duration); 5] = [
    (Component::Platform, Duration::from_millis(300)),
    (Component::Oss, Duration::from_secs(2)),
    (Component::SmsCentre, Duration::from_secs(1)),
    (Component::Platform, Duration::ZERO),
    (Component::Oss, Duration::ZERO),
];
const WAVE: usize = IN_PROCESS_BOXES / FAULTS.len();

/// When one box showed its code and when it was bound.
struct Flight {
    shown_at: tokio::time::Instant,
    bound_at: tokio::time::Instant,
}

fn msisdn_of(index: usize) -> String {
    format!("130{:08}", index)
}

/// A random delay below `limit_ms`, so that each run kills at other moments.
fn random_delay(limit_ms: u64) -> Duration {
    let mut bytes = [0u8; 8];
    SystemRandom::new().fill(&mut bytes).unwrap();
    Duration::from_millis(u64::from_le_bytes(bytes) % limit_ms)
}

async fn add_subscribers(system: &System, count: usize) {
    for index in 0..count {
        let body = serde_json::json!({
            "msisdn": msisdn_of(index), "status": "active", "plan": "postpaid", "device_limit": 1
        });
        let request = system.oss_admin(system.http.post(format!("{}/v1/subscribers", system.oss_url)));
        let response = request.json(&body).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 201, "adding subscriber {index}");
    }
}

/// The phones: each SMS is sent until the SMS centre accepts it (202), as a user retries when the network fails.
/// The count of accepted SMS is published on the returned watch channel.
fn spawn_phones(smsc_url: String) -> (mpsc::UnboundedSender<(String, String)>, watch::Receiver<usize>) {
    let (sender, mut receiver) = mpsc::unbounded_channel::<(String, String)>();
    let (accepted_sender, accepted) = watch::channel(0usize);
    tokio::spawn(async move {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
        while let Some((msisdn, text)) = receiver.recv().await {
            let (http, url) = (http.clone(), format!("{smsc_url}/v1/phones/{msisdn}/messages"));
            let accepted_sender = accepted_sender.clone();
            tokio::spawn(async move {
                let body = serde_json::json!({ "to": SHORT_CODE, "text": text });
                for _ in 0..400 {
                    match http.post(&url).json(&body).send().await {
                        Ok(response) if response.status().as_u16() == 202 => {
                            accepted_sender.send_modify(|count| *count += 1);
                            return;
                        }
                        _ => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
                panic!("the SMS centre never accepted an SMS");
            });
        }
    });
    (sender, accepted)
}

fn agent_config(system: &System, index: usize, platform_key: &PlatformPublicKey) -> AgentConfig {
    let mut config =
        AgentConfig::new(system.path(&format!("box-{index}")), system.platform_url.clone(), vec![platform_key.clone()]);
    config.platform_authorities_pem = Some(std::fs::read(&system.ca_file).expect("the system's authority"));
    config.retry_base = Duration::from_millis(100);
    config.retry_cap = Duration::from_secs(2);
    config.long_poll_wait = Duration::from_secs(5);
    config.request_timeout = Duration::from_secs(5);
    config
}

/// Strikes one fault: waits until `accepted_target` SMS were accepted, then (within 30 ms) kills `component`,
/// keeps it down for `outage` and restarts it; returns what was done and when the kill happened.
async fn strike(
    system: &mut System,
    accepted: &mut watch::Receiver<usize>,
    accepted_target: usize,
    (component, outage): (Component, Duration),
) -> (String, tokio::time::Instant) {
    tokio::time::timeout(BATCH_TIMEOUT, accepted.wait_for(|count| *count >= accepted_target))
        .await
        .expect("the wave's SMS were accepted in time")
        .unwrap();
    tokio::time::sleep(random_delay(30)).await;
    let killed_at = tokio::time::Instant::now();
    system.kill(component).await;
    tokio::time::sleep(outage).await;
    system.restart(component).await;
    (format!("{component:?} killed, down {outage:?}"), killed_at)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_accepted_activation_binds_exactly_once_through_crashes_outages_and_duplicate_deliveries() {
    let options = SystemOptions { duplicate_mo_deliveries: true, ..SystemOptions::default() };
    let mut system = System::start_with(options).await;
    add_subscribers(&system, IN_PROCESS_BOXES + PROCESS_BOXES).await;
    let platform_key = PlatformPublicKey::parse(&std::fs::read_to_string(&system.platform_key_file).unwrap()).unwrap();
    let (phones, mut accepted) = spawn_phones(system.smsc_url.clone());

    let mut boxes = JoinSet::new();
    let mut injected = Vec::new();
    for (wave, fault) in FAULTS.into_iter().enumerate() {
        for index in wave * WAVE..(wave + 1) * WAVE {
            let config = agent_config(&system, index, &platform_key);
            boxes.spawn(one_box(config, index, phones.clone()));
        }
        injected.push(strike(&mut system, &mut accepted, (wave + 1) * WAVE, fault).await);
    }
    let mut process_boxes = Vec::new();
    for index in IN_PROCESS_BOXES..IN_PROCESS_BOXES + PROCESS_BOXES {
        let moment = if index % 2 == 0 { KillMoment::WhileWaiting } else { KillMoment::RandomAfterTheSms };
        process_boxes.push(box_killed_mid_flow_then_rebooted(&system, index, moment).await);
    }

    let mut bound_boxes = Vec::new();
    let deadline = tokio::time::Instant::now() + BATCH_TIMEOUT;
    while let Some(finished) =
        tokio::time::timeout_at(deadline, boxes.join_next()).await.expect("batch finished in time")
    {
        bound_boxes.push(finished.unwrap());
    }
    check_the_outcome(&system, bound_boxes, process_boxes, &platform_key, &injected).await;
}

/// One box in this process: boots, shows a code (its phone texts it), waits, ends bound.
async fn one_box(
    config: AgentConfig,
    index: usize,
    phones: mpsc::UnboundedSender<(String, String)>,
) -> (usize, String, Agent, Flight) {
    let msisdn = msisdn_of(index);
    let agent = Agent::new(config).unwrap();
    let shown_at = std::sync::Arc::new(std::sync::Mutex::new(None));
    let shown = shown_at.clone();
    let mut on_event = move |event: AgentEvent| {
        if let AgentEvent::ActivationShown(display) = event {
            shown.lock().unwrap().get_or_insert_with(tokio::time::Instant::now);
            let _ = phones.send((msisdn.clone(), display.sms_text.clone()));
        }
    };
    let bound = agent.run_until_bound(&mut on_event).await.unwrap();
    let shown_at = shown_at.lock().unwrap().expect("an activation was shown");
    (index, bound.binding_id, agent, Flight { shown_at, bound_at: tokio::time::Instant::now() })
}

/// A process box's outcome: what its first boot had reported when it was killed, and how it ended.
struct ProcessBox {
    index: usize,
    moment: KillMoment,
    terminal_id: String,
    activation_id: String,
    /// The events the first boot printed after its activation and before the SIGKILL (read after it died).
    events_before_the_kill: Vec<String>,
    binding_id: String,
}

/// When a process box is killed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KillMoment {
    /// As its user's SMS is sent: the box is certainly waiting for the outcome, which happens while it is down.
    WhileWaiting,
    /// At a random moment within 40 ms after the SMS centre accepted the SMS: waiting, verifying, writing its
    /// flag, or already bound (the SMS to flag path took 20 to 40 ms here, so each run hits other phases).
    RandomAfterTheSms,
}

/// A box run as a process is killed with SIGKILL at `moment`, then boots again: it must end bound with an intact
/// flag.
async fn box_killed_mid_flow_then_rebooted(system: &System, index: usize, moment: KillMoment) -> ProcessBox {
    let state = format!("box-{index}");
    let mut first_boot = system.agent(&state, &["run"]);
    let activation = next_event(&mut first_boot, &["activation"]).await;
    let sms_text = activation["sms_text"].as_str().unwrap();
    if moment == KillMoment::WhileWaiting {
        first_boot.child.start_kill().unwrap();
        system.phone_sends(&msisdn_of(index), sms_text).await;
    } else {
        system.phone_sends(&msisdn_of(index), sms_text).await;
        tokio::time::sleep(random_delay(40)).await;
        first_boot.child.start_kill().unwrap();
    }
    let _ = first_boot.child.wait().await;
    // Everything the first boot printed before it died is in the pipe: it tells whether the kill landed before
    // the box reported `bound` (that is, while it waited, verified or wrote its flag) or after.
    let mut events_before_the_kill = Vec::new();
    let drained_by = tokio::time::Instant::now() + Duration::from_secs(5);
    while let Some(line) = first_boot.next_line_before(drained_by).await {
        if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) {
            events_before_the_kill.push(event["event"].as_str().unwrap_or("?").to_owned());
        }
    }
    let mut second_boot: Process = system.agent(&state, &["run"]);
    let mut outcome = next_event(&mut second_boot, &["bound", "already_bound", "activation"]).await;
    if outcome["event"] == "activation" {
        // Rebooted before the SMS was processed: the box shows the same activation again (the user need not
        // text anything new) and is bound when the flow completes.
        assert_eq!(outcome["activation_id"], activation["activation_id"], "box {index} got a new code: {outcome}");
        outcome = next_event(&mut second_boot, &["bound"]).await;
    }
    ProcessBox {
        index,
        moment,
        terminal_id: activation["terminal_id"].as_str().unwrap().to_owned(),
        activation_id: activation["activation_id"].as_str().unwrap().to_owned(),
        events_before_the_kill,
        binding_id: outcome["binding_id"].as_str().unwrap().to_owned(),
    }
}

/// Each process box's flag, read back the way the box reads it (verified with the pinned key), names the binding
/// it reported, and the OSS holds that binding active for its terminal; a kill must have landed mid-flow.
async fn check_the_process_boxes(system: &System, process_boxes: &[ProcessBox], platform_key: &PlatformPublicKey) {
    for process_box in process_boxes {
        let ProcessBox { index, terminal_id, binding_id, .. } = process_box;
        let reader = Agent::new(agent_config(system, *index, platform_key)).unwrap();
        match reader.local_state() {
            LocalBindingState::Bound(flag) => assert_eq!(&flag.binding_id, binding_id, "process box {index}"),
            other => panic!("process box {index}'s flag is not on: {other:?}"),
        }
        let records = system.oss_bindings_of(terminal_id).await;
        let active: Vec<_> = records.iter().filter(|record| record["state"] == "active").collect();
        assert_eq!(active.len(), 1, "process box {index}: {records:?}");
        assert_eq!(active[0]["binding_id"].as_str(), Some(binding_id.as_str()), "process box {index}: {records:?}");
        assert!(binding_id.ends_with(process_box.activation_id.trim_start_matches("act-")), "{binding_id}");
    }
    for process_box in process_boxes {
        let ProcessBox { index, moment, events_before_the_kill, .. } = process_box;
        eprintln!("process box {index} killed {moment:?}: it had printed {events_before_the_kill:?}");
        if *moment == KillMoment::WhileWaiting {
            assert!(
                events_before_the_kill.is_empty(),
                "process box {index} was not waiting: {events_before_the_kill:?}"
            );
        }
    }
    let killed_before_bound =
        process_boxes.iter().filter(|process_box| !process_box.events_before_the_kill.iter().any(|e| e == "bound"));
    eprintln!(
        "{} of {} process boxes killed before they reported bound",
        killed_before_bound.count(),
        process_boxes.len()
    );
}

async fn check_the_outcome(
    system: &System,
    bound_boxes: Vec<(usize, String, Agent, Flight)>,
    process_boxes: Vec<ProcessBox>,
    platform_key: &PlatformPublicKey,
    injected: &[(String, tokio::time::Instant)],
) {
    // Each kill must have hit activations in flight (shown, not yet bound), or it tested nothing.
    for (fault, killed_at) in injected {
        let in_flight = bound_boxes
            .iter()
            .filter(|(_, _, _, flight)| flight.shown_at <= *killed_at && *killed_at < flight.bound_at)
            .count();
        eprintln!("{fault}: {in_flight} activations in flight");
        assert!(in_flight > 0, "{fault} hit no activation in flight");
    }
    let injected: Vec<&String> = injected.iter().map(|(fault, _)| fault).collect();
    let expected = IN_PROCESS_BOXES + PROCESS_BOXES;
    assert_eq!(bound_boxes.len() + process_boxes.len(), expected);
    for (index, binding_id, agent, _) in &bound_boxes {
        match agent.local_state() {
            LocalBindingState::Bound(flag) => assert_eq!(&flag.binding_id, binding_id, "box {index}"),
            other => panic!("box {index}'s flag is not on: {other:?}"),
        }
    }
    check_the_process_boxes(system, &process_boxes, platform_key).await;
    let reconciliation = reconcile(system).await;
    let summary = &reconciliation.summary;
    assert_eq!(summary["platform_active"], expected, "every accepted activation is bound exactly once: {summary}");
    assert_eq!(summary["oss_active"], expected, "{summary}");
    assert!(reconciliation.succeeded, "the OSS and the platform disagree: {summary}");
    for index in 0..expected {
        // The confirmation leaves the platform's outbox after the binding (and a kill may have delayed it): wait
        // for it to arrive rather than read the inbox at one instant, then count.
        let inbox = system.wait_for_sms(&msisdn_of(index), "已绑定").await;
        let confirmations = inbox.into_iter().filter(|text| text.contains("已绑定")).count();
        assert_eq!(confirmations, 1, "user {index} got {confirmations} confirmation SMS (faults: {injected:?})");
    }
    eprintln!("crash batch: {expected} activations, faults {injected:?}, 0 lost, 0 duplicated");
}
