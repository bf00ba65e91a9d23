//! Scenario 1's TLS rows: session-tagged status checks to a platform serving HTTPS against a twin platform
//! serving plain HTTP in the same run, alternating, with kept-alive connections (the steady state) and with a
//! new connection and a full TLS handshake per check (a boot storm of rebooted boxes, no session resumption).

use crate::http_load::{closed_loop_with, RequestFactory, Reuse, Target};
use crate::report::{RepeatFigures, ScenarioHeading, ScenarioReport};
use crate::scenarios::measurement_duration;
use crate::system::{
    local_authority, platform_public_key, start_platform_with, tls_connector, ServerRuntime, Transport,
};
use crate::terminals::{generate_terminals, open_sessions_all, register_all, SimulatedTerminal};
use crate::BenchOptions;
use numbind_wire::statement::PinnedPlatformKeys;
use std::path::Path;
use std::sync::Arc;

fn heading(connections: usize, reuse: Reuse) -> ScenarioHeading {
    let variant = match reuse {
        Reuse::KeepAlive => format!("{connections} connections over TLS, kept alive"),
        Reuse::NewConnectionPerRequest => format!("{connections} connections over TLS, a full handshake per check"),
    };
    ScenarioHeading {
        scenario: 1,
        name: "boot storm: authenticated status checks",
        variant,
        unit: "req/s",
        baseline_name: "the same platform over plain HTTP, same run",
        target: "what TLS costs (no target)",
        target_checks: Vec::new(),
    }
}

/// One platform and its boxes (each box holding a session with it).
struct Served {
    target: Target,
    terminals: Vec<Arc<SimulatedTerminal>>,
    /// Stops the platform when the scenario is done.
    shutdown: tokio_util::sync::CancellationToken,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn serve(
    runtime: &ServerRuntime,
    directory: &Path,
    transport: Transport,
    terminal_count: usize,
) -> anyhow::Result<Served> {
    let (address, shutdown) = start_platform_with(runtime, directory, transport).await?;
    let tls = match transport {
        Transport::PlainHttp => None,
        Transport::Tls => Some(tls_connector(&local_authority(directory)?, false)?),
    };
    let target = Target { address, tls };
    let pinned = PinnedPlatformKeys::new(vec![platform_public_key(directory)?]);
    let terminals = generate_terminals(terminal_count)?;
    register_all(target.clone(), &terminals).await?;
    open_sessions_all(target.clone(), &terminals, &pinned).await?;
    Ok(Served { target, terminals, shutdown })
}

pub(super) async fn rows(options: &BenchOptions) -> anyhow::Result<Vec<ScenarioReport>> {
    let (keep_alive_connections, handshake_connections, terminal_count) =
        if options.quick { (16, 8, 16) } else { (256, 64, 1024) };
    let runtime = ServerRuntime::new()?;
    let directory = tempfile::tempdir_in(&options.work_dir)?;
    let (plain_directory, tls_directory) = (directory.path().join("plain"), directory.path().join("tls"));
    std::fs::create_dir_all(&plain_directory)?;
    std::fs::create_dir_all(&tls_directory)?;
    let plain = serve(&runtime, &plain_directory, Transport::PlainHttp, terminal_count).await?;
    let tls = serve(&runtime, &tls_directory, Transport::Tls, terminal_count).await?;
    Ok(vec![
        measure(options, &plain, &tls, keep_alive_connections, Reuse::KeepAlive).await?,
        measure(options, &plain, &tls, handshake_connections, Reuse::NewConnectionPerRequest).await?,
    ])
}

fn session_checks(served: &Served) -> RequestFactory {
    let terminals = served.terminals.clone();
    Arc::new(move |index| terminals[index % terminals.len()].session_check_request())
}

async fn measure(
    options: &BenchOptions,
    plain: &Served,
    tls: &Served,
    connections: usize,
    reuse: Reuse,
) -> anyhow::Result<ScenarioReport> {
    let duration = measurement_duration(options.quick);
    let mut repeats = Vec::new();
    for repeat in 0..options.repeats {
        options.progress.repeat(&format!("TLS, {connections} connections"), repeat);
        let mut baseline =
            closed_loop_with(plain.target.clone(), reuse, connections, duration, session_checks(plain)).await?;
        let mut measured =
            closed_loop_with(tls.target.clone(), reuse, connections, duration, session_checks(tls)).await?;
        repeats.push(
            RepeatFigures::new(measured.per_second(), baseline.per_second())
                .with("p50_ms", measured.latencies.quantile_milliseconds(0.50))
                .with("p99_ms", measured.latencies.quantile_milliseconds(0.99))
                .with("baseline_p50_ms", baseline.latencies.quantile_milliseconds(0.50))
                .with("baseline_p99_ms", baseline.latencies.quantile_milliseconds(0.99))
                .with("failed", measured.failed as f64),
        );
    }
    let how = match reuse {
        Reuse::KeepAlive => "every connection opened (one full handshake) before timing, then kept alive",
        Reuse::NewConnectionPerRequest => {
            "a new TCP connection per check, and over TLS a full handshake (ECDSA P-256 certificate, X25519, no \
             resumption): numbind req/s is TLS handshakes per second"
        }
    };
    let notes = vec![
        format!("{} terminals per platform, session-tagged checks; {how}", tls.terminals.len()),
        "twin platforms (plain and TLS) on one 2-worker runtime, measured alternately; ratio = TLS / plain".into(),
    ];
    Ok(ScenarioReport::from_repeats(heading(connections, reuse), repeats, notes))
}
