//! Read connections: each read runs on its own WAL snapshot of committed data, beside the writer, never behind it.
//!
//! Connections are opened on demand and kept for reuse (up to `max_idle`). A read sees only committed
//! transactions, so it never observes a group-commit batch that could still fail.

use crate::DatabaseError;
use rusqlite::{Connection, OpenFlags};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

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
        let outcome = Self::in_snapshot(&connection, work);
        self.check_in(connection);
        outcome
    }

    fn in_snapshot<T, E>(connection: &Connection, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError>,
    {
        let snapshot = connection.unchecked_transaction().map_err(DatabaseError::from)?;
        let outcome = work(&snapshot);
        // A read transaction has nothing to keep: ending it either way releases the snapshot.
        drop(snapshot);
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
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(Duration::from_secs(5))?;
        Ok(connection)
    }
}
