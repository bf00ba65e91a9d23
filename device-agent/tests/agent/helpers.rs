//! Test helpers: the real platform in-process on port 0 in a temp dir, an OSS stand-in making HMAC'd
//! calls, and agents whose boot flow runs in a task and reports its events on a channel.

use numbind_device_agent::{Agent, AgentConfig, AgentError, AgentEvent, BoundBinding};
use numbind_wire::api::{BindingOutcome, ConfirmBindingRequest, RedeemCodeRequest, RedeemCodeResponse};
use numbind_wire::component_auth::{ComponentRequest, ComponentSecret};
use numbind_wire::statement::PlatformPublicKey;
use numbind_wire::{ActivationCode, ActivationId, Msisdn, ShortCode};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub(crate) const SHORT_CODE: &str = "10658000";
const OSS_SECRET: &str = "agent-tests-oss-platform-secret-0123456789";
/// How long a test waits for an event before it fails.
pub(crate) const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

/// A running platform and its temp dir; the platform stops when this is dropped.
pub(crate) struct TestPlatform {
    pub(crate) url: String,
    pub(crate) public_key: PlatformPublicKey,
    pub(crate) directory: tempfile::TempDir,
    http: reqwest::Client,
    secret: ComponentSecret,
    _stop: oneshot::Sender<()>,
}

/// Options of the platform under test.
pub(crate) struct PlatformOptions {
    pub(crate) activation_ttl: Duration,
}

impl Default for PlatformOptions {
    fn default() -> Self {
        PlatformOptions { activation_ttl: Duration::from_secs(600) }
    }
}

pub(crate) async fn spawn_platform() -> TestPlatform {
    spawn_platform_with(PlatformOptions::default()).await
}

pub(crate) async fn spawn_platform_with(options: PlatformOptions) -> TestPlatform {
    let directory = tempfile::tempdir().expect("temp dir");
    let key_path = directory.path().join("platform-signing.key");
    let public_key =
        numbind_platform::load_or_create_signing_key(&key_path).expect("platform signing key").public_key();
    let secret = ComponentSecret::parse(OSS_SECRET).expect("oss secret");
    let mut config = numbind_platform::Config::new(
        directory.path().join("platform.db"),
        key_path,
        ShortCode::parse(SHORT_CODE).expect("short code"),
        secret.clone(),
    );
    config.activation_ttl = options.activation_ttl;
    config.poll_interval = Duration::from_secs(1);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind platform");
    let url = format!("http://{}", listener.local_addr().expect("platform address"));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        if let Err(error) = numbind_platform::run(config, listener, shutdown).await {
            eprintln!("platform stopped: {error:#}");
        }
    });
    let http = reqwest::Client::new();
    wait_until_serving(&http, &url).await;
    TestPlatform { url, public_key, directory, http, secret, _stop: stop }
}

/// Waits until the platform answers `/healthz`. The socket accepts as soon as it is bound, but the platform refuses
/// every request signed before its state exists (its replay guard starts then), so a box that signed while the
/// platform was still opening its store would be refused as a replay.
async fn wait_until_serving(http: &reqwest::Client, url: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let answer = http.get(format!("{url}/healthz")).send().await;
        if answer.is_ok_and(|response| response.status().is_success()) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the platform did not start serving");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl TestPlatform {
    /// How many requests the platform answered on routes whose path contains `route_part`, from `/metrics`.
    pub(crate) async fn requests_on_routes_containing(&self, route_part: &str) -> u64 {
        let url = format!("{}/metrics", self.url);
        let metrics = self.http.get(url).send().await.expect("metrics").text().await.expect("metrics text");
        metrics
            .lines()
            .filter(|line| line.starts_with("http_requests_total{") && line.contains(route_part))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }

    /// A config for an agent with its own state dir, pinned to this platform's key, with short waits.
    pub(crate) fn agent_config(&self, state_name: &str) -> AgentConfig {
        let mut config = AgentConfig::new(self.state_dir(state_name), &self.url, vec![self.public_key.clone()]);
        config.device_model = "Skyworth E900".into();
        config.request_timeout = Duration::from_secs(5);
        config.long_poll_wait = Duration::from_secs(5);
        config.pause_after_denial = Duration::from_millis(100);
        config.retry_base = Duration::from_millis(50);
        config.retry_cap = Duration::from_millis(500);
        config
    }

    pub(crate) fn state_dir(&self, state_name: &str) -> PathBuf {
        self.directory.path().join(state_name)
    }

    /// The OSS claims the code shown on the box for `msisdn`.
    pub(crate) async fn redeem(&self, code: &str, msisdn: &str, sms_message_id: &str) -> RedeemCodeResponse {
        let request = RedeemCodeRequest {
            code: ActivationCode::parse(code).expect("code shown by the box"),
            msisdn: Msisdn::parse(msisdn).expect("test number"),
            sms_message_id: sms_message_id.into(),
        };
        let (status, body) =
            self.oss_post("/v1/oss/redemptions", &serde_json::to_vec(&request).expect("request json")).await;
        assert_eq!(status, 200, "redemption refused: {body}");
        serde_json::from_str(&body).expect("redemption answer")
    }

    /// The OSS confirms its verdict on a claimed activation.
    pub(crate) async fn confirm(&self, activation_id: &ActivationId, msisdn: &str, outcome: BindingOutcome) {
        let request = ConfirmBindingRequest {
            activation_id: activation_id.clone(),
            msisdn: Msisdn::parse(msisdn).expect("test number"),
            outcome,
        };
        let (status, body) =
            self.oss_post("/v1/oss/confirmations", &serde_json::to_vec(&request).expect("request json")).await;
        assert_eq!(status, 200, "confirmation refused: {body}");
    }

    /// The OSS relays `UNBIND` from `msisdn`: every terminal it pays for is unbound.
    pub(crate) async fn unbind_number(&self, msisdn: &str, request_id: &str) {
        let body = serde_json::json!({ "msisdn": msisdn, "terminal_id": null, "request_id": request_id });
        let (status, answer) = self.oss_post("/v1/oss/unbindings", body.to_string().as_bytes()).await;
        assert_eq!(status, 200, "unbinding refused: {answer}");
    }

    async fn oss_post(&self, path: &str, body: &[u8]) -> (u16, String) {
        let timestamp = numbind_process::clock::now_unix_seconds();
        let authorization = ComponentRequest {
            client: "oss",
            method: "POST",
            path_and_query: path,
            timestamp_unix_seconds: timestamp,
            body,
        }
        .authorization(&self.secret);
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .header("authorization", authorization)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .expect("oss request");
        (response.status().as_u16(), response.text().await.expect("oss answer body"))
    }
}

/// An agent whose `run_until_bound` runs in a task; its events arrive on a channel.
pub(crate) struct RunningAgent {
    pub(crate) agent: Arc<Agent>,
    events: mpsc::UnboundedReceiver<AgentEvent>,
    pub(crate) outcome: JoinHandle<Result<BoundBinding, AgentError>>,
}

pub(crate) fn start_boot_flow(config: AgentConfig) -> RunningAgent {
    let agent = Arc::new(Agent::new(config).expect("agent starts"));
    let (sender, events) = mpsc::unbounded_channel();
    let running = agent.clone();
    let outcome = tokio::spawn(async move {
        let mut report = |event: AgentEvent| {
            let _ = sender.send(event);
        };
        running.run_until_bound(&mut report).await
    });
    RunningAgent { agent, events, outcome }
}

impl RunningAgent {
    /// The next event accepted by `wanted`; earlier events are skipped. Fails after `EVENT_TIMEOUT`.
    pub(crate) async fn next_event<T>(&mut self, mut wanted: impl FnMut(AgentEvent) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .expect("no wanted event in time")
                .expect("the boot flow ended without the wanted event");
            if let Some(found) = wanted(event) {
                return found;
            }
        }
    }

    pub(crate) async fn next_activation(&mut self) -> numbind_device_agent::ActivationDisplay {
        self.next_event(|event| match event {
            AgentEvent::ActivationShown(display) => Some(display),
            _ => None,
        })
        .await
    }
}
