//! The link to the SMS centre (SMPP transceiver or CMPP): one session that receives the users' SMS and sends
//! replies.

use numbind_sms_link::{InboundDelivery, LinkConfig, LinkUse, SmsLink};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Starts the session task (it reconnects with backoff until `shutdown` is cancelled).
pub(crate) fn start_session(
    link: &LinkConfig,
    shutdown: CancellationToken,
) -> (SmsLink, mpsc::Receiver<InboundDelivery>) {
    SmsLink::start(link, LinkUse::SendAndReceive, shutdown)
}
