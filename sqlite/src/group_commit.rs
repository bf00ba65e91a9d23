//! Group commit: the one write connection, where concurrent writers share a transaction and one fsync.
//!
//! Each writer takes the connection, runs its work inside a savepoint of the open batch transaction (a failed
//! writer rolls back to its savepoint and leaves the others' work alone), joins the batch and then either commits
//! it or waits for its commit. The writer that finds nobody else queued for the connection commits (so a lone
//! writer commits at once, as a plain transaction would); under load the writers that arrive while one batch is
//! running or committing form the next batch, and a batch is committed early when it reaches `max_batch_members`.
//! Nobody returns before the batch holding its work is durably committed, and when that commit fails every member
//! of the batch gets the failure: an acknowledged write has always reached the disk, as with one commit per write.

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
    state: Mutex<WriterState>,
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
    open_batch: Option<OpenBatch>,
    next_batch_id: u64,
    finished_through: u64,
    failed_batches: HashMap<u64, FailedBatch>,
}

#[derive(Clone, Copy)]
struct OpenBatch {
    id: u64,
    members: usize,
}

struct FailedBatch {
    failure: BatchFailure,
    members_not_told: usize,
}

impl GroupCommitWriter {
    /// `max_batch_members` of 1 commits every write on its own (in-memory databases, where a commit is free).
    pub(crate) fn new(connection: Connection, max_batch_members: usize) -> GroupCommitWriter {
        GroupCommitWriter {
            state: Mutex::new(WriterState {
                connection,
                open_batch: None,
                next_batch_id: 1,
                finished_through: 0,
                failed_batches: HashMap::new(),
            }),
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
        self.writers_queued.fetch_add(1, Ordering::SeqCst);
        let locked = self.state.lock();
        self.writers_queued.fetch_sub(1, Ordering::SeqCst);
        let mut state = locked.map_err(|_| DatabaseError::Poisoned)?;
        let batch_id = state.join_or_begin_batch()?;
        match state.run_in_savepoint(work) {
            Ok(value) => {
                state.count_member();
                self.commit_or_wait(state, batch_id)?;
                Ok(value)
            }
            Err(error) => {
                self.after_failed_writer(&mut state);
                Err(error)
            }
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
        let state = self.state.lock().map_err(|_| DatabaseError::Poisoned)?;
        work(&state.connection)
    }

    fn commit_or_wait(&self, mut state: MutexGuard<'_, WriterState>, batch_id: u64) -> Result<(), DatabaseError> {
        let members = state.open_batch.map_or(0, |batch| batch.members);
        if members >= self.max_batch_members || self.writers_queued.load(Ordering::SeqCst) == 0 {
            self.commit_open_batch(&mut state);
        }
        while state.finished_through < batch_id {
            state = self.batch_finished.wait(state).map_err(|_| DatabaseError::Poisoned)?;
        }
        state.outcome_of(batch_id)
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

impl WriterState {
    fn join_or_begin_batch(&mut self) -> Result<u64, DatabaseError> {
        if let Some(batch) = self.open_batch {
            return Ok(batch.id);
        }
        run_cached(&self.connection, "BEGIN IMMEDIATE")?;
        let id = self.next_batch_id;
        self.next_batch_id += 1;
        self.open_batch = Some(OpenBatch { id, members: 0 });
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
        if let Some(failure) = failure.filter(|_| batch.members > 0) {
            self.failed_batches.insert(batch.id, FailedBatch { failure, members_not_told: batch.members });
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
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    const QUEUED_WRITERS: usize = 7;

    fn writer_on_file(directory: &tempfile::TempDir, max_batch_members: usize) -> Arc<GroupCommitWriter> {
        let connection = Connection::open(directory.path().join("group.db")).unwrap();
        connection.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL").unwrap();
        connection.execute_batch("CREATE TABLE things (name TEXT NOT NULL UNIQUE, payload BLOB)").unwrap();
        Arc::new(GroupCommitWriter::new(connection, max_batch_members))
    }

    fn insert(connection: &Connection, name: &str) -> Result<(), DatabaseError> {
        connection.execute("INSERT INTO things (name) VALUES (?1)", [name])?;
        Ok(())
    }

    fn names_on_disk(directory: &tempfile::TempDir) -> Vec<String> {
        let connection = Connection::open(directory.path().join("group.db")).unwrap();
        let mut statement = connection.prepare("SELECT name FROM things ORDER BY name").unwrap();
        let names = statement.query_map([], |row| row.get(0)).unwrap().collect::<Result<Vec<String>, _>>();
        names.unwrap()
    }

    /// Writer `first` starts a batch and holds the connection until `QUEUED_WRITERS` others are queued behind it;
    /// each queued writer runs `queued_work(index)`. Returns every writer's outcome, `first` at index 0.
    fn run_first_writer_with_a_queue_behind_it(
        writer: &Arc<GroupCommitWriter>,
        queued_work: fn(&Connection, usize) -> Result<(), DatabaseError>,
    ) -> Vec<Result<(), DatabaseError>> {
        let (started, first_is_running) = std::sync::mpsc::channel();
        let first = {
            let writer = Arc::clone(writer);
            std::thread::spawn(move || {
                let watched = Arc::clone(&writer);
                writer.write(|connection| {
                    insert(connection, "writer 0")?;
                    started.send(()).unwrap();
                    let deadline = Instant::now() + Duration::from_secs(20);
                    while watched.writers_queued.load(Ordering::SeqCst) < QUEUED_WRITERS {
                        assert!(Instant::now() < deadline, "the other writers never queued");
                        std::thread::yield_now();
                    }
                    Ok(())
                })
            })
        };
        first_is_running.recv().unwrap();
        let queued: Vec<_> = (1..=QUEUED_WRITERS)
            .map(|index| {
                let writer = Arc::clone(writer);
                std::thread::spawn(move || writer.write(|connection| queued_work(connection, index)))
            })
            .collect();
        std::iter::once(first).chain(queued).map(|thread| thread.join().unwrap()).collect()
    }

    fn insert_numbered(connection: &Connection, index: usize) -> Result<(), DatabaseError> {
        insert(connection, &format!("writer {index}"))
    }

    #[test]
    fn writers_queued_behind_a_running_batch_share_its_one_commit() {
        let directory = tempfile::tempdir().unwrap();
        let writer = writer_on_file(&directory, 128);
        let outcomes = run_first_writer_with_a_queue_behind_it(&writer, insert_numbered);
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        assert_eq!(names_on_disk(&directory).len(), QUEUED_WRITERS + 1);
        assert_eq!(writer.statistics(), WriteStatistics { batches_committed: 1, writes_committed: 8 });
    }

    #[test]
    fn a_batch_at_its_size_limit_is_committed_without_waiting_for_the_queue() {
        let directory = tempfile::tempdir().unwrap();
        let writer = writer_on_file(&directory, 3);
        let outcomes = run_first_writer_with_a_queue_behind_it(&writer, insert_numbered);
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        assert_eq!(names_on_disk(&directory).len(), QUEUED_WRITERS + 1);
        assert_eq!(writer.statistics(), WriteStatistics { batches_committed: 3, writes_committed: 8 });
    }

    #[test]
    fn a_writer_failing_inside_a_batch_takes_back_only_its_own_work() {
        fn third_fails_after_writing(connection: &Connection, index: usize) -> Result<(), DatabaseError> {
            insert_numbered(connection, index)?;
            if index == 3 {
                // A UNIQUE violation with the first writer's row, which is in the batch before any queued writer
                // runs (queued writers run in no set order, so another queued writer's row could be absent).
                insert(connection, "writer 0")?;
            }
            Ok(())
        }
        let directory = tempfile::tempdir().unwrap();
        let writer = writer_on_file(&directory, 128);
        let outcomes = run_first_writer_with_a_queue_behind_it(&writer, third_fails_after_writing);
        let refused: Vec<usize> = (0..outcomes.len()).filter(|index| outcomes[*index].is_err()).collect();
        assert_eq!(refused, vec![3]);
        let names = names_on_disk(&directory);
        assert_eq!(names.len(), QUEUED_WRITERS);
        assert!(!names.contains(&"writer 3".to_string()), "{names:?}");
        assert_eq!(writer.statistics(), WriteStatistics { batches_committed: 1, writes_committed: 7 });
    }

    #[test]
    fn on_a_full_disk_a_write_is_acknowledged_exactly_when_it_is_on_disk() {
        fn fifth_fills_the_disk(connection: &Connection, index: usize) -> Result<(), DatabaseError> {
            insert_numbered(connection, index)?;
            if index == 5 {
                connection.execute("UPDATE things SET payload = randomblob(1000000) WHERE name = 'writer 5'", [])?;
            }
            Ok(())
        }
        let directory = tempfile::tempdir().unwrap();
        let writer = writer_on_file(&directory, 128);
        writer
            .write(|connection| -> Result<(), DatabaseError> {
                Ok(connection.execute_batch("PRAGMA max_page_count = 40")?)
            })
            .unwrap();
        let outcomes = run_first_writer_with_a_queue_behind_it(&writer, fifth_fills_the_disk);
        let fifth = outcomes[5].as_ref().unwrap_err();
        assert!(fifth.is_storage_unavailable(), "{fifth:?}");
        let names = names_on_disk(&directory);
        for (index, outcome) in outcomes.iter().enumerate() {
            let on_disk = names.contains(&format!("writer {index}"));
            assert_eq!(outcome.is_ok(), on_disk, "writer {index}: {outcome:?}, on disk: {on_disk}");
        }
        assert!(writer.write(|connection| insert(connection, "after the storm")).is_ok());
    }

    #[test]
    fn a_lone_writer_commits_at_once() {
        let directory = tempfile::tempdir().unwrap();
        let writer = writer_on_file(&directory, 128);
        for index in 0..3 {
            writer.write(|connection| insert_numbered(connection, index)).unwrap();
            assert_eq!(names_on_disk(&directory).len(), index + 1, "committed before write returned");
        }
        assert_eq!(writer.statistics(), WriteStatistics { batches_committed: 3, writes_committed: 3 });
    }
}
