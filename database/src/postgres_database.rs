//! The PostgreSQL backend: a pool of blocking connections, the schema's own migrations run at open, and each write
//! as one transaction that first takes the store's write lock.
//!
//! Why one write lock: the store's use cases were written for SQLite's single writer (the audit chain's head is
//! read then extended, a code is redeemed after checking it is live). Taking one transaction-scoped advisory lock
//! before the first statement of every write keeps each of them exactly as correct across connections and nodes,
//! at READ COMMITTED, without a retry loop; reads never take it. A write whose connection is lost before `COMMIT`
//! answered was not acknowledged, so its caller's retry is safe.

use crate::connection::Connection;
use crate::postgres_client::PostgresClient;
use crate::{DatabaseError, QueryError};
use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Connections kept open for reuse.
const MAX_IDLE_CONNECTIONS: usize = 32;
/// How long to wait for a server that does not answer, when the URL does not say.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The advisory lock every write transaction holds until it ends ("numbind" in ASCII).
const WRITE_LOCK_KEY: i64 = 0x006e_756d_6269_6e64;
/// The advisory lock the migrations hold, so that nodes starting together migrate once.
const MIGRATION_LOCK_KEY: i64 = WRITE_LOCK_KEY + 1;

/// A component's PostgreSQL schema: its migrations in order (never edited once released, only appended to).
#[derive(Clone, Copy, Debug)]
pub struct PostgresSchema {
    pub migrations: &'static [&'static str],
}

impl PostgresSchema {
    pub const fn new(migrations: &'static [&'static str]) -> PostgresSchema {
        PostgresSchema { migrations }
    }

    /// The version a database has once migrated.
    pub const fn latest_version(&self) -> i64 {
        self.migrations.len() as i64
    }
}

/// The PostgreSQL database and its pool of idle connections, shared by clones.
#[derive(Clone)]
pub struct PostgresDatabase {
    inner: Arc<PostgresInner>,
}

struct PostgresInner {
    config: postgres::Config,
    idle: Mutex<Vec<PostgresClient>>,
}

impl Drop for PostgresInner {
    /// A `postgres` client blocks when dropped (it says goodbye to the server), which tokio forbids on an async
    /// worker; the last clone of a store may well be dropped there, so idle clients are dropped on a thread.
    fn drop(&mut self) {
        let idle = match self.idle.get_mut() {
            Ok(idle) => std::mem::take(idle),
            Err(poisoned) => std::mem::take(poisoned.into_inner()),
        };
        if idle.is_empty() {
            return;
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            let spawned = std::thread::Builder::new().name("postgres-close".into()).spawn(move || drop(idle));
            drop(spawned);
        } else {
            drop(idle);
        }
    }
}

impl PostgresDatabase {
    /// Connects to the database at `url` (`postgres://user@host:port/name?...`, several hosts and
    /// `target_session_attrs=read-write` allowed) and brings it to the latest version of `schema`.
    pub fn open(url: &str, schema: &PostgresSchema) -> Result<PostgresDatabase, DatabaseError> {
        let mut config: postgres::Config = url.parse().map_err(DatabaseError::InvalidUrl)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        let database = PostgresDatabase { inner: Arc::new(PostgresInner { config, idle: Mutex::new(Vec::new()) }) };
        database.with_client(|client| migrate(&mut client.borrow_mut().client, schema))?;
        Ok(database)
    }

    fn checkout(&self) -> Result<PostgresClient, DatabaseError> {
        let idle = self.inner.idle.lock().map_err(|_| DatabaseError::Poisoned)?.pop();
        match idle {
            Some(client) if !client.client.is_closed() => Ok(client),
            _ => {
                let client = self.inner.config.connect(postgres::NoTls).map_err(DatabaseError::Connect)?;
                Ok(PostgresClient::new(client))
            }
        }
    }

    fn checkin(&self, client: PostgresClient) {
        if client.client.is_closed() || client.broken {
            return;
        }
        if let Ok(mut idle) = self.inner.idle.lock() {
            if idle.len() < MAX_IDLE_CONNECTIONS {
                idle.push(client);
            }
        }
    }

    fn with_client<T, E>(&self, work: impl FnOnce(&RefCell<PostgresClient>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError>,
    {
        outside_async_workers(|| {
            let client = RefCell::new(self.checkout()?);
            let result = work(&client);
            self.checkin(client.into_inner());
            result
        })
    }

    /// Runs `work` in one transaction that begins with `begin`; commits when it succeeds, rolls back when not.
    fn in_transaction<T, E>(&self, begin: &str, work: impl FnOnce(&Connection<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError>,
    {
        self.with_client(|client| {
            client.borrow_mut().execute_batch(begin).map_err(DatabaseError::from)?;
            let result = work(&Connection::Postgres(client));
            let mut client = client.borrow_mut();
            match result {
                Ok(value) => {
                    client.execute_batch("COMMIT").map_err(DatabaseError::from)?;
                    Ok(value)
                }
                Err(error) => {
                    if client.execute_batch("ROLLBACK").is_err() {
                        client.broken = true;
                    }
                    Err(error)
                }
            }
        })
    }

    /// Runs `work` as one write transaction holding the write lock (see the module's documentation).
    pub fn write<T, E>(&self, work: impl FnOnce(&Connection<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError>,
    {
        let begin = format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})");
        self.in_transaction(&begin, work)
    }

    /// Runs `work` on one consistent snapshot of the committed data.
    pub fn read<T, E>(&self, work: impl FnOnce(&Connection<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError>,
    {
        self.in_transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", work)
    }

    /// Runs `work`, exactly one query, outside a transaction (one statement is its own snapshot).
    pub fn read_one_query<T, E>(&self, work: impl FnOnce(&Connection<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError>,
    {
        self.with_client(|client| work(&Connection::Postgres(client)))
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> Result<i64, DatabaseError> {
        self.read_one_query(|connection| {
            Ok(connection.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", (), |row| row.get(0))?)
        })
    }
}

/// Runs `work`, which blocks on a `postgres` client, where blocking is allowed. The client drives its connection
/// with a runtime of its own, which tokio refuses to enter from an async worker thread: the store's few hot reads
/// that run on the async workers (the session binding check, the polled activation) would panic there. On a
/// multi-threaded runtime `block_in_place` hands the worker's other tasks to another thread first; on the blocking
/// pool, the writer thread or a plain thread, `work` simply runs.
fn outside_async_workers<R>(work: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

fn migrate(client: &mut postgres::Client, schema: &PostgresSchema) -> Result<(), DatabaseError> {
    let mut transaction = client.transaction().map_err(QueryError::from)?;
    let run = |transaction: &mut postgres::Transaction<'_>| -> Result<(), DatabaseError> {
        transaction
            .batch_execute(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"))
            .map_err(QueryError::from)?;
        transaction
            .batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            .map_err(QueryError::from)?;
        let current: i64 = transaction
            .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
            .map_err(QueryError::from)?
            .get(0);
        let known = schema.latest_version();
        if current > known {
            return Err(DatabaseError::SchemaTooNew { found: current, known });
        }
        for (index, migration) in schema.migrations.iter().enumerate().skip(current as usize) {
            transaction.batch_execute(migration).map_err(QueryError::from)?;
            transaction
                .execute("INSERT INTO schema_version (version) VALUES ($1)", &[&(index as i64 + 1)])
                .map_err(QueryError::from)?;
        }
        Ok(())
    };
    run(&mut transaction)?;
    transaction.commit().map_err(QueryError::from)?;
    Ok(())
}
