//! Scenario 2, activations end to end: boxes (the device-agent library, a state directory each on the work
//! disk) wait on long-polls while phones text their codes; timed from the SMS centre's 202 to the agent's
//! `Bound` event (flag durably written, then acknowledged). Baseline: single-row SQLite commits per second on
//! the same disk with numbind's settings.

use crate::latency::LatencyRecorder;
use crate::phones::{create_subscribers, phone_number, send_sms};
use crate::report::{check, Comparison, RepeatFigures, ScenarioHeading, ScenarioReport};
use crate::scenarios::measurement_duration;
use crate::system::{start_full_system, start_full_system_with, ServerRuntime, SystemAddresses, Transport};
use crate::BenchOptions;
use anyhow::Context;
use numbind_device_agent::{Agent, AgentConfig, AgentEvent};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Semaphore};

fn heading(in_flight: usize) -> ScenarioHeading {
    ScenarioHeading {
        scenario: 2,
        name: "activations end to end",
        variant: format!("{in_flight} in flight"),
        unit: "activations/s",
        baseline_name: "SQLite WAL+FULL commits/s",
        target: ">= 1,000/s with p99 <= 300 ms",
        target_checks: vec![check("numbind", Comparison::AtLeast, 1000.0), check("p99_ms", Comparison::AtMost, 300.0)],
    }
}

fn tls_heading(in_flight: usize) -> ScenarioHeading {
    ScenarioHeading {
        scenario: 2,
        name: "activations end to end",
        variant: format!("{in_flight} in flight, every link over TLS"),
        unit: "activations/s",
        baseline_name: "the same run's activations over plain links",
        target: "what TLS costs (no target)",
        target_checks: Vec::new(),
    }
}

/// One round: every box bound once.
pub(crate) struct RoundResult {
    pub(crate) activations: usize,
    pub(crate) elapsed: Duration,
    pub(crate) latencies: LatencyRecorder,
}

pub async fn run(options: &BenchOptions) -> anyhow::Result<Vec<ScenarioReport>> {
    let (boxes, in_flight) = if options.quick { (20, 8) } else { (2000, 256) };
    let runtime = ServerRuntime::new()?;
    let directory = tempfile::tempdir_in(&options.work_dir)?;
    let plain_directory = directory.path().join("plain");
    let tls_directory = directory.path().join("tls");
    std::fs::create_dir_all(&plain_directory)?;
    std::fs::create_dir_all(&tls_directory)?;
    let system = start_full_system(&runtime, &plain_directory).await?;
    let tls_system = start_full_system_with(&runtime, &tls_directory, Transport::Tls).await?;
    create_subscribers(system.addresses.oss.clone(), 0, boxes * options.repeats).await?;
    create_subscribers(tls_system.addresses.oss.clone(), 0, boxes * options.repeats).await?;
    let (mut repeats, mut tls_repeats) = (Vec::new(), Vec::new());
    for repeat in 0..options.repeats {
        options.progress.repeat("plain and TLS links", repeat);
        let baseline_directory = plain_directory.clone();
        let duration = measurement_duration(options.quick);
        let commits_per_second = tokio::task::spawn_blocking(move || {
            crate::baselines::sqlite_commits_per_second(&baseline_directory, duration)
        })
        .await??;
        let round_of = |system: &SystemAddresses, name: &str| {
            let boxes_directory = directory.path().join(format!("boxes-{name}-{repeat}"));
            let system = system.clone();
            let phones = (repeat * boxes..(repeat + 1) * boxes).map(phone_number).collect();
            async move { activation_round(&system, &boxes_directory, phones, in_flight).await }
        };
        let mut plain = round_of(&system.addresses, "plain").await?;
        let mut tls = round_of(&tls_system.addresses, "tls").await?;
        repeats.push(round_figures(&mut plain, commits_per_second));
        tls_repeats.push(round_figures(&mut tls, plain.rate()));
    }
    let notes = vec![
        format!("{boxes} boxes per repeat (device-agent library, own reqwest client and state dir each), {in_flight} activations in flight"),
        "latency: phone's 202 from the SMS centre -> agent Bound event (flag fsync'd + acknowledgement)".into(),
        "platform, OSS and SMS centre in-process on one 2-worker runtime; SMPP throttles opened".into(),
    ];
    let tls_notes = vec![
        "every link over TLS as under `numbind up`: boxes to the platform (HTTPS, pinned authority), OSS and platform to each other (HTTPS), both to the SMS centre (SMPP over TLS)".into(),
        "each repeat runs the plain round, then this one, on twin systems; ratio = TLS / plain".into(),
    ];
    Ok(vec![
        ScenarioReport::from_repeats(heading(in_flight), repeats, notes),
        ScenarioReport::from_repeats(tls_heading(in_flight), tls_repeats, tls_notes),
    ])
}

pub(crate) fn round_figures(round: &mut RoundResult, baseline: f64) -> RepeatFigures {
    RepeatFigures::new(round.rate(), baseline)
        .with("p50_ms", round.latencies.quantile_milliseconds(0.5))
        .with("p99_ms", round.latencies.quantile_milliseconds(0.99))
        .with("max_ms", round.latencies.quantile_milliseconds(1.0))
}

impl RoundResult {
    pub(crate) fn rate(&self) -> f64 {
        self.activations as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Boots one box per phone until each shows a code, then lets the phones text them, `in_flight` at a time.
pub(crate) async fn activation_round(
    system: &SystemAddresses,
    directory: &Path,
    phones: Vec<String>,
    in_flight: usize,
) -> anyhow::Result<RoundResult> {
    let count = phones.len();
    let (code_sender, mut code_receiver) = mpsc::unbounded_channel::<(usize, String)>();
    let mut bound_receivers = Vec::with_capacity(count);
    let mut agents = tokio::task::JoinSet::new();
    for index in 0..count {
        let (bound_sender, bound_receiver) = oneshot::channel::<Instant>();
        bound_receivers.push(Some(bound_receiver));
        let agent = Agent::new(agent_config(system, &directory.join(index.to_string())))?;
        let code_sender = code_sender.clone();
        agents.spawn(async move {
            let mut bound_sender = Some(bound_sender);
            let mut on_event = move |event: AgentEvent| match event {
                AgentEvent::ActivationShown(display) => {
                    let _ = code_sender.send((index, display.sms_text));
                }
                AgentEvent::Bound(_) => {
                    if let Some(sender) = bound_sender.take() {
                        let _ = sender.send(Instant::now());
                    }
                }
                _ => {}
            };
            agent.run_until_bound(&mut on_event).await
        });
    }
    let mut texts = vec![String::new(); count];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    for _ in 0..count {
        let (index, text) = tokio::time::timeout_at(deadline, code_receiver.recv())
            .await
            .context("boxes did not all show a code within 120 s")?
            .context("agents ended before showing codes")?;
        texts[index] = text;
    }
    let limit = Arc::new(Semaphore::new(in_flight));
    let started = Instant::now();
    let mut texting = tokio::task::JoinSet::new();
    for (index, (text, phone)) in texts.into_iter().zip(phones).enumerate() {
        let bound = bound_receivers[index].take().context("bound receiver")?;
        let limit = limit.clone();
        let smsc_http = system.smsc_http;
        texting.spawn(async move {
            let _permit = limit.acquire_owned().await?;
            send_sms(smsc_http, &phone, &text).await?;
            let accepted = Instant::now();
            let bound_at =
                tokio::time::timeout(Duration::from_secs(60), bound).await.context("not bound in 60 s")??;
            Ok::<_, anyhow::Error>((bound_at, bound_at.saturating_duration_since(accepted)))
        });
    }
    let mut latencies = LatencyRecorder::default();
    let mut last_bound = started;
    while let Some(finished) = texting.join_next().await {
        let (bound_at, latency) = finished.context("a phone panicked")??;
        latencies.record(latency);
        last_bound = last_bound.max(bound_at);
    }
    while let Some(finished) = agents.join_next().await {
        finished.context("an agent panicked")??;
    }
    Ok(RoundResult { activations: count, elapsed: last_bound.duration_since(started), latencies })
}

fn agent_config(system: &SystemAddresses, state_dir: &Path) -> AgentConfig {
    let mut config = AgentConfig::new(state_dir, system.platform_url.clone(), vec![system.platform_key.clone()]);
    config.platform_authorities_pem = system.authority_pem.clone();
    config.device_model = "numbind bench STB".into();
    config.request_timeout = Duration::from_secs(30);
    config.retry_base = Duration::from_millis(100);
    config
}
