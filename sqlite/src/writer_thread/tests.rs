//! Tests of the writer thread.

use super::*;
use crate::group_commit::tests::names_on_disk;
use crate::WriteStatistics;
use std::time::{Duration, Instant};

fn insert(writer: &GroupCommitWriter, name: &str) -> Result<(), DatabaseError> {
    writer.write(|connection| crate::group_commit::tests::insert(connection, name))
}

fn writer_on_file(directory: &tempfile::TempDir) -> Arc<GroupCommitWriter> {
    crate::group_commit::tests::writer_on_file(directory, 128)
}

type Call = Box<dyn FnOnce(&GroupCommitWriter) -> Result<(), DatabaseError> + Send>;

/// Keeps the writer thread busy with one call (which writes `blocker`) until every one of `calls` is queued
/// behind it, so that they all run in one batch; returns their answers in order.
async fn run_queued_behind_a_busy_thread(
    writer: &Arc<GroupCommitWriter>,
    thread: &Arc<WriterThread>,
    calls: Vec<Call>,
) -> Vec<Result<(), DatabaseError>> {
    let (started, first_is_running) = std::sync::mpsc::channel();
    let (release, hold) = std::sync::mpsc::channel::<()>();
    let blocker = {
        let (writer, thread) = (Arc::clone(writer), Arc::clone(thread));
        tokio::spawn(async move {
            thread
                .run(move || {
                    insert(&writer, "blocker")?;
                    started.send(()).unwrap();
                    hold.recv().unwrap();
                    Ok::<_, DatabaseError>(())
                })
                .await
        })
    };
    first_is_running.recv().unwrap();
    let count = calls.len();
    let queued: Vec<_> = calls
        .into_iter()
        .map(|call| {
            let (writer, thread) = (Arc::clone(writer), Arc::clone(thread));
            tokio::spawn(async move { thread.run(move || call(&writer)).await })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while thread.queued_calls() < count {
        assert!(Instant::now() < deadline, "the calls never queued");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    release.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    let mut answers = Vec::new();
    for call in queued {
        answers.push(call.await.unwrap());
    }
    answers
}

fn inserting(name: &'static str) -> Call {
    Box::new(move |writer| insert(writer, name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_queued_while_the_thread_is_busy_share_one_commit() {
    let directory = tempfile::tempdir().unwrap();
    let writer = writer_on_file(&directory);
    let thread = Arc::new(WriterThread::start(Arc::clone(&writer), 128).unwrap());
    let calls = (0..5).map(|index| inserting(["a", "b", "c", "d", "e"][index])).collect();
    let answers = run_queued_behind_a_busy_thread(&writer, &thread, calls).await;
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    assert_eq!(names_on_disk(&directory), vec!["a", "b", "blocker", "c", "d", "e"]);
    assert_eq!(writer.statistics(), WriteStatistics { batches_committed: 2, writes_committed: 6 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_or_panicking_call_takes_back_only_its_own_writes() {
    let directory = tempfile::tempdir().unwrap();
    let writer = writer_on_file(&directory);
    let thread = Arc::new(WriterThread::start(Arc::clone(&writer), 128).unwrap());
    let fails: Call = Box::new(|writer| insert(writer, "blocker"));
    let panics: Call = Box::new(|writer| {
        writer.write(|connection| -> Result<(), DatabaseError> {
            connection.execute("INSERT INTO things (name) VALUES ('half-written')", [])?;
            panic!("a bug in a store call")
        })
    });
    let calls = vec![inserting("first"), fails, panics, inserting("last")];
    let answers = run_queued_behind_a_busy_thread(&writer, &thread, calls).await;
    assert!(answers[0].is_ok() && answers[3].is_ok(), "{answers:?}");
    assert!(matches!(answers[1], Err(DatabaseError::Sqlite(_))), "{answers:?}");
    assert!(matches!(answers[2], Err(DatabaseError::TaskFailed)), "{answers:?}");
    assert_eq!(names_on_disk(&directory), vec!["blocker", "first", "last"]);
    let writer_after = Arc::clone(&writer);
    thread.run(move || insert(&writer_after, "after the panic")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_full_disk_a_call_is_answered_ok_exactly_when_its_write_is_on_disk() {
    let directory = tempfile::tempdir().unwrap();
    let writer = writer_on_file(&directory);
    writer
        .write(|connection| -> Result<(), DatabaseError> {
            Ok(connection.execute_batch("PRAGMA max_page_count = 40")?)
        })
        .unwrap();
    let thread = Arc::new(WriterThread::start(Arc::clone(&writer), 128).unwrap());
    let fills_the_disk: Call = Box::new(|writer| {
        writer.write(|connection| -> Result<(), DatabaseError> {
            connection.execute("INSERT INTO things (name, payload) VALUES ('big', randomblob(1000000))", [])?;
            Ok(())
        })
    });
    let names = ["one", "two", "big", "three"];
    let calls = vec![inserting("one"), inserting("two"), fills_the_disk, inserting("three")];
    let answers = run_queued_behind_a_busy_thread(&writer, &thread, calls).await;
    assert!(answers[2].as_ref().unwrap_err().is_storage_unavailable(), "{answers:?}");
    let on_disk = names_on_disk(&directory);
    for (name, answer) in names.iter().zip(&answers) {
        assert_eq!(answer.is_ok(), on_disk.contains(&name.to_string()), "{name}: {answer:?}, on disk {on_disk:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_writers_and_the_writer_thread_take_turns_without_losing_a_write() {
    let directory = tempfile::tempdir().unwrap();
    let writer = writer_on_file(&directory);
    let thread = Arc::new(WriterThread::start(Arc::clone(&writer), 128).unwrap());
    let blocking: Vec<_> = (0..4)
        .map(|worker| {
            let writer = Arc::clone(&writer);
            std::thread::spawn(move || {
                (0..25).try_for_each(|index| insert(&writer, &format!("blocking {worker} {index}")))
            })
        })
        .collect();
    let queued: Vec<_> = (0..4)
        .map(|worker| {
            let (writer, thread) = (Arc::clone(&writer), Arc::clone(&thread));
            tokio::spawn(async move {
                for index in 0..25 {
                    let writer = Arc::clone(&writer);
                    thread.run(move || insert(&writer, &format!("queued {worker} {index}"))).await?;
                }
                Ok::<_, DatabaseError>(())
            })
        })
        .collect();
    let finished = tokio::time::timeout(Duration::from_secs(60), async {
        for task in queued {
            task.await.unwrap().unwrap();
        }
    });
    finished.await.expect("the writers deadlocked");
    for handle in blocking {
        handle.join().unwrap().unwrap();
    }
    assert_eq!(names_on_disk(&directory).len(), 200);
}

/// A push wakes the thread only when it is parked: each call made after the thread has gone idle again must still
/// wake it (a lost wake-up would leave the call waiting for ever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_made_after_the_thread_went_idle_wakes_it_every_time() {
    let directory = tempfile::tempdir().unwrap();
    let writer = writer_on_file(&directory);
    let thread = WriterThread::start(Arc::clone(&writer), 128).unwrap();
    for round in 0..20 {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let name = format!("idle-{round:02}");
        let call_writer = Arc::clone(&writer);
        let answered = tokio::time::timeout(Duration::from_secs(10), thread.run(move || insert(&call_writer, &name)));
        answered.await.expect("the parked writer thread was not woken").unwrap();
    }
    assert_eq!(names_on_disk(&directory).len(), 20);
    assert_eq!(writer.statistics().batches_committed, 20);
}
