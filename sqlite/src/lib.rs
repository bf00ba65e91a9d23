//! How every numbind component opens and uses its SQLite file, in one place.
//!
//! `Database::open` sets WAL, `synchronous=FULL` (an acknowledged change survives power loss), foreign keys and a
//! busy timeout, then applies the component's migrations in order inside one transaction, recording each in
//! `schema_version`; a file written by a newer build is refused rather than misread. Writes go through one
//! connection with group commit (see [`group_commit`]): concurrent writers share one transaction and one fsync, and
//! each returns only once its work is durable. Reads run on pooled read connections that see committed data only.
//! All calls block: async code reaches them through [`run_blocking`], or, for a store call that writes, through
//! [`Database::write_on_writer_thread`], which runs it on the database's writer thread with the others queued there.

mod group_commit;
mod metrics;
mod owner_only;
pub mod query_plan;
mod read_pool;
pub mod search_filters;
mod writer_thread;

pub use group_commit::{BatchFailure, WriteStatistics};
pub use metrics::DatabaseWriteCollector;

use group_commit::GroupCommitWriter;
use read_pool::ReadPool;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use writer_thread::WriterThread;

/// The most writers whose work shares one commit; a larger batch is committed at once.
const MAX_BATCH_MEMBERS: usize = 128;
/// Prepared statements each connection keeps (rusqlite's default is 16): every store query comes from the cache,
/// and a component has a few dozen hot ones, so a smaller cache would evict and re-parse them in turn.
const STATEMENT_CACHE_CAPACITY: usize = 128;
/// Read connections kept open for reuse.
const MAX_IDLE_READ_CONNECTIONS: usize = 16;

/// Why the database could not be opened or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatabaseError {
    #[error("sqlite failed")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the write was not committed")]
    BatchFailed(#[from] BatchFailure),
    #[error("the database has schema version {found}, newer than this build knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("the database connection lock is poisoned")]
    Poisoned,
    #[error("the blocking database task failed")]
    TaskFailed,
    #[error("the step after the migrations failed: {0}")]
    AfterMigrations(String),
    #[error("the database file is damaged ({0}); restore it from a backup")]
    Damaged(String),
    #[error("cannot make the database file owner-only")]
    Permissions(#[source] std::io::Error),
    #[error("cannot start the database's writer thread")]
    WriterThreadNotStarted(#[source] std::io::Error),
}

impl DatabaseError {
    /// True when the storage under the database, not the request, is at fault: a full disk, a read-only file or
    /// file system, an I/O error. Callers answer 503 and retry later; SQLite rolled the transaction back.
    pub fn is_storage_unavailable(&self) -> bool {
        match self {
            DatabaseError::Sqlite(error) => is_storage_unavailable(error),
            DatabaseError::BatchFailed(failure) => failure.is_storage_unavailable(),
            _ => false,
        }
    }
}

/// True when `error` comes from the storage (full, read-only, I/O failure, cannot open) rather than the query.
pub fn is_storage_unavailable(error: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode;
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DiskFull | ErrorCode::ReadOnly | ErrorCode::SystemIoFailure | ErrorCode::CannotOpen)
    )
}

/// Work that runs inside the migration transaction when any migration was applied (a backfill of a new column,
/// say), so that the file is never left half-migrated.
pub type AfterMigrations = fn(&Transaction<'_>) -> Result<(), DatabaseError>;

/// A component's schema: its migrations in order (never edited once released, only appended to).
#[derive(Clone, Copy)]
pub struct Schema {
    pub migrations: &'static [&'static str],
    pub after_migrations: Option<AfterMigrations>,
}

impl Schema {
    pub const fn new(migrations: &'static [&'static str]) -> Schema {
        Schema { migrations, after_migrations: None }
    }

    pub const fn with_after_migrations(self, after_migrations: AfterMigrations) -> Schema {
        Schema { migrations: self.migrations, after_migrations: Some(after_migrations) }
    }

    /// The version a file has once migrated.
    pub const fn latest_version(&self) -> i64 {
        self.migrations.len() as i64
    }
}

/// One component's database: the group-committing writer and the read connections, shared by clones.
#[derive(Clone)]
pub struct Database {
    inner: Arc<DatabaseInner>,
}

struct DatabaseInner {
    /// Declared first so that it stops (and lets go of the writer) before the writer drops.
    writer_thread: Option<WriterThread>,
    writer: Arc<GroupCommitWriter>,
    /// `None` for an in-memory database, whose only connection is the writer's.
    readers: Option<ReadPool>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Database")
    }
}

impl Database {
    /// Opens (creating if needed) the file at `path` and brings it to the latest version of `schema`.
    /// The file is owner-only (0600), made so before SQLite first writes it; SQLite gives its `-wal` and `-shm`
    /// files the database file's mode, and an older file readable by others is restricted.
    pub fn open(path: &Path, schema: &Schema) -> Result<Database, DatabaseError> {
        owner_only::make_owner_only(path).map_err(DatabaseError::Permissions)?;
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        let connection = Self::prepare(connection, schema)?;
        let writer = Arc::new(GroupCommitWriter::new(connection, MAX_BATCH_MEMBERS));
        let readers = ReadPool::new(path.to_path_buf(), MAX_IDLE_READ_CONNECTIONS);
        let writer_thread = Some(
            WriterThread::start(Arc::clone(&writer), MAX_BATCH_MEMBERS)
                .map_err(DatabaseError::WriterThreadNotStarted)?,
        );
        Ok(Database { inner: Arc::new(DatabaseInner { writer_thread, writer, readers: Some(readers) }) })
    }

    /// A private in-memory database with the same schema, for unit tests: every write commits on its own and
    /// reads share the one connection.
    pub fn open_in_memory(schema: &Schema) -> Result<Database, DatabaseError> {
        let connection = Self::prepare(Connection::open_in_memory()?, schema)?;
        let writer = Arc::new(GroupCommitWriter::new(connection, 1));
        Ok(Database { inner: Arc::new(DatabaseInner { writer_thread: None, writer, readers: None }) })
    }

    fn prepare(mut connection: Connection, schema: &Schema) -> Result<Connection, DatabaseError> {
        connection.pragma_update(None, "synchronous", "FULL")?;
        // Group commit runs each writer in a savepoint; SQLite keeps a savepoint's undo pages in a temporary
        // statement journal, by default a file created, written and deleted per batch (~14% of the SMS centre's
        // store CPU when profiled). Those pages are needed only until the transaction ends, never for durability,
        // so they stay in memory (bounded by one batch's changes).
        connection.pragma_update(None, "temp_store", "MEMORY")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(Duration::from_secs(5))?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        check_integrity(&connection)?;
        migrate(&mut connection, schema)?;
        Ok(connection)
    }

    /// Runs `work` as one atomic write: all of it is committed, durably, before this returns `Ok`, and none of it
    /// when `work` or the commit fails. Concurrent writes share a commit (group commit); `work` must not begin or
    /// end transactions itself.
    pub fn write<T, E>(&self, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError>,
    {
        self.inner.writer.write(work)
    }

    /// Runs `call`, a store call that writes, on the database's writer thread: its writes join one batch with the
    /// other calls queued there, and its value comes back once that batch is durable (or the batch's failure).
    /// Writes inside `call` return before they are committed, so `call` must not read back its own writes through
    /// [`Database::read`]. An in-memory database runs `call` on the blocking pool instead.
    pub async fn write_on_writer_thread<T, E, F>(&self, call: F) -> Result<T, E>
    where
        F: FnOnce() -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DatabaseError> + Send + 'static,
    {
        match &self.inner.writer_thread {
            Some(writer_thread) => writer_thread.run(call).await,
            None => run_blocking(call).await,
        }
    }

    /// Runs `work` on a consistent snapshot of the committed data.
    pub fn read<T, E>(&self, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError>,
    {
        match &self.inner.readers {
            Some(readers) => readers.read(work),
            None => self.inner.writer.with_idle_connection(work),
        }
    }

    /// Runs `work`, which must run exactly one query, on the committed data, without wrapping it in a transaction
    /// (one query is always its own consistent snapshot; several queries here could each see a different one).
    pub fn read_one_query<T, E>(&self, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError>,
    {
        match &self.inner.readers {
            Some(readers) => readers.read_one_query(work),
            None => self.inner.writer.with_idle_connection(work),
        }
    }

    /// How many batches the committed writes took so far (for metrics and benchmarks).
    pub fn write_statistics(&self) -> WriteStatistics {
        self.inner.writer.statistics()
    }

    /// The commit figures as Prometheus counters, for a component's `/metrics`.
    pub fn write_collector(&self) -> DatabaseWriteCollector {
        DatabaseWriteCollector::new(self.clone())
    }

    /// Answers when the database does (health checks).
    pub fn ping(&self) -> Result<(), DatabaseError> {
        self.read(|connection| Ok(connection.query_row("SELECT 1", [], |_| Ok(()))?))
    }

    /// The schema version the file is at.
    pub fn schema_version(&self) -> Result<i64, DatabaseError> {
        self.read(|connection| {
            Ok(connection.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", [], |row| row.get(0))?)
        })
    }
}

/// `PRAGMA quick_check` at every open: a damaged file is refused with a clear error instead of being written to.
fn check_integrity(connection: &Connection) -> Result<(), DatabaseError> {
    let mut statement = connection.prepare("PRAGMA quick_check")?;
    let findings: Vec<String> = statement.query_map([], |row| row.get(0))?.collect::<Result<_, _>>()?;
    match findings.as_slice() {
        [only] if only == "ok" => Ok(()),
        _ => Err(DatabaseError::Damaged(findings.into_iter().take(3).collect::<Vec<_>>().join("; "))),
    }
}

fn migrate(connection: &mut Connection, schema: &Schema) -> Result<(), DatabaseError> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    transaction.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let current: i64 =
        transaction.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", [], |row| row.get(0))?;
    let known = schema.latest_version();
    if current > known {
        return Err(DatabaseError::SchemaTooNew { found: current, known });
    }
    for (index, migration) in schema.migrations.iter().enumerate().skip(current as usize) {
        transaction.execute_batch(migration)?;
        transaction.execute("INSERT INTO schema_version (version) VALUES (?1)", [index as i64 + 1])?;
    }
    if let (true, Some(after_migrations)) = (current < known, schema.after_migrations) {
        after_migrations(&transaction)?;
    }
    transaction.commit()?;
    Ok(())
}

/// Runs one statement without parameters or rows (`BEGIN`, `SAVEPOINT`, `RELEASE`, `COMMIT`) from the connection's
/// statement cache: parsing it for every read or write cost about as much as a one-row read.
pub(crate) fn run_cached(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Runs blocking database work on tokio's blocking pool, so it never stalls the async workers.
pub async fn run_blocking<T, E, F>(work: F) -> Result<T, E>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DatabaseError> + Send + 'static,
{
    tokio::task::spawn_blocking(work).await.map_err(|_| E::from(DatabaseError::TaskFailed))?
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: &str = "CREATE TABLE things (name TEXT NOT NULL)";
    const SECOND: &str = "ALTER TABLE things ADD COLUMN size INTEGER";
    const ONE: Schema = Schema::new(&[FIRST]);
    const TWO: Schema = Schema::new(&[FIRST, SECOND]);

    fn count_things(database: &Database) -> i64 {
        database
            .read(|connection| -> Result<i64, DatabaseError> {
                Ok(connection.query_row("SELECT COUNT(*) FROM things", [], |row| row.get(0))?)
            })
            .unwrap()
    }

    #[test]
    fn a_file_is_migrated_once_in_order_and_reopens_in_wal_with_full_sync() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("component.db");
        let database = Database::open(&path, &ONE).unwrap();
        assert_eq!(database.schema_version().unwrap(), 1);
        drop(database);
        let database = Database::open(&path, &TWO).unwrap();
        assert_eq!(database.schema_version().unwrap(), 2);
        database
            .write(|connection| -> Result<(), DatabaseError> {
                let mode: String = connection.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
                let synchronous: i64 = connection.query_row("PRAGMA synchronous", [], |row| row.get(0))?;
                let temp_store: i64 = connection.query_row("PRAGMA temp_store", [], |row| row.get(0))?;
                assert_eq!((mode.as_str(), synchronous, temp_store), ("wal", 2, 2), "temp_store 2 is memory");
                connection.execute("INSERT INTO things (name, size) VALUES ('a', 1)", [])?;
                Ok(())
            })
            .unwrap();
        assert_eq!(count_things(&database), 1);
    }

    #[test]
    #[cfg(unix)]
    fn the_database_and_its_wal_and_shm_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("private.db");
        let database = Database::open(&path, &ONE).unwrap();
        database
            .write(|connection| -> Result<usize, DatabaseError> {
                Ok(connection.execute("INSERT INTO things (name) VALUES ('a')", [])?)
            })
            .unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let file = directory.path().join(format!("private.db{suffix}"));
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", file.display());
        }
        drop(database);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(Database::open(&path, &ONE).unwrap());
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "restricted on open");
    }

    #[test]
    fn a_file_from_a_newer_build_is_refused() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("component.db");
        Database::open(&path, &TWO).unwrap();
        let error = Database::open(&path, &ONE).unwrap_err();
        assert!(matches!(error, DatabaseError::SchemaTooNew { found: 2, known: 1 }), "{error:?}");
    }

    #[test]
    fn a_failed_transaction_leaves_nothing_behind() {
        let database = Database::open_in_memory(&ONE).unwrap();
        let outcome: Result<(), DatabaseError> = database.write(|transaction| {
            transaction.execute("INSERT INTO things (name) VALUES ('half')", [])?;
            transaction.execute("INSERT INTO nowhere (name) VALUES ('x')", [])?;
            Ok(())
        });
        assert!(outcome.is_err());
        assert_eq!(count_things(&database), 0);
    }

    #[test]
    fn the_step_after_migrations_runs_once_inside_the_migration() {
        fn backfill(transaction: &Transaction<'_>) -> Result<(), DatabaseError> {
            transaction.execute("INSERT INTO things (name, size) VALUES ('backfilled', 0)", [])?;
            Ok(())
        }
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("component.db");
        let schema = TWO.with_after_migrations(backfill);
        drop(Database::open(&path, &schema).unwrap());
        let database = Database::open(&path, &schema).unwrap();
        assert_eq!(count_things(&database), 1, "the backfill ran when migrating, not at every open");
    }

    #[test]
    fn a_damaged_file_is_refused_at_open() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("component.db");
        let database = Database::open(&path, &ONE).unwrap();
        database
            .write(|connection| -> Result<(), DatabaseError> {
                for index in 0..2000 {
                    connection.execute("INSERT INTO things (name) VALUES (?1)", [format!("thing number {index}")])?;
                }
                Ok(())
            })
            .unwrap();
        database
            .read(|connection| -> Result<(), DatabaseError> {
                Ok(connection.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?)
            })
            .unwrap();
        drop(database);
        // Scribble over the middle of the file, as a failing disk would.
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle..middle + 4096].fill(0xA5);
        std::fs::write(&path, bytes).unwrap();
        // Only `quick_check` reads the scribbled pages at open (the migrations touch the schema alone), so the
        // refusal must be `Damaged`: any other error would mean the check did not run or did not look.
        let error = Database::open(&path, &ONE).unwrap_err();
        assert!(matches!(&error, DatabaseError::Damaged(findings) if !findings.is_empty()), "{error:?}");
        assert!(error.to_string().contains("restore it from a backup"), "{error}");
        assert!(!error.is_storage_unavailable());
    }

    #[test]
    fn a_full_disk_is_told_apart_from_a_bad_query() {
        let database = Database::open_in_memory(&ONE).unwrap();
        let full: Result<(), DatabaseError> = database.write(|connection| {
            connection.execute_batch("PRAGMA max_page_count = 3")?;
            connection.execute_batch(
                "INSERT INTO things (name) SELECT hex(randomblob(2000)) FROM (SELECT 1 UNION SELECT 2 UNION SELECT 3)",
            )?;
            Ok(())
        });
        let full = full.unwrap_err();
        assert!(full.is_storage_unavailable(), "{full:?}");
        let bad_query: Result<(), DatabaseError> =
            database.write(|connection| Ok(connection.execute_batch("INSERT INTO nowhere VALUES (1)")?));
        assert!(!bad_query.unwrap_err().is_storage_unavailable());
    }

    #[test]
    fn the_bundled_sqlite_keeps_no_global_memory_statistics() {
        // .cargo/config.toml builds SQLite with SQLITE_DEFAULT_MEMSTATUS=0: without it every allocation of every
        // connection takes one process-wide mutex. Building from elsewhere than the workspace root loses it.
        let database = Database::open_in_memory(&ONE).unwrap();
        let options: Vec<String> = database
            .read(|connection| -> Result<Vec<String>, DatabaseError> {
                let mut statement = connection.prepare("PRAGMA compile_options")?;
                let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .unwrap();
        assert!(options.iter().any(|option| option == "DEFAULT_MEMSTATUS=0"), "{options:?}");
    }

    #[tokio::test]
    async fn blocking_work_runs_off_the_async_threads() {
        let database = Database::open_in_memory(&ONE).unwrap();
        let answer = run_blocking(move || -> Result<i64, DatabaseError> { database.schema_version() }).await.unwrap();
        assert_eq!(answer, 1);
    }
}
