//! A tiny in-test ISMG on 127.0.0.1:0 that the test drives PDU by PDU, and client helpers.

use numbind_cmpp::pdu::{Connect, ConnectResp, ConnectStatus, Pdu, PduBody, Version};
use numbind_cmpp::{Connection, InboundDelivery, ReadOutcome, SpClient, SpConfig};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub(crate) const DEADLINE: Duration = Duration::from_secs(10);
pub(crate) const SOURCE_ADDR: &str = "901234";
pub(crate) const SHARED_SECRET: &str = "s3cret";

pub(crate) struct TinyIsmg {
    pub(crate) listener: TcpListener,
}

impl TinyIsmg {
    pub(crate) async fn start() -> TinyIsmg {
        TinyIsmg { listener: TcpListener::bind("127.0.0.1:0").await.expect("bind") }
    }

    pub(crate) fn address(&self) -> String {
        self.listener.local_addr().expect("address").to_string()
    }

    /// Accepts one connection, checks its CONNECT against the shared secret and answers with `status` (or
    /// authentication failed when the CONNECT is not authentic); returns the connection and the CONNECT.
    pub(crate) async fn accept_login(&self, version: Version, status: ConnectStatus) -> (Connection, Connect) {
        let (stream, _) =
            tokio::time::timeout(DEADLINE, self.listener.accept()).await.expect("accept in time").expect("accept");
        let mut connection = Connection::new(stream, version);
        let login = read(&mut connection).await;
        let PduBody::Connect(connect) = login.body else { panic!("expected a connect, got {login:?}") };
        let status = if connect.is_authentic(SHARED_SECRET) { status } else { ConnectStatus::AuthenticationFailed };
        let answer = ConnectResp::answer(&connect, status, SHARED_SECRET, version);
        connection.write_pdu(&Pdu::new(login.sequence_id, PduBody::ConnectResp(answer))).await.expect("answer");
        (connection, connect)
    }
}

/// The next well-formed PDU, answering ACTIVE_TEST on the way.
pub(crate) async fn read(connection: &mut Connection) -> Pdu {
    loop {
        let outcome = tokio::time::timeout(DEADLINE, connection.read_pdu()).await.expect("pdu in time");
        match outcome.expect("read").expect("connection open") {
            ReadOutcome::Pdu(Pdu { sequence_id, body: PduBody::ActiveTest }) => {
                let answer = Pdu::new(sequence_id, PduBody::ActiveTestResp { reserved: 0 });
                connection.write_pdu(&answer).await.expect("write");
            }
            ReadOutcome::Pdu(pdu) => return pdu,
            ReadOutcome::Malformed { header, error } => panic!("malformed pdu {header:?}: {error}"),
        }
    }
}

pub(crate) fn fast_config(address: String, version: Version, shared_secret: &str) -> SpConfig {
    let mut config = SpConfig::new(address, SOURCE_ADDR, shared_secret, version);
    config.service_id = "BIND".into();
    config.response_timeout = Duration::from_secs(3);
    config.max_reconnect_backoff = Duration::from_millis(300);
    config
}

pub(crate) fn start_client(config: SpConfig) -> (SpClient, mpsc::Receiver<InboundDelivery>, CancellationToken) {
    let shutdown = CancellationToken::new();
    let (client, deliveries) = SpClient::start(config, shutdown.clone());
    (client, deliveries, shutdown)
}

/// Bounded polling for a cross-task effect.
pub(crate) async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
