//! Boot-storm helpers: the real platform in-process with a small concurrency limit, an OSS stand-in making
//! HMAC'd calls that retries when shed, status checks retried like a box retries, and the storm's tallies.

use numbind_device_agent::{Agent, AgentConfig, AgentError, BindingStatus};
use numbind_process::backoff::{random_fraction, Backoff, RetryPolicy};
use numbind_wire::api::{ApiErrorCode, BindingOutcome, ConfirmBindingRequest, RedeemCodeRequest, RedeemCodeResponse};
use numbind_wire::component_auth::{ComponentRequest, ComponentSecret};
use numbind_wire::statement::PlatformPublicKey;
use numbind_wire::{ActivationCode, ActivationId, BindingId, Msisdn, ShortCode};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::oneshot;

const SHORT_CODE: &str = "10658000";
const OSS_SECRET: &str = "boot-storm-oss-platform-secret-0123456789";
/// Attempts one operation gets before the storm counts it as failed (bounded loops, never forever).
pub(crate) const MAX_ATTEMPTS: u32 = 400;

/// Raises the soft open-file limit to the hard one: thousands of agents hold thousands of sockets.
pub(crate) fn raise_open_file_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(error) => panic!("cannot raise the open-file limit: {error}"),
    }
}

/// A running platform and its temp dir; the platform stops when this is dropped.
pub(crate) struct TestPlatform {
    pub(crate) url: String,
    pub(crate) public_key: PlatformPublicKey,
    pub(crate) directory: tempfile::TempDir,
    http: reqwest::Client,
    secret: ComponentSecret,
    _stop: oneshot::Sender<()>,
}

/// Starts `numbind_platform::run` on `127.0.0.1:0` admitting at most `max_concurrent_requests` at once.
pub(crate) async fn spawn_platform(max_concurrent_requests: usize) -> TestPlatform {
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
    config.max_concurrent_requests = max_concurrent_requests;
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
    TestPlatform { url, public_key, directory, http: reqwest::Client::new(), secret, _stop: stop }
}

/// What the storm saw, counted across every agent and the OSS stand-in.
#[derive(Debug, Default)]
pub(crate) struct StormTally {
    /// 503 `overloaded` answers whose `Retry-After` header was read and said 1 second.
    pub(crate) shed_with_retry_after: AtomicU64,
    /// 503 `overloaded` answers whose header was read and was missing or not 1 second (must stay 0).
    pub(crate) shed_without_retry_after: AtomicU64,
    /// 503 `overloaded` answers seen by the boot flows only as an `AgentEvent::Retrying` cause: the event does not
    /// carry the header, so these are counted apart and prove nothing about it.
    pub(crate) shed_header_not_seen: AtomicU64,
    /// Requests that timed out on the client side (must stay 0).
    pub(crate) timeouts: AtomicU64,
    /// Every other retried failure (connection errors, other 5xx).
    pub(crate) other_retries: AtomicU64,
}

impl StormTally {
    pub(crate) fn count(&self, counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn read(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Counts a retryable failure by kind, from the agent's error.
    fn record_agent_error(&self, error: &AgentError) {
        match error {
            AgentError::Http(source) if source.is_timeout() => self.count(&self.timeouts),
            _ if error.api_code() == Some(ApiErrorCode::Overloaded) => self.record_shed(error.retry_after()),
            _ => self.count(&self.other_retries),
        }
    }

    fn record_shed(&self, retry_after: Option<Duration>) {
        if retry_after == Some(Duration::from_secs(1)) {
            self.count(&self.shed_with_retry_after);
        } else {
            self.count(&self.shed_without_retry_after);
        }
    }

    /// Counts what a boot flow reported in `AgentEvent::Retrying` (its error chain as text).
    pub(crate) fn record_retry_cause(&self, cause: &str, after: Duration) {
        if cause.contains("timed out") {
            self.count(&self.timeouts);
        } else if cause.contains("Overloaded") {
            let _ = after;
            self.count(&self.shed_header_not_seen);
        } else {
            self.count(&self.other_retries);
        }
    }
}

/// Creates an agent with its own state dir, short timeouts and the box's backoff shortened for the test.
pub(crate) fn agent_config(platform: &TestPlatform, state_dir: &Path) -> AgentConfig {
    let mut config = AgentConfig::new(state_dir, &platform.url, vec![platform.public_key.clone()]);
    config.device_model = "Skyworth E900".into();
    config.request_timeout = Duration::from_secs(20);
    config.long_poll_wait = Duration::from_secs(2);
    config.retry_base = Duration::from_millis(200);
    config.retry_cap = Duration::from_secs(3);
    config
}

/// `check_status`, retried like the box retries (full jitter, never shorter than `Retry-After`).
pub(crate) async fn check_status_until_answered(agent: &Agent, tally: &StormTally) -> Result<BindingStatus, String> {
    let mut backoff = Backoff::new(RetryPolicy::new(agent.config().retry_base, agent.config().retry_cap));
    for _ in 0..MAX_ATTEMPTS {
        match agent.check_status().await {
            Ok(status) => return Ok(status),
            Err(error) if error.is_retryable() => {
                tally.record_agent_error(&error);
                tokio::time::sleep(backoff.next_delay(random_fraction(), error.retry_after())).await;
            }
            Err(error) => return Err(format!("{error:#}")),
        }
    }
    Err(format!("no answer after {MAX_ATTEMPTS} attempts"))
}

impl TestPlatform {
    /// The OSS claims the code shown on the box for `msisdn`, retrying while shed.
    pub(crate) async fn redeem(
        &self,
        code: &str,
        msisdn: &str,
        sms_message_id: &str,
        tally: &StormTally,
    ) -> RedeemCodeResponse {
        let request = RedeemCodeRequest {
            code: ActivationCode::parse(code).expect("code shown by the box"),
            msisdn: Msisdn::parse(msisdn).expect("test number"),
            sms_message_id: sms_message_id.into(),
        };
        let body = serde_json::to_vec(&request).expect("request json");
        let answer = self.oss_post_until_admitted("/v1/oss/redemptions", &body, tally).await;
        serde_json::from_str(&answer).expect("redemption answer")
    }

    /// The OSS confirms the binding of a claimed activation, retrying while shed.
    pub(crate) async fn confirm_bound(
        &self,
        activation_id: &ActivationId,
        msisdn: &str,
        binding_id: &str,
        tally: &StormTally,
    ) {
        let request = ConfirmBindingRequest {
            activation_id: activation_id.clone(),
            msisdn: Msisdn::parse(msisdn).expect("test number"),
            outcome: BindingOutcome::Bound { binding_id: BindingId::parse(binding_id).expect("test binding id") },
        };
        let body = serde_json::to_vec(&request).expect("request json");
        self.oss_post_until_admitted("/v1/oss/confirmations", &body, tally).await;
    }

    /// POSTs with a fresh HMAC each attempt until the platform answers 200; 503 `overloaded` waits its
    /// `Retry-After`. The calls are idempotent (keyed by SMS ID and activation ID), so retrying is safe.
    async fn oss_post_until_admitted(&self, path: &str, body: &[u8], tally: &StormTally) -> String {
        let mut backoff = Backoff::new(RetryPolicy::new(Duration::from_millis(200), Duration::from_secs(3)));
        for _ in 0..MAX_ATTEMPTS {
            let response = self.oss_post(path, body).await;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse::<u64>().ok())
                .map(Duration::from_secs);
            let text = response.text().await.expect("oss answer body");
            match status {
                200 => return text,
                503 => {
                    tally.record_shed(retry_after);
                    tokio::time::sleep(backoff.next_delay(random_fraction(), retry_after)).await;
                }
                _ => panic!("{path} refused with {status}: {text}"),
            }
        }
        panic!("{path} still shed after {MAX_ATTEMPTS} attempts")
    }

    async fn oss_post(&self, path: &str, body: &[u8]) -> reqwest::Response {
        let timestamp = numbind_process::clock::now_unix_seconds();
        let authorization = ComponentRequest {
            client: "oss",
            method: "POST",
            path_and_query: path,
            timestamp_unix_seconds: timestamp,
            body,
        }
        .authorization(&self.secret);
        self.http
            .post(format!("{}{path}", self.url))
            .header("authorization", authorization)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .expect("oss request")
    }

    /// The platform's Prometheus text.
    pub(crate) async fn metrics(&self) -> String {
        let response = self.http.get(format!("{}/metrics", self.url)).send().await.expect("metrics request");
        response.text().await.expect("metrics body")
    }
}
