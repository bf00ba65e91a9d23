//! The boot storm: thousands of in-process boxes start at once against a platform with a small concurrency
//! limit. Every box must end in the right state, the platform must shed with `Retry-After`, nobody times out.

mod helpers;

use helpers::{agent_config, check_status_until_answered, raise_open_file_limit, spawn_platform, StormTally};
use numbind_device_agent::{Agent, AgentEvent, BindingStatus, BoundBinding, LocalBindingState};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

/// Boxes that only check their status (they stay unbound).
const STATUS_ONLY_BOXES: usize = 2_000;
/// Boxes that run the whole boot flow and get bound by the OSS stand-in.
const BOUND_SAMPLE_BOXES: usize = 50;
const MAX_CONCURRENT_REQUESTS: usize = 32;
/// The whole storm must settle within this.
const STORM_DEADLINE: Duration = Duration::from_secs(120);

/// What one box ended with.
enum BoxOutcome {
    StatusChecked { agent: Arc<Agent>, status: Result<BindingStatus, String> },
    Bound { agent: Arc<Agent>, binding_id: String, bound: Result<BoundBinding, String> },
}

/// Creates the boxes' identities (keys on disk, as a factory would) before the storm, off the async threads.
async fn create_agents(platform: &helpers::TestPlatform, count: usize, prefix: &str) -> Vec<Arc<Agent>> {
    let configs: Vec<_> = (0..count)
        .map(|index| agent_config(platform, &platform.directory.path().join(format!("{prefix}-{index:05}"))))
        .collect();
    tokio::task::spawn_blocking(move || {
        configs.into_iter().map(|config| Arc::new(Agent::new(config).expect("agent starts"))).collect()
    })
    .await
    .expect("agents created")
}

/// One sample box: runs its boot flow; the OSS stand-in redeems the code it shows and confirms the binding.
async fn bind_one_box(
    platform: Arc<helpers::TestPlatform>,
    agent: Arc<Agent>,
    index: usize,
    tally: Arc<StormTally>,
) -> BoxOutcome {
    let (sender, mut events) = mpsc::unbounded_channel::<AgentEvent>();
    let running = agent.clone();
    let boot_flow = tokio::spawn(async move {
        let mut report = |event: AgentEvent| {
            let _ = sender.send(event);
        };
        running.run_until_bound(&mut report).await
    });
    let msisdn = format!("1380013{index:04}");
    let binding_id = format!("bnd-storm-{index}");
    let mut redeemed = false;
    while let Some(event) = events.recv().await {
        match event {
            AgentEvent::Retrying { after, cause } => tally.record_retry_cause(&cause, after),
            AgentEvent::ActivationShown(display) if !redeemed => {
                let claimed = platform.redeem(&display.code, &msisdn, &format!("sms-storm-{index}"), &tally).await;
                platform.confirm_bound(&claimed.activation_id, &msisdn, &binding_id, &tally).await;
                redeemed = true;
            }
            _ => {}
        }
    }
    let bound = boot_flow.await.expect("boot flow task").map_err(|error| format!("{error:#}"));
    BoxOutcome::Bound { agent, binding_id, bound }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_boot_storm_is_shed_with_retry_after_and_every_box_ends_in_the_right_state() {
    let open_file_limit = raise_open_file_limit();
    let platform = Arc::new(spawn_platform(MAX_CONCURRENT_REQUESTS).await);
    let tally = Arc::new(StormTally::default());
    let created = Instant::now();
    let status_agents = create_agents(&platform, STATUS_ONLY_BOXES, "status").await;
    let sample_agents = create_agents(&platform, BOUND_SAMPLE_BOXES, "sample").await;
    let creation_time = created.elapsed();

    // Every box waits at the gate, so they all start at once.
    let (open_gate, gate) = watch::channel(false);
    let mut boxes = JoinSet::new();
    for agent in status_agents {
        let (mut gate, tally) = (gate.clone(), tally.clone());
        boxes.spawn(async move {
            let _ = gate.wait_for(|open| *open).await;
            let status = check_status_until_answered(&agent, &tally).await;
            BoxOutcome::StatusChecked { agent, status }
        });
    }
    for (index, agent) in sample_agents.into_iter().enumerate() {
        let (mut gate, tally, platform) = (gate.clone(), tally.clone(), platform.clone());
        boxes.spawn(async move {
            let _ = gate.wait_for(|open| *open).await;
            bind_one_box(platform, agent, index, tally).await
        });
    }
    let storm_started = Instant::now();
    open_gate.send(true).expect("boxes wait at the gate");
    let outcomes = tokio::time::timeout(STORM_DEADLINE, boxes.join_all()).await.expect("the storm settles in time");
    let storm_time = storm_started.elapsed();

    let (mut unbound, mut bound) = (0, 0);
    for outcome in outcomes {
        match outcome {
            BoxOutcome::StatusChecked { agent, status } => {
                assert_eq!(status, Ok(BindingStatus::Unbound), "box {}", agent.terminal_id());
                assert_eq!(agent.local_state(), LocalBindingState::Unbound);
                unbound += 1;
            }
            BoxOutcome::Bound { agent, binding_id, bound: binding } => {
                let binding = binding.unwrap_or_else(|error| panic!("box {} not bound: {error}", agent.terminal_id()));
                assert_eq!(binding.binding_id, binding_id);
                assert_eq!(agent.local_state(), LocalBindingState::Bound(binding.clone()));
                match check_status_until_answered(&agent, &tally).await {
                    Ok(BindingStatus::Bound(stated)) => assert_eq!(stated.binding_id, binding.binding_id),
                    other => panic!("the platform does not state box {} bound: {other:?}", agent.terminal_id()),
                }
                bound += 1;
            }
        }
    }
    assert_eq!((unbound, bound), (STATUS_ONLY_BOXES, BOUND_SAMPLE_BOXES));

    let shed = StormTally::read(&tally.shed_with_retry_after);
    let metrics = platform.metrics().await;
    eprintln!(
        "boot storm: {} boxes, limit {MAX_CONCURRENT_REQUESTS}, nofile {open_file_limit}; identities in {:.1} s, \
         storm settled in {:.1} s; shed with the header read as Retry-After: 1 {shed}, shed seen by boot flows \
         without the header {}, other retries {}, timeouts {}",
        STATUS_ONLY_BOXES + BOUND_SAMPLE_BOXES,
        creation_time.as_secs_f64(),
        storm_time.as_secs_f64(),
        StormTally::read(&tally.shed_header_not_seen),
        StormTally::read(&tally.other_retries),
        StormTally::read(&tally.timeouts),
    );
    assert_eq!(StormTally::read(&tally.shed_without_retry_after), 0, "every 503 read carries Retry-After: 1");
    assert!(shed > 0, "the platform never shed load: the storm did not exceed the limit");
    assert_eq!(StormTally::read(&tally.timeouts), 0, "no box timed out");
    assert!(metrics.contains("http_requests_total"), "the platform still answers /metrics after the storm");
}
