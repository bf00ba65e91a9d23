//! Tests of the group commit.

use super::*;
use std::time::{Duration, Instant};

const QUEUED_WRITERS: usize = 7;

/// A group-commit writer on a fresh WAL file in `directory` with one table, `things`.
pub(crate) fn writer_on_file(directory: &tempfile::TempDir, max_batch_members: usize) -> Arc<GroupCommitWriter> {
    let connection = Connection::open(directory.path().join("group.db")).unwrap();
    connection.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL").unwrap();
    connection.execute_batch("CREATE TABLE things (name TEXT NOT NULL UNIQUE, payload BLOB)").unwrap();
    Arc::new(GroupCommitWriter::new(connection, max_batch_members))
}

pub(crate) fn insert(connection: &Connection, name: &str) -> Result<(), DatabaseError> {
    connection.execute("INSERT INTO things (name) VALUES (?1)", [name])?;
    Ok(())
}

/// The names committed to the file, read through a connection of its own.
pub(crate) fn names_on_disk(directory: &tempfile::TempDir) -> Vec<String> {
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
