//! The `statement_schedule_months` table: one row per month whose statements the platform's schedule finished
//! queuing, so that a restarted platform neither queues a month twice nor skips one it was down for.

use crate::store::StoreError;
use numbind_database::Connection;
use numbind_database::{params, OptionalExtension};

pub(in crate::store) const STATEMENT_SCHEDULE_MIGRATION: &str = r#"
CREATE TABLE statement_schedule_months (
    month TEXT PRIMARY KEY,
    finished_at INTEGER NOT NULL
) WITHOUT ROWID;
"#;

/// The latest month (`2026-12`) the schedule finished, if any.
pub(in crate::store) fn last_finished_month(connection: &Connection<'_>) -> Result<Option<String>, StoreError> {
    let month: Option<Option<String>> = connection
        .prepare_cached("SELECT MAX(month) FROM statement_schedule_months")?
        .query_row([], |row| row.get(0))
        .optional()?;
    Ok(month.flatten())
}

/// Records that the schedule finished `month` (a second record of it changes nothing).
pub(in crate::store) fn record_finished_month(
    connection: &Connection<'_>,
    month: &str,
    now: i64,
) -> Result<(), StoreError> {
    connection
        .prepare_cached(
            "INSERT INTO statement_schedule_months (month, finished_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        )?
        .execute(params![month, now])?;
    Ok(())
}
