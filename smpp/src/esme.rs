//! The ESME client the platform and the OSS use: one long-lived session to the SMS centre that binds,
//! keeps the link alive, reconnects with jittered backoff, sends `submit_sm` and hands over `deliver_sm`.

mod session;

use crate::pdu::{CommandStatus, ShortMessage, MAX_PDU_LENGTH, TAG_CLIENT_REFERENCE, TAG_SMSC_MESSAGE_ID};
use crate::text::{decode_text, encode_text, TextError};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio_util::sync::CancellationToken;

/// Which bind the session asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindMode {
    Transmitter,
    Receiver,
    Transceiver,
}

/// How a component reaches its SMS centre: the SMPP listener, over TLS or not, and the account to bind with.
/// `Debug` hides the password. Both the platform and the OSS configure their link with it.
#[derive(Clone)]
pub struct SmscLink {
    /// `host:port` of the SMS centre's SMPP listener.
    pub address: String,
    pub system_id: String,
    pub password: String,
    /// SMPP over TLS: set for the SMS centre's TLS listener.
    pub tls: Option<EsmeTls>,
}

impl SmscLink {
    /// A plain-TCP link.
    pub fn new(address: impl Into<String>, system_id: impl Into<String>, password: impl Into<String>) -> Self {
        SmscLink { address: address.into(), system_id: system_id.into(), password: password.into(), tls: None }
    }

    /// The ESME configuration for this link, with the default timers and window.
    pub fn esme_config(&self, bind_mode: BindMode) -> EsmeConfig {
        let mut config = EsmeConfig::new(&self.address, &self.system_id, &self.password, bind_mode);
        config.tls = self.tls.clone();
        config
    }
}

/// SMPP over TLS: whom the client trusts, and the name the SMS centre's certificate must carry.
#[derive(Clone)]
pub struct EsmeTls {
    pub connector: tokio_rustls::TlsConnector,
    pub server_name: tokio_rustls::rustls::pki_types::ServerName<'static>,
}

impl EsmeTls {
    /// TLS to the SMS centre at `address` (`host:port`), checking its certificate against `client_config`'s
    /// authorities and the address's host.
    pub fn new(client_config: tokio_rustls::rustls::ClientConfig, address: &str) -> Result<EsmeTls, EsmeError> {
        let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let server_name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|_| EsmeError::InvalidServerName(host.to_owned()))?;
        Ok(EsmeTls { connector: tokio_rustls::TlsConnector::from(Arc::new(client_config)), server_name })
    }
}

impl std::fmt::Debug for EsmeTls {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("EsmeTls").field("server_name", &self.server_name).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for SmscLink {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SmscLink")
            .field("address", &self.address)
            .field("system_id", &self.system_id)
            .field("password", &"<redacted>")
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// Where and how to bind. Build with [`EsmeConfig::new`] and adjust the public fields.
#[derive(Clone)]
pub struct EsmeConfig {
    /// `host:port` of the SMS centre's SMPP listener, e.g. "127.0.0.1:2775".
    pub address: String,
    pub system_id: String,
    pub password: String,
    pub bind_mode: BindMode,
    /// How often an idle session sends `enquire_link` (default 30 s).
    pub enquire_link_interval: Duration,
    /// How long to wait for a connect, a bind or a `_resp` (default 10 s).
    pub response_timeout: Duration,
    /// Ceiling of the reconnect delay (default 10 s; full jitter from 100 ms).
    pub max_reconnect_backoff: Duration,
    /// Most `submit_sm` awaiting their `_resp` at once (default 10).
    pub window: usize,
    /// SMPP over TLS, when set.
    pub tls: Option<EsmeTls>,
}

impl EsmeConfig {
    pub fn new(
        address: impl Into<String>,
        system_id: impl Into<String>,
        password: impl Into<String>,
        bind_mode: BindMode,
    ) -> Self {
        EsmeConfig {
            address: address.into(),
            system_id: system_id.into(),
            password: password.into(),
            bind_mode,
            enquire_link_interval: Duration::from_secs(30),
            response_timeout: Duration::from_secs(10),
            max_reconnect_backoff: Duration::from_secs(10),
            window: 10,
            tls: None,
        }
    }
}

impl fmt::Debug for EsmeConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("EsmeConfig")
            .field("address", &self.address)
            .field("system_id", &self.system_id)
            .field("password", &"<redacted>")
            .field("bind_mode", &self.bind_mode)
            .finish_non_exhaustive()
    }
}

/// A mobile-terminated message to send.
#[derive(Clone)]
pub struct OutgoingSms {
    pub source: String,
    pub destination: String,
    pub text: String,
    /// Carried in TLV 0x1402; the SMS centre answers a resubmission with the original message_id.
    pub client_reference: Option<String>,
}

/// A message the SMS centre delivered (`deliver_sm`).
#[derive(Clone)]
pub struct IncomingSms {
    /// The SMS centre's message ID (TLV 0x1401): the same on every redelivery of one message.
    pub smsc_message_id: Option<String>,
    pub source: String,
    pub destination: String,
    pub text: String,
    pub is_delivery_receipt: bool,
}

impl fmt::Debug for OutgoingSms {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("OutgoingSms")
            .field("text_chars", &self.text.chars().count())
            .field("client_reference", &self.client_reference)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for IncomingSms {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("IncomingSms")
            .field("smsc_message_id", &self.smsc_message_id)
            .field("text_chars", &self.text.chars().count())
            .field("is_delivery_receipt", &self.is_delivery_receipt)
            .finish_non_exhaustive()
    }
}

/// The receiver's answer to one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliverVerdict {
    /// Stored durably: `deliver_sm_resp` ESME_ROK.
    Accept,
    /// Not stored: `deliver_sm_resp` ESME_RX_T_APPN, the SMS centre redelivers later.
    RetryLater,
}

/// One delivery handed to the application; dropping `reply` counts as `RetryLater`.
#[derive(Debug)]
pub struct InboundDelivery {
    pub sms: IncomingSms,
    pub reply: oneshot::Sender<DeliverVerdict>,
}

/// Why a submit did not get a message_id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EsmeError {
    #[error("the session is not bound to the sms centre")]
    NotBound,
    #[error("the sms centre refused the message with command_status {command_status:#010x}")]
    Rejected { command_status: CommandStatus },
    #[error("no response from the sms centre in time")]
    Timeout,
    #[error("the session closed before the response arrived")]
    SessionClosed,
    #[error("the text cannot be sent: {0}")]
    InvalidText(String),
    #[error("the {field} address must be 1 to 20 ascii characters")]
    InvalidAddress { field: &'static str },
    #[error("the client reference must be 1 to 64 ascii characters")]
    InvalidReference,
    #[error("{0:?} is not a valid tls server name")]
    InvalidServerName(String),
}

/// A submit waiting for the session task.
struct SubmitRequest {
    message: ShortMessage,
    reply: oneshot::Sender<Result<String, EsmeError>>,
}

struct Shared {
    bound: AtomicBool,
    window: Semaphore,
    response_timeout: Duration,
}

/// A cheap, cloneable handle to the session task.
#[derive(Clone)]
pub struct EsmeClient {
    shared: Arc<Shared>,
    commands: mpsc::Sender<SubmitRequest>,
}

impl fmt::Debug for EsmeClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("EsmeClient").field("bound", &self.is_bound()).finish()
    }
}

impl EsmeClient {
    /// Spawns the session task: connect, bind, enquire_link, reconnect with backoff forever, until `shutdown`
    /// is cancelled (then unbind politely). Must be called inside a tokio runtime.
    pub fn start(config: EsmeConfig, shutdown: CancellationToken) -> (EsmeClient, mpsc::Receiver<InboundDelivery>) {
        let window = config.window.max(1);
        let shared = Arc::new(Shared {
            bound: AtomicBool::new(false),
            window: Semaphore::new(window),
            response_timeout: config.response_timeout,
        });
        let (command_sender, command_receiver) = mpsc::channel(window * 2);
        let (delivery_sender, delivery_receiver) = mpsc::channel(64);
        let session = session::Session::new(config, shared.clone(), delivery_sender, shutdown);
        tokio::spawn(session.run_forever(command_receiver));
        (EsmeClient { shared, commands: command_sender }, delivery_receiver)
    }

    /// Sends one submit_sm (text encoded by `encode_text`) and waits for its resp; returns the SMSC message_id.
    pub async fn submit(&self, sms: OutgoingSms) -> Result<String, EsmeError> {
        let message = build_submit_sm(&sms)?;
        if !self.is_bound() {
            return Err(EsmeError::NotBound);
        }
        let timeout = self.shared.response_timeout;
        let _permit = tokio::time::timeout(timeout, self.shared.window.acquire())
            .await
            .map_err(|_| EsmeError::Timeout)?
            .map_err(|_| EsmeError::SessionClosed)?;
        let (reply, answer) = oneshot::channel();
        self.commands.send(SubmitRequest { message, reply }).await.map_err(|_| EsmeError::SessionClosed)?;
        match tokio::time::timeout(timeout, answer).await {
            Err(_) => Err(EsmeError::Timeout),
            Ok(Err(_)) => Err(EsmeError::SessionClosed),
            Ok(Ok(outcome)) => outcome,
        }
    }

    /// True while the session is bound.
    pub fn is_bound(&self) -> bool {
        self.shared.bound.load(Ordering::SeqCst)
    }
}

fn valid_address(address: &str) -> bool {
    (1..=20).contains(&address.len()) && address.is_ascii() && !address.contains('\0')
}

/// Builds the submit_sm body: explicit esm_class 0x00, text in short_message or message_payload.
fn build_submit_sm(sms: &OutgoingSms) -> Result<ShortMessage, EsmeError> {
    if !valid_address(&sms.source) {
        return Err(EsmeError::InvalidAddress { field: "source" });
    }
    if !valid_address(&sms.destination) {
        return Err(EsmeError::InvalidAddress { field: "destination" });
    }
    let (data_coding, octets) = encode_text(&sms.text);
    if octets.len() > MAX_PDU_LENGTH - 512 {
        return Err(EsmeError::InvalidText(format!("{} octets is too long", octets.len())));
    }
    let mut message = ShortMessage {
        source_addr_npi: 1,
        source_addr: sms.source.clone(),
        dest_addr_npi: 1,
        destination_addr: sms.destination.clone(),
        esm_class: 0x00,
        ..ShortMessage::default()
    };
    message.set_text_octets(data_coding, octets);
    if let Some(reference) = &sms.client_reference {
        let valid = (1..=64).contains(&reference.len()) && reference.is_ascii() && !reference.contains('\0');
        if !valid {
            return Err(EsmeError::InvalidReference);
        }
        message.set_tlv(TAG_CLIENT_REFERENCE, reference.clone().into_bytes());
    }
    Ok(message)
}

/// Reads a deliver_sm body as an `IncomingSms`.
pub(crate) fn incoming_from(message: &ShortMessage) -> Result<IncomingSms, TextError> {
    Ok(IncomingSms {
        smsc_message_id: message.ascii_tlv(TAG_SMSC_MESSAGE_ID),
        source: message.source_addr.clone(),
        destination: message.destination_addr.clone(),
        text: decode_text(message.data_coding, message.text_octets())?,
        is_delivery_receipt: message.is_delivery_receipt(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sms(text: &str) -> OutgoingSms {
        OutgoingSms {
            source: "10658000".into(),
            destination: "13800138000".into(),
            text: text.into(),
            client_reference: None,
        }
    }

    #[test]
    fn a_submit_carries_the_reference_and_an_explicit_plain_esm_class() {
        let mut outgoing = sms("BIND X");
        outgoing.client_reference = Some("outbox-7".into());
        let message = build_submit_sm(&outgoing).unwrap();
        assert_eq!(message.esm_class, 0x00);
        assert_eq!(message.ascii_tlv(TAG_CLIENT_REFERENCE).as_deref(), Some("outbox-7"));
        assert_eq!(message.short_message.as_ref(), b"BIND X");
    }

    #[test]
    fn bad_addresses_and_references_are_refused_before_sending() {
        let mut outgoing = sms("x");
        outgoing.destination = String::new();
        assert_eq!(build_submit_sm(&outgoing).unwrap_err(), EsmeError::InvalidAddress { field: "destination" });
        let mut outgoing = sms("x");
        outgoing.client_reference = Some("r".repeat(65));
        assert_eq!(build_submit_sm(&outgoing).unwrap_err(), EsmeError::InvalidReference);
    }

    #[test]
    fn debug_output_never_shows_numbers_text_or_password() {
        let text = format!("{:?} {:?}", sms("BIND SECRET"), EsmeConfig::new("a", "oss", "hunter2", BindMode::Receiver));
        assert!(!text.contains("13800138000") && !text.contains("SECRET") && !text.contains("hunter2"));
    }

    #[test]
    fn a_link_never_prints_its_password_and_binds_with_its_account() {
        let link = SmscLink {
            address: "127.0.0.1:2775".into(),
            system_id: "oss".into(),
            password: "s3cret".into(),
            tls: None,
        };
        assert!(!format!("{link:?}").contains("s3cret"));
        let config = link.esme_config(BindMode::Transceiver);
        assert_eq!((config.address.as_str(), config.system_id.as_str()), ("127.0.0.1:2775", "oss"));
    }
}
