//! All SQL of the platform, on an SQLite file (WAL, synchronous=FULL) or a PostgreSQL database, migrated at open,
//! one method per query.
//!
//! Methods are blocking; async code calls them through [`Store::call`], which runs them on the blocking pool.
//! The SQL goes through `numbind_database`: one text for both backends (`?1` placeholders), and where the dialects
//! differ the module that owns the query picks its text by [`numbind_database::Dialect`]. Writes are serialised:
//! on SQLite through the database's one write connection (each write atomic in its own savepoint of a
//! group-committed transaction), on PostgreSQL by the write lock each write transaction takes first; so two
//! redemptions of one code are serialised and exactly one wins, and none returns before its write is durable.
//! Reads see committed data only.
//!
//! Layers, each importing only those below it: `tables/` (one module per table, none imports a sibling), then
//! `revoke` (the audited revocation several use cases share), then the use cases that span tables (`register`,
//! `issue`, `redeem`, `redeem_within_limits`, `confirm`, `unbind`, `operators`, `audit_checkpoints`,
//! `audit_verification`, `hub_checks`: the national blacklist and the audit of the hub's refusals).

mod audit_checkpoints;
mod audit_verification;
mod confirm;
mod disputes;
mod hub_checks;
mod issue;
#[cfg(any(test, feature = "test-support"))]
mod load_test;
mod merchants;
mod operators;
mod payment_confirmations;
mod payment_effects;
mod payment_ledger;
mod payment_outcomes;
mod payment_queries;
mod payment_repairs;
#[cfg(test)]
mod payment_tests;
mod payments;
mod postgres_schema;
mod redeem;
mod redeem_within_limits;
mod refunds;
mod register;
mod revoke;
mod schema;
mod statements;
mod tables;
mod unbind;

pub use audit_checkpoints::QueuedCheckpoint;
pub use audit_verification::{verify_audit_chain_file, verify_audit_trail_file};
pub use confirm::{BindingRoute, ConfirmationOutcome};
pub use disputes::{DisputeDecision, ResolveDisputeOutcome};
pub use hub_checks::{BlacklistChange, BlacklistEntry, HubRefusalEvent};
pub use issue::{IssueLimits, IssueOutcome};
pub use operators::{BindingFilter, BindingRecord};
pub use payment_confirmations::ConfirmationAnswer;
pub use payment_ledger::{LedgerEntry, LedgerReceipt, PaymentLedger, RefundExportRow};
pub use payment_outcomes::{MerchantCancellation, RecordedPayment};
pub use payment_queries::PaymentFilter;
pub use payment_repairs::{PaymentRepair, PaymentRepairOutcome, PaymentRepairRequest};
pub(crate) use payments::charge_request;
pub use payments::{ChargeToSend, CreatePaymentOutcome, NewConfirmation, NewPayment};
pub use redeem::RedemptionOutcome;
pub use redeem_within_limits::{LimitedRedemption, LimitedRedemptionAnswer};
pub use refunds::{CreateRefundOutcome, NewRefund};
pub use register::RegistrationOutcome;
pub use tables::audit_events::{AuditEvent, AuditRecord};
pub use tables::billing_outbox::{BillingKind, QueuedBilling};
pub use tables::bindings::Binding;
pub use tables::manifest::ManifestImportOutcome;
pub use tables::merchant_events::QueuedMerchantEvent;
pub use tables::merchants::Merchant;
pub use tables::outbox::OutboxSms;
pub use tables::payment_adjustments::PaymentAdjustment;
pub use tables::payments::PaymentRecord;
pub use tables::routing_tables::{RoutingImportOutcome, RoutingTableImport, StoredRoutingTable};
pub use tables::terminals::Terminal;
pub use unbind::{ResetOutcome, UnbindOutcome};

use crate::domain::audit_mac::AuditChainKey;
use numbind_database::{Connection, Database, DatabaseError, DatabaseLocation, QueryError};
use std::path::Path;

/// Why the store could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("sqlite failed")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the query failed")]
    Query(#[from] QueryError),
    #[error("the database failed")]
    Database(#[from] DatabaseError),
    #[error("a stored row is malformed: {0}")]
    MalformedRow(&'static str),
    #[error("the system random source failed")]
    RandomSourceFailed,
    /// The audit chain's head does not verify: nothing is appended to it until an operator looks.
    #[error("the audit chain does not verify, refusing to append to it: {0}")]
    AuditChainBroken(String),
    /// The store was opened without the platform's audit key: it cannot write or check a keyed audit event.
    #[error("no audit key: the store was opened without the platform's signing key")]
    AuditKeyMissing,
}

impl StoreError {
    /// The disk is full, the file or file system is read-only, or I/O failed; or the PostgreSQL server cannot be
    /// reached or cannot serve: nothing was written (the transaction was rolled back) and the request may be
    /// retried later.
    pub fn is_storage_unavailable(&self) -> bool {
        match self {
            StoreError::Sqlite(error) => numbind_sqlite::is_storage_unavailable(error),
            StoreError::Query(error) => error.is_storage_unavailable(),
            StoreError::Database(error) => error.is_storage_unavailable(),
            // Nothing was written; the operator must run `numbind audit verify` before writes can go on.
            StoreError::AuditChainBroken(_) => true,
            _ => false,
        }
    }
}

impl From<numbind_sqlite::DatabaseError> for StoreError {
    fn from(error: numbind_sqlite::DatabaseError) -> StoreError {
        StoreError::Database(DatabaseError::Sqlite(error))
    }
}

/// Parses a column's stored text into its type, naming the column when the text is malformed.
pub(crate) fn parse_column<T, E>(
    text: &str,
    column: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    parse(text).map_err(|_| StoreError::MalformedRow(column))
}

/// The text of a snake_case enum value (a payment state, a denial reason), as stored.
pub(crate) fn enum_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        _ => String::new(),
    }
}

/// The platform's database.
#[derive(Clone, Debug)]
pub struct Store {
    database: Database,
    /// MACs every audit event appended (`with_audit_key`); without it nothing can be audited, so nothing that
    /// appends an audit event is written.
    audit_key: Option<AuditChainKey>,
    /// In unit tests run on PostgreSQL (`NUMBIND_TEST_STORE=postgres`), the test's own database, dropped with the
    /// last clone of the store.
    #[cfg(test)]
    #[allow(dead_code, reason = "held for its Drop: the database is dropped with the last clone of the store")]
    test_database: Option<std::sync::Arc<numbind_database::TestPostgresDatabase>>,
}

impl Store {
    /// Opens (creating if needed) the database file and runs the migrations; give it the platform's audit key with
    /// [`Store::with_audit_key`] before anything that appends an audit event.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_at(&DatabaseLocation::Sqlite(path.to_path_buf()))
    }

    /// Opens the database at `location`, an SQLite file or a PostgreSQL URL, and runs its backend's migrations.
    pub fn open_at(location: &DatabaseLocation) -> Result<Store, StoreError> {
        let database = Database::open(location, &schema::SCHEMA, &postgres_schema::POSTGRES_SCHEMA)?;
        Ok(Store {
            database,
            audit_key: None,
            #[cfg(test)]
            test_database: None,
        })
    }

    /// A private in-memory database for unit tests, its events keyed with a throwaway audit key.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let mut secret = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret)
            .map_err(|_| StoreError::RandomSourceFailed)?;
        let audit_key = Some(AuditChainKey::from_secret(&secret));
        #[cfg(test)]
        if std::env::var("NUMBIND_TEST_STORE").as_deref() == Ok("postgres") {
            return Store::open_test_postgres(audit_key);
        }
        let database = Database::open_in_memory(&schema::SCHEMA)?;
        Ok(Store {
            database,
            audit_key,
            #[cfg(test)]
            test_database: None,
        })
    }

    /// The second pass of the unit tests: the same store on a fresh PostgreSQL database of its own.
    #[cfg(test)]
    fn open_test_postgres(audit_key: Option<AuditChainKey>) -> Result<Store, StoreError> {
        let test_database = numbind_database::TestPostgresDatabase::create().map_err(QueryError::from)?;
        let location = DatabaseLocation::Postgres(test_database.url().to_owned());
        let database = Database::open(&location, &schema::SCHEMA, &postgres_schema::POSTGRES_SCHEMA)?;
        Ok(Store { database, audit_key, test_database: Some(std::sync::Arc::new(test_database)) })
    }

    /// This store MACs the audit events it appends, and checks the head's MAC, with `audit_key`.
    pub fn with_audit_key(self, audit_key: AuditChainKey) -> Store {
        Store { audit_key: Some(audit_key), ..self }
    }

    /// Runs `work` on the blocking thread pool with this store.
    pub async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.clone();
        numbind_sqlite::run_blocking(move || work(&store)).await
    }

    /// Runs `work`, one store call that writes in one transaction, on the database's writer thread: its write
    /// shares a commit with the others queued there, and the answer comes once that commit is durable. The call
    /// must not read its own write back through a read (it is not committed while the call runs).
    pub async fn call_write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        self.database.write_on_writer_thread(move || work(&store)).await
    }

    /// Runs `work` on a snapshot of the committed data.
    fn read<T>(&self, work: impl FnOnce(&Connection<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.database.read(work)
    }

    /// Runs `work`, exactly one query, on the committed data without a transaction around it (hot point reads).
    fn read_one_query<T>(&self, work: impl FnOnce(&Connection<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.database.read_one_query(work)
    }

    /// Runs `work` as one atomic write, durably committed (group commit on SQLite, one transaction holding the
    /// write lock on PostgreSQL) before this returns `Ok`.
    fn in_transaction<T>(&self, work: impl FnOnce(&Connection<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.database.write(work)
    }

    /// SQLite's commit counters, for `/metrics` (none on PostgreSQL, which keeps its own statistics).
    pub fn write_collector(&self) -> Option<numbind_sqlite::DatabaseWriteCollector> {
        self.database.write_collector()
    }

    /// True on SQLite: tests of SQLite's own behaviour (query plans, the file's tables) skip PostgreSQL.
    #[cfg(test)]
    pub(crate) fn runs_on_sqlite(&self) -> bool {
        self.database.dialect() == numbind_database::Dialect::Sqlite
    }

    /// Answers when the database does (health check).
    pub fn ping(&self) -> Result<(), StoreError> {
        Ok(self.database.ping()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store's unit tests again, on PostgreSQL: this test binary run with `NUMBIND_TEST_STORE=postgres` for
    /// the tests under `store::` (each on a fresh database `numbind_test_<random>` on 127.0.0.1:5432, dropped after).
    #[test]
    fn the_store_unit_tests_pass_on_postgresql_too() {
        if std::env::var("NUMBIND_TEST_STORE").is_ok() {
            return;
        }
        let test_binary = std::env::current_exe().unwrap();
        let output = std::process::Command::new(test_binary)
            .args(["store::", "--test-threads", "4"])
            .env("NUMBIND_TEST_STORE", "postgres")
            .output()
            .unwrap();
        let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "the store's tests on PostgreSQL failed:\n{report}");
    }

    #[test]
    fn a_file_store_is_migrated_once_and_reopens() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("platform.db");
        Store::open(&path).unwrap().ping().unwrap();
        let reopened = Store::open(&path).unwrap();
        assert_eq!(reopened.database.schema_version().unwrap(), schema::SCHEMA.latest_version());
    }

    /// Seen request nonces are no longer stored: replay protection lives in memory (`guards::replay_guard`). The
    /// `request_nonces` table of migration 1 is dropped by a later migration, so a status check writes nothing.
    #[test]
    fn the_nonce_table_is_gone_after_the_migrations() {
        let store = Store::open_in_memory().unwrap();
        if !store.runs_on_sqlite() {
            return;
        }
        let tables: i64 = store
            .read(|connection| {
                Ok(connection.query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE name = 'request_nonces'",
                    [],
                    |row| row.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(tables, 0);
    }
}
