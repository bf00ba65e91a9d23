//! The service-provider (SP) client the platform and the OSS use when their SMS link speaks CMPP: one
//! long-lived link to the gateway (ISMG) that logs in with CONNECT, keeps the link alive with ACTIVE_TEST,
//! reconnects with jittered backoff, sends SUBMITs within a window (long text split into parts) and hands
//! over DELIVERs (mobile-originated messages, reassembled, and status reports). Its API follows
//! `numbind_smpp::esme` so that both protocols sit behind one seam.

mod session;

use crate::concatenation::split_text;
use crate::fee::Fee;
use crate::msg_id::MsgId;
use crate::pdu::{Deliver, StatusReport, Submit, SubmitResult, Version};
use crate::text::decode_text;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

/// Where and how to log in. Build with [`SpConfig::new`] and adjust the public fields. `Debug` hides the secret.
#[derive(Clone)]
pub struct SpConfig {
    /// `host:port` of the gateway's CMPP listener, e.g. "127.0.0.1:7890".
    pub address: String,
    /// The provider's code (SP_Id), 6 characters: CONNECT's Source_Addr and every SUBMIT's Msg_src.
    pub source_addr: String,
    pub shared_secret: String,
    pub version: Version,
    /// The Service_Id of every SUBMIT (10 characters at most).
    pub service_id: String,
    /// How often the client sends ACTIVE_TEST (default 30 s).
    pub active_test_interval: Duration,
    /// Intervals in a row without anything from the gateway that declare the link dead (default 3).
    pub active_test_max_misses: u32,
    /// How long to wait for a connect, a login or a response (default 10 s).
    pub response_timeout: Duration,
    /// Ceiling of the reconnect delay (default 10 s; full jitter from 100 ms).
    pub max_reconnect_backoff: Duration,
    /// Most SUBMITs awaiting their response at once (default 16).
    pub window: usize,
    /// Largest frame accepted from the gateway.
    pub max_frame_length: usize,
    /// How long the parts of a long incoming message wait for their siblings (default 60 s).
    pub reassembly_time_limit: Duration,
}

impl SpConfig {
    pub fn new(
        address: impl Into<String>,
        source_addr: impl Into<String>,
        shared_secret: impl Into<String>,
        version: Version,
    ) -> Self {
        SpConfig {
            address: address.into(),
            source_addr: source_addr.into(),
            shared_secret: shared_secret.into(),
            version,
            service_id: String::new(),
            active_test_interval: Duration::from_secs(30),
            active_test_max_misses: 3,
            response_timeout: Duration::from_secs(10),
            max_reconnect_backoff: Duration::from_secs(10),
            window: 16,
            max_frame_length: crate::pdu::MAX_PDU_LENGTH,
            reassembly_time_limit: Duration::from_secs(60),
        }
    }
}

impl fmt::Debug for SpConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SpConfig")
            .field("address", &self.address)
            .field("source_addr", &self.source_addr)
            .field("shared_secret", &"<redacted>")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// A mobile-terminated message to send.
#[derive(Clone)]
pub struct OutgoingSms {
    /// Src_Id: the number the phone shows as the sender.
    pub source: String,
    pub destination: String,
    pub text: String,
    /// Who pays and how much; free by default.
    pub fee: Fee,
    /// Ask for a status report (Registered_Delivery = 1).
    pub status_report: bool,
}

impl OutgoingSms {
    /// A free message with a status report.
    pub fn new(source: impl Into<String>, destination: impl Into<String>, text: impl Into<String>) -> Self {
        OutgoingSms {
            source: source.into(),
            destination: destination.into(),
            text: text.into(),
            fee: Fee::default(),
            status_report: true,
        }
    }
}

/// A message the gateway delivered (a DELIVER, long ones reassembled).
#[derive(Clone)]
pub struct IncomingSms {
    /// The gateway's Msg_Id (of the first part): the same on every redelivery of one message.
    pub msg_id: MsgId,
    pub source: String,
    pub destination: String,
    pub service_id: String,
    /// The text; empty for a status report.
    pub text: String,
    /// Set when the DELIVER is a status report about an earlier SUBMIT.
    pub status_report: Option<StatusReport>,
}

impl IncomingSms {
    pub fn is_delivery_receipt(&self) -> bool {
        self.status_report.is_some()
    }
}

impl fmt::Debug for OutgoingSms {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("OutgoingSms")
            .field("text_chars", &self.text.chars().count())
            .field("fee", &(self.fee.fee_type, self.fee.fee_code))
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for IncomingSms {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("IncomingSms")
            .field("msg_id", &self.msg_id)
            .field("text_chars", &self.text.chars().count())
            .field("is_delivery_receipt", &self.is_delivery_receipt())
            .finish_non_exhaustive()
    }
}

/// The receiver's answer to one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliverVerdict {
    /// Stored durably: DELIVER_RESP Result 0.
    Accept,
    /// Not stored: DELIVER_RESP Result 8 (flow control), so that the gateway delivers it again later.
    RetryLater,
}

/// One delivery handed to the application; dropping `reply` counts as `RetryLater`.
#[derive(Debug)]
pub struct InboundDelivery {
    pub sms: IncomingSms,
    pub reply: oneshot::Sender<DeliverVerdict>,
}

/// Why a submit did not get its Msg_Ids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpError {
    #[error("the link to the gateway is not logged in")]
    NotConnected,
    #[error("the gateway refused the message with result {result}")]
    Rejected { result: SubmitResult },
    #[error("no response from the gateway in time")]
    Timeout,
    #[error("the link closed before the response arrived")]
    SessionClosed,
    #[error("the text cannot be sent: {0}")]
    InvalidText(String),
    #[error("the {field} number must be 1 to 21 ascii characters")]
    InvalidAddress { field: &'static str },
    #[error("a field does not fit the link's layout: {0}")]
    DoesNotFit(crate::pdu::EncodeError),
}

/// A SUBMIT waiting for the session task; the window permit travels with it and is released on its answer.
struct SubmitRequest {
    submit: Submit,
    permit: OwnedSemaphorePermit,
    reply: oneshot::Sender<Result<MsgId, SpError>>,
}

struct Shared {
    connected: AtomicBool,
    window: Arc<Semaphore>,
    response_timeout: Duration,
    next_reference: AtomicU8,
    source_addr: String,
    service_id: String,
}

/// A cheap, cloneable handle to the session task.
#[derive(Clone)]
pub struct SpClient {
    shared: Arc<Shared>,
    commands: mpsc::Sender<SubmitRequest>,
}

impl fmt::Debug for SpClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("SpClient").field("connected", &self.is_connected()).finish()
    }
}

impl SpClient {
    /// Spawns the session task: connect, log in, active test, reconnect with backoff forever, until `shutdown`
    /// is cancelled (then TERMINATE). Must be called inside a tokio runtime.
    pub fn start(config: SpConfig, shutdown: CancellationToken) -> (SpClient, mpsc::Receiver<InboundDelivery>) {
        let window = config.window.max(1);
        let shared = Arc::new(Shared {
            connected: AtomicBool::new(false),
            window: Arc::new(Semaphore::new(window)),
            response_timeout: config.response_timeout,
            next_reference: AtomicU8::new(1),
            source_addr: config.source_addr.clone(),
            service_id: config.service_id.clone(),
        });
        let (command_sender, command_receiver) = mpsc::channel(window * 2);
        let (delivery_sender, delivery_receiver) = mpsc::channel(64);
        let session = session::Session::new(config, shared.clone(), delivery_sender, shutdown);
        tokio::spawn(session.run_forever(command_receiver));
        (SpClient { shared, commands: command_sender }, delivery_receiver)
    }

    /// Sends the message (one SUBMIT per part, within the window) and waits for every SUBMIT_RESP; returns the
    /// gateway's Msg_Id of each part, in order.
    pub async fn submit(&self, sms: OutgoingSms) -> Result<Vec<MsgId>, SpError> {
        let reference = self.shared.next_reference.fetch_add(1, Ordering::Relaxed);
        let submits = build_submits(&sms, &self.shared.source_addr, &self.shared.service_id, reference)?;
        if !self.is_connected() {
            return Err(SpError::NotConnected);
        }
        let timeout = self.shared.response_timeout;
        let mut answers = Vec::with_capacity(submits.len());
        for submit in submits {
            let permit = tokio::time::timeout(timeout, self.shared.window.clone().acquire_owned())
                .await
                .map_err(|_| SpError::Timeout)?
                .map_err(|_| SpError::SessionClosed)?;
            let (reply, answer) = oneshot::channel();
            let request = SubmitRequest { submit, permit, reply };
            self.commands.send(request).await.map_err(|_| SpError::SessionClosed)?;
            answers.push(answer);
        }
        let mut msg_ids = Vec::with_capacity(answers.len());
        for answer in answers {
            match tokio::time::timeout(timeout, answer).await {
                Err(_) => return Err(SpError::Timeout),
                Ok(Err(_)) => return Err(SpError::SessionClosed),
                Ok(Ok(outcome)) => msg_ids.push(outcome?),
            }
        }
        Ok(msg_ids)
    }

    /// True while the link is logged in.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::SeqCst)
    }
}

fn valid_number(number: &str) -> bool {
    (1..=21).contains(&number.len()) && number.is_ascii() && !number.contains('\0')
}

/// The SUBMITs for one message: one per part, each with the fee fields and a status report if asked.
fn build_submits(
    sms: &OutgoingSms,
    source_addr: &str,
    service_id: &str,
    reference: u8,
) -> Result<Vec<Submit>, SpError> {
    if !valid_number(&sms.source) {
        return Err(SpError::InvalidAddress { field: "source" });
    }
    if !valid_number(&sms.destination) {
        return Err(SpError::InvalidAddress { field: "destination" });
    }
    let segments = split_text(&sms.text, reference).map_err(|error| SpError::InvalidText(error.to_string()))?;
    Ok(segments
        .into_iter()
        .map(|segment| Submit {
            pk_total: segment.pk_total,
            pk_number: segment.pk_number,
            registered_delivery: u8::from(sms.status_report),
            msg_level: 1,
            service_id: service_id.to_owned(),
            fee: sms.fee.clone(),
            tp_udhi: segment.tp_udhi,
            msg_fmt: segment.msg_fmt,
            msg_src: source_addr.to_owned(),
            src_id: sms.source.clone(),
            dest_terminal_ids: vec![sms.destination.clone()],
            msg_content: segment.content,
            ..Submit::default()
        })
        .collect())
}

/// Reads a DELIVER (its content already reassembled) as an `IncomingSms`, or the Result to refuse it with.
pub(crate) fn incoming_from(deliver: &Deliver, msg_id: MsgId, content: &[u8]) -> Result<IncomingSms, SubmitResult> {
    let (text, status_report) = match deliver.status_report() {
        Some(report) => (String::new(), Some(report.map_err(|error| error.submit_result())?)),
        None => (decode_text(deliver.msg_fmt, content).map_err(|_| SubmitResult::InvalidStructure)?, None),
    };
    Ok(IncomingSms {
        msg_id,
        source: deliver.src_terminal_id.clone(),
        destination: deliver.dest_id.clone(),
        service_id: deliver.service_id.clone(),
        text,
        status_report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fee::FeeCode;

    #[test]
    fn a_long_message_becomes_numbered_submits_carrying_the_fee() {
        let mut sms = OutgoingSms::new("1065800", "13800138000", "好".repeat(100));
        sms.fee = Fee::per_message(FeeCode::from_fen(10).unwrap());
        let submits = build_submits(&sms, "901234", "BIND", 7).unwrap();
        assert_eq!(submits.len(), 2);
        assert!(submits.iter().all(|submit| submit.pk_total == 2 && submit.tp_udhi == 1));
        assert!(submits.iter().all(|submit| submit.fee.fee_code.fen() == 10 && submit.registered_delivery == 1));
        assert_eq!((submits[0].msg_src.as_str(), submits[1].pk_number), ("901234", 2));
    }

    #[test]
    fn bad_numbers_and_empty_text_are_refused_before_sending() {
        let sms = OutgoingSms::new("1065800", "", "x");
        assert_eq!(build_submits(&sms, "901234", "", 1).unwrap_err(), SpError::InvalidAddress { field: "destination" });
        let sms = OutgoingSms::new("1065800", "13800138000", "");
        assert!(matches!(build_submits(&sms, "901234", "", 1), Err(SpError::InvalidText(_))));
    }

    #[test]
    fn debug_output_never_shows_numbers_text_or_the_secret() {
        let config = SpConfig::new("127.0.0.1:7890", "901234", "hunter2", Version::V3);
        let text = format!("{:?} {config:?}", OutgoingSms::new("1065800", "13800138000", "BIND SECRET"));
        assert!(!text.contains("13800138000") && !text.contains("SECRET") && !text.contains("hunter2"));
    }
}
