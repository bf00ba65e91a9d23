//! `spawn_app()`: the SMS centre's `run` in-process on 127.0.0.1:0 in a temporary directory, plus HTTP,
//! raw-SMPP and ESME-client helpers.

use numbind_smpp::pdu::{Bind, Pdu, PduBody};
use numbind_smpp::{BindMode, Connection, EsmeClient, EsmeConfig, InboundDelivery, ReadOutcome};
use numbind_sms_sim::{Config, EsmeAccount};
use numbind_wire::ShortCode;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub(crate) const DEADLINE: Duration = Duration::from_secs(10);
pub(crate) const SHORT_CODE: &str = "10658000";
pub(crate) const PHONE: &str = "13800138000";
pub(crate) const OSS_PASSWORD: &str = "oss-pass";
pub(crate) const PLATFORM_PASSWORD: &str = "plat-pas";
/// The CMPP service provider's SP code, shared secret and service code.
pub(crate) const SP_CODE: &str = "901234";
pub(crate) const SP_SECRET: &str = "a-cmpp-shared-secret";
pub(crate) const SP_SERVICE_CODE: &str = "1065801";

pub(crate) struct TestApp {
    pub(crate) http_url: String,
    pub(crate) smpp_address: String,
    pub(crate) cmpp_address: String,
    pub(crate) http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

pub(crate) fn test_config(directory: &Path) -> Config {
    let mut oss = EsmeAccount::new("oss", OSS_PASSWORD, vec![ShortCode::parse(SHORT_CODE).expect("short code")]);
    oss.max_submits_per_second = 1_000;
    // numbind's own ESMEs dedupe by the SMS centre's message ID, in the vendor TLV they ask for.
    oss.vendor_tlvs = true;
    let mut platform = EsmeAccount::new("platform", PLATFORM_PASSWORD, vec![]);
    platform.vendor_tlvs = true;
    let sp = EsmeAccount::cmpp(SP_CODE, SP_SECRET, vec![ShortCode::parse(SP_SERVICE_CODE).expect("service code")]);
    let mut config = Config::new(directory.join("smsc.db"), vec![oss, platform, sp]);
    config.redelivery_interval = Duration::from_millis(200);
    config.max_redelivery_interval = Duration::from_millis(500);
    // Long enough never to fire on a loaded machine: the tests count exact delivery attempts, which a timeout
    // (the ESME's answer merely late) would raise. Tests that need an unanswered delivery close the session.
    config.deliver_response_timeout = Duration::from_secs(60);
    config.esme_response_timeout = Duration::from_secs(1);
    config
}

pub(crate) async fn spawn_app(directory: &Path) -> TestApp {
    spawn_app_with(test_config(directory)).await
}

pub(crate) async fn spawn_app_with(config: Config) -> TestApp {
    let http_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind http");
    let smpp_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smpp");
    let http_url = format!("http://{}", http_listener.local_addr().expect("http address"));
    let smpp_address = smpp_listener.local_addr().expect("smpp address").to_string();
    let cmpp_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind cmpp");
    let cmpp_address = cmpp_listener.local_addr().expect("cmpp address").to_string();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(numbind_sms_sim::run(
        config,
        numbind_sms_sim::Listeners {
            http: http_listener,
            smpp: smpp_listener,
            smpp_tls: None,
            cmpp: Some(cmpp_listener),
        },
        async move {
            let _ = stopped.await;
        },
    ));
    TestApp { http_url, smpp_address, cmpp_address, http: reqwest::Client::new(), stop: Some(stop), task: Some(task) }
}

impl TestApp {
    /// Stops the SMS centre and waits for `run` to return.
    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let outcome = tokio::time::timeout(DEADLINE, task).await.expect("run returns in time");
            outcome.expect("run task").expect("run succeeds");
        }
    }

    pub(crate) async fn phone_sends(&self, from: &str, to: &str, text: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/phones/{from}/messages", self.http_url))
            .json(&serde_json::json!({ "to": to, "text": text }))
            .send()
            .await
            .expect("send")
    }

    /// Sends an MO that must be accepted; returns its message_id.
    pub(crate) async fn phone_sends_ok(&self, text: &str) -> String {
        let response = self.phone_sends(PHONE, SHORT_CODE, text).await;
        assert_eq!(response.status().as_u16(), 202);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["state"], "queued");
        body["message_id"].as_str().expect("message_id").to_owned()
    }

    pub(crate) async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(format!("{}{path}", self.http_url)).send().await.expect("get");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json body"))
    }

    pub(crate) async fn inbox_texts(&self, msisdn: &str) -> Vec<String> {
        let (status, body) = self.get_json(&format!("/v1/phones/{msisdn}/inbox")).await;
        assert_eq!(status, 200);
        body["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|message| message["text"].as_str().expect("text").to_owned())
            .collect()
    }

    /// Polls `/v1/messages/{id}` until its state is `state`; returns the body.
    pub(crate) async fn wait_for_state(&self, message_id: &str, state: &str) -> Value {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let (_, body) = self.get_json(&format!("/v1/messages/{message_id}")).await;
            if body["state"] == state {
                return body;
            }
            assert!(tokio::time::Instant::now() < deadline, "message never reached {state}: {body}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// An ESME client bound as `system_id`; waits until it is bound.
    pub(crate) async fn esme(&self, system_id: &str, password: &str, mode: BindMode) -> TestEsme {
        let mut config = EsmeConfig::new(self.smpp_address.clone(), system_id, password, mode);
        config.response_timeout = Duration::from_secs(3);
        config.max_reconnect_backoff = Duration::from_millis(300);
        let shutdown = CancellationToken::new();
        let (client, deliveries) = EsmeClient::start(config, shutdown.clone());
        wait_until("the esme is bound", || client.is_bound()).await;
        TestEsme { client, deliveries, shutdown }
    }

    /// A raw SMPP connection, not bound.
    pub(crate) async fn raw_connection(&self) -> Connection {
        Connection::new(tokio::net::TcpStream::connect(&self.smpp_address).await.expect("connect smpp"))
    }
}

pub(crate) struct TestEsme {
    pub(crate) client: EsmeClient,
    pub(crate) deliveries: mpsc::Receiver<InboundDelivery>,
    pub(crate) shutdown: CancellationToken,
}

impl TestEsme {
    pub(crate) async fn next_delivery(&mut self) -> InboundDelivery {
        tokio::time::timeout(DEADLINE, self.deliveries.recv()).await.expect("a delivery in time").expect("delivery")
    }
}

pub(crate) fn bind_pdu(sequence: u32, system_id: &str, password: &str) -> Pdu {
    let bind =
        Bind { system_id: system_id.into(), password: password.into(), interface_version: 0x34, ..Bind::default() };
    Pdu::new(sequence, PduBody::BindTransceiver(bind))
}

/// The next PDU on a raw connection, answering the SMSC's enquire_link on the way.
pub(crate) async fn read_outcome(connection: &mut Connection) -> ReadOutcome {
    loop {
        let read = tokio::time::timeout(DEADLINE, connection.read_pdu()).await.expect("a pdu in time");
        match read.expect("read").expect("connection open") {
            ReadOutcome::Pdu(Pdu { sequence_number, body: PduBody::EnquireLink, .. }) => {
                connection.write_pdu(&Pdu::new(sequence_number, PduBody::EnquireLinkResp)).await.expect("write");
            }
            outcome => return outcome,
        }
    }
}

pub(crate) async fn read_pdu(connection: &mut Connection) -> Pdu {
    match read_outcome(connection).await {
        ReadOutcome::Pdu(pdu) => pdu,
        ReadOutcome::Malformed { header, error } => panic!("malformed pdu from the smsc {header:?}: {error}"),
    }
}

/// Bounded polling for a cross-task effect.
pub(crate) async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
