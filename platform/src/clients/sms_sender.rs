//! Sends one notification SMS through the SMS centre (SMPP transmitter), keyed for exactly-once delivery.

use crate::config::SmscLink;
use crate::store::OutboxSms;
use numbind_smpp::esme::{BindMode, EsmeClient, EsmeError, OutgoingSms};
use numbind_wire::ShortCode;
use tokio_util::sync::CancellationToken;

/// The platform's SMPP session, used only to submit.
#[derive(Debug, Clone)]
pub(crate) struct SmsSender {
    client: EsmeClient,
    source: String,
}

impl SmsSender {
    /// Starts the session (it binds and reconnects in the background until `shutdown`).
    pub(crate) fn connect(link: &SmscLink, source: &ShortCode, shutdown: CancellationToken) -> Self {
        let config = link.esme_config(BindMode::Transmitter);
        let (client, _no_deliveries_on_a_transmitter) = EsmeClient::start(config, shutdown);
        SmsSender { client, source: source.as_str().to_owned() }
    }

    /// True while the session is bound (submits before that fail without reaching the SMS centre).
    pub(crate) fn is_bound(&self) -> bool {
        self.client.is_bound()
    }

    /// Submits the SMS with the outbox ID as client reference, so a resubmission is not delivered twice.
    pub(crate) async fn send(&self, sms: &OutboxSms) -> Result<String, EsmeError> {
        self.client
            .submit(OutgoingSms {
                source: self.source.clone(),
                destination: sms.destination.as_digits().to_owned(),
                text: sms.text.clone(),
                client_reference: Some(sms.outbox_id.clone()),
            })
            .await
    }
}
