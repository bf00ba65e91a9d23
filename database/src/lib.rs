//! The platform's SQL layer: one connection API over two backends, chosen by the database's location.
//!
//! A store module writes its SQL once, with SQLite's numbered placeholders (`?1`), and calls
//! [`Connection::prepare_cached`], `query_row`, `query_map` and `execute` with [`params!`] and typed row getters.
//! On SQLite (`numbind_sqlite`: group-commit writer, read pool) those calls go straight to rusqlite; on PostgreSQL
//! ([`PostgresDatabase`]: a pool of blocking `postgres` clients) the text is translated once per connection and
//! cached. Where the dialects differ, the store module asks [`Connection::dialect`] and picks its text.
//! All calls block: async code reaches them through [`run_blocking`].

mod connection;
mod location;
mod postgres_client;
mod postgres_database;
mod postgres_values;
mod test_postgres;
mod values;

pub use connection::{Connection, Dialect, MappedRows, OptionalExtension, Result, Row, RowIndex, Rows, Statement};
pub use location::{DatabaseLocation, LocationError};
pub use postgres_database::{PostgresDatabase, PostgresSchema};
pub use test_postgres::{TestPostgresDatabase, TEST_POSTGRES_SERVER_URL};
pub use values::{params_from_iter, FromSql, Params, ParamsFromIter, ToSql, ValueRef};

pub use numbind_sqlite::{run_blocking, Schema as SqliteSchema};

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    #[error("sqlite failed")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgresql failed")]
    Postgres(#[from] postgres::Error),
    #[error("the query returned no rows")]
    QueryReturnedNoRows,
    #[error("a column holds {found} where {wanted} was expected")]
    WrongColumnType { found: &'static str, wanted: &'static str },
    #[error("the integer {0} does not fit the type asked for")]
    IntegerOutOfRange(i64),
    #[error("a text column is not utf-8")]
    TextNotUtf8,
    #[error("the query has no column {0}")]
    NoSuchColumn(usize),
    #[error("the column type {0} is not one the store reads")]
    UnsupportedColumnType(String),
    #[error("a statement was used on a connection of the other backend")]
    WrongBackend,
}

impl QueryError {
    /// True when the database, not the query, is at fault: SQLite's disk is full, read-only or failing; the
    /// PostgreSQL server is unreachable, shutting down, out of resources, or a standby. Nothing was committed.
    pub fn is_storage_unavailable(&self) -> bool {
        match self {
            QueryError::Sqlite(error) => numbind_sqlite::is_storage_unavailable(error),
            QueryError::Postgres(error) => is_postgres_unavailable(error),
            _ => false,
        }
    }
}

/// True for a PostgreSQL error that says the server cannot serve now, rather than that the query is wrong.
pub fn is_postgres_unavailable(error: &postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    match error.code() {
        Some(code) => {
            let code = code.code();
            // 08: connection exception; 53: insufficient resources; 57P0x: shutting down, cannot connect now;
            // 25006: read-only transaction (the server is a standby); 40001/40P01 never happen under the write lock.
            code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") || code == "25006"
        }
        None => std::error::Error::source(error).is_some_and(|source| source.is::<std::io::Error>()),
    }
}

/// Why the database could not be opened or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatabaseError {
    #[error("the sqlite database failed")]
    Sqlite(#[from] numbind_sqlite::DatabaseError),
    #[error("the query failed")]
    Query(#[from] QueryError),
    #[error("cannot connect to postgresql")]
    Connect(#[source] postgres::Error),
    #[error("the postgresql url is malformed")]
    InvalidUrl(#[source] postgres::Error),
    #[error("the database has schema version {found}, newer than this build knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("the database connection pool lock is poisoned")]
    Poisoned,
}

impl DatabaseError {
    /// True when the database, not the request, is at fault: callers answer 503 and retry later.
    pub fn is_storage_unavailable(&self) -> bool {
        match self {
            DatabaseError::Sqlite(error) => error.is_storage_unavailable(),
            DatabaseError::Query(error) => error.is_storage_unavailable(),
            DatabaseError::Connect(_) => true,
            _ => false,
        }
    }
}

/// A component's database on either backend, shared by clones.
#[derive(Clone)]
pub enum Database {
    Sqlite(numbind_sqlite::Database),
    Postgres(PostgresDatabase),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Database::Sqlite(_) => "Database(sqlite)",
            Database::Postgres(_) => "Database(postgres)",
        })
    }
}

impl Database {
    /// Opens the database at `location` and brings it to the latest version of its backend's schema.
    pub fn open(
        location: &DatabaseLocation,
        sqlite_schema: &SqliteSchema,
        postgres_schema: &PostgresSchema,
    ) -> Result<Database, DatabaseError> {
        match location {
            DatabaseLocation::Sqlite(path) => {
                Ok(Database::Sqlite(numbind_sqlite::Database::open(path, sqlite_schema)?))
            }
            DatabaseLocation::Postgres(url) => Ok(Database::Postgres(PostgresDatabase::open(url, postgres_schema)?)),
        }
    }

    /// A private in-memory SQLite database with `schema`, for unit tests.
    pub fn open_in_memory(schema: &SqliteSchema) -> Result<Database, DatabaseError> {
        Ok(Database::Sqlite(numbind_sqlite::Database::open_in_memory(schema)?))
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Database::Sqlite(_) => Dialect::Sqlite,
            Database::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs `work` as one atomic write, durable before this returns `Ok` (see each backend for how).
    pub fn write<T, E>(&self, work: impl FnOnce(&Connection<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError> + From<numbind_sqlite::DatabaseError>,
    {
        match self {
            Database::Sqlite(database) => database.write(|connection| work(&Connection::Sqlite(connection))),
            Database::Postgres(database) => database.write(work),
        }
    }

    /// Runs `call`, a store call that writes, on SQLite's writer thread (sharing its commit with the calls queued
    /// there), or on the blocking pool for PostgreSQL, where each call commits its own transaction.
    pub async fn write_on_writer_thread<T, E, F>(&self, call: F) -> Result<T, E>
    where
        F: FnOnce() -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<numbind_sqlite::DatabaseError> + Send + 'static,
    {
        match self {
            Database::Sqlite(database) => database.write_on_writer_thread(call).await,
            Database::Postgres(_) => run_blocking(call).await,
        }
    }

    /// Runs `work` on a consistent snapshot of the committed data.
    pub fn read<T, E>(&self, work: impl FnOnce(&Connection<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError> + From<numbind_sqlite::DatabaseError>,
    {
        match self {
            Database::Sqlite(database) => database.read(|connection| work(&Connection::Sqlite(connection))),
            Database::Postgres(database) => database.read(work),
        }
    }

    /// Runs `work`, which must run exactly one query, on the committed data without a transaction around it.
    pub fn read_one_query<T, E>(&self, work: impl FnOnce(&Connection<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DatabaseError> + From<numbind_sqlite::DatabaseError>,
    {
        match self {
            Database::Sqlite(database) => database.read_one_query(|connection| work(&Connection::Sqlite(connection))),
            Database::Postgres(database) => database.read_one_query(work),
        }
    }

    /// SQLite's commit counters as Prometheus metrics (PostgreSQL keeps its own statistics).
    pub fn write_collector(&self) -> Option<numbind_sqlite::DatabaseWriteCollector> {
        match self {
            Database::Sqlite(database) => Some(database.write_collector()),
            Database::Postgres(_) => None,
        }
    }

    /// Answers when the database does (health checks).
    pub fn ping(&self) -> Result<(), DatabaseError> {
        self.read_one_query(|connection| Ok(connection.query_row("SELECT 1", (), |_| Ok(()))?))
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> Result<i64, DatabaseError> {
        match self {
            Database::Sqlite(database) => Ok(database.schema_version()?),
            Database::Postgres(database) => database.schema_version(),
        }
    }
}
