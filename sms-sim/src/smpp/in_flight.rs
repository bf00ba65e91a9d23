//! The submit_sm and data_sm of one session on their way to the store: a `SubmitWindow` (a window stored in one
//! write, each answered after its commit) whose outcomes become submit_sm_resp or data_sm_resp, encoded back to
//! back in one write (SMPP 3.4 pairs responses with requests by sequence number).

use crate::guards::submit_window::{StoreWindow, SubmitWindow};
use numbind_smpp::pdu::{CommandStatus, Pdu, PduBody};
use std::collections::HashSet;
#[cfg(test)]
use std::time::Duration;

/// One submit's answer: its message_id, or the command_status refusing it.
pub(super) type SubmitOutcome = Result<String, CommandStatus>;

pub(super) struct InFlightSubmits<T> {
    window: SubmitWindow<T, SubmitOutcome>,
    /// Sequence numbers of the queued submits that came as data_sm, answered with data_sm_resp.
    data_sm: HashSet<u32>,
}

impl<T: Send + 'static> InFlightSubmits<T> {
    pub(super) fn new(store_window: StoreWindow<T, SubmitOutcome>) -> InFlightSubmits<T> {
        InFlightSubmits { window: SubmitWindow::new(store_window), data_sm: HashSet::new() }
    }

    #[cfg(test)]
    fn with_linger(store_window: StoreWindow<T, SubmitOutcome>, linger: Duration) -> InFlightSubmits<T> {
        InFlightSubmits { window: SubmitWindow::with_linger(store_window, linger), data_sm: HashSet::new() }
    }

    pub(super) fn has_room(&self) -> bool {
        self.window.has_room()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.window.is_empty()
    }

    /// Queues a checked submit_sm; it goes to the store with the window it arrives in.
    pub(super) fn push(&mut self, sequence: u32, submit: T) {
        self.window.push(sequence, submit);
    }

    /// Queues a checked submit that came as data_sm: answered with data_sm_resp.
    pub(super) fn push_data_sm(&mut self, sequence: u32, submit: T) {
        self.data_sm.insert(sequence);
        self.window.push(sequence, submit);
    }

    /// The next store takes what is queued without waiting for more (an unbind or shutdown wants answers).
    pub(super) fn store_without_waiting(&mut self) {
        self.window.store_without_waiting();
    }

    /// The responses of the window being stored, encoded back to back (one write for them all), once its store
    /// returns; ESME_RSYSERR for each submit of a store that panicked. Pending while nothing is stored;
    /// cancel-safe.
    pub(super) async fn next_responses(&mut self) -> Vec<u8> {
        let answers = self.window.next_answers().await;
        let mut bytes = Vec::with_capacity(answers.len() * 64);
        for (sequence, outcome) in answers {
            let outcome = outcome.unwrap_or(Err(CommandStatus::EsmeRsyserr));
            let response = if self.data_sm.remove(&sequence) {
                data_sm_response(sequence, outcome)
            } else {
                submit_response(sequence, outcome)
            };
            bytes.extend_from_slice(&response.encode());
        }
        bytes
    }
}

/// submit_sm_resp: the message_id on success, an empty one with the refusal status otherwise.
pub(super) fn submit_response(sequence: u32, outcome: SubmitOutcome) -> Pdu {
    match outcome {
        Ok(message_id) => Pdu::new(sequence, PduBody::SubmitSmResp { message_id }),
        Err(command_status) => {
            Pdu { command_status, sequence_number: sequence, body: PduBody::SubmitSmResp { message_id: String::new() } }
        }
    }
}

/// data_sm_resp: the message_id on success, the refusal status (and no body) otherwise.
fn data_sm_response(sequence: u32, outcome: SubmitOutcome) -> Pdu {
    match outcome {
        Ok(message_id) => Pdu::new(sequence, PduBody::DataSmResp { message_id }),
        Err(command_status) => {
            Pdu { command_status, sequence_number: sequence, body: PduBody::DataSmResp { message_id: String::new() } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guards::submit_window::MAX_SUBMITS_IN_FLIGHT;
    use numbind_smpp::{PduReader, ReadOutcome};
    use std::sync::{mpsc, Arc, Mutex};

    const LONG: Duration = Duration::from_secs(60);

    /// A store that reports each window it gets, then waits for a release (or its sender dropped) and answers
    /// `m<sequence>` for each submit (the submit is its sequence number).
    fn gated_store() -> (StoreWindow<u32, SubmitOutcome>, mpsc::Receiver<Vec<u32>>, mpsc::Sender<()>) {
        let (started, windows) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let (started, released) = (Mutex::new(started), Mutex::new(released));
        let store: StoreWindow<u32, SubmitOutcome> = Arc::new(move |window: Vec<u32>| {
            let _ = started.lock().unwrap().send(window.clone());
            let _ = released.lock().unwrap().recv();
            window.iter().map(|sequence| Ok(format!("m{sequence}"))).collect()
        });
        (store, windows, release)
    }

    async fn answered_sequences(submits: &mut InFlightSubmits<u32>) -> Vec<u32> {
        let bytes = submits.next_responses().await;
        let mut reader = PduReader::new(&bytes[..]);
        let mut sequences = Vec::new();
        while let Some(ReadOutcome::Pdu(pdu)) = reader.read_pdu().await.unwrap() {
            let PduBody::SubmitSmResp { message_id } = &pdu.body else { panic!("{pdu:?}") };
            assert_eq!(message_id, &format!("m{}", pdu.sequence_number));
            sequences.push(pdu.sequence_number);
        }
        sequences
    }

    fn next_window(windows: &mpsc::Receiver<Vec<u32>>) -> Vec<u32> {
        windows.recv_timeout(Duration::from_secs(10)).expect("a window went to the store")
    }

    /// Stores [1] while 2..=`queued` are pushed, answers it: the ESME had `queued` outstanding.
    async fn answer_a_first_window_of_one(
        submits: &mut InFlightSubmits<u32>,
        windows: &mpsc::Receiver<Vec<u32>>,
        release: &mpsc::Sender<()>,
        queued: u32,
    ) {
        submits.push(1, 1);
        assert_eq!(next_window(windows), vec![1]);
        for sequence in 2..=queued {
            submits.push(sequence, sequence);
        }
        release.send(()).unwrap();
        assert_eq!(answered_sequences(submits).await, vec![1]);
    }

    #[tokio::test]
    async fn submits_queued_while_a_window_is_stored_go_to_the_store_in_one_call_and_are_answered_together() {
        let (store, windows, release) = gated_store();
        let mut submits = InFlightSubmits::with_linger(store, Duration::ZERO);
        answer_a_first_window_of_one(&mut submits, &windows, &release, 5).await;
        assert_eq!(next_window(&windows), vec![2, 3, 4, 5]);
        release.send(()).unwrap();
        assert_eq!(answered_sequences(&mut submits).await, vec![2, 3, 4, 5]);
        assert!(submits.is_empty());
    }

    #[tokio::test]
    async fn the_next_window_waits_for_the_esme_to_refill_the_slots_just_answered() {
        let (store, windows, release) = gated_store();
        let mut submits = InFlightSubmits::with_linger(store, LONG);
        answer_a_first_window_of_one(&mut submits, &windows, &release, 3).await;
        assert!(windows.recv_timeout(Duration::from_millis(50)).is_err(), "two of three: the store waits");
        submits.push(4, 4);
        assert_eq!(next_window(&windows), vec![2, 3, 4]);
        drop(release);
        assert_eq!(answered_sequences(&mut submits).await, vec![2, 3, 4]);
    }

    #[tokio::test]
    async fn a_window_goes_to_the_store_short_once_the_linger_is_over() {
        let (store, windows, release) = gated_store();
        let mut submits = InFlightSubmits::with_linger(store, Duration::from_millis(5));
        answer_a_first_window_of_one(&mut submits, &windows, &release, 3).await;
        assert_eq!(next_window(&windows), vec![2, 3]);
        drop(release);
        assert_eq!(answered_sequences(&mut submits).await, vec![2, 3]);
    }

    #[tokio::test]
    async fn an_unbind_sends_what_is_queued_to_the_store_without_waiting() {
        let (store, windows, release) = gated_store();
        let mut submits = InFlightSubmits::with_linger(store, LONG);
        answer_a_first_window_of_one(&mut submits, &windows, &release, 3).await;
        submits.store_without_waiting();
        assert_eq!(next_window(&windows), vec![2, 3]);
        drop(release);
        assert_eq!(answered_sequences(&mut submits).await, vec![2, 3]);
        assert!(submits.is_empty());
    }

    #[tokio::test]
    async fn a_full_window_has_no_room_until_answered() {
        let (store, windows, release) = gated_store();
        let mut submits = InFlightSubmits::with_linger(store, Duration::ZERO);
        for sequence in 1..=MAX_SUBMITS_IN_FLIGHT as u32 {
            assert!(submits.has_room());
            submits.push(sequence, sequence);
        }
        assert!(!submits.has_room());
        drop(release);
        let mut answered = answered_sequences(&mut submits).await;
        assert!(submits.has_room());
        while !submits.is_empty() {
            answered.extend(answered_sequences(&mut submits).await);
        }
        assert_eq!(answered, (1..=MAX_SUBMITS_IN_FLIGHT as u32).collect::<Vec<_>>());
        assert!(windows.try_iter().count() <= 2, "the first window, then all the others in one");
    }

    #[tokio::test]
    async fn a_store_that_panics_is_answered_with_a_system_error_for_each_submit_of_its_window() {
        let store: StoreWindow<u32, SubmitOutcome> = Arc::new(|_| panic!("store blew up"));
        let mut submits = InFlightSubmits::with_linger(store, Duration::ZERO);
        submits.push(9, 9);
        let bytes = submits.next_responses().await;
        let mut reader = PduReader::new(&bytes[..]);
        let Some(ReadOutcome::Pdu(answer)) = reader.read_pdu().await.unwrap() else { panic!("no answer") };
        assert_eq!((answer.sequence_number, answer.command_status), (9, CommandStatus::EsmeRsyserr));
        assert!(submits.is_empty());
    }
}
