//! Read connections: each read runs on its own WAL snapshot of committed data, beside the writer, never behind it.
//!
//! Connections are opened on demand and kept for reuse (up to `max_idle`). A read sees only committed
//! transactions, so it never observes a group-commit batch that could still fail.

use crate::{run_cached, DatabaseError};
use rusqlite::{Connection, OpenFlags};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// The page cache of each read connection, in KiB.
const READ_CONNECTION_CACHE_KIB: i64 = 256;

pub(crate) struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    max_idle: usize,
}

impl ReadPool {
    pub(crate) fn new(path: PathBuf, max_idle: usize) -> ReadPool {
        ReadPool { path, idle: Mutex::new(Vec::new()), max_idle }
    }

    /// Runs `work` in one read transaction (a consistent snapshot) on a pooled connection.
    pub(crate) fn read<T, E>(&self, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError>,
    {
        let connection = self.check_out()?;
        run_cached(&connection, "BEGIN DEFERRED").map_err(DatabaseError::from)?;
        let outcome = work(&connection);
        // A read transaction has nothing to keep: ending it releases the snapshot. The BEGIN and COMMIT statements
        // are cached (parsing them cost as much as a one-row read). A connection whose transaction would not end
        // is dropped rather than pooled, so no later read can start inside a stale snapshot.
        if run_cached(&connection, "COMMIT").is_ok() {
            self.check_in(connection);
        }
        outcome
    }

    /// Runs `work`, which must run exactly one query, on a pooled connection without an explicit transaction: the
    /// query is its own snapshot, and the `BEGIN` and `COMMIT` around it (a quarter of a one-row read's cost in
    /// the boot-storm bench) are saved. A connection left inside a transaction is dropped rather than pooled.
    pub(crate) fn read_one_query<T, E>(&self, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError>,
    {
        let connection = self.check_out()?;
        let outcome = work(&connection);
        if connection.is_autocommit() {
            self.check_in(connection);
        }
        outcome
    }

    fn check_out(&self) -> Result<Connection, DatabaseError> {
        let pooled = self.idle.lock().map_err(|_| DatabaseError::Poisoned)?.pop();
        match pooled {
            Some(connection) => Ok(connection),
            None => self.open_connection(),
        }
    }

    fn check_in(&self, connection: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < self.max_idle {
                idle.push(connection);
            }
        }
    }

    fn open_connection(&self) -> Result<Connection, DatabaseError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let connection = Connection::open_with_flags(&self.path, flags)?;
        connection.pragma_update(None, "query_only", "ON")?;
        // Every pooled connection caches pages of its own: SQLite's default 2 MiB each made 16 readers hold up to
        // 32 MiB of copies of the same pages. 256 KiB keeps the B-tree interior pages that point reads walk; leaf
        // pages come from the OS page cache, which all readers share.
        connection.pragma_update(None, "cache_size", -READ_CONNECTION_CACHE_KIB)?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(Duration::from_secs(5))?;
        connection.set_prepared_statement_cache_capacity(crate::STATEMENT_CACHE_CAPACITY);
        Ok(connection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAL file with an empty `things` table: its directory, a writing connection and a pool of 4 readers.
    fn things_database() -> (tempfile::TempDir, Connection, ReadPool) {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("pool.db");
        let writer = Connection::open(&path).unwrap();
        writer.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE things (name TEXT NOT NULL);").unwrap();
        (directory, writer, ReadPool::new(path, 4))
    }

    #[test]
    fn each_read_ends_its_snapshot_so_the_next_read_on_the_pooled_connection_sees_new_commits() {
        let (_directory, writer, pool) = things_database();
        let count = |pool: &ReadPool| {
            pool.read(|connection| -> Result<i64, DatabaseError> {
                Ok(connection.query_row("SELECT count(*) FROM things", [], |row| row.get(0))?)
            })
            .unwrap()
        };
        assert_eq!(count(&pool), 0);
        writer.execute("INSERT INTO things (name) VALUES ('a')", []).unwrap();
        assert_eq!(count(&pool), 1, "the pooled connection is not stuck in the first snapshot");
        assert_eq!(pool.idle.lock().unwrap().len(), 1, "one connection, reused");
        let failed = pool.read(|connection| -> Result<i64, DatabaseError> {
            Ok(connection.query_row("SELECT count(*) FROM no_such_table", [], |row| row.get(0))?)
        });
        assert!(failed.is_err());
        writer.execute("INSERT INTO things (name) VALUES ('b')", []).unwrap();
        assert_eq!(count(&pool), 2, "a failed read ends its snapshot too");
    }

    #[test]
    fn a_one_query_read_sees_each_new_commit_and_a_connection_left_in_a_transaction_is_not_pooled() {
        let (_directory, writer, pool) = things_database();
        let count = |pool: &ReadPool| {
            pool.read_one_query(|connection| -> Result<i64, DatabaseError> {
                Ok(connection.prepare_cached("SELECT count(*) FROM things")?.query_row([], |row| row.get(0))?)
            })
            .unwrap()
        };
        assert_eq!(count(&pool), 0);
        writer.execute("INSERT INTO things (name) VALUES ('a')", []).unwrap();
        assert_eq!(count(&pool), 1, "the cached statement was reset: no snapshot outlives the query");
        assert_eq!(pool.idle.lock().unwrap().len(), 1, "one connection, reused");
        pool.read_one_query(|connection| -> Result<(), DatabaseError> { Ok(connection.execute_batch("BEGIN")?) })
            .unwrap();
        assert_eq!(pool.idle.lock().unwrap().len(), 0, "left inside a transaction: dropped");
        writer.execute("INSERT INTO things (name) VALUES ('b')", []).unwrap();
        assert_eq!(count(&pool), 2);
    }

    #[test]
    fn a_read_connection_caches_256_kib_of_pages_not_sqlites_default_2_mib() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("pool.db");
        Connection::open(&path).unwrap().execute_batch("PRAGMA journal_mode = WAL").unwrap();
        let pool = ReadPool::new(path, 4);
        let cache_size = pool
            .read(|connection| -> Result<i64, DatabaseError> {
                Ok(connection.query_row("PRAGMA cache_size", [], |row| row.get(0))?)
            })
            .unwrap();
        assert_eq!(cache_size, -256, "negative: a size in KiB");
    }
}
