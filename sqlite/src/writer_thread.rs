//! The writer thread: async code hands it whole store calls, which it runs one after another with the write
//! connection held, so their writes share one group-commit batch; each caller is answered once that batch is durable.
//!
//! It replaces, for the hot writes, a blocking-pool thread parked per waiting writer and the lock and condvar
//! hand-offs between them: one thread wakes for a whole queue of calls.

use crate::group_commit::{run_held_call, BatchFailure, GroupCommitWriter};
use crate::DatabaseError;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// A queued store call: runs on the writer thread and returns how to answer its caller once the batch is settled.
type QueuedCall = Box<dyn FnOnce() -> AnswerCaller + Send>;
type AnswerCaller = Box<dyn FnOnce(Option<BatchFailure>) + Send>;

pub(crate) struct WriterThread {
    queue: Arc<CallQueue>,
    handle: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct CallQueue {
    state: Mutex<QueueState>,
    call_arrived: Condvar,
}

#[derive(Default)]
struct QueueState {
    calls: Vec<QueuedCall>,
    closed: bool,
    /// The writer thread is parked on `call_arrived`: only then does a push wake it. While it runs a batch, the
    /// calls queued meanwhile are taken with the next one, and a wake-up (a futex syscall per call) would find no
    /// one waiting.
    writer_waiting: bool,
}

impl WriterThread {
    pub(crate) fn start(writer: Arc<GroupCommitWriter>, max_calls_per_run: usize) -> std::io::Result<WriterThread> {
        let queue = Arc::new(CallQueue::default());
        let thread_queue = Arc::clone(&queue);
        let handle = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_queued_calls(&thread_queue, &writer, max_calls_per_run))?;
        Ok(WriterThread { queue, handle: Some(handle) })
    }

    /// Runs `call` on the writer thread; its value once the batch holding its writes is durable.
    pub(crate) async fn run<T, E, F>(&self, call: F) -> Result<T, E>
    where
        F: FnOnce() -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DatabaseError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let queued: QueuedCall = Box::new(move || {
            let returned = catch_unwind(AssertUnwindSafe(call));
            Box::new(move |batch_failure: Option<BatchFailure>| {
                let answer = match (returned, batch_failure) {
                    (Ok(Ok(value)), None) => Ok(value),
                    (Ok(Ok(_)), Some(failure)) => Err(E::from(DatabaseError::BatchFailed(failure))),
                    (Ok(Err(error)), _) => Err(error),
                    (Err(_panic), _) => Err(E::from(DatabaseError::TaskFailed)),
                };
                let _ = reply.send(answer);
            })
        });
        self.queue.push(queued)?;
        answer.await.unwrap_or_else(|_| Err(E::from(DatabaseError::TaskFailed)))
    }
}

#[cfg(test)]
impl WriterThread {
    fn queued_calls(&self) -> usize {
        self.queue.state.lock().map(|state| state.calls.len()).unwrap_or(0)
    }
}

impl Drop for WriterThread {
    fn drop(&mut self) {
        self.queue.close();
        if let Some(handle) = self.handle.take() {
            // The last handle on the database can be dropped by a call running on the writer thread itself.
            if handle.thread().id() != std::thread::current().id() {
                let _ = handle.join();
            }
        }
    }
}

impl CallQueue {
    fn push(&self, call: QueuedCall) -> Result<(), DatabaseError> {
        let mut state = self.state.lock().map_err(|_| DatabaseError::Poisoned)?;
        if state.closed {
            return Err(DatabaseError::TaskFailed);
        }
        state.calls.push(call);
        let wake = state.writer_waiting;
        drop(state);
        if wake {
            self.call_arrived.notify_one();
        }
        Ok(())
    }

    fn close(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.closed = true;
        }
        self.call_arrived.notify_one();
    }

    /// The calls queued so far (at most `max`), waiting for one; `None` once closed and drained.
    fn next_calls(&self, max: usize) -> Option<Vec<QueuedCall>> {
        let mut state = self.state.lock().ok()?;
        while state.calls.is_empty() {
            if state.closed {
                return None;
            }
            state.writer_waiting = true;
            state = self.call_arrived.wait(state).ok()?;
            state.writer_waiting = false;
        }
        let take = state.calls.len().min(max);
        Some(state.calls.drain(..take).collect())
    }
}

fn run_queued_calls(queue: &CallQueue, writer: &GroupCommitWriter, max_calls_per_run: usize) {
    while let Some(calls) = queue.next_calls(max_calls_per_run) {
        // If the writer's lock is poisoned the calls are dropped, and their callers get `TaskFailed`.
        let run = writer.run_held(|| calls.into_iter().map(run_held_call).collect::<Vec<_>>());
        if let Ok((answers, failed_batches)) = run {
            for (answer, batch) in answers {
                answer(batch.and_then(|batch| failed_batches.get(&batch).cloned()));
            }
        }
    }
}

#[cfg(test)]
mod tests;
