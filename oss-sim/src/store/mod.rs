//! All SQL of the OSS: a concrete `Store` over one SQLite file (WAL, synchronous=FULL), migrations at open,
//! one method per query. Async callers go through `Store::call`, which runs on the blocking pool.

mod audit_checkpoints;
mod bindings;
mod charge_limits;
mod charges;
mod inbox;
mod money_rows;
mod outbox;
mod refunds;
mod self_service;
mod subscribers;

pub(crate) use audit_checkpoints::CheckpointInsert;
pub(crate) use bindings::{BindingFilter, NewBinding};
pub(crate) use charges::ChargeRecordFilter;
pub(crate) use inbox::{FinishedCommand, InboxInsert, InboxRow, InboxView, NewInboxMessage, Revocation};
pub(crate) use outbox::{OutboxRow, OutgoingReply};

use numbind_sqlite::{Database, DatabaseError, Schema};
use rusqlite::Connection;
use std::path::Path;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("a subscriber with this number exists")]
    SubscriberExists,
    /// A call named a payment or refund ID seen before, with another number or amount: never a retry.
    #[error("a call with this id was made before with other values")]
    ConflictingRetry,
    #[error("stored row is corrupt: {0}")]
    Corrupt(String),
    #[error("the database failed")]
    Database(#[from] DatabaseError),
}

const MIGRATIONS: &[&str] = &[
    r#"
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
"#,
    // Found by an audit of query plans (our databases run without statistics): the worker's polls
    // (`due_inbox_rows`, `next_inbox_due_at`) scanned the whole inbox, every SMS ever received, on every poll; a
    // terminal's bindings and an SMS's replies (`list_bindings`, `inbox_view`) scanned their whole tables.
    r#"
CREATE INDEX inbox_due ON inbox (next_attempt_at_ms) WHERE state = 'pending';
CREATE INDEX bindings_by_terminal ON bindings (terminal_id);
CREATE INDEX outbox_sms_by_inbox ON outbox_sms (inbox_id);
"#,
    // The worker's poll (`due_inbox_rows`) read every due pending row and sorted them all to return the oldest few:
    // with a backlog of hundreds of SMS it was 13% of the servers' CPU in the activation bench. Walking the pending
    // rows in arrival order, from the index alone, stops at the limit.
    r#"
CREATE INDEX inbox_pending_in_arrival_order ON inbox (inbox_id, next_attempt_at_ms, source) WHERE state = 'pending';
"#,
    // The platform's signed audit checkpoints: the OSS is the witness of the platform's audit chain.
    r#"
CREATE TABLE audit_checkpoints (
    sequence INTEGER PRIMARY KEY,
    head_hash TEXT NOT NULL,
    key_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    signature TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL
);
"#,
    // Billing: the charges and refunds of bound numbers, and subscribers' own charge limits.
    charges::BILLING_MIGRATION,
    // The pause and the monthly cap a number's owner sets by SMS (`暂停`, `限额 100`).
    self_service::SELF_SERVICE_MIGRATION,
];

const SCHEMA: Schema = Schema::new(MIGRATIONS);

/// The OSS's database handle; cheap to clone.
#[derive(Clone)]
pub(crate) struct Store {
    database: Database,
}

impl Store {
    pub(crate) fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store { database: Database::open(path, &SCHEMA)? })
    }

    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn open_in_memory() -> Result<Store, StoreError> {
        Ok(Store { database: Database::open_in_memory(&SCHEMA)? })
    }

    /// Runs `work` on a snapshot of the committed data.
    fn read<T>(&self, work: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.database.read(work)
    }

    /// Runs `work` as one atomic write, durably committed (group commit) before this returns `Ok`.
    fn write<T>(&self, work: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.database.write(work)
    }

    /// Runs a blocking store call on the blocking pool.
    pub(crate) async fn call<T, F>(&self, operation: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        numbind_sqlite::run_blocking(move || operation(&store)).await
    }

    /// Runs `operation`, one store call that writes in one transaction, on the database's writer thread: its write
    /// shares a commit with the others queued there, and the answer comes once that commit is durable. The call
    /// must not read its own write back through a read (it is not committed while the call runs).
    pub(crate) async fn call_write<T, F>(&self, operation: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        self.database.write_on_writer_thread(move || operation(&store)).await
    }

    /// The database's commit counters, for `/metrics`.
    pub(crate) fn write_collector(&self) -> numbind_sqlite::DatabaseWriteCollector {
        self.database.write_collector()
    }

    /// Answers when the database does.
    pub(crate) fn ping(&self) -> Result<(), StoreError> {
        Ok(self.database.ping()?)
    }

    #[cfg(test)]
    pub(crate) fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.database.schema_version()?)
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
