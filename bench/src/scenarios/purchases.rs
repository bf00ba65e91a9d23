//! Scenario 6, purchases end to end: a merchant's backend submits one-step purchases (below the confirmation
//! threshold) that bound boxes signed, 256 in flight, each with its own `Idempotency-Key`; timed from the submit
//! to the platform's 201 with a final state (the OSS has charged and both sides have committed). Every answer
//! must be `succeeded`; anything else counts as an error. Baseline: single-row SQLite commits per second on the
//! same disk with numbind's settings, as for scenario 2.

use crate::cpu_time::{wait_until_idle, CpuSample};
use crate::http_load::{connect_to, exchange, request_bytes, send_all, Target};
use crate::latency::LatencyRecorder;
use crate::phones::{create_subscribers, phone_number, send_sms};
use crate::report::{check, Comparison, RepeatFigures, ScenarioHeading, ScenarioReport};
use crate::scenarios::measurement_duration;
use crate::system::{platform_public_key, start_full_system, RunningSystem, ServerRuntime};
use crate::terminals::{
    activation_offers_all, generate_terminals, register_all, wait_until_bound_all, SimulatedTerminal,
};
use crate::BenchOptions;
use anyhow::Context;
use numbind_platform::merchant_admin::{create_merchant, NewMerchant};
use numbind_wire::api::PaymentState;
use numbind_wire::statement::PinnedPlatformKeys;
use numbind_wire::{Amount, ItemDescription, ItemId, MerchantId};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Barrier;

const MERCHANT_ID: &str = "bench-films";
/// ¥5.00: below the ¥30 confirmation threshold, so every purchase is one step.
const AMOUNT_FEN: i64 = 500;

fn heading(in_flight: usize) -> ScenarioHeading {
    ScenarioHeading {
        scenario: 6,
        name: "purchases end to end",
        variant: format!("{in_flight} in flight, one-step"),
        unit: "charges/s",
        baseline_name: "SQLite WAL+FULL commits/s",
        target: ">= 2,000/s with p99 <= 100 ms, every answer succeeded",
        target_checks: vec![
            check("numbind", Comparison::AtLeast, 2000.0),
            check("p99_ms", Comparison::AtMost, 100.0),
            check("errors", Comparison::AtMost, 0.0),
        ],
    }
}

/// The sizes of a run.
struct Sizes {
    boxes: usize,
    purchases_per_repeat: usize,
    in_flight: usize,
}

pub async fn run(options: &BenchOptions) -> anyhow::Result<Vec<ScenarioReport>> {
    let sizes = if options.quick {
        Sizes { boxes: 16, purchases_per_repeat: 200, in_flight: 16 }
    } else {
        Sizes { boxes: 1024, purchases_per_repeat: 8192, in_flight: 256 }
    };
    let runtime = ServerRuntime::new()?;
    let directory = tempfile::tempdir_in(&options.work_dir)?;
    let system = start_full_system(&runtime, directory.path()).await?;
    let merchant = prepare(&system, &sizes).await?;
    let mut repeats = Vec::new();
    for repeat in 0..options.repeats {
        options.progress.repeat("", repeat);
        let baseline_directory = directory.path().to_owned();
        let duration = measurement_duration(options.quick);
        let commits_per_second = tokio::task::spawn_blocking(move || {
            crate::baselines::sqlite_commits_per_second(&baseline_directory, duration)
        })
        .await??;
        let requests = signed_purchases(&merchant, repeat, sizes.purchases_per_repeat)?;
        let platform = Target::from(system.addresses.platform);
        let before = (counters(&platform).await?, counters(&system.addresses.oss).await?);
        let cpu_before = CpuSample::now();
        let mut round = submit_all(&platform, requests, sizes.in_flight).await?;
        let after = (counters(&platform).await?, counters(&system.addresses.oss).await?);
        let settled_after = wait_until_settled(&platform, before.0, round.succeeded).await?;
        let cpu = cpu_before.zip(CpuSample::now()).map(|(before, after)| after.since(&before));
        let per_charge = |commits: f64| commits / (round.succeeded.max(1) as f64);
        let figures = RepeatFigures::new(round.rate(), commits_per_second)
            .with("settled_after_ms", settled_after.as_secs_f64() * 1000.0);
        repeats.push(
            with_cpu_per_charge(figures, cpu.as_ref(), round.succeeded)
                .with("p50_ms", round.latencies.quantile_milliseconds(0.5))
                .with("p99_ms", round.latencies.quantile_milliseconds(0.99))
                .with("max_ms", round.latencies.quantile_milliseconds(1.0))
                .with("errors", round.errors as f64)
                .with("platform_commits_per_charge", per_charge(after.0.commits - before.0.commits))
                .with("platform_writes_per_charge", per_charge(after.0.writes - before.0.writes))
                .with("oss_commits_per_charge", per_charge(after.1.commits - before.1.commits)),
        );
    }
    let notes = vec![
        format!(
            "{} boxes bound through the real flow before timing (register, signed activation, the phone texts the code, \
             bound statement verified); {} purchases per repeat, {} in flight over as many kept-alive connections",
            sizes.boxes, sizes.purchases_per_repeat, sizes.in_flight
        ),
        format!(
            "each purchase: a distinct intent of ¥{:.2} signed beforehand with the box's terminal key (the box's cost, \
             outside the timing), its own Idempotency-Key, the merchant's bearer token, plain HTTP on loopback as \
             scenario 2's main row",
            AMOUNT_FEN as f64 / 100.0
        ),
        "latency: POST /v1/payments -> 201 with state succeeded (OSS charged inline, both sides committed); any \
         other answer is an error"
            .into(),
        "platform, OSS and SMS centre in-process on one 2-worker runtime; subscribers' charge limits opened by \
         per-subscriber overrides (min_interval_seconds 0, high caps)"
            .into(),
        "cpu_ms_per_charge: CPU time of the whole process (servers, writer threads, load generator) from the first \
         submit until every receipt was sent and every merchant event delivered and the process is idle again \
         (settled_after_ms after the round), per charge; \
         servers_ = the server runtime's workers and blocking pool, writers_ = the SQLite writer threads"
            .into(),
        "*_commits_per_charge: durable commits (group-commit batches) of each database during the round, per \
         charge; platform_writes_per_charge: the store calls they carried"
            .into(),
    ];
    Ok(vec![ScenarioReport::from_repeats(heading(sizes.in_flight), repeats, notes)])
}

/// The round's CPU time per charge, in milliseconds: in all, on the server runtime's threads, on the writer threads.
fn with_cpu_per_charge(figures: RepeatFigures, cpu: Option<&CpuSample>, charges: usize) -> RepeatFigures {
    let Some(cpu) = cpu else { return figures };
    let per_charge = |spent: Duration| spent.as_secs_f64() * 1000.0 / (charges.max(1) as f64);
    let named = |prefix: &str| {
        cpu.by_thread_name.iter().filter(|(name, _)| name.starts_with(prefix)).map(|(_, spent)| *spent).sum()
    };
    figures
        .with("cpu_ms_per_charge", per_charge(cpu.total))
        .with("servers_cpu_ms_per_charge", per_charge(named("bench-server")))
        .with("writers_cpu_ms_per_charge", per_charge(named("sqlite-writer")))
}

/// The merchant and its boxes, bound and allowed to pay.
struct Merchant {
    merchant_id: MerchantId,
    token: String,
    terminals: Vec<Arc<SimulatedTerminal>>,
    item: (ItemId, ItemDescription),
}

/// Subscribers with open limits, boxes bound through the real flow, the merchant created as an operator does.
async fn prepare(system: &RunningSystem, sizes: &Sizes) -> anyhow::Result<Merchant> {
    let addresses = &system.addresses;
    create_subscribers(addresses.oss.clone(), 0, sizes.boxes).await.context("subscribers")?;
    open_charge_limits(&addresses.oss, sizes.boxes).await?;
    let pinned = PinnedPlatformKeys::new(vec![platform_public_key(&system.directory)?]);
    let terminals = generate_terminals(sizes.boxes)?;
    register_all(addresses.platform, &terminals).await?;
    let offers = activation_offers_all(addresses.platform, &terminals, &pinned).await?;
    let smsc_http = addresses.smsc_http;
    let texts: Vec<(usize, String)> = offers.into_iter().map(|offer| offer.sms_text).enumerate().collect();
    let mut phones = tokio::task::JoinSet::new();
    for chunk in texts.chunks(texts.len().div_ceil(32).max(1)) {
        let chunk = chunk.to_vec();
        phones.spawn(async move {
            for (index, text) in chunk {
                send_sms(smsc_http, &phone_number(index), &text).await?;
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    while let Some(finished) = phones.join_next().await {
        finished.context("a phone panicked")??;
    }
    wait_until_bound_all(addresses.platform, &terminals, &pinned, Duration::from_secs(120)).await?;
    let new_merchant = NewMerchant {
        merchant_id: MERCHANT_ID,
        display_name: "基准影院",
        webhook_url: None,
        allow_insecure_http_webhook: false,
    };
    let token = create_merchant(&system.directory.join("platform.db"), &new_merchant).context("merchant")?;
    Ok(Merchant {
        merchant_id: MerchantId::parse(MERCHANT_ID)?,
        token,
        terminals,
        item: (ItemId::parse("film-4412")?, ItemDescription::parse("《流浪地球》高清")?),
    })
}

/// Per-subscriber overrides through the OSS admin API, so that no limit refuses the load: no minimum interval,
/// caps far above what a run charges.
async fn open_charge_limits(oss: &Target, count: usize) -> anyhow::Result<()> {
    let body = serde_json::json!({
        "max_per_charge_fen": null,
        "daily_fen": 1_000_000_000_i64,
        "monthly_fen": 1_000_000_000_i64,
        "min_interval_seconds": 0,
        "credit_limit_fen": 1_000_000_000_i64,
    })
    .to_string();
    let requests = (0..count)
        .map(|index| {
            let path = format!("/v1/subscribers/{}/charge-limits", phone_number(index));
            request_bytes("PUT", &path, &[], body.as_bytes())
        })
        .collect();
    send_all(oss.clone(), requests, 16).await.context("opening the charge limits")?;
    Ok(())
}

/// `count` merchant requests, each for a distinct intent signed by the boxes in turn, each with its own key.
fn signed_purchases(merchant: &Merchant, repeat: usize, count: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    let amount = Amount::from_minor_units(AMOUNT_FEN)?;
    let authorization = format!("Bearer {}", merchant.token);
    (0..count)
        .map(|index| {
            let terminal = &merchant.terminals[index % merchant.terminals.len()];
            let signed_intent = terminal.sign_purchase_intent(&merchant.merchant_id, &merchant.item, amount)?;
            let body = serde_json::json!({
                "signed_intent": signed_intent,
                "reference_code": format!("order-{repeat}-{index}"),
            });
            let headers =
                [("authorization", authorization.clone()), ("idempotency-key", format!("bench-{repeat}-{index}"))];
            Ok(request_bytes("POST", "/v1/payments", &headers, body.to_string().as_bytes()))
        })
        .collect()
}

/// A component's counters, from its `/metrics`: its database's group commits, and (the platform's) what it sent.
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    /// Durable commits (batches).
    commits: f64,
    /// Writes (store calls) those commits carried.
    writes: f64,
    /// Notification SMS (receipts) the SMS centre accepted.
    notifications: f64,
    /// Merchant events acknowledged (or, for a merchant without a webhook, left for polling).
    merchant_events: f64,
}

async fn counters(target: &Target) -> anyhow::Result<Counters> {
    let mut stream = connect_to(target).await?;
    let response = exchange(&mut stream, &request_bytes("GET", "/metrics", &[], b""), &mut Vec::new()).await?;
    anyhow::ensure!(response.status == 200, "/metrics answered {}", response.status);
    let text = String::from_utf8_lossy(&response.body);
    let counter = |name: &str| {
        text.lines()
            .filter(|line| line.starts_with(name))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    Ok(Counters {
        commits: counter("database_commits_total"),
        writes: counter("database_writes_committed_total"),
        notifications: counter("notifications_sent_total"),
        merchant_events: counter("merchant_events_delivered_total"),
    })
}

/// Waits until the platform has sent a receipt and delivered an event for each of the round's `charges` (at most
/// a minute), then until the process is idle: the CPU of what a charge triggers belongs to the charge.
async fn wait_until_settled(platform: &Target, before: Counters, charges: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let now = counters(platform).await?;
        let charges = charges as f64;
        if now.notifications - before.notifications >= charges
            && now.merchant_events - before.merchant_events >= charges
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_until_idle(Duration::from_millis(100), Duration::from_secs(10)).await;
    Ok(started.elapsed())
}

/// What one round measured.
struct Round {
    succeeded: usize,
    errors: usize,
    elapsed: Duration,
    latencies: LatencyRecorder,
}

impl Round {
    fn rate(&self) -> f64 {
        self.succeeded as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The part of a payment the load generator reads.
#[derive(serde::Deserialize)]
struct Answer {
    state: PaymentState,
}

/// Sends every request once over `in_flight` kept-alive connections, each taking the next unsent request as soon
/// as its last is answered; a 201 `succeeded` counts, anything else is an error.
async fn submit_all(target: &Target, requests: Vec<Vec<u8>>, in_flight: usize) -> anyhow::Result<Round> {
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let start_line = Arc::new(Barrier::new(in_flight + 1));
    let mut lanes = tokio::task::JoinSet::new();
    for _ in 0..in_flight {
        let mut stream = connect_to(target).await?;
        let (requests, next, start_line) = (requests.clone(), next.clone(), start_line.clone());
        lanes.spawn(async move {
            start_line.wait().await;
            let (mut succeeded, mut errors, mut latencies) = (0usize, 0usize, LatencyRecorder::default());
            let mut buffer = Vec::with_capacity(4096);
            let mut last_answer = Instant::now();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(index) else { break };
                let sent_at = Instant::now();
                let response = match exchange(&mut stream, request, &mut buffer).await {
                    Ok(response) => response,
                    Err(error) => {
                        tracing::warn!(error = %format!("{error:#}"), "purchase unanswered");
                        errors += 1;
                        break;
                    }
                };
                last_answer = Instant::now();
                let state = serde_json::from_slice::<Answer>(&response.body).map(|answer| answer.state).ok();
                if response.status == 201 && state == Some(PaymentState::Succeeded) {
                    succeeded += 1;
                    latencies.record(last_answer.duration_since(sent_at));
                } else {
                    errors += 1;
                    if errors <= 3 {
                        tracing::warn!(
                            status = response.status,
                            body = %String::from_utf8_lossy(&response.body),
                            "purchase not succeeded"
                        );
                    }
                }
            }
            (succeeded, errors, latencies, last_answer)
        });
    }
    start_line.wait().await;
    let started = Instant::now();
    let mut round = Round { succeeded: 0, errors: 0, elapsed: Duration::ZERO, latencies: LatencyRecorder::default() };
    let mut last = started;
    while let Some(finished) = lanes.join_next().await {
        let (succeeded, errors, latencies, last_answer) = finished.context("a merchant connection panicked")?;
        round.succeeded += succeeded;
        round.errors += errors;
        round.latencies.merge(latencies);
        last = last.max(last_answer);
    }
    // A lane that broke leaves requests unsent: each is an error too.
    round.errors += requests.len().saturating_sub(round.succeeded + round.errors);
    round.elapsed = last.duration_since(started);
    Ok(round)
}
