//! All SQL of the OSS: a concrete `Store` over one SQLite file (WAL, synchronous=FULL), migrations at open,
//! one method per query. Async callers go through `Store::call`, which runs on the blocking pool.

mod bindings;
mod inbox;
mod outbox;
mod subscribers;

pub(crate) use bindings::{BindingFilter, NewBinding};
pub(crate) use inbox::{FinishedCommand, InboxInsert, InboxRow, InboxView, NewInboxMessage, Revocation};
pub(crate) use outbox::{OutboxRow, OutgoingReply};

use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("a subscriber with this number exists")]
    SubscriberExists,
    #[error("stored row is corrupt: {0}")]
    Corrupt(String),
    #[error("the store lock is poisoned")]
    Poisoned,
    #[error("the store task failed: {0}")]
    TaskFailed(String),
}

const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE subscribers (
    msisdn TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    plan TEXT NOT NULL,
    device_limit INTEGER NOT NULL CHECK (device_limit >= 0),
    billing_allowed INTEGER NOT NULL CHECK (billing_allowed IN (0, 1)),
    balance_fen INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE TABLE bindings (
    binding_id TEXT PRIMARY KEY,
    msisdn TEXT NOT NULL,
    terminal_id TEXT NOT NULL,
    device_model TEXT NOT NULL,
    activation_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('active', 'revoked')),
    created_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER,
    revoked_reason TEXT
);
CREATE UNIQUE INDEX bindings_one_active_per_terminal ON bindings (terminal_id) WHERE state = 'active';
CREATE INDEX bindings_by_msisdn ON bindings (msisdn, state);
CREATE TABLE inbox (
    inbox_id INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key TEXT NOT NULL UNIQUE,
    smsc_message_id TEXT,
    source TEXT NOT NULL,
    destination TEXT NOT NULL,
    text TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'processed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    last_error TEXT,
    redemption_json TEXT,
    verdict_json TEXT,
    command_kind TEXT,
    outcome TEXT,
    processed_at_ms INTEGER
);
CREATE INDEX inbox_pending ON inbox (source, inbox_id) WHERE state = 'pending';
CREATE INDEX inbox_by_smsc_message_id ON inbox (smsc_message_id);
CREATE TABLE outbox_sms (
    outbox_id INTEGER PRIMARY KEY AUTOINCREMENT,
    inbox_id INTEGER REFERENCES inbox (inbox_id),
    destination TEXT NOT NULL,
    text TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sent')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    last_error TEXT,
    smsc_message_id TEXT,
    created_at_ms INTEGER NOT NULL,
    sent_at_ms INTEGER
);
CREATE INDEX outbox_queue ON outbox_sms (next_attempt_at_ms) WHERE state = 'queued';
"#];

/// The OSS's database handle; cheap to clone.
#[derive(Clone)]
pub(crate) struct Store {
    connection: Arc<Mutex<Connection>>,
}

impl Store {
    pub(crate) fn open(path: &Path) -> Result<Store, StoreError> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        Store::migrate(connection)
    }

    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn open_in_memory() -> Result<Store, StoreError> {
        Store::migrate(Connection::open_in_memory()?)
    }

    fn migrate(mut connection: Connection) -> Result<Store, StoreError> {
        let transaction = connection.transaction()?;
        transaction.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
        let current: i64 =
            transaction.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", [], |row| row.get(0))?;
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            let version = index as i64 + 1;
            if version > current {
                transaction.execute_batch(migration)?;
                transaction.execute("INSERT INTO schema_version (version) VALUES (?1)", [version])?;
            }
        }
        transaction.commit()?;
        Ok(Store { connection: Arc::new(Mutex::new(connection)) })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.connection.lock().map_err(|_| StoreError::Poisoned)
    }

    /// Runs a blocking store call on the blocking pool.
    pub(crate) async fn call<T, F>(&self, operation: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || operation(&store))
            .await
            .map_err(|error| StoreError::TaskFailed(error.to_string()))?
    }

    /// Answers when the database does.
    pub(crate) fn ping(&self) -> Result<(), StoreError> {
        self.lock()?.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.lock()?.query_row("SELECT MAX(version) FROM schema_version", [], |row| row.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_is_migrated_to_the_latest_version() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        store.ping().unwrap();
    }

    #[test]
    fn reopening_a_file_keeps_its_data_and_does_not_migrate_twice() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("oss.db");
        let store = Store::open(&path).unwrap();
        store.seed_subscribers(&crate::domain::subscriber::demo_subscribers(), 1).unwrap();
        drop(store);
        let reopened = Store::open(&path).unwrap();
        assert_eq!(reopened.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(reopened.list_subscribers().unwrap().len(), 6);
    }
}
