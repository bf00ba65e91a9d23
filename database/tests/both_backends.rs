//! The SQL layer's contract, run on an SQLite file and on a fresh PostgreSQL database: the same SQL text and the
//! same calls give the same answers.

// Test helpers panic on setup failures by design: a broken harness must fail the test loudly.
#![allow(clippy::unwrap_used)]

use numbind_database::{
    params, params_from_iter, Database, DatabaseError, DatabaseLocation, Dialect, OptionalExtension, PostgresSchema,
    QueryError, SqliteSchema, TestPostgresDatabase,
};

const SQLITE: SqliteSchema = SqliteSchema::new(&[
    "CREATE TABLE things (name TEXT PRIMARY KEY, size INTEGER NOT NULL, fragile INTEGER NOT NULL, tag BLOB, note TEXT)",
]);
const POSTGRES: PostgresSchema = PostgresSchema::new(&[
    "CREATE TABLE things (name TEXT PRIMARY KEY, size BIGINT NOT NULL, fragile BIGINT NOT NULL, tag BYTEA, note TEXT)",
]);

fn on_both_backends(test: impl Fn(&Database)) {
    let directory = tempfile::tempdir().unwrap();
    let sqlite = DatabaseLocation::Sqlite(directory.path().join("things.db"));
    test(&Database::open(&sqlite, &SQLITE, &POSTGRES).unwrap());
    let server = TestPostgresDatabase::create().expect("the test PostgreSQL server on 127.0.0.1:5432");
    let postgres = DatabaseLocation::parse(server.url()).unwrap();
    let database = Database::open(&postgres, &SQLITE, &POSTGRES).unwrap();
    assert_eq!(database.dialect(), Dialect::Postgres);
    test(&database);
}

fn insert(database: &Database, name: &str, size: i64, fragile: bool, tag: Option<&[u8]>) {
    database
        .write(|connection| -> Result<(), DatabaseError> {
            connection
                .prepare_cached("INSERT INTO things (name, size, fragile, tag) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![name, size, fragile, tag])?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn rows_written_are_read_back_with_their_types() {
    on_both_backends(|database| {
        insert(database, "box", 3, true, Some(&[1, 2, 3]));
        insert(database, "cup", 1, false, None);
        let (size, fragile, tag, note): (i64, bool, Option<Vec<u8>>, Option<String>) = database
            .read(|connection| -> Result<_, DatabaseError> {
                Ok(connection.query_row(
                    "SELECT size, fragile, tag, note FROM things WHERE name = ?1",
                    ["box"],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
                )?)
            })
            .unwrap();
        assert_eq!((size, fragile, tag, note), (3, true, Some(vec![1, 2, 3]), None));
        let names: Vec<String> = database
            .read(|connection| -> Result<_, DatabaseError> {
                let mut statement =
                    connection.prepare_cached("SELECT name FROM things WHERE size >= ?1 ORDER BY name")?;
                let names = statement.query_map([0], |row| row.get(0))?.collect::<Result<Vec<_>, _>>()?;
                Ok(names)
            })
            .unwrap();
        assert_eq!(names, ["box", "cup"]);
    });
}

#[test]
fn a_missing_row_is_none_and_a_wrong_type_is_a_typed_error() {
    on_both_backends(|database| {
        insert(database, "box", 3, false, None);
        let missing: Option<i64> = database
            .read_one_query(|connection| -> Result<_, DatabaseError> {
                Ok(connection
                    .query_row("SELECT size FROM things WHERE name = ?1", ["nothing"], |row| row.get(0))
                    .optional()?)
            })
            .unwrap();
        assert_eq!(missing, None);
        let wrong = database.read_one_query(|connection| -> Result<String, DatabaseError> {
            Ok(connection.query_row("SELECT size FROM things", (), |row| row.get(0))?)
        });
        assert!(
            matches!(wrong, Err(DatabaseError::Query(QueryError::WrongColumnType { wanted: "text", .. }))),
            "{wrong:?}"
        );
    });
}

#[test]
fn a_failed_write_leaves_nothing_behind() {
    on_both_backends(|database| {
        let outcome = database.write(|connection| -> Result<(), DatabaseError> {
            connection
                .execute("INSERT INTO things (name, size, fragile) VALUES (?1, ?2, ?3)", params!["a", 1, false])?;
            connection
                .execute("INSERT INTO things (name, size, fragile) VALUES (?1, ?2, ?3)", params!["a", 2, false])?;
            Ok(())
        });
        assert!(outcome.is_err());
        let count: i64 = database
            .read(|connection| -> Result<_, DatabaseError> {
                Ok(connection.query_row("SELECT COUNT(*) FROM things", (), |row| row.get(0))?)
            })
            .unwrap();
        assert_eq!(count, 0);
        insert(database, "a", 1, false, None);
    });
}

#[test]
fn an_upsert_and_returning_read_the_same_on_both() {
    on_both_backends(|database| {
        for size in [1, 2] {
            let changed = database
                .write(|connection| -> Result<usize, DatabaseError> {
                    Ok(connection.execute(
                        "INSERT INTO things (name, size, fragile) VALUES (?1, ?2, 0) ON CONFLICT (name) DO NOTHING",
                        params!["once", size],
                    )?)
                })
                .unwrap();
            assert_eq!(changed, usize::from(size == 1));
        }
        let grown: i64 = database
            .write(|connection| -> Result<_, DatabaseError> {
                Ok(connection.query_row(
                    "UPDATE things SET size = size + ?2 WHERE name = ?1 RETURNING size",
                    params!["once", 10],
                    |row| row.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(grown, 11);
        let found: Vec<String> = database
            .read(|connection| -> Result<_, DatabaseError> {
                let mut statement = connection.prepare("SELECT name FROM things WHERE name IN (?1, ?2)")?;
                let names = statement.query_map(params_from_iter(["once", "other"]), |row| row.get(0))?;
                Ok(names.collect::<Result<_, _>>()?)
            })
            .unwrap();
        assert_eq!(found, ["once"]);
    });
}

#[test]
fn concurrent_writers_never_lose_an_update() {
    on_both_backends(|database| {
        insert(database, "counter", 0, false, None);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..25 {
                        database
                            .write(|connection| -> Result<(), DatabaseError> {
                                let size: i64 = connection.query_row(
                                    "SELECT size FROM things WHERE name = 'counter'",
                                    (),
                                    |row| row.get(0),
                                )?;
                                connection.execute("UPDATE things SET size = ?1 WHERE name = 'counter'", [size + 1])?;
                                Ok(())
                            })
                            .unwrap();
                    }
                });
            }
        });
        let size: i64 = database
            .read(|connection| -> Result<_, DatabaseError> {
                Ok(connection.query_row("SELECT size FROM things WHERE name = 'counter'", (), |row| row.get(0))?)
            })
            .unwrap();
        assert_eq!(size, 100);
    });
}

#[test]
fn an_unreachable_postgresql_server_is_storage_unavailable() {
    let location = DatabaseLocation::parse("postgres://postgres@127.0.0.1:1/test?connect_timeout=2").unwrap();
    let error = Database::open(&location, &SQLITE, &POSTGRES).unwrap_err();
    assert!(error.is_storage_unavailable(), "{error:?}");
}

#[test]
fn a_postgresql_database_is_migrated_once_and_a_newer_one_is_refused() {
    let server = TestPostgresDatabase::create().unwrap();
    let location = DatabaseLocation::parse(server.url()).unwrap();
    let database = Database::open(&location, &SQLITE, &POSTGRES).unwrap();
    assert_eq!(database.schema_version().unwrap(), 1);
    drop(database);
    assert_eq!(Database::open(&location, &SQLITE, &POSTGRES).unwrap().schema_version().unwrap(), 1);
    const OLDER: PostgresSchema = PostgresSchema::new(&[]);
    let refused = Database::open(&location, &SQLITE, &OLDER).unwrap_err();
    assert!(matches!(refused, DatabaseError::SchemaTooNew { found: 1, known: 0 }), "{refused:?}");
}
