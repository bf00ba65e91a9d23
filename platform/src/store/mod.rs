//! All SQL of the platform: one SQLite file (WAL, synchronous=FULL), migrated at open, one method per query.
//!
//! Methods are blocking; async code calls them through [`Store::call`], which runs them on the blocking pool.
//! One connection behind a mutex makes the store a single writer: two redemptions of one code are serialised
//! and each runs in one `BEGIN IMMEDIATE` transaction, so exactly one wins.

mod activations;
mod audit;
mod bindings;
mod confirmations;
mod manifest;
mod nonces;
mod operators;
mod outbox;
mod redemption_limits;
mod redemptions;
mod schema;
mod terminals;

pub use activations::{IssueLimits, IssueOutcome};
pub use audit::{verify_audit_chain_file, AuditEvent, AuditRecord};
pub use bindings::{Binding, ResetOutcome, UnbindOutcome};
pub use confirmations::ConfirmationOutcome;
pub use manifest::ManifestImportOutcome;
pub use operators::{BindingFilter, BindingRecord};
pub use outbox::OutboxSms;
pub use redemption_limits::{LimitedRedemption, LimitedRedemptionAnswer};
pub use redemptions::RedemptionOutcome;
pub use terminals::{RegistrationOutcome, Terminal};

use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Why the store could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("sqlite failed")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database has schema version {found}, newer than this build knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("a stored row is malformed: {0}")]
    MalformedRow(&'static str),
    #[error("the system random source failed")]
    RandomSourceFailed,
    #[error("the store lock is poisoned")]
    Poisoned,
    #[error("the blocking store task failed")]
    TaskFailed,
}

/// The platform's database.
#[derive(Clone)]
pub struct Store {
    connection: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Store")
    }
}

impl Store {
    /// Opens (creating if needed) the database file and runs the migrations.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        Self::prepare(connection)
    }

    /// A private in-memory database for unit tests.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Self::prepare(Connection::open_in_memory()?)
    }

    fn prepare(mut connection: Connection) -> Result<Store, StoreError> {
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::migrate(&mut connection)?;
        Ok(Store { connection: Arc::new(Mutex::new(connection)) })
    }

    /// Runs `work` on the blocking thread pool with this store.
    pub async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || work(&store)).await.map_err(|_| StoreError::TaskFailed)?
    }

    fn with_connection<T>(&self, work: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut connection = self.connection.lock().map_err(|_| StoreError::Poisoned)?;
        work(&mut connection)
    }

    /// Runs `work` in one immediate (write-locking) transaction, committed when it returns `Ok`.
    fn in_transaction<T>(
        &self,
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with_connection(|connection| {
            let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let outcome = work(&transaction)?;
            transaction.commit()?;
            Ok(outcome)
        })
    }

    /// Answers when the database does (health check).
    pub fn ping(&self) -> Result<(), StoreError> {
        self.with_connection(|connection| {
            connection.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_store_is_migrated_once_and_reopens() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("platform.db");
        Store::open(&path).unwrap().ping().unwrap();
        let reopened = Store::open(&path).unwrap();
        let version: i64 = reopened
            .with_connection(|connection| {
                Ok(connection.query_row("SELECT version FROM schema_version", [], |row| row.get(0))?)
            })
            .unwrap();
        assert_eq!(version, schema::CURRENT_VERSION);
    }
}
