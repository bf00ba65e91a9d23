//! The link from a component (the platform, the OSS) to its SMS centre: SMPP (`numbind_smpp::esme`) or CMPP
//! (`numbind_cmpp::sp`), chosen in the component's configuration, behind one enum so that the notification
//! outbox and the OSS's sender and receiver workers do not know which protocol carries their messages.
//!
//! What differs and stays visible here: SMPP carries a client reference (TLV 0x1402) that lets the SMS centre
//! answer a resubmission with the original message ID; CMPP has no such field, so a submit retried after a lost
//! SUBMIT_RESP may reach the phone twice. The message ID a submit returns is SMPP's `message_id` or CMPP's
//! 64-bit `Msg_Id` in decimal (of the first part).

use numbind_cmpp::sp as cmpp;
use numbind_smpp::esme as smpp;
use std::fmt;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

pub use numbind_cmpp::Version as CmppVersion;
pub use numbind_smpp::esme::SmscLink;

/// How a component logs in to the SMS centre's CMPP listener as a service provider. `Debug` hides the secret.
#[derive(Clone)]
pub struct CmppLink {
    /// `host:port` of the SMS centre's CMPP listener.
    pub address: String,
    /// The 6-character SP code (CONNECT's Source_Addr).
    pub sp_code: String,
    pub shared_secret: String,
    pub version: CmppVersion,
}

impl fmt::Debug for CmppLink {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CmppLink")
            .field("address", &self.address)
            .field("sp_code", &self.sp_code)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Which protocol, and the account, a component uses for its link.
#[derive(Debug, Clone)]
pub enum LinkConfig {
    Smpp(SmscLink),
    Cmpp(CmppLink),
}

/// Whether the component only sends, or also receives the users' messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkUse {
    /// The platform: submits only (SMPP transmitter).
    Send,
    /// The OSS: submits and receives (SMPP transceiver).
    SendAndReceive,
}

/// A message to send.
#[derive(Clone)]
pub struct OutgoingSms {
    pub source: String,
    pub destination: String,
    pub text: String,
    /// Lets an SMPP SMS centre answer a resubmission with the original ID; CMPP has no such field.
    pub client_reference: Option<String>,
}

/// A message the SMS centre delivered.
#[derive(Clone)]
pub struct IncomingSms {
    /// The SMS centre's ID of the message, the same on every redelivery.
    pub smsc_message_id: Option<String>,
    pub source: String,
    pub destination: String,
    pub text: String,
    pub is_delivery_receipt: bool,
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
    /// Stored durably: acknowledged.
    Accept,
    /// Not stored: the SMS centre delivers it again later.
    RetryLater,
}

/// One delivery handed to the component; dropping `reply` counts as `RetryLater`.
#[derive(Debug)]
pub struct InboundDelivery {
    pub sms: IncomingSms,
    pub reply: oneshot::Sender<DeliverVerdict>,
}

/// Why a submit did not get its message ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    #[error("smpp: {0}")]
    Smpp(#[from] smpp::EsmeError),
    #[error("cmpp: {0}")]
    Cmpp(#[from] cmpp::SpError),
    #[error("the gateway answered without a msg_id")]
    NoMessageId,
}

/// A running link: a cheap, cloneable handle to the protocol's session task.
#[derive(Debug, Clone)]
pub enum SmsLink {
    Smpp(smpp::EsmeClient),
    Cmpp(cmpp::SpClient),
}

/// Deliveries buffered between a protocol's session and the component.
const DELIVERY_BUFFER: usize = 64;

impl SmsLink {
    /// Starts the session task (it logs in and reconnects with backoff until `shutdown`); the receiver yields the
    /// SMS centre's deliveries (none under [`LinkUse::Send`] over SMPP).
    pub fn start(
        config: &LinkConfig,
        link_use: LinkUse,
        shutdown: CancellationToken,
    ) -> (SmsLink, mpsc::Receiver<InboundDelivery>) {
        let (sender, receiver) = mpsc::channel(DELIVERY_BUFFER);
        let link = match config {
            LinkConfig::Smpp(link) => {
                let mode = match link_use {
                    LinkUse::Send => smpp::BindMode::Transmitter,
                    LinkUse::SendAndReceive => smpp::BindMode::Transceiver,
                };
                let (client, inbound) = smpp::EsmeClient::start(link.esme_config(mode), shutdown);
                tokio::spawn(forward(inbound, sender, from_smpp));
                SmsLink::Smpp(client)
            }
            LinkConfig::Cmpp(link) => {
                let config = cmpp::SpConfig::new(&link.address, &link.sp_code, &link.shared_secret, link.version);
                let (client, inbound) = cmpp::SpClient::start(config, shutdown);
                tokio::spawn(forward(inbound, sender, from_cmpp));
                SmsLink::Cmpp(client)
            }
        };
        (link, receiver)
    }

    /// Sends the message and waits for the SMS centre's acknowledgement; returns its message ID.
    pub async fn submit(&self, sms: OutgoingSms) -> Result<String, LinkError> {
        match self {
            SmsLink::Smpp(client) => Ok(client
                .submit(smpp::OutgoingSms {
                    source: sms.source,
                    destination: sms.destination,
                    text: sms.text,
                    client_reference: sms.client_reference,
                })
                .await?),
            SmsLink::Cmpp(client) => {
                let mut outgoing = cmpp::OutgoingSms::new(sms.source, sms.destination, sms.text);
                outgoing.status_report = false;
                let msg_ids = client.submit(outgoing).await?;
                let first = msg_ids.first().ok_or(LinkError::NoMessageId)?;
                Ok(first.value().to_string())
            }
        }
    }

    /// True while the session is bound or logged in.
    pub fn is_up(&self) -> bool {
        match self {
            SmsLink::Smpp(client) => client.is_bound(),
            SmsLink::Cmpp(client) => client.is_connected(),
        }
    }
}

/// Hands each delivery of a protocol's session to the component, and the component's verdict back.
async fn forward<Inbound, Verdict>(
    mut inbound: mpsc::Receiver<Inbound>,
    outbound: mpsc::Sender<InboundDelivery>,
    convert: fn(Inbound) -> (IncomingSms, oneshot::Sender<Verdict>),
) where
    Verdict: From<DeliverVerdict> + Send + 'static,
{
    while let Some(delivery) = inbound.recv().await {
        let (sms, protocol_reply) = convert(delivery);
        let (reply, verdict) = oneshot::channel();
        if outbound.send(InboundDelivery { sms, reply }).await.is_err() {
            return; // The component stopped; the protocol's reply drops, which means "retry later".
        }
        tokio::spawn(async move {
            let verdict = verdict.await.unwrap_or(DeliverVerdict::RetryLater);
            let _ = protocol_reply.send(Verdict::from(verdict));
        });
    }
}

fn from_smpp(delivery: smpp::InboundDelivery) -> (IncomingSms, oneshot::Sender<smpp::DeliverVerdict>) {
    let smpp::InboundDelivery { sms, reply } = delivery;
    let sms = IncomingSms {
        smsc_message_id: sms.smsc_message_id,
        source: sms.source,
        destination: sms.destination,
        text: sms.text,
        is_delivery_receipt: sms.is_delivery_receipt,
    };
    (sms, reply)
}

fn from_cmpp(delivery: cmpp::InboundDelivery) -> (IncomingSms, oneshot::Sender<cmpp::DeliverVerdict>) {
    let cmpp::InboundDelivery { sms, reply } = delivery;
    let is_delivery_receipt = sms.is_delivery_receipt();
    let sms = IncomingSms {
        smsc_message_id: Some(sms.msg_id.value().to_string()),
        source: sms.source,
        destination: sms.destination,
        text: sms.text,
        is_delivery_receipt,
    };
    (sms, reply)
}

impl From<DeliverVerdict> for smpp::DeliverVerdict {
    fn from(verdict: DeliverVerdict) -> Self {
        match verdict {
            DeliverVerdict::Accept => smpp::DeliverVerdict::Accept,
            DeliverVerdict::RetryLater => smpp::DeliverVerdict::RetryLater,
        }
    }
}

impl From<DeliverVerdict> for cmpp::DeliverVerdict {
    fn from(verdict: DeliverVerdict) -> Self {
        match verdict {
            DeliverVerdict::Accept => cmpp::DeliverVerdict::Accept,
            DeliverVerdict::RetryLater => cmpp::DeliverVerdict::RetryLater,
        }
    }
}

impl From<SmscLink> for LinkConfig {
    fn from(link: SmscLink) -> Self {
        LinkConfig::Smpp(link)
    }
}

impl From<CmppLink> for LinkConfig {
    fn from(link: CmppLink) -> Self {
        LinkConfig::Cmpp(link)
    }
}

/// The protocol of a component's link, as its `--smsc-protocol` flag names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkProtocol {
    #[default]
    Smpp,
    Cmpp,
}

/// Why a link's flags do not make a link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkConfigError {
    #[error("the sms centre protocol must be smpp or cmpp, not {0:?}")]
    UnknownProtocol(String),
    #[error("the smsc password must be 1 to 8 ascii characters (an smpp 3.4 limit)")]
    InvalidSmppPassword,
    #[error("a cmpp sp code (the system id) must be exactly 6 ascii characters")]
    InvalidSpCode,
    #[error("a cmpp shared secret must be 1 to 32 ascii characters")]
    InvalidSharedSecret,
}

impl std::str::FromStr for LinkProtocol {
    type Err = LinkConfigError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "smpp" => Ok(LinkProtocol::Smpp),
            "cmpp" => Ok(LinkProtocol::Cmpp),
            other => Err(LinkConfigError::UnknownProtocol(other.to_owned())),
        }
    }
}

impl LinkConfig {
    /// The link a component's flags describe: the SMS centre's listener of that protocol, the account's ID (SMPP
    /// system_id or CMPP SP code) and its password or shared secret. A CMPP link is plain TCP and speaks 3.0.
    pub fn from_flags(
        protocol: LinkProtocol,
        address: &str,
        account: &str,
        password: String,
    ) -> Result<LinkConfig, LinkConfigError> {
        let printable = |text: &str| text.is_ascii() && !text.contains('\0');
        match protocol {
            LinkProtocol::Smpp => {
                if !(1..=8).contains(&password.len()) || !printable(&password) {
                    return Err(LinkConfigError::InvalidSmppPassword);
                }
                Ok(LinkConfig::Smpp(SmscLink::new(address, account, password)))
            }
            LinkProtocol::Cmpp => {
                if account.len() != 6 || !printable(account) {
                    return Err(LinkConfigError::InvalidSpCode);
                }
                if !(1..=32).contains(&password.len()) || !printable(&password) {
                    return Err(LinkConfigError::InvalidSharedSecret);
                }
                Ok(LinkConfig::Cmpp(CmppLink {
                    address: address.to_owned(),
                    sp_code: account.to_owned(),
                    shared_secret: password,
                    version: CmppVersion::V3,
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_make_a_link_of_the_named_protocol_with_its_own_limits() {
        let smpp = LinkConfig::from_flags(LinkProtocol::Smpp, "127.0.0.1:2775", "oss", "oss-pass".into());
        assert!(matches!(smpp, Ok(LinkConfig::Smpp(_))));
        let long = LinkConfig::from_flags(LinkProtocol::Smpp, "127.0.0.1:2775", "oss", "a-longer-secret".into());
        assert_eq!(long.err(), Some(LinkConfigError::InvalidSmppPassword));
        let cmpp = LinkConfig::from_flags(LinkProtocol::Cmpp, "127.0.0.1:7890", "901234", "a-longer-secret".into());
        assert!(matches!(cmpp, Ok(LinkConfig::Cmpp(CmppLink { version: CmppVersion::V3, .. }))));
        let code = LinkConfig::from_flags(LinkProtocol::Cmpp, "127.0.0.1:7890", "oss", "secret".into());
        assert_eq!(code.err(), Some(LinkConfigError::InvalidSpCode));
        assert_eq!("cmpp".parse::<LinkProtocol>(), Ok(LinkProtocol::Cmpp));
        assert!(matches!("sgip".parse::<LinkProtocol>(), Err(LinkConfigError::UnknownProtocol(_))));
    }
}
