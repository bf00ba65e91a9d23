//! All SQL of the SMS centre: a concrete `Store` over one SQLite file (WAL, synchronous=FULL), migrations at
//! open, one method per query. Callers on async threads go through `Store::call` (spawn_blocking).

mod daily_counts;
mod fees;
mod messages;
mod parts;
mod sent;
mod submits;

pub(crate) use daily_counts::DailyCounts;
pub(crate) use fees::MobileTerminatedFee;
pub(crate) use messages::{NewMobileOriginated, NewMobileTerminated, QueuedDelivery};
pub(crate) use parts::NewPart;
use parts::PartOutcome;
pub(crate) use submits::{StoredSubmit, SubmitToStore};

use numbind_sqlite::{Database, DatabaseError, Schema};
use rusqlite::Connection;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the queue of account {system_id} is full")]
    QueueFull { system_id: String },
    #[error("stored row is corrupt: {0}")]
    Corrupt(String),
    #[error("the database failed")]
    Database(#[from] DatabaseError),
}

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE messages (
    message_id TEXT PRIMARY KEY,
    direction TEXT NOT NULL CHECK (direction IN ('mo', 'mt', 'receipt')),
    source TEXT NOT NULL,
    destination TEXT NOT NULL,
    text TEXT NOT NULL,
    account TEXT NOT NULL,
    client_reference TEXT,
    receipted_message_id TEXT,
    state TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    delivered_at_ms INTEGER
);
CREATE UNIQUE INDEX messages_client_reference ON messages (account, client_reference)
    WHERE client_reference IS NOT NULL;
CREATE INDEX messages_queue ON messages (state, next_attempt_at_ms) WHERE state = 'queued';
CREATE INDEX messages_inbox ON messages (destination, created_at_ms) WHERE direction = 'mt';
"#,
    r#"
CREATE TABLE mt_parts (
    account TEXT NOT NULL,
    destination TEXT NOT NULL,
    reference INTEGER NOT NULL,
    total INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    data_coding INTEGER NOT NULL,
    octets BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (account, destination, reference, total, sequence)
);
"#,
    // What an account sent in a span of time (reconciliation of the receipts the platform sent).
    r#"
CREATE INDEX messages_sent_by_account ON messages (account, created_at_ms) WHERE direction = 'mt';
"#,
    // The queue depth of one account, counted on every MO the phones send: without the account in an index the
    // count walks the whole queue of every account.
    r#"
CREATE INDEX messages_queued_by_account ON messages (account) WHERE state = 'queued';
"#,
    // Each part of a concatenated MT has its own message ID, outcome and receipt; a part whose siblings never
    // arrive expires. A receipt row says which final state it reports (NULL: delivered).
    r#"
ALTER TABLE mt_parts ADD COLUMN message_id TEXT;
ALTER TABLE mt_parts ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE mt_parts ADD COLUMN wants_receipt INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX mt_parts_message_id ON mt_parts (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX mt_parts_by_age ON mt_parts (created_at_ms);
CREATE TABLE mt_part_outcomes (
    message_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    whole_message_id TEXT,
    state TEXT NOT NULL CHECK (state IN ('delivered', 'failed')),
    created_at_ms INTEGER NOT NULL,
    done_at_ms INTEGER NOT NULL
);
ALTER TABLE messages ADD COLUMN receipt_state INTEGER;
"#,
    // The fee fields of a CMPP SUBMIT, kept with its message.
    r#"
CREATE TABLE mt_fees (
    message_id TEXT PRIMARY KEY,
    service_id TEXT NOT NULL,
    fee_user_type INTEGER NOT NULL,
    fee_type INTEGER NOT NULL,
    fee_code_fen INTEGER NOT NULL,
    fee_terminal_id TEXT NOT NULL
);
"#,
];

const SCHEMA: Schema = Schema::new(MIGRATIONS);

/// The SMS centre's database handle; cheap to clone.
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
}
