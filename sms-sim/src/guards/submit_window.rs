//! The submits of one session on their way to the store, a window at a time, whatever the protocol: checked
//! submits queue up while the previous window is stored, then go to the store together in one blocking call (one
//! transaction, one savepoint each), and each gets its own outcome once that call returns, so after its commit.
//! At most `MAX_SUBMITS_IN_FLIGHT` are queued and stored together; past it the session stops reading its socket
//! (backpressure). The SMPP and CMPP sessions turn the outcomes into their own responses.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// How many submits one session has queued and being stored at once.
pub(crate) const MAX_SUBMITS_IN_FLIGHT: usize = 64;

/// How long a window waits for the submits the client is expected to send (it refills the slots just answered)
/// before it goes to the store without them: a fraction of one commit, so that one commit takes the whole window.
const WINDOW_LINGER: Duration = Duration::from_micros(250);

/// Stores one window on the blocking pool and returns each submit's outcome in order, once all of it is durable.
pub(crate) type StoreWindow<T, O> = Arc<dyn Fn(Vec<T>) -> Vec<O> + Send + Sync>;

pub(crate) struct SubmitWindow<T, O> {
    queue: Arc<SubmitQueue<T>>,
    /// `WINDOW_LINGER` but in tests.
    linger: Duration,
    store_window: StoreWindow<T, O>,
    /// Submits pushed and not yet answered, queued or being stored.
    unanswered: usize,
    storing: Option<JoinHandle<Vec<(u32, O)>>>,
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
    /// Sequence numbers taken by the running store, to answer them should it panic.
    taken: Vec<u32>,
}

impl<T: Send + 'static, O: Send + 'static> SubmitWindow<T, O> {
    pub(crate) fn new(store_window: StoreWindow<T, O>) -> SubmitWindow<T, O> {
        Self::with_linger(store_window, WINDOW_LINGER)
    }

    pub(crate) fn with_linger(store_window: StoreWindow<T, O>, linger: Duration) -> SubmitWindow<T, O> {
        let state = QueueState { submits: Vec::new(), expected: 1, taken: Vec::new() };
        let queue = Arc::new(SubmitQueue { state: Mutex::new(state), arrived: Condvar::new() });
        SubmitWindow { queue, linger, store_window, unanswered: 0, storing: None }
    }

    pub(crate) fn has_room(&self) -> bool {
        self.unanswered < MAX_SUBMITS_IN_FLIGHT
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.unanswered == 0
    }

    /// Queues a checked submit under its request's sequence number; it goes to the store with the window it
    /// arrives in.
    pub(crate) fn push(&mut self, sequence: u32, submit: T) {
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

    /// The next store takes what is queued without waiting for more (an unbind, TERMINATE or shutdown wants
    /// answers).
    pub(crate) fn store_without_waiting(&mut self) {
        self.queue.lock().expected = 0;
        self.queue.arrived.notify_one();
    }

    /// The outcomes of the window being stored, by sequence number, once its store returns (`None` for each
    /// submit of a store that panicked); the submits queued meanwhile go to the store first. Pending while
    /// nothing is stored; cancel-safe.
    pub(crate) async fn next_answers(&mut self) -> Vec<(u32, Option<O>)> {
        let Some(storing) = self.storing.as_mut() else { return std::future::pending().await };
        let joined = storing.await;
        self.storing = None;
        let answers: Vec<(u32, Option<O>)> = match joined {
            Ok(answers) => answers.into_iter().map(|(sequence, outcome)| (sequence, Some(outcome))).collect(),
            Err(error) => {
                tracing::error!(%error, "a submit store task failed");
                let taken = std::mem::take(&mut self.queue.lock().taken);
                taken.into_iter().map(|sequence| (sequence, None)).collect()
            }
        };
        self.expect_window_of(self.unanswered);
        self.unanswered -= answers.len();
        if !self.queue.lock().submits.is_empty() {
            self.start_store();
        }
        answers
    }

    /// The client refills the slots of the submits about to be answered: the next window waits for that many.
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

impl<T, O> Drop for SubmitWindow<T, O> {
    /// A session that ends without answering (connection lost): the store running finishes (its commit and side
    /// effects happen; the client's retry is answered by the dedupe); submits still queued were never answered
    /// and are dropped, the client's retry stores them.
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
