//! The submit_sm of one session being stored concurrently: at most `MAX_SUBMITS_IN_FLIGHT`, each answered with
//! its own submit_sm_resp once its store completes (SMPP 3.4 pairs responses with requests by sequence number).

use numbind_smpp::pdu::{self, Pdu, PduBody};
use std::collections::HashMap;
use std::future::Future;
use tokio::task::{self, JoinSet};

/// How many submit_sm one session stores at once; past it the session stops reading its socket (backpressure).
pub(super) const MAX_SUBMITS_IN_FLIGHT: usize = 64;

/// What one store task answers: the request's sequence number and its message_id or refusal status.
type SubmitOutcome = (u32, Result<String, u32>);

#[derive(Default)]
pub(super) struct InFlightSubmits {
    tasks: JoinSet<SubmitOutcome>,
    /// The sequence number of every running task, to answer ESME_RSYSERR should one panic.
    sequences: HashMap<task::Id, u32>,
}

impl InFlightSubmits {
    pub(super) fn has_room(&self) -> bool {
        self.tasks.len() < MAX_SUBMITS_IN_FLIGHT
    }

    pub(super) fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Runs the store of submit_sm `sequence` in its own task; its resp comes out of `next_response`.
    pub(super) fn start<F>(&mut self, sequence: u32, store: F)
    where
        F: Future<Output = Result<String, u32>> + Send + 'static,
    {
        let handle = self.tasks.spawn(async move { (sequence, store.await) });
        self.sequences.insert(handle.id(), sequence);
    }

    /// The submit_sm_resp of the next store to complete; `None` when none is in flight. Cancel-safe.
    pub(super) async fn next_response(&mut self) -> Option<Pdu> {
        loop {
            let joined = self.tasks.join_next_with_id().await?;
            if let Some(response) = self.response_of(joined) {
                return Some(response);
            }
        }
    }

    /// `first` and the resps of every store already complete, encoded back to back: one write for them all.
    pub(super) fn encode_with_ready(&mut self, first: &Pdu) -> Vec<u8> {
        let mut bytes = first.encode();
        while let Some(joined) = self.tasks.try_join_next_with_id() {
            if let Some(response) = self.response_of(joined) {
                bytes.extend_from_slice(&response.encode());
            }
        }
        bytes
    }

    fn response_of(&mut self, joined: Result<(task::Id, SubmitOutcome), task::JoinError>) -> Option<Pdu> {
        match joined {
            Ok((id, (sequence, outcome))) => {
                self.sequences.remove(&id);
                Some(submit_response(sequence, outcome))
            }
            Err(error) => {
                tracing::error!(%error, "a submit_sm store task failed");
                let sequence = self.sequences.remove(&error.id())?;
                Some(submit_response(sequence, Err(pdu::ESME_RSYSERR)))
            }
        }
    }
}

impl Drop for InFlightSubmits {
    /// A session that ends without answering (connection lost) lets its stores finish: the commit and its
    /// side effects (metrics, receipt wake-up) happen, and the ESME's retry is answered by the dedupe.
    fn drop(&mut self) {
        self.tasks.detach_all();
    }
}

/// submit_sm_resp: the message_id on success, an empty one with the refusal status otherwise.
pub(super) fn submit_response(sequence: u32, outcome: Result<String, u32>) -> Pdu {
    match outcome {
        Ok(message_id) => Pdu::new(sequence, PduBody::SubmitSmResp { message_id }),
        Err(command_status) => {
            Pdu { command_status, sequence_number: sequence, body: PduBody::SubmitSmResp { message_id: String::new() } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    #[tokio::test]
    async fn responses_come_in_completion_order_and_a_full_window_has_no_room() {
        let mut submits = InFlightSubmits::default();
        let mut completions = Vec::new();
        for sequence in 0..MAX_SUBMITS_IN_FLIGHT as u32 {
            let (complete, completed) = oneshot::channel::<Result<String, u32>>();
            submits.start(sequence, async move { completed.await.unwrap_or(Err(pdu::ESME_RSYSERR)) });
            completions.push(complete);
        }
        assert!(!submits.has_room());
        let last = completions.pop().unwrap();
        last.send(Ok("m-last".into())).unwrap();
        let first_answer = submits.next_response().await.unwrap();
        assert_eq!(first_answer, Pdu::new(63, PduBody::SubmitSmResp { message_id: "m-last".into() }));
        assert!(submits.has_room());
        completions.remove(0).send(Err(pdu::ESME_RTHROTTLED)).unwrap();
        let refusal = submits.next_response().await.unwrap();
        assert_eq!((refusal.sequence_number, refusal.command_status), (0, pdu::ESME_RTHROTTLED));
        drop(completions);
        let mut rest = Vec::new();
        while let Some(response) = submits.next_response().await {
            rest.push((response.sequence_number, response.command_status));
        }
        assert_eq!(rest.len(), MAX_SUBMITS_IN_FLIGHT - 2);
        assert!(rest.iter().all(|(sequence, status)| (1..63).contains(sequence) && *status == pdu::ESME_RSYSERR));
        assert!(submits.is_empty());
    }

    #[tokio::test]
    async fn resps_already_complete_are_encoded_together() {
        let mut submits = InFlightSubmits::default();
        for sequence in 1..=3 {
            submits.start(sequence, async move { Ok(format!("m{sequence}")) });
        }
        let first = submits.next_response().await.unwrap();
        // The test runtime is single-threaded: after a few yields the other two stores have run.
        for _ in 0..5 {
            tokio::task::yield_now().await;
        }
        let bytes = submits.encode_with_ready(&first);
        let mut reader = numbind_smpp::PduReader::new(&bytes[..]);
        let mut sequences = Vec::new();
        while let Some(numbind_smpp::ReadOutcome::Pdu(pdu)) = reader.read_pdu().await.unwrap() {
            sequences.push(pdu.sequence_number);
        }
        sequences.sort_unstable();
        assert_eq!(sequences, vec![1, 2, 3]);
        assert!(submits.is_empty());
    }

    #[tokio::test]
    async fn a_store_task_that_panics_is_answered_with_a_system_error() {
        let mut submits = InFlightSubmits::default();
        submits.start(9, async { panic!("store blew up") });
        assert_eq!(submits.next_response().await.map(|response| response.command_status), Some(pdu::ESME_RSYSERR));
        assert!(submits.next_response().await.is_none());
    }
}
