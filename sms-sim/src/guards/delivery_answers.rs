//! The answers to one delivery that went out as several parts (a long text split with a UDH: deliver_sm to an
//! SMPP 3.3 session, DELIVER over CMPP): the delivery succeeds once every part is accepted, and takes the first
//! refusal otherwise.

use numbind_smpp::pdu::CommandStatus;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::oneshot;

/// Shared by the deliver_sm of one delivery; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct DeliveryAnswers {
    inner: Arc<Mutex<Waiting>>,
}

#[derive(Debug)]
struct Waiting {
    unanswered: usize,
    outcome: Option<oneshot::Sender<CommandStatus>>,
}

impl DeliveryAnswers {
    pub(crate) fn new(parts: usize, outcome: oneshot::Sender<CommandStatus>) -> DeliveryAnswers {
        DeliveryAnswers { inner: Arc::new(Mutex::new(Waiting { unanswered: parts, outcome: Some(outcome) })) }
    }

    /// One part's deliver_sm_resp status.
    pub(crate) fn record(&self, status: CommandStatus) {
        let mut waiting = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.unanswered = waiting.unanswered.saturating_sub(1);
        if !status.is_ok() || waiting.unanswered == 0 {
            if let Some(outcome) = waiting.outcome.take() {
                let _ = outcome.send(status);
            }
        }
    }

    /// True while the delivery loop still waits for this delivery's outcome.
    pub(crate) fn is_awaited(&self) -> bool {
        let waiting = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.outcome.as_ref().is_some_and(|outcome| !outcome.is_closed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_delivery_succeeds_when_every_part_is_accepted() {
        let (sender, mut receiver) = oneshot::channel();
        let answers = DeliveryAnswers::new(2, sender);
        answers.record(CommandStatus::EsmeRok);
        assert!(receiver.try_recv().is_err(), "one part is still unanswered");
        answers.record(CommandStatus::EsmeRok);
        assert_eq!(receiver.try_recv(), Ok(CommandStatus::EsmeRok));
        assert!(!answers.is_awaited());
    }

    #[test]
    fn a_split_delivery_takes_the_first_refusal() {
        let (sender, mut receiver) = oneshot::channel();
        let answers = DeliveryAnswers::new(3, sender);
        answers.record(CommandStatus::EsmeRxTAppn);
        answers.record(CommandStatus::EsmeRok);
        assert_eq!(receiver.try_recv(), Ok(CommandStatus::EsmeRxTAppn));
    }
}
