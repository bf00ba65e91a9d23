//! `spawn_app()`: the platform's `run` in-process on 127.0.0.1:0 in a temporary directory, with a manual clock,
//! a registered-ready test terminal, signed-request and HMAC'd OSS helpers, and direct store access.

use numbind_platform::store::Store;
use numbind_platform::Config;
use numbind_process::clock::{Clock, ManualClock};
use numbind_wire::activation_offer::{ActivationOffer, OfferExpectation};
use numbind_wire::api::ActivationResponse;
use numbind_wire::component_auth::{ComponentRequest, ComponentSecret};
use numbind_wire::request_signing::{
    new_nonce, RequestToSign, TerminalKeyPair, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TERMINAL, HEADER_TIMESTAMP,
};
use numbind_wire::statement::{BindingStatement, PinnedPlatformKeys, SignedStatement, StatementExpectation};
use numbind_wire::{ShortCode, TerminalId};
use ring::rand::SystemRandom;
use serde_json::{json, Value};
use std::sync::Arc;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

pub(crate) const OSS_SECRET: &str = "test-oss-platform-secret-0123456789abcdef";
pub(crate) const DEVICE_MODEL: &str = "Skyworth E900";

/// A set-top box: its key pair and the ID derived from it.
pub(crate) struct TestTerminal {
    pub(crate) terminal_id: TerminalId,
    pub(crate) key_pair: TerminalKeyPair,
}

impl TestTerminal {
    pub(crate) fn new() -> Self {
        let (key_pair, _) = TerminalKeyPair::generate(&SystemRandom::new()).unwrap();
        let terminal_id = TerminalId::from_public_key(key_pair.public_key().as_bytes());
        TestTerminal { terminal_id, key_pair }
    }
}

/// A signed request, ready to send (or to send twice).
#[derive(Clone)]
pub(crate) struct SignedRequest {
    pub(crate) method: reqwest::Method,
    pub(crate) path: String,
    pub(crate) body: Vec<u8>,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) nonce: String,
}

/// Signs a request as `terminal` (key and header ID) at `timestamp`, for any platform the test talks to.
pub(crate) fn sign_request(
    terminal: &TestTerminal,
    method: reqwest::Method,
    path: &str,
    body: &[u8],
    timestamp: i64,
) -> SignedRequest {
    let nonce = new_nonce(&SystemRandom::new()).unwrap();
    let to_sign = RequestToSign {
        method: method.as_str(),
        path_and_query: path,
        terminal_id: &terminal.terminal_id,
        timestamp_unix_seconds: timestamp,
        nonce: &nonce,
        body,
    };
    let signature = terminal.key_pair.sign(&to_sign);
    let headers = vec![
        (HEADER_TERMINAL, terminal.terminal_id.to_string()),
        (HEADER_TIMESTAMP, timestamp.to_string()),
        (HEADER_NONCE, nonce.clone()),
        (HEADER_SIGNATURE, signature),
    ];
    SignedRequest { method, path: path.to_owned(), body: body.to_vec(), headers, nonce }
}

pub(crate) struct TestApp {
    pub(crate) address: String,
    pub(crate) http: reqwest::Client,
    pub(crate) terminal: TestTerminal,
    pub(crate) store: Store,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) pinned_keys: PinnedPlatformKeys,
    _directory: TempDir,
    /// The PostgreSQL database of an app spawned on PostgreSQL, dropped after the app.
    _postgres: Option<numbind_database::TestPostgresDatabase>,
    shutdown: CancellationToken,
    oss_secret: ComponentSecret,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub(crate) async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_on(None, adjust).await
}

/// An app whose store is a fresh PostgreSQL database on the test server (the test runtime must be multi-threaded:
/// the test's own store calls block on the PostgreSQL client).
pub(crate) async fn spawn_app_on_postgres() -> TestApp {
    let postgres = numbind_database::TestPostgresDatabase::create().expect("the test PostgreSQL server");
    spawn_app_on(Some(postgres), |_| {}).await
}

async fn spawn_app_on(
    postgres: Option<numbind_database::TestPostgresDatabase>,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let directory = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::starting_now());
    let oss_secret = ComponentSecret::parse(OSS_SECRET).unwrap();
    let mut config = Config::new(
        directory.path().join("platform.db"),
        directory.path().join("platform-signing.key"),
        ShortCode::parse("10658000").unwrap(),
        oss_secret.clone(),
    );
    config.clock = clock.clone();
    let location = match &postgres {
        Some(postgres) => numbind_database::DatabaseLocation::Postgres(postgres.url().to_owned()),
        None => numbind_database::DatabaseLocation::Sqlite(directory.path().join("platform.db")),
    };
    if postgres.is_some() {
        config.database_location = Some(location.clone());
    }
    adjust(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(numbind_platform::run(config, listener, shutdown.clone().cancelled_owned()));
    let http = reqwest::Client::new();
    let health = http.get(format!("{address}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let store = tokio::task::spawn_blocking(move || Store::open_at(&location)).await.unwrap().unwrap();
    let public_key_text = std::fs::read_to_string(directory.path().join("platform-signing.key.pub")).unwrap();
    let public_key = numbind_wire::statement::PlatformPublicKey::parse(&public_key_text).unwrap();
    TestApp {
        address,
        http,
        terminal: TestTerminal::new(),
        store,
        clock,
        pinned_keys: PinnedPlatformKeys::new(vec![public_key]),
        _directory: directory,
        _postgres: postgres,
        shutdown,
        oss_secret,
    }
}

impl TestApp {
    /// The app's SQLite file (for tooling that works on the file, and for tampering tests).
    pub(crate) fn database_path(&self) -> std::path::PathBuf {
        self._directory.path().join("platform.db")
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_unix_seconds()
    }

    /// Signs a request as `terminal` (key and header ID), at `timestamp`.
    pub(crate) fn sign_as(
        &self,
        terminal: &TestTerminal,
        method: reqwest::Method,
        path: &str,
        body: &[u8],
        timestamp: i64,
    ) -> SignedRequest {
        sign_request(terminal, method, path, body, timestamp)
    }

    pub(crate) fn sign(&self, method: reqwest::Method, path: &str, body: &[u8]) -> SignedRequest {
        self.sign_as(&self.terminal, method, path, body, self.now())
    }

    pub(crate) async fn send(&self, request: &SignedRequest) -> (u16, Value) {
        let mut builder = self
            .http
            .request(request.method.clone(), format!("{}{}", self.address, request.path))
            .header("content-type", "application/json")
            .body(request.body.clone());
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        into_status_and_json(builder.send().await.unwrap()).await
    }

    /// Signs and sends as the test terminal; returns the status, the JSON body and the nonce used.
    pub(crate) async fn terminal_call(&self, method: reqwest::Method, path: &str, body: &[u8]) -> (u16, Value, String) {
        let request = self.sign(method, path, body);
        let (status, json) = self.send(&request).await;
        (status, json, request.nonce)
    }

    pub(crate) async fn register(&self, terminal: &TestTerminal) -> (u16, Value) {
        let body = json!({
            "terminal_id": terminal.terminal_id,
            "public_key": terminal.key_pair.public_key().to_string(),
            "device_model": DEVICE_MODEL,
        });
        let request =
            self.sign_as(terminal, reqwest::Method::POST, "/v1/terminals", body.to_string().as_bytes(), self.now());
        self.send(&request).await
    }

    pub(crate) fn terminal_path(&self, rest: &str) -> String {
        format!("/v1/terminals/{}{rest}", self.terminal.terminal_id)
    }

    /// Registers the test terminal and asks for an activation; returns the offer, verified as a box would.
    pub(crate) async fn registered_with_activation(&self) -> ActivationOffer {
        assert_eq!(self.register(&self.terminal).await.0, 200);
        self.activation_offer().await
    }

    /// Asks for an activation as the (registered) test terminal; returns the offer, verified as a box would.
    pub(crate) async fn activation_offer(&self) -> ActivationOffer {
        let (status, body, nonce) =
            self.terminal_call(reqwest::Method::POST, &self.terminal_path("/activations"), b"{}").await;
        assert_eq!(status, 200, "{body}");
        self.verify_offer(&body, &nonce)
    }

    /// Verifies an activation answer with the platform's published public key, as a box would.
    /// A purchase long-poll's answer, verified as a box does (pinned key, this terminal, the intent, the request).
    pub(crate) fn verify_purchase_status(&self, body: &Value, intent_nonce: &str, in_reply_to: &str) -> Value {
        let response: numbind_wire::purchase_status::PurchaseStatusResponse =
            serde_json::from_value(body.clone()).expect("a signed purchase status");
        let expectation = numbind_wire::purchase_status::PurchaseStatusExpectation {
            terminal_id: &self.terminal.terminal_id,
            intent_nonce,
            in_reply_to,
        };
        let status = self.pinned_keys.verify_purchase_status(&response.statement, expectation).unwrap();
        serde_json::to_value(status).unwrap()
    }

    pub(crate) fn verify_offer(&self, body: &Value, in_reply_to: &str) -> ActivationOffer {
        let response: ActivationResponse = serde_json::from_value(body.clone()).unwrap();
        let expectation =
            OfferExpectation { terminal_id: &self.terminal.terminal_id, in_reply_to, now_unix_seconds: self.now() };
        self.pinned_keys.verify_offer(&response.offer, expectation).unwrap()
    }

    /// An OSS call authenticated with `secret`.
    pub(crate) async fn oss_post_with(&self, secret: &ComponentSecret, path: &str, body: &Value) -> (u16, Value) {
        let body = body.to_string();
        let authorization = ComponentRequest {
            client: "oss",
            method: "POST",
            path_and_query: path,
            timestamp_unix_seconds: self.now(),
            body: body.as_bytes(),
        }
        .authorization(secret);
        let response = self
            .http
            .post(format!("{}{path}", self.address))
            .header("authorization", authorization)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        into_status_and_json(response).await
    }

    pub(crate) async fn oss_post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.oss_post_with(&self.oss_secret, path, body).await
    }

    pub(crate) async fn redeem(&self, code: &str, msisdn: &str, sms_message_id: &str) -> (u16, Value) {
        let body = json!({ "code": code, "msisdn": msisdn, "sms_message_id": sms_message_id });
        self.oss_post("/v1/oss/redemptions", &body).await
    }

    pub(crate) async fn confirm_bound(&self, activation_id: &str, msisdn: &str, binding_id: &str) -> (u16, Value) {
        let body =
            json!({ "activation_id": activation_id, "msisdn": msisdn, "outcome": "bound", "binding_id": binding_id });
        self.oss_post("/v1/oss/confirmations", &body).await
    }

    /// Registers, activates, redeems and confirms: the test terminal ends bound to `msisdn`.
    pub(crate) async fn bind_test_terminal(&self, msisdn: &str, binding_id: &str) -> ActivationOffer {
        let activation = self.registered_with_activation().await;
        let (status, body) = self.redeem(&activation.code, msisdn, &format!("sms-for-{binding_id}")).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = self.confirm_bound(activation.activation_id.as_str(), msisdn, binding_id).await;
        assert_eq!(status, 200, "{body}");
        activation
    }

    /// Verifies a statement with the platform's published public key, as a box would.
    pub(crate) fn verify_statement(
        &self,
        statement: &Value,
        activation_id: Option<&str>,
        in_reply_to: &str,
    ) -> BindingStatement {
        let signed: SignedStatement = serde_json::from_value(statement.clone()).unwrap();
        let expectation = StatementExpectation {
            terminal_id: &self.terminal.terminal_id,
            activation_id,
            in_reply_to: Some(in_reply_to),
            now_unix_seconds: self.now(),
        };
        self.pinned_keys.verify_for(&signed, expectation).unwrap()
    }
}

async fn into_status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, json)
}
