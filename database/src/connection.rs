//! The connection API the store's modules call, the same on both backends: `prepare_cached`, `query_row`,
//! `query_map`, `execute`, typed row getters.
//!
//! It mirrors rusqlite's so that a store module reads the same on either backend. On SQLite every call goes
//! straight to rusqlite (its statement cache, its rows, no copying); on PostgreSQL the SQL text is translated once
//! (`?1` becomes `$1`) and the prepared statement cached per connection, and a query's rows are fetched whole.

use crate::postgres_client::PostgresClient;
use crate::values::{FromSql, Params, ToSql, ValueRef};
use crate::QueryError;
use std::cell::RefCell;

/// A query's outcome.
pub type Result<T, E = QueryError> = std::result::Result<T, E>;

/// Which SQL the connection speaks, for the few queries whose text differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// One connection, inside the transaction (or read snapshot) that [`crate::Database`] opened for the work.
pub enum Connection<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(&'a RefCell<PostgresClient>),
}

impl<'a> Connection<'a> {
    pub fn dialect(&self) -> Dialect {
        match self {
            Connection::Sqlite(_) => Dialect::Sqlite,
            Connection::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The SQLite connection underneath, for SQLite-only checks (query plans in tests).
    pub fn as_sqlite(&self) -> Option<&'a rusqlite::Connection> {
        match self {
            Connection::Sqlite(connection) => Some(connection),
            Connection::Postgres(_) => None,
        }
    }

    /// The statement for `sql`, from this connection's statement cache.
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'a>> {
        match self {
            Connection::Sqlite(connection) => Ok(Statement::SqliteCached(connection.prepare_cached(sql)?)),
            Connection::Postgres(client) => {
                let statement = client.borrow_mut().prepare_cached(sql)?;
                Ok(Statement::Postgres { client, statement })
            }
        }
    }

    /// The statement for `sql`, prepared for this use only (a query built at run time).
    pub fn prepare(&self, sql: &str) -> Result<Statement<'a>> {
        match self {
            Connection::Sqlite(connection) => Ok(Statement::Sqlite(connection.prepare(sql)?)),
            Connection::Postgres(client) => {
                let statement = client.borrow_mut().prepare(sql)?;
                Ok(Statement::Postgres { client, statement })
            }
        }
    }

    /// Runs one statement and answers how many rows it changed.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    /// Runs one statement and maps its first row; [`QueryError::QueryReturnedNoRows`] when it has none.
    pub fn query_row<P: Params, T>(&self, sql: &str, params: P, map: impl FnOnce(&Row<'_>) -> Result<T>) -> Result<T> {
        self.prepare_cached(sql)?.query_row(params, map)
    }

    /// Runs several statements without parameters (a test's fixture, a migration).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Connection::Sqlite(connection) => Ok(connection.execute_batch(sql)?),
            Connection::Postgres(client) => client.borrow_mut().execute_batch(sql),
        }
    }
}

/// A prepared statement of either backend.
pub enum Statement<'a> {
    SqliteCached(rusqlite::CachedStatement<'a>),
    Sqlite(rusqlite::Statement<'a>),
    Postgres { client: &'a RefCell<PostgresClient>, statement: postgres::Statement },
}

impl<'a> Statement<'a> {
    fn sqlite(&mut self) -> Option<&mut rusqlite::Statement<'a>> {
        match self {
            Statement::SqliteCached(statement) => Some(statement),
            Statement::Sqlite(statement) => Some(statement),
            Statement::Postgres { .. } => None,
        }
    }

    fn postgres_rows(&self, values: &[&dyn ToSql]) -> Result<Vec<postgres::Row>> {
        match self {
            Statement::Postgres { client, statement } => client.borrow_mut().query(statement, values),
            _ => Err(QueryError::WrongBackend),
        }
    }

    /// Runs the statement and answers how many rows it changed.
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        match self {
            Statement::Postgres { client, statement } => {
                params.with_values(|values| client.borrow_mut().execute(statement, values))
            }
            sqlite => match sqlite.sqlite() {
                Some(statement) => params.with_values(|values| Ok(statement.execute(sqlite_values(values))?)),
                None => Err(QueryError::WrongBackend),
            },
        }
    }

    /// Runs the statement and maps its first row; [`QueryError::QueryReturnedNoRows`] when it has none.
    pub fn query_row<P: Params, T>(&mut self, params: P, map: impl FnOnce(&Row<'_>) -> Result<T>) -> Result<T> {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(row) => map(&row),
            None => Err(QueryError::QueryReturnedNoRows),
        }
    }

    /// Runs the statement and maps each row, in order.
    pub fn query_map<P: Params, T, F>(&mut self, params: P, map: F) -> Result<MappedRows<'_, F>>
    where
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        Ok(MappedRows { rows: self.query(params)?, map })
    }

    /// Runs the statement; its rows come one by one from [`Rows::next`].
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        if let Statement::Postgres { .. } = self {
            let rows = params.with_values(|values| self.postgres_rows(values))?;
            return Ok(Rows::Postgres { rows, next: 0 });
        }
        match self.sqlite() {
            Some(statement) => params.with_values(|values| Ok(Rows::Sqlite(statement.query(sqlite_values(values))?))),
            None => Err(QueryError::WrongBackend),
        }
    }
}

fn sqlite_values<'v>(values: &'v [&'v dyn ToSql]) -> rusqlite::ParamsFromIter<impl Iterator<Item = SqliteValue<'v>>> {
    rusqlite::params_from_iter(values.iter().map(|value| SqliteValue(value.to_value())))
}

/// A value bound to an SQLite statement without copying it.
struct SqliteValue<'a>(ValueRef<'a>);

impl rusqlite::ToSql for SqliteValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ValueRef as Sqlite;
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match self.0 {
            ValueRef::Null => Sqlite::Null,
            ValueRef::Integer(integer) => Sqlite::Integer(integer),
            ValueRef::Real(real) => Sqlite::Real(real),
            ValueRef::Text(text) => Sqlite::Text(text.as_bytes()),
            ValueRef::Blob(blob) => Sqlite::Blob(blob),
        }))
    }
}

/// A query's rows, fetched one at a time.
pub enum Rows<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Postgres { rows: Vec<postgres::Row>, next: usize },
}

impl Rows<'_> {
    /// The next row, or `None` after the last.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match self {
            Rows::Sqlite(rows) => Ok(rows.next()?.map(Row::Sqlite)),
            Rows::Postgres { rows, next } => {
                let row = rows.get(*next);
                *next += 1;
                Ok(row.map(Row::Postgres))
            }
        }
    }
}

/// A query's rows, each mapped as it is read.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    map: F,
}

impl<T, F> Iterator for MappedRows<'_, F>
where
    F: FnMut(&Row<'_>) -> Result<T>,
{
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        let map = &mut self.map;
        match self.rows.next() {
            Ok(Some(row)) => Some(map(&row)),
            Ok(None) => None,
            Err(error) => Some(Err(error)),
        }
    }
}

/// One row of a query's answer.
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
}

impl Row<'_> {
    /// Column `index` (from 0) as `T`.
    pub fn get<I: RowIndex, T: FromSql>(&self, index: I) -> Result<T> {
        T::from_value(self.get_ref(index.column_index())?)
    }

    /// Column `index` (from 0) as it is stored.
    pub fn get_ref(&self, index: usize) -> Result<ValueRef<'_>> {
        match self {
            Row::Sqlite(row) => Ok(match row.get_ref(index)? {
                rusqlite::types::ValueRef::Null => ValueRef::Null,
                rusqlite::types::ValueRef::Integer(integer) => ValueRef::Integer(integer),
                rusqlite::types::ValueRef::Real(real) => ValueRef::Real(real),
                rusqlite::types::ValueRef::Text(text) => {
                    ValueRef::Text(std::str::from_utf8(text).map_err(|_| QueryError::TextNotUtf8)?)
                }
                rusqlite::types::ValueRef::Blob(blob) => ValueRef::Blob(blob),
            }),
            Row::Postgres(row) => crate::postgres_values::column_value(row, index),
        }
    }
}

/// How a column is named in [`Row::get`]: by its position, from 0.
pub trait RowIndex {
    fn column_index(self) -> usize;
}

impl RowIndex for usize {
    fn column_index(self) -> usize {
        self
    }
}

/// `.optional()` on a query's answer: `None` instead of [`QueryError::QueryReturnedNoRows`].
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(QueryError::QueryReturnedNoRows) => Ok(None),
            Err(error) => Err(error),
        }
    }
}
