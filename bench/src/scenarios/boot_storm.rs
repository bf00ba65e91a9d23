//! Scenario 1, boot storm: binding-status checks per second and p50/p99 at 64, 256 and 1024 connections, against a
//! bare hyper server answering a fixed body of the same size (the ceiling of this machine).
//!
//! Boxes hold a session (opened by a signed handshake before the run, as a box that booted within the session
//! lifetime does), so each check is session-tagged. One more variant measures the signed check that a box without
//! a session makes, to show what the session saves. Two more measure what TLS costs, against a twin platform
//! serving plain HTTP in the same run: the steady state over kept-alive TLS connections, and a full handshake
//! per check (a box that reboots).

use crate::http_load::{closed_loop, connect, exchange, RequestFactory};
use crate::report::{check, Comparison, RepeatFigures, ScenarioHeading, ScenarioReport};
use crate::scenarios::measurement_duration;
use crate::system::{platform_public_key, start_platform, ServerRuntime};
use crate::terminals::{generate_terminals, open_sessions_all, register_all, SimulatedTerminal};
use crate::BenchOptions;

mod tls;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which status check the boxes make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CheckKind {
    /// `GET .../binding-check` with a session tag: what a box holding a session sends.
    Session,
    /// `GET .../binding`, signed: what a box without a session sends.
    Signed,
}

fn heading(connections: usize, kind: CheckKind) -> ScenarioHeading {
    let measured_at_target = connections == 256 && kind == CheckKind::Session;
    ScenarioHeading {
        scenario: 1,
        name: "boot storm: authenticated status checks",
        variant: match kind {
            CheckKind::Session => format!("{connections} connections"),
            CheckKind::Signed => format!("{connections} connections, signed (no session)"),
        },
        unit: "req/s",
        baseline_name: "bare hyper, same body size",
        target: ">= 0.7x bare hyper at 256 connections",
        target_checks: if measured_at_target { vec![check("ratio", Comparison::AtLeast, 0.7)] } else { Vec::new() },
    }
}

pub async fn run(options: &BenchOptions) -> anyhow::Result<Vec<ScenarioReport>> {
    let mut reports = plain_rows(options).await?;
    reports.extend(tls::rows(options).await?);
    Ok(reports)
}

async fn plain_rows(options: &BenchOptions) -> anyhow::Result<Vec<ScenarioReport>> {
    let levels: &[usize] = if options.quick { &[16] } else { &[64, 256, 1024] };
    let signed_level = if options.quick { 16 } else { 256 };
    let terminal_count = if options.quick { 16 } else { 1024 };
    let runtime = ServerRuntime::new()?;
    let directory = tempfile::tempdir_in(&options.work_dir)?;
    let (platform, _platform_shutdown) = start_platform(&runtime, directory.path()).await?;
    let pinned = numbind_wire::statement::PinnedPlatformKeys::new(vec![platform_public_key(directory.path())?]);
    let terminals = generate_terminals(terminal_count)?;
    register_all(platform, &terminals).await?;
    open_sessions_all(platform, &terminals, &pinned).await?;
    let mut reports = Vec::new();
    for &connections in levels {
        reports.push(measure(options, &runtime, platform, &terminals, connections, CheckKind::Session).await?);
    }
    reports.push(measure(options, &runtime, platform, &terminals, signed_level, CheckKind::Signed).await?);
    Ok(reports)
}

/// Alternates the bare-hyper ceiling and the platform, `options.repeats` times, at one connection count.
async fn measure(
    options: &BenchOptions,
    runtime: &ServerRuntime,
    platform: SocketAddr,
    terminals: &[Arc<SimulatedTerminal>],
    connections: usize,
    kind: CheckKind,
) -> anyhow::Result<ScenarioReport> {
    let request_of = move |terminal: &SimulatedTerminal| match kind {
        CheckKind::Session => terminal.session_check_request(),
        CheckKind::Signed => terminal.binding_status_request(),
    };
    let body_size = status_body_size(platform, &request_of(&terminals[0])).await?;
    let baseline = runtime
        .serve(move |listener| crate::baselines::serve_fixed_body(listener, Bytes::from(vec![b'x'; body_size])))
        .await?;
    let client_rate = requests_built_per_second(|| request_of(&terminals[0]));
    let make_request: RequestFactory = {
        let terminals = terminals.to_vec();
        Arc::new(move |index| request_of(&terminals[index % terminals.len()]))
    };
    let duration = measurement_duration(options.quick);
    let mut repeats = Vec::new();
    for repeat in 0..options.repeats {
        options.progress.repeat(&format!("{connections} connections"), repeat);
        let mut ceiling = closed_loop(baseline, connections, duration, make_request.clone()).await?;
        let mut measured = closed_loop(platform, connections, duration, make_request.clone()).await?;
        repeats.push(
            RepeatFigures::new(measured.per_second(), ceiling.per_second())
                .with("p50_ms", measured.latencies.quantile_milliseconds(0.50))
                .with("p99_ms", measured.latencies.quantile_milliseconds(0.99))
                .with("baseline_p50_ms", ceiling.latencies.quantile_milliseconds(0.50))
                .with("baseline_p99_ms", ceiling.latencies.quantile_milliseconds(0.99))
                .with("failed", measured.failed as f64),
        );
    }
    let how = match kind {
        CheckKind::Session => "session-tagged (HMAC) with a fresh nonce; sessions opened before the run",
        CheckKind::Signed => "signed (Ed25519) with a fresh nonce, as a box without a session sends it",
    };
    let notes = vec![
        format!("{} registered terminals; every request {how}", terminals.len()),
        format!("building one request alone: {client_rate:.0} requests/s on one core (load generator cost)"),
        format!("response body {body_size} bytes for both servers; client and servers share the machine's cores"),
    ];
    Ok(ScenarioReport::from_repeats(heading(connections, kind), repeats, notes))
}

async fn status_body_size(platform: SocketAddr, request: &[u8]) -> anyhow::Result<usize> {
    let mut stream = connect(platform).await?;
    let response = exchange(&mut stream, request, &mut Vec::new()).await?;
    anyhow::ensure!(response.status == 200, "status check answered {}", response.status);
    Ok(response.body.len())
}

fn requests_built_per_second(build: impl Fn() -> Vec<u8>) -> f64 {
    let started = Instant::now();
    let mut count = 0u32;
    while started.elapsed() < Duration::from_millis(200) {
        std::hint::black_box(build());
        count += 1;
    }
    f64::from(count) / started.elapsed().as_secs_f64()
}
