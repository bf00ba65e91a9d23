//! Scenario 1, boot storm: signed binding-status checks per second and p50/p99 at 64, 256 and 1024 connections,
//! against a bare hyper server answering a fixed body of the same size (the ceiling of this machine).

use crate::http_load::{closed_loop, connect, exchange, RequestFactory};
use crate::report::{check, Comparison, RepeatFigures, ScenarioHeading, ScenarioReport};
use crate::scenarios::measurement_duration;
use crate::system::{start_platform, ServerRuntime};
use crate::terminals::{generate_terminals, register_all, SimulatedTerminal};
use crate::BenchOptions;
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn heading(connections: usize) -> ScenarioHeading {
    ScenarioHeading {
        scenario: 1,
        name: "boot storm: signed status checks",
        variant: format!("{connections} connections"),
        unit: "req/s",
        baseline_name: "bare hyper, same body size",
        target: ">= 0.7x bare hyper at 256 connections",
        target_checks: if connections == 256 { vec![check("ratio", Comparison::AtLeast, 0.7)] } else { Vec::new() },
    }
}

pub async fn run(options: &BenchOptions) -> anyhow::Result<Vec<ScenarioReport>> {
    let levels: &[usize] = if options.quick { &[16] } else { &[64, 256, 1024] };
    let terminal_count = if options.quick { 16 } else { 1024 };
    let runtime = ServerRuntime::new()?;
    let directory = tempfile::tempdir_in(&options.work_dir)?;
    let (platform, _platform_shutdown) = start_platform(&runtime, directory.path()).await?;
    let terminals = generate_terminals(terminal_count)?;
    register_all(platform, &terminals).await?;
    let body_size = status_body_size(platform, &terminals[0]).await?;
    let baseline = runtime
        .serve(move |listener| crate::baselines::serve_fixed_body(listener, Bytes::from(vec![b'x'; body_size])))
        .await?;
    let signing_rate = signatures_per_second(&terminals[0]);
    let make_request: RequestFactory = {
        let terminals = terminals.clone();
        Arc::new(move |index| terminals[index % terminals.len()].binding_status_request())
    };
    let duration = measurement_duration(options.quick);
    let mut reports = Vec::new();
    for &connections in levels {
        let mut repeats = Vec::new();
        for _ in 0..options.repeats {
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
        let notes = vec![
            format!("{terminal_count} registered terminals; every request signed with a fresh nonce by the client"),
            format!("client signing alone: {signing_rate:.0} signed requests/s on one core (load generator cost)"),
            format!("response body {body_size} bytes for both servers; client and servers share the machine's cores"),
        ];
        reports.push(ScenarioReport::from_repeats(heading(connections), repeats, notes));
    }
    Ok(reports)
}

async fn status_body_size(platform: std::net::SocketAddr, terminal: &SimulatedTerminal) -> anyhow::Result<usize> {
    let mut stream = connect(platform).await?;
    let response = exchange(&mut stream, &terminal.binding_status_request(), &mut Vec::new()).await?;
    anyhow::ensure!(response.status == 200, "status check answered {}", response.status);
    Ok(response.body.len())
}

fn signatures_per_second(terminal: &SimulatedTerminal) -> f64 {
    let started = Instant::now();
    let mut count = 0u32;
    while started.elapsed() < Duration::from_millis(200) {
        std::hint::black_box(terminal.binding_status_request());
        count += 1;
    }
    f64::from(count) / started.elapsed().as_secs_f64()
}
