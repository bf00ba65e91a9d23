//! Scenario 3, waiting boxes: the platform process's resident memory per waiting long-poll, with 10,000 boxes
//! waiting at once (read from /proc before and after), against a hyper server holding the same requests.

use crate::http_load::{connect, exchange, request_bytes};
use crate::process::{locate_binary, status_field_bytes};
use crate::report::{check, Comparison, RepeatFigures, ScenarioHeading, ScenarioReport};
use crate::service_logging::{ServiceLogging, SERVICE_LOG_FILE_VARIABLE};
use crate::system::platform_public_key;
use crate::terminals::{activate_all, generate_terminals, register_all};
use crate::BenchOptions;
use anyhow::Context;
use numbind_wire::statement::PinnedPlatformKeys;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const WAIT_SECONDS: u64 = 100;

fn heading(boxes: usize) -> ScenarioHeading {
    ScenarioHeading {
        scenario: 3,
        name: "waiting boxes: platform memory",
        variant: format!("{boxes} long-polls"),
        unit: "boxes/GiB",
        baseline_name: "hyper holding requests",
        target: ">= 100,000 waiting boxes per GiB",
        target_checks: vec![check("numbind", Comparison::AtLeast, 100_000.0)],
    }
}

/// A measured server process, killed when dropped.
struct ServerProcess {
    child: Child,
    pid: u32,
    address: SocketAddr,
}

/// Starts `binary`, logging where the bench's own services log (see `service_logging`).
async fn spawn_server(
    binary: &Path,
    arguments: &[&str],
    logging: Option<&ServiceLogging>,
) -> anyhow::Result<ServerProcess> {
    let mut command = Command::new(binary);
    if let Some(logging) = logging {
        command
            .env(SERVICE_LOG_FILE_VARIABLE, &logging.file)
            .env("RUST_LOG", &logging.directives)
            .env("NUMBIND_LOG_JSON", logging.json.to_string());
    }
    let mut child = command
        .args(arguments)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let pid = child.id().context("server exited at once")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .context("server did not announce its address")??
        .context("server closed stdout")?;
    let address = line.strip_prefix("listening http=").context("unexpected first line")?.parse()?;
    crate::system::wait_until_healthy(address).await?;
    Ok(ServerProcess { child, pid, address })
}

pub async fn run(options: &BenchOptions) -> anyhow::Result<Vec<ScenarioReport>> {
    let binary = locate_binary(options.server_binary.as_deref(), "numbind-bench-server")?;
    let logging = options.service_logging.as_ref();
    let boxes = if options.quick { 200 } else { 10_000 };
    let mut repeats = Vec::new();
    for repeat in 0..options.repeats {
        options.progress.repeat(&format!("{boxes} boxes"), repeat);
        let directory = tempfile::tempdir_in(&options.work_dir)?;
        let platform_directory = directory.path().to_string_lossy().into_owned();
        let platform = spawn_server(&binary, &["platform", &platform_directory], logging).await?;
        let terminals = generate_terminals(boxes)?;
        register_all(platform.address, &terminals).await?;
        let pinned = PinnedPlatformKeys::new(vec![platform_public_key(directory.path())?]);
        let activation_ids = activate_all(platform.address, &terminals, &pinned).await?;
        let requests: Vec<Vec<u8>> = terminals
            .iter()
            .zip(&activation_ids)
            .map(|(terminal, activation_id)| terminal.long_poll_request(activation_id, WAIT_SECONDS))
            .collect();
        let holder = spawn_server(&binary, &["hold"], logging).await?;
        let baseline_bytes = bytes_per_waiting_request(&holder, &requests).await.context("baseline")?;
        drop(holder);
        let platform_bytes = bytes_per_waiting_request(&platform, &requests).await.context("platform")?;
        drop(platform);
        repeats.push(
            RepeatFigures::new(GIB / platform_bytes.max(1.0), GIB / baseline_bytes.max(1.0))
                .with("bytes_per_box", platform_bytes)
                .with("baseline_bytes_per_request", baseline_bytes),
        );
    }
    let notes = vec![
        format!("VmRSS of the server process before and after {boxes} signed long-polls (wait_seconds={WAIT_SECONDS}) are all waiting"),
        "kernel socket buffers are not in VmRSS; the platform runs as numbind-bench-server (2 workers)".into(),
    ];
    Ok(vec![ScenarioReport::from_repeats(heading(boxes), repeats, notes)])
}

/// Resident bytes the server gains per waiting request, once all `requests` wait.
async fn bytes_per_waiting_request(server: &ServerProcess, requests: &[Vec<u8>]) -> anyhow::Result<f64> {
    let before = status_field_bytes(server.pid, "VmRSS")?;
    let mut held: Vec<TcpStream> = Vec::with_capacity(requests.len());
    for request in requests {
        let mut stream = connect(server.address).await?;
        stream.write_all(request).await?;
        held.push(stream);
    }
    wait_until_waiting(server.address, requests.len()).await?;
    let after = status_field_bytes(server.pid, "VmRSS")?;
    anyhow::ensure!(server.child.id().is_some(), "the server exited");
    drop(held);
    Ok(after.saturating_sub(before) as f64 / requests.len() as f64)
}

/// Polls `/metrics` until `waiting_terminals` reaches `count` (bounded: 60 s).
async fn wait_until_waiting(address: SocketAddr, count: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let request = request_bytes("GET", "/metrics", &[], b"");
    let mut stream = connect(address).await?;
    let mut buffer = Vec::new();
    loop {
        let response = exchange(&mut stream, &request, &mut buffer).await?;
        let text = String::from_utf8_lossy(&response.body);
        let waiting = text
            .lines()
            .find_map(|line| line.strip_prefix("waiting_terminals "))
            .and_then(|value| value.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        if waiting as usize >= count {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "only {waiting} of {count} requests waiting after 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
