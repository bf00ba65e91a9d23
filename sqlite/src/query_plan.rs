//! Query plans for tests: the steps of a statement's plan that read a whole table or a whole index.
//!
//! numbind's databases never run `ANALYZE`, so SQLite plans without statistics. A queue poll or a per-request
//! query whose plan scans (`SCAN inbox`) costs in proportion to every row ever written, and gets slower every day
//! in production while staying fast in every test. Stores assert in their tests that their hot queries have no
//! such step (see `oss-sim`'s inbox worker queries, whose poll once walked the whole inbox on every call).
//!
//! A plan can also walk a whole table without a `SCAN` line: `SEARCH t USING INTEGER PRIMARY KEY (rowid>?)` with
//! filters no index serves (`?1 IS NULL OR col = ?1` never uses one). Tests of such queries assert the index
//! their plan must name (see the platform's binding search).

use rusqlite::Connection;

/// The `EXPLAIN QUERY PLAN` steps of `sql` that scan rather than search: lines starting `SCAN`, except a scan of
/// one of `bounded_indexes` (partial indexes over live rows only, such as `WHERE state = 'pending'`). Every
/// parameter is bound to NULL (the plan does not depend on the values).
pub fn unbounded_scans(connection: &Connection, sql: &str, bounded_indexes: &[&str]) -> rusqlite::Result<Vec<String>> {
    let mut statement = connection.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
    let nulls = std::iter::repeat_n(rusqlite::types::Null, statement.parameter_count());
    let steps: Vec<String> = statement
        .query_map(rusqlite::params_from_iter(nulls), |row| row.get::<_, String>(3))?
        .collect::<Result<_, _>>()?;
    Ok(steps
        .into_iter()
        .filter(|step| step.starts_with("SCAN "))
        .filter(|step| !bounded_indexes.iter().any(|index| step.ends_with(&format!("INDEX {index}"))))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue() -> Connection {
        let connection = Connection::open_in_memory().unwrap();
        connection
            .execute_batch(
                "CREATE TABLE queue (id INTEGER PRIMARY KEY, state TEXT NOT NULL, due_at INTEGER NOT NULL);
                 CREATE INDEX queue_live ON queue (due_at) WHERE state = 'pending';",
            )
            .unwrap();
        connection
    }

    #[test]
    fn a_filter_without_a_usable_index_is_an_unbounded_scan() {
        let scans = unbounded_scans(&queue(), "SELECT id FROM queue WHERE state = 'done' ORDER BY id", &[]).unwrap();
        assert_eq!(scans, vec!["SCAN queue".to_owned()]);
    }

    #[test]
    fn a_search_of_a_partial_index_over_live_rows_is_not() {
        let sql = "SELECT id FROM queue WHERE state = 'pending' AND due_at <= ?1";
        assert_eq!(unbounded_scans(&queue(), sql, &[]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_scan_of_a_named_bounded_index_is_allowed_and_of_another_is_not() {
        let sql = "SELECT id FROM queue WHERE state = 'pending' ORDER BY due_at";
        let plan = unbounded_scans(&queue(), sql, &[]).unwrap();
        assert!(!plan.is_empty(), "scans the partial index: {plan:?}");
        assert_eq!(unbounded_scans(&queue(), sql, &["queue_live"]).unwrap(), Vec::<String>::new());
    }
}
