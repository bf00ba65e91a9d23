//! Sends one notification SMS through the SMS centre (over SMPP as a transmitter, or CMPP), keyed for
//! exactly-once delivery where the protocol carries a client reference.

use crate::store::OutboxSms;
use numbind_sms_link::{LinkConfig, LinkError, LinkUse, OutgoingSms, SmsLink};
use numbind_wire::ShortCode;
use tokio_util::sync::CancellationToken;

/// The platform's link to the SMS centre, used only to submit.
#[derive(Debug, Clone)]
pub(crate) struct SmsSender {
    link: SmsLink,
    source: String,
}

impl SmsSender {
    /// Starts the session (it logs in and reconnects in the background until `shutdown`).
    pub(crate) fn connect(config: &LinkConfig, source: &ShortCode, shutdown: CancellationToken) -> Self {
        let (link, _no_deliveries_for_the_platform) = SmsLink::start(config, LinkUse::Send, shutdown);
        SmsSender { link, source: source.as_str().to_owned() }
    }

    /// True while the session is up (submits before that fail without reaching the SMS centre).
    pub(crate) fn is_bound(&self) -> bool {
        self.link.is_up()
    }

    /// Submits the SMS with the outbox ID as client reference, so that an SMPP resubmission is not delivered twice.
    pub(crate) async fn send(&self, sms: &OutboxSms) -> Result<String, LinkError> {
        self.link
            .submit(OutgoingSms {
                source: self.source.clone(),
                destination: sms.destination.as_digits().to_owned(),
                text: sms.text.clone(),
                client_reference: Some(sms.outbox_id.clone()),
            })
            .await
    }
}
