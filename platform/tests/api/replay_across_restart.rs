//! Replay protection without stored nonces: a request signed before a restart is refused by the new process.

use crate::helpers::{sign_request, SignedRequest, TestTerminal, DEVICE_MODEL, OSS_SECRET};
use numbind_platform::Config;
use numbind_process::clock::{Clock, ManualClock};
use numbind_wire::component_auth::ComponentSecret;
use numbind_wire::ShortCode;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// One platform process: `run` on a fresh port over the database in `directory`.
struct RunningPlatform {
    address: String,
    shutdown: CancellationToken,
    served: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn start_platform(directory: &Path, clock: Arc<ManualClock>) -> RunningPlatform {
    let mut config = Config::new(
        directory.join("platform.db"),
        directory.join("platform-signing.key"),
        ShortCode::parse("10658000").unwrap(),
        ComponentSecret::parse(OSS_SECRET).unwrap(),
    );
    config.clock = clock;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let served = tokio::spawn(numbind_platform::run(config, listener, shutdown.clone().cancelled_owned()));
    let health = reqwest::get(format!("{address}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    RunningPlatform { address, shutdown, served }
}

impl RunningPlatform {
    async fn stop(self) {
        self.shutdown.cancel();
        self.served.await.unwrap().unwrap();
    }
}

async fn send(platform: &RunningPlatform, request: &SignedRequest) -> (u16, Value) {
    let mut builder = reqwest::Client::new()
        .request(request.method.clone(), format!("{}{}", platform.address, request.path))
        .header("content-type", "application/json")
        .body(request.body.clone());
    for (name, value) in &request.headers {
        builder = builder.header(*name, value);
    }
    let response = builder.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_request_signed_before_a_restart_is_refused_after_it() {
    let directory = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::starting_now());
    let terminal = TestTerminal::new();
    let status_path = format!("/v1/terminals/{}/binding", terminal.terminal_id);

    let first = start_platform(directory.path(), clock.clone()).await;
    let registration = json!({
        "terminal_id": terminal.terminal_id,
        "public_key": terminal.key_pair.public_key().to_string(),
        "device_model": DEVICE_MODEL,
    });
    let register = sign_request(
        &terminal,
        reqwest::Method::POST,
        "/v1/terminals",
        registration.to_string().as_bytes(),
        clock.now_unix_seconds(),
    );
    assert_eq!(send(&first, &register).await.0, 200);
    let captured = sign_request(&terminal, reqwest::Method::GET, &status_path, b"", clock.now_unix_seconds());
    assert_eq!(send(&first, &captured).await.0, 200);
    let (status, body) = send(&first, &captured).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("replayed_request")), "replay within one process");
    first.stop().await;

    // The new process starts one second later: the captured request is still inside the ±300 s window.
    clock.advance(std::time::Duration::from_secs(1));
    let second = start_platform(directory.path(), clock.clone()).await;
    let (status, body) = send(&second, &captured).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("replayed_request")), "replay across the restart");
    let fresh = sign_request(&terminal, reqwest::Method::GET, &status_path, b"", clock.now_unix_seconds());
    let (status, body) = send(&second, &fresh).await;
    assert_eq!(status, 200, "a request signed after the restart is served: {body}");
    second.stop().await;
}
