//! The SMPP session to the SMS centre: one transceiver bind that receives the users' SMS and sends replies.

use crate::config::SmscLink;
use numbind_smpp::esme::{BindMode, EsmeClient, InboundDelivery};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Starts the session task (it reconnects with backoff until `shutdown` is cancelled).
pub(crate) fn start_session(
    link: &SmscLink,
    shutdown: CancellationToken,
) -> (EsmeClient, mpsc::Receiver<InboundDelivery>) {
    let config = link.esme_config(BindMode::Transceiver);
    EsmeClient::start(config, shutdown)
}
