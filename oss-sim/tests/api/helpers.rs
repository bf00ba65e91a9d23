//! `spawn_app()`: the OSS's `run` in-process on 127.0.0.1:0 in a temporary directory, optionally with the
//! real SMS centre (`numbind-sms-sim`) in-process too, and request helpers.

use numbind_oss_sim::{Config, SmscLink};
use numbind_wire::component_auth::ComponentSecret;
use numbind_wire::ShortCode;
use serde_json::Value;
use std::time::Duration;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub(crate) const DEADLINE: Duration = Duration::from_secs(15);
pub(crate) const SHORT_CODE: &str = "10658000";
pub(crate) const SMSC_OSS_PASSWORD: &str = "oss-pass";
const SMSC_PLATFORM_PASSWORD: &str = "plat-pas";
pub(crate) const PLATFORM_SECRET: &str = "oss-test-secret-0123456789abcdef0123";

/// Changes the platform's config before it starts.
pub(crate) type AdjustPlatform = Box<dyn FnOnce(&mut numbind_platform::Config) + Send>;

/// What to start next to the OSS.
#[derive(Default)]
pub(crate) struct AppOptions {
    pub(crate) admin_token: Option<String>,
    pub(crate) seed_demo: bool,
    /// Start a real SMS centre; `Some(true)` makes it deliver every MO twice.
    pub(crate) sms_centre: Option<bool>,
    /// Start the real platform (with an SMS centre link when there is a centre).
    pub(crate) platform: bool,
    /// Adjusts the platform's config before it starts (its clock, its limits).
    pub(crate) adjust_platform: Option<AdjustPlatform>,
    /// Adjusts the OSS's config before it starts (where it finds the platform, its timeouts).
    pub(crate) adjust_oss: Option<AdjustOss>,
}

/// Changes the OSS's config before it starts.
pub(crate) type AdjustOss = Box<dyn FnOnce(&mut Config) + Send>;

pub(crate) struct SmsCentre {
    pub(crate) http_url: String,
    task: JoinHandle<anyhow::Result<()>>,
}

pub(crate) struct TestApp {
    pub(crate) url: String,
    pub(crate) http: reqwest::Client,
    pub(crate) sms_centre: Option<SmsCentre>,
    pub(crate) platform_url: Option<String>,
    /// The platform's public key, as a box pins it (empty without a platform).
    pub(crate) platform_keys: numbind_wire::statement::PinnedPlatformKeys,
    platform_task: Option<JoinHandle<anyhow::Result<()>>>,
    admin_token: Option<String>,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
    _directory: TempDir,
}

/// An address where nothing listens: the platform is down for these tests.
async fn unused_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("address").to_string()
}

async fn spawn_sms_centre(directory: &TempDir, duplicate: bool, shutdown: CancellationToken) -> (SmsCentre, String) {
    let route = ShortCode::parse(SHORT_CODE).expect("short code");
    let mut account = numbind_sms_sim::EsmeAccount::new("oss", SMSC_OSS_PASSWORD, vec![route]);
    account.max_submits_per_second = 1_000;
    account.vendor_tlvs = true; // the OSS dedupes redeliveries by the SMS centre's message ID
    let platform = numbind_sms_sim::EsmeAccount::new("platform", SMSC_PLATFORM_PASSWORD, vec![]);
    let mut config = numbind_sms_sim::Config::new(directory.path().join("smsc.db"), vec![account, platform]);
    config.redelivery_interval = Duration::from_millis(100);
    config.max_redelivery_interval = Duration::from_millis(300);
    config.duplicate_mo_deliveries = duplicate;
    let http_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smsc http");
    let smpp_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smsc smpp");
    let http_url = format!("http://{}", http_listener.local_addr().expect("address"));
    let smpp_address = smpp_listener.local_addr().expect("address").to_string();
    let task = tokio::spawn(numbind_sms_sim::run(
        config,
        numbind_sms_sim::Listeners { http: http_listener, smpp: smpp_listener, smpp_tls: None, cmpp: None },
        shutdown.cancelled_owned(),
    ));
    (SmsCentre { http_url, task }, smpp_address)
}

async fn spawn_platform(
    directory: &TempDir,
    smpp_address: Option<String>,
    adjust: Option<AdjustPlatform>,
    shutdown: &CancellationToken,
) -> (String, JoinHandle<anyhow::Result<()>>) {
    let mut config = numbind_platform::Config::new(
        directory.path().join("platform.db"),
        directory.path().join("platform-signing.key"),
        ShortCode::parse(SHORT_CODE).expect("short code"),
        ComponentSecret::parse(PLATFORM_SECRET).expect("secret"),
    );
    config.smsc = smpp_address.map(|address| {
        numbind_platform::LinkConfig::Smpp(numbind_platform::SmscLink {
            address,
            system_id: "platform".into(),
            password: SMSC_PLATFORM_PASSWORD.into(),
            tls: None,
        })
    });
    if let Some(adjust) = adjust {
        adjust(&mut config);
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind platform");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let task = tokio::spawn(numbind_platform::run(config, listener, shutdown.clone().cancelled_owned()));
    wait_until_serving(&url).await;
    (url, task)
}

/// Waits until the platform answers `/healthz`. The socket accepts as soon as it is bound, but the platform refuses
/// every request signed before it started (its replay guard), so a box that signed while the platform was still
/// opening its store would be refused as a replay.
async fn wait_until_serving(url: &str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let http = reqwest::Client::new();
    loop {
        let answer = http.get(format!("{url}/healthz")).send().await;
        if answer.is_ok_and(|response| response.status().is_success()) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the platform did not start serving");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub(crate) async fn spawn_app_with(options: AppOptions) -> TestApp {
    let directory = tempfile::tempdir().expect("temp dir");
    let shutdown = CancellationToken::new();
    let (sms_centre, smpp_address) = match options.sms_centre {
        Some(duplicate) => {
            let (centre, address) = spawn_sms_centre(&directory, duplicate, shutdown.clone()).await;
            (Some(centre), address)
        }
        None => (None, unused_address().await),
    };
    let (platform_url, platform_task) = if options.platform {
        let (url, task) = spawn_platform(
            &directory,
            sms_centre.as_ref().map(|_| smpp_address.clone()),
            options.adjust_platform,
            &shutdown,
        )
        .await;
        (Some(url), Some(task))
    } else {
        (None, None)
    };
    let platform_keys = match &platform_url {
        Some(_) => {
            let key_path = directory.path().join("platform-signing.key");
            let key = numbind_platform::load_or_create_signing_key(&key_path).expect("platform key");
            numbind_wire::statement::PinnedPlatformKeys::new(vec![key.public_key()])
        }
        None => Default::default(),
    };
    let mut config = Config::new(
        directory.path().join("oss.db"),
        platform_url.clone().unwrap_or(format!("http://{}", unused_address().await)),
        ComponentSecret::parse(PLATFORM_SECRET).expect("secret"),
        ShortCode::parse(SHORT_CODE).expect("short code"),
        SmscLink { address: smpp_address, system_id: "oss".into(), password: SMSC_OSS_PASSWORD.into(), tls: None },
    );
    config.seed_demo_subscribers = options.seed_demo;
    config.admin_token = options.admin_token.clone();
    config.insecure_no_admin_token = options.admin_token.is_none();
    config.retry_initial_backoff = Duration::from_millis(50);
    config.retry_max_backoff = Duration::from_millis(200);
    config.platform_request_timeout = Duration::from_secs(2);
    config.idle_poll_interval = Duration::from_millis(100);
    if let Some(adjust) = options.adjust_oss {
        adjust(&mut config);
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind oss http");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let task = tokio::spawn(numbind_oss_sim::run(config, listener, shutdown.clone().cancelled_owned()));
    TestApp {
        url,
        http: reqwest::Client::new(),
        sms_centre,
        platform_url,
        platform_keys,
        platform_task,
        admin_token: options.admin_token,
        shutdown,
        task,
        _directory: directory,
    }
}

impl TestApp {
    fn authorised(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.admin_token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.authorised(self.http.get(format!("{}{path}", self.url))).send().await.expect("get")
    }

    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.authorised(self.http.post(format!("{}{path}", self.url))).json(body).send().await.expect("post")
    }

    pub(crate) async fn patch_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.authorised(self.http.patch(format!("{}{path}", self.url))).json(body).send().await.expect("patch")
    }

    pub(crate) async fn metrics(&self) -> String {
        self.http.get(format!("{}/metrics", self.url)).send().await.expect("metrics").text().await.expect("text")
    }

    fn centre(&self) -> &SmsCentre {
        self.sms_centre.as_ref().expect("this test started an sms centre")
    }

    /// A phone texts the short code; returns the SMS centre's message ID.
    pub(crate) async fn phone_sends(&self, from: &str, text: &str) -> String {
        let response = self
            .http
            .post(format!("{}/v1/phones/{from}/messages", self.centre().http_url))
            .json(&serde_json::json!({ "to": SHORT_CODE, "text": text }))
            .send()
            .await
            .expect("phone send");
        assert_eq!(response.status(), 202, "the sms centre queues the sms");
        let body: Value = response.json().await.expect("json");
        body["message_id"].as_str().expect("message_id").to_owned()
    }

    pub(crate) async fn phone_inbox(&self, msisdn: &str) -> Vec<String> {
        let url = format!("{}/v1/phones/{msisdn}/inbox", self.centre().http_url);
        let body: Value = self.http.get(url).send().await.expect("inbox").json().await.expect("json");
        body["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|message| message["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Polls (bounded) until the phone's inbox holds a message containing `phrase`.
    pub(crate) async fn wait_for_reply(&self, msisdn: &str, phrase: &str) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let inbox = self.phone_inbox(msisdn).await;
            if inbox.iter().any(|text| text.contains(phrase)) {
                return inbox;
            }
            assert!(tokio::time::Instant::now() < deadline, "no reply containing {phrase:?}; inbox: {inbox:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls (bounded) until the OSS's view of an SMS satisfies `done`.
    pub(crate) async fn wait_for_inbox(&self, smsc_message_id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let response = self.get(&format!("/v1/inbox/{smsc_message_id}")).await;
            let body: Value = if response.status() == 200 { response.json().await.expect("json") } else { Value::Null };
            if done(&body) {
                return body;
            }
            assert!(tokio::time::Instant::now() < deadline, "inbox view of {smsc_message_id} never matched: {body}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the OSS (and the SMS centre) and checks that `run` returned cleanly.
    pub(crate) async fn stop(self) {
        self.shutdown.cancel();
        let outcome = tokio::time::timeout(DEADLINE, self.task).await.expect("oss stops in time");
        outcome.expect("oss task").expect("oss run succeeds");
        if let Some(task) = self.platform_task {
            let outcome = tokio::time::timeout(DEADLINE, task).await.expect("platform stops in time");
            outcome.expect("platform task").expect("platform run succeeds");
        }
        if let Some(centre) = self.sms_centre {
            let outcome = tokio::time::timeout(DEADLINE, centre.task).await.expect("smsc stops in time");
            outcome.expect("smsc task").expect("smsc run succeeds");
        }
    }
}
