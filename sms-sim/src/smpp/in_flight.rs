//! The submit_sm of one session on their way to the store, a window at a time: checked submits queue up while the
//! previous window is stored, then go to the store together in one blocking call (one transaction, one savepoint
//! each), and each is answered with its own submit_sm_resp once that call returns, so after its commit (SMPP 3.4
//! pairs responses with requests by sequence number). At most `MAX_SUBMITS_IN_FLIGHT` are queued and stored
//! together; past it the session stops reading its socket (backpressure).

use numbind_smpp::pdu::{CommandStatus, Pdu, PduBody};
use std::collections::HashSet;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// How many submit_sm one session has queued and being stored at once.
pub(super) const MAX_SUBMITS_IN_FLIGHT: usize = 64;

/// How long a window waits for the submits the ESME is expected to send (it refills the slots just answered)
/// before it goes to the store without them: a fraction of one commit, so that one commit takes the whole window.
const WINDOW_LINGER: Duration = Duration::from_micros(250);

/// One submit's answer: its message_id, or the command_status refusing it.
pub(super) type SubmitOutcome = Result<String, CommandStatus>;

/// Stores one window on the blocking pool and returns each submit's outcome in order, once all of it is durable.
pub(super) type StoreWindow<T> = Arc<dyn Fn(Vec<T>) -> Vec<SubmitOutcome> + Send + Sync>;

pub(super) struct InFlightSubmits<T> {
    queue: Arc<SubmitQueue<T>>,
    /// `WINDOW_LINGER` but in tests.
    linger: Duration,
    store_window: StoreWindow<T>,
    /// Submits pushed and not yet answered, queued or being stored.
    unanswered: usize,
    storing: Option<JoinHandle<Vec<(u32, SubmitOutcome)>>>,
    /// Sequence numbers of the queued submits that came as data_sm, answered with data_sm_resp.
    data_sm: HashSet<u32>,
}

/// Submits waiting for the store, shared with the blocking task that takes them.
struct SubmitQueue<T> {
    state: Mutex<QueueState<T>>,
    arrived: Condvar,
}

struct QueueState<T> {
    submits: Vec<(u32, T)>,
    /// The window size the next store waits for (at most `WINDOW_LINGER`); 0 stores at once.
    expected: usize,
    /// Sequence numbers taken by the running store, to answer ESME_RSYSERR should it panic.
    taken: Vec<u32>,
}

impl<T: Send + 'static> InFlightSubmits<T> {
    pub(super) fn new(store_window: StoreWindow<T>) -> InFlightSubmits<T> {
        Self::with_linger(store_window, WINDOW_LINGER)
    }

    fn with_linger(store_window: StoreWindow<T>, linger: Duration) -> InFlightSubmits<T> {
        let state = QueueState { submits: Vec::new(), expected: 1, taken: Vec::new() };
        let queue = Arc::new(SubmitQueue { state: Mutex::new(state), arrived: Condvar::new() });
        InFlightSubmits { queue, linger, store_window, unanswered: 0, storing: None, data_sm: HashSet::new() }
    }

    pub(super) fn has_room(&self) -> bool {
        self.unanswered < MAX_SUBMITS_IN_FLIGHT
    }

    pub(super) fn is_empty(&self) -> bool {
        self.unanswered == 0
    }

    /// Queues a checked submit; it goes to the store with the window it arrives in.
    pub(super) fn push(&mut self, sequence: u32, submit: T) {
        self.unanswered += 1;
        let mut state = self.queue.lock();
        state.submits.push((sequence, submit));
        if state.submits.len() >= state.expected {
            self.queue.arrived.notify_one();
        }
        drop(state);
        if self.storing.is_none() {
            self.start_store();
        }
    }

    /// Queues a checked submit that came as data_sm: answered with data_sm_resp.
    pub(super) fn push_data_sm(&mut self, sequence: u32, submit: T) {
        self.data_sm.insert(sequence);
        self.push(sequence, submit);
    }

    /// The next store takes what is queued without waiting for more (an unbind or shutdown wants answers).
    pub(super) fn store_without_waiting(&mut self) {
        self.queue.lock().expected = 0;
        self.queue.arrived.notify_one();
    }

    /// The submit_sm_resp of the window being stored, encoded back to back (one write for them all), once its
    /// store returns; the submits queued meanwhile go to the store first. Pending while nothing is stored;
    /// cancel-safe.
    pub(super) async fn next_responses(&mut self) -> Vec<u8> {
        let Some(storing) = self.storing.as_mut() else { return std::future::pending().await };
        let joined = storing.await;
        self.storing = None;
        let answers = match joined {
            Ok(answers) => answers,
            Err(error) => {
                tracing::error!(%error, "a submit_sm store task failed");
                let taken = std::mem::take(&mut self.queue.lock().taken);
                taken.into_iter().map(|sequence| (sequence, Err(CommandStatus::EsmeRsyserr))).collect()
            }
        };
        self.expect_window_of(self.unanswered);
        self.unanswered -= answers.len();
        if !self.queue.lock().submits.is_empty() {
            self.start_store();
        }
        let mut bytes = Vec::with_capacity(answers.len() * 64);
        for (sequence, outcome) in answers {
            let response = if self.data_sm.remove(&sequence) {
                data_sm_response(sequence, outcome)
            } else {
                submit_response(sequence, outcome)
            };
            bytes.extend_from_slice(&response.encode());
        }
        bytes
    }

    /// The ESME refills the slots of the submits about to be answered: the next window waits for that many.
    fn expect_window_of(&self, window: usize) {
        let mut state = self.queue.lock();
        if state.expected != 0 {
            state.expected = window.clamp(1, MAX_SUBMITS_IN_FLIGHT);
        }
    }

    fn start_store(&mut self) {
        let (queue, store_window, linger) = (Arc::clone(&self.queue), Arc::clone(&self.store_window), self.linger);
        self.storing = Some(tokio::task::spawn_blocking(move || {
            let (sequences, submits): (Vec<u32>, Vec<T>) = queue.take_window(linger).into_iter().unzip();
            let outcomes = store_window(submits);
            sequences.into_iter().zip(outcomes).collect()
        }));
    }
}

impl<T> Drop for InFlightSubmits<T> {
    /// A session that ends without answering (connection lost): the store running finishes (its commit and side
    /// effects happen; the ESME's retry is answered by the dedupe); submits still queued were never answered and
    /// are dropped, the ESME's retry stores them.
    fn drop(&mut self) {
        self.queue.lock().expected = 0;
        self.queue.arrived.notify_one();
    }
}

impl<T> SubmitQueue<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits (at most `linger`) until the expected window is queued, then takes everything queued.
    fn take_window(&self, linger: Duration) -> Vec<(u32, T)> {
        let deadline = Instant::now() + linger;
        let mut state = self.lock();
        while state.submits.len() < state.expected {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else { break };
            state = self.arrived.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        state.taken = state.submits.iter().map(|(sequence, _)| *sequence).collect();
        std::mem::take(&mut state.submits)
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
    use numbind_smpp::{PduReader, ReadOutcome};
    use std::sync::mpsc;

    const LONG: Duration = Duration::from_secs(60);

    /// A store that reports each window it gets, then waits for a release (or its sender dropped) and answers
    /// `m<sequence>` for each submit (the submit is its sequence number).
    fn gated_store() -> (StoreWindow<u32>, mpsc::Receiver<Vec<u32>>, mpsc::Sender<()>) {
        let (started, windows) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let (started, released) = (Mutex::new(started), Mutex::new(released));
        let store: StoreWindow<u32> = Arc::new(move |window: Vec<u32>| {
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
        let store: StoreWindow<u32> = Arc::new(|_| panic!("store blew up"));
        let mut submits = InFlightSubmits::with_linger(store, Duration::ZERO);
        submits.push(9, 9);
        let bytes = submits.next_responses().await;
        let mut reader = PduReader::new(&bytes[..]);
        let Some(ReadOutcome::Pdu(answer)) = reader.read_pdu().await.unwrap() else { panic!("no answer") };
        assert_eq!((answer.sequence_number, answer.command_status), (9, CommandStatus::EsmeRsyserr));
        assert!(submits.is_empty());
    }
}
