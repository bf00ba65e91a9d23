//! A tiny in-test SMS centre on 127.0.0.1:0 that the test drives PDU by PDU, and client helpers.

use numbind_smpp::pdu::{CommandStatus, Pdu, PduBody};
use numbind_smpp::{Connection, EsmeClient, EsmeConfig, InboundDelivery, ReadOutcome};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub(crate) const DEADLINE: Duration = Duration::from_secs(10);

pub(crate) struct TinySmsc {
    pub(crate) listener: TcpListener,
}

impl TinySmsc {
    pub(crate) async fn start() -> TinySmsc {
        TinySmsc { listener: TcpListener::bind("127.0.0.1:0").await.expect("bind") }
    }

    pub(crate) fn address(&self) -> String {
        self.listener.local_addr().expect("address").to_string()
    }

    /// Accepts one connection and answers its bind with `status`; returns the connection and the bind PDU.
    pub(crate) async fn accept_bind(&self, status: CommandStatus) -> (Connection, Pdu) {
        let (stream, _) =
            tokio::time::timeout(DEADLINE, self.listener.accept()).await.expect("accept in time").expect("accept");
        let mut connection = Connection::new(stream);
        let bind = read(&mut connection).await;
        let body = match &bind.body {
            PduBody::BindTransceiver(_) => PduBody::BindTransceiverResp { system_id: "tiny".into() },
            PduBody::BindReceiver(_) => PduBody::BindReceiverResp { system_id: "tiny".into() },
            PduBody::BindTransmitter(_) => PduBody::BindTransmitterResp { system_id: "tiny".into() },
            other => panic!("expected a bind, got {other:?}"),
        };
        let response = Pdu { command_status: status, sequence_number: bind.sequence_number, body };
        connection.write_pdu(&response).await.expect("write bind resp");
        (connection, bind)
    }
}

/// The next well-formed PDU, skipping enquire_link (answered).
pub(crate) async fn read(connection: &mut Connection) -> Pdu {
    loop {
        let outcome = tokio::time::timeout(DEADLINE, connection.read_pdu()).await.expect("pdu in time");
        match outcome.expect("read").expect("connection open") {
            ReadOutcome::Pdu(Pdu { sequence_number, body: PduBody::EnquireLink, .. }) => {
                connection.write_pdu(&Pdu::new(sequence_number, PduBody::EnquireLinkResp)).await.expect("write");
            }
            ReadOutcome::Pdu(pdu) => return pdu,
            ReadOutcome::Malformed { header, .. } => panic!("malformed pdu {header:?}"),
        }
    }
}

pub(crate) fn fast_config(address: String, password: &str) -> EsmeConfig {
    let mut config = EsmeConfig::new(address, "oss", password, numbind_smpp::BindMode::Transceiver);
    config.response_timeout = Duration::from_secs(3);
    config.max_reconnect_backoff = Duration::from_millis(300);
    config
}

pub(crate) fn start_client(config: EsmeConfig) -> (EsmeClient, mpsc::Receiver<InboundDelivery>, CancellationToken) {
    let shutdown = CancellationToken::new();
    let (client, deliveries) = EsmeClient::start(config, shutdown.clone());
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
