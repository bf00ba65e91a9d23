//! Group commit: the one write connection, where concurrent writers share a transaction and one fsync.
//!
//! Each writer takes the connection, runs its work inside a savepoint of the open batch transaction (a failed
//! writer rolls back to its savepoint and leaves the others' work alone), joins the batch and then either commits
//! it or waits for its commit. The writer that finds nobody else queued for the connection commits (so a lone
//! writer commits at once, as a plain transaction would); under load the writers that arrive while one batch is
//! running or committing form the next batch, and a batch is committed early when it reaches `max_batch_members`.
//! Nobody returns before the batch holding its work is durably committed, and when that commit fails every member
//! of the batch gets the failure: an acknowledged write has always reached the disk, as with one commit per write.
//!
//! The writer thread ([`crate::writer_thread`]) is one more writer: it takes the state out of the mutex for a run of
//! queued store calls (other writers wait for it to come back), their writes join the open batch as they are made,
//! and it commits the batch at the end of the run and tells each call the outcome of the batch its writes joined.

use crate::{run_cached, DatabaseError};
use rusqlite::Connection;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Why a batch, and so every write in it, was not committed.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchFailure {
    #[error("the shared commit failed")]
    CommitFailed(#[source] Arc<rusqlite::Error>),
    /// SQLite rolled the whole transaction back while one writer failed (it does so on a full disk, an I/O error
    /// or lack of memory), taking the other writers' work with it.
    #[error("sqlite rolled back the shared transaction after a storage error")]
    RolledBackByStorage,
}

impl BatchFailure {
    pub(crate) fn is_storage_unavailable(&self) -> bool {
        match self {
            BatchFailure::CommitFailed(error) => crate::is_storage_unavailable(error),
            BatchFailure::RolledBackByStorage => true,
        }
    }
}

pub(crate) struct GroupCommitWriter {
    /// `None` while the writer thread holds the state for a run of queued store calls.
    state: Mutex<Option<WriterState>>,
    id: usize,
    batch_finished: Condvar,
    writers_queued: AtomicUsize,
    max_batch_members: usize,
    batches_committed: AtomicU64,
    writes_committed: AtomicU64,
}

/// How many commits the writes took: `writes_committed / batches_committed` is the mean batch size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteStatistics {
    pub batches_committed: u64,
    pub writes_committed: u64,
}

struct WriterState {
    connection: Connection,
    /// The batches of the writer thread's current run that failed, by ID (their calls are told so).
    held_run_failures: HashMap<u64, BatchFailure>,
    open_batch: Option<OpenBatch>,
    next_batch_id: u64,
    finished_through: u64,
    failed_batches: HashMap<u64, FailedBatch>,
}

#[derive(Clone, Copy)]
struct OpenBatch {
    id: u64,
    members: usize,
    /// Members run by the writer thread, which tells them the outcome itself.
    members_told_directly: usize,
}

struct FailedBatch {
    failure: BatchFailure,
    members_not_told: usize,
}

impl GroupCommitWriter {
    /// `max_batch_members` of 1 commits every write on its own (in-memory databases, where a commit is free).
    pub(crate) fn new(connection: Connection, max_batch_members: usize) -> GroupCommitWriter {
        static NEXT_WRITER_ID: AtomicUsize = AtomicUsize::new(1);
        GroupCommitWriter {
            id: NEXT_WRITER_ID.fetch_add(1, Ordering::Relaxed),
            state: Mutex::new(Some(WriterState {
                connection,
                held_run_failures: HashMap::new(),
                open_batch: None,
                next_batch_id: 1,
                finished_through: 0,
                failed_batches: HashMap::new(),
            })),
            batch_finished: Condvar::new(),
            writers_queued: AtomicUsize::new(0),
            max_batch_members: max_batch_members.max(1),
            batches_committed: AtomicU64::new(0),
            writes_committed: AtomicU64::new(0),
        }
    }

    /// Runs `work` inside the open batch and returns once that batch is durably committed.
    pub(crate) fn write<T, E>(&self, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError>,
    {
        if HELD_STATE.with(|held| held.borrow().as_ref().is_some_and(|(id, _)| *id == self.id)) {
            return self.write_in_held_run(work);
        }
        self.writers_queued.fetch_add(1, Ordering::SeqCst);
        let locked = self.lock_state();
        self.writers_queued.fetch_sub(1, Ordering::SeqCst);
        let mut guard = locked?;
        let state = guard.as_mut().ok_or(DatabaseError::Poisoned)?;
        let batch_id = state.join_or_begin_batch()?;
        match state.run_in_savepoint(work) {
            Ok(value) => {
                state.count_member();
                self.commit_or_wait(guard, batch_id)?;
                Ok(value)
            }
            Err(error) => {
                self.after_failed_writer(state);
                Err(error)
            }
        }
    }

    /// Locks the state once it is in the mutex (not held by the writer thread).
    fn lock_state(&self) -> Result<MutexGuard<'_, Option<WriterState>>, DatabaseError> {
        let mut guard = self.state.lock().map_err(|_| DatabaseError::Poisoned)?;
        while guard.is_none() {
            guard = self.batch_finished.wait(guard).map_err(|_| DatabaseError::Poisoned)?;
        }
        Ok(guard)
    }

    /// A write made by a store call that the writer thread runs: it joins the open batch at once; the writer thread
    /// commits the batch after its run and tells the caller. A panic in `work` rolls its savepoint back first.
    fn write_in_held_run<T, E>(&self, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError>,
    {
        HELD_STATE.with(|held| {
            let mut held = held.borrow_mut();
            let (_, state) = held.as_mut().ok_or(DatabaseError::Poisoned)?;
            let batch_id = state.join_or_begin_batch()?;
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| state.run_in_savepoint(work)));
            match outcome {
                Ok(Ok(value)) => {
                    state.count_member();
                    if let Some(batch) = state.open_batch.as_mut() {
                        batch.members_told_directly += 1;
                    }
                    HELD_CALL_BATCH.with(|call_batch| call_batch.set(Some(batch_id)));
                    Ok(value)
                }
                Ok(Err(error)) => {
                    state.after_failed_held_write();
                    Err(error)
                }
                Err(panic) => {
                    state.roll_back_savepoint();
                    state.after_failed_held_write();
                    drop(held);
                    std::panic::resume_unwind(panic)
                }
            }
        })
    }

    /// Takes the state out of the mutex, runs `calls` on this thread with it (their writes join one batch), commits
    /// that batch, puts the state back and returns what `calls` returned with the batches of the run that failed.
    pub(crate) fn run_held<R>(
        &self,
        calls: impl FnOnce() -> R,
    ) -> Result<(R, HashMap<u64, BatchFailure>), DatabaseError> {
        self.writers_queued.fetch_add(1, Ordering::SeqCst);
        let locked = self.lock_state();
        self.writers_queued.fetch_sub(1, Ordering::SeqCst);
        let mut state = locked?.take().ok_or(DatabaseError::Poisoned)?;
        state.held_run_failures.clear();
        HELD_STATE.with(|held| *held.borrow_mut() = Some((self.id, state)));
        let returned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(calls));
        let (_, mut state) = HELD_STATE.with(|held| held.borrow_mut().take()).ok_or(DatabaseError::Poisoned)?;
        self.commit_open_batch(&mut state);
        let failures = std::mem::take(&mut state.held_run_failures);
        *self.state.lock().map_err(|_| DatabaseError::Poisoned)? = Some(state);
        self.batch_finished.notify_all();
        match returned {
            Ok(returned) => Ok((returned, failures)),
            // Each call catches its own panic; one here would be the run's own bug. The thread lives on, and the
            // callers whose answers were lost with it are told the task failed.
            Err(_) => Err(DatabaseError::TaskFailed),
        }
    }

    pub(crate) fn statistics(&self) -> WriteStatistics {
        WriteStatistics {
            batches_committed: self.batches_committed.load(Ordering::Relaxed),
            writes_committed: self.writes_committed.load(Ordering::Relaxed),
        }
    }

    /// Runs `work` directly on the write connection while no batch is open (in-memory databases only, whose
    /// batches are committed before the lock is released).
    pub(crate) fn with_idle_connection<T, E>(&self, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError>,
    {
        let guard = self.lock_state()?;
        let state = guard.as_ref().ok_or(DatabaseError::Poisoned)?;
        work(&state.connection)
    }

    fn commit_or_wait(
        &self,
        mut guard: MutexGuard<'_, Option<WriterState>>,
        batch_id: u64,
    ) -> Result<(), DatabaseError> {
        let state = guard.as_mut().ok_or(DatabaseError::Poisoned)?;
        let members = state.open_batch.map_or(0, |batch| batch.members);
        if members >= self.max_batch_members || self.writers_queued.load(Ordering::SeqCst) == 0 {
            self.commit_open_batch(state);
        }
        // While the writer thread holds the state it commits this batch (it joined it) and puts the state back.
        while guard.as_ref().is_none_or(|state| state.finished_through < batch_id) {
            guard = self.batch_finished.wait(guard).map_err(|_| DatabaseError::Poisoned)?;
        }
        guard.as_mut().ok_or(DatabaseError::Poisoned)?.outcome_of(batch_id)
    }

    /// A writer whose own work failed: when SQLite threw the whole transaction away, the batch has failed;
    /// otherwise the batch goes on, and is committed here if nobody else will come to commit it.
    fn after_failed_writer(&self, state: &mut WriterState) {
        let Some(batch) = state.open_batch else { return };
        if state.connection.is_autocommit() {
            state.open_batch = None;
            state.finish_batch(batch, Some(BatchFailure::RolledBackByStorage));
            self.batch_finished.notify_all();
        } else if batch.members == 0 {
            state.open_batch = None;
            let _ = state.connection.execute_batch("ROLLBACK");
        } else if self.writers_queued.load(Ordering::SeqCst) == 0 {
            self.commit_open_batch(state);
        }
    }

    fn commit_open_batch(&self, state: &mut WriterState) {
        let Some(batch) = state.open_batch.take() else { return };
        let failure = match run_cached(&state.connection, "COMMIT") {
            Ok(()) => {
                self.batches_committed.fetch_add(1, Ordering::Relaxed);
                self.writes_committed.fetch_add(batch.members as u64, Ordering::Relaxed);
                None
            }
            Err(error) => {
                if !state.connection.is_autocommit() {
                    let _ = state.connection.execute_batch("ROLLBACK");
                }
                Some(BatchFailure::CommitFailed(Arc::new(error)))
            }
        };
        state.finish_batch(batch, failure);
        self.batch_finished.notify_all();
    }
}

thread_local! {
    /// The writer state the writer thread holds during a run, with the ID of the writer it belongs to.
    static HELD_STATE: std::cell::RefCell<Option<(usize, WriterState)>> = const { std::cell::RefCell::new(None) };
    /// The batch that holds the writes of the call the writer thread is running (a call's successful writes all
    /// join one batch: the batch changes within a run only when SQLite drops it, failing the write that caused it).
    static HELD_CALL_BATCH: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// Runs one call of a writer-thread run; returns its value and the batch its writes joined, if it wrote.
pub(crate) fn run_held_call<R>(call: impl FnOnce() -> R) -> (R, Option<u64>) {
    HELD_CALL_BATCH.with(|call_batch| call_batch.set(None));
    let returned = call();
    (returned, HELD_CALL_BATCH.with(|call_batch| call_batch.take()))
}

impl WriterState {
    fn join_or_begin_batch(&mut self) -> Result<u64, DatabaseError> {
        if let Some(batch) = self.open_batch {
            return Ok(batch.id);
        }
        run_cached(&self.connection, "BEGIN IMMEDIATE")?;
        let id = self.next_batch_id;
        self.next_batch_id += 1;
        self.open_batch = Some(OpenBatch { id, members: 0, members_told_directly: 0 });
        Ok(id)
    }

    fn run_in_savepoint<T, E>(&mut self, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError>,
    {
        run_cached(&self.connection, "SAVEPOINT numbind_write").map_err(DatabaseError::from)?;
        match work(&self.connection) {
            Ok(value) => match run_cached(&self.connection, "RELEASE numbind_write") {
                Ok(()) => Ok(value),
                Err(error) => {
                    self.roll_back_savepoint();
                    Err(E::from(DatabaseError::from(error)))
                }
            },
            Err(error) => {
                self.roll_back_savepoint();
                Err(error)
            }
        }
    }

    /// A held write failed: if SQLite threw the whole transaction away, the batch (and every call in it) failed.
    fn after_failed_held_write(&mut self) {
        let Some(batch) = self.open_batch else { return };
        if self.connection.is_autocommit() {
            self.open_batch = None;
            self.finish_batch(batch, Some(BatchFailure::RolledBackByStorage));
        }
    }

    fn roll_back_savepoint(&self) {
        if !self.connection.is_autocommit() {
            let _ = self.connection.execute_batch("ROLLBACK TO numbind_write; RELEASE numbind_write");
        }
    }

    fn count_member(&mut self) {
        if let Some(batch) = self.open_batch.as_mut() {
            batch.members += 1;
        }
    }

    fn finish_batch(&mut self, batch: OpenBatch, failure: Option<BatchFailure>) {
        if let Some(failure) = failure.as_ref().filter(|_| batch.members_told_directly > 0) {
            self.held_run_failures.insert(batch.id, failure.clone());
        }
        let members_not_told = batch.members - batch.members_told_directly;
        if let Some(failure) = failure.filter(|_| members_not_told > 0) {
            self.failed_batches.insert(batch.id, FailedBatch { failure, members_not_told });
        }
        self.finished_through = batch.id;
    }

    fn outcome_of(&mut self, batch_id: u64) -> Result<(), DatabaseError> {
        let Some(failed) = self.failed_batches.get_mut(&batch_id) else { return Ok(()) };
        let failure = failed.failure.clone();
        failed.members_not_told -= 1;
        if failed.members_not_told == 0 {
            self.failed_batches.remove(&batch_id);
        }
        Err(DatabaseError::BatchFailed(failure))
    }
}

#[cfg(test)]
pub(crate) mod tests;
