//! The `statement_sends` table: one row per (number, month) whose monthly statement SMS was queued, written in the
//! same transaction as the SMS's outbox row, so a statements run that is repeated or killed half-way never sends a
//! number's statement twice. Also the statement queries over `payments` (succeeded charges of a local month, UTC+8).

use crate::store::StoreError;
use numbind_database::params;
use numbind_database::{Connection, Dialect};

pub(in crate::store) const STATEMENT_SENDS_MIGRATION: &str = r#"
CREATE TABLE statement_sends (
    msisdn TEXT NOT NULL,
    month TEXT NOT NULL,
    outbox_id TEXT NOT NULL,
    queued_at INTEGER NOT NULL,
    PRIMARY KEY (msisdn, month)
) WITHOUT ROWID;
"#;

/// The local month (UTC+8, `2026-12`) a payment finalized in, as SQL over `column` (`finalized_at`), in the
/// connection's dialect.
fn finalized_month(connection: &Connection<'_>, column: &str) -> String {
    match connection.dialect() {
        Dialect::Sqlite => format!("strftime('%Y-%m', {column} + 28800, 'unixepoch')"),
        Dialect::Postgres => format!("to_char(to_timestamp({column} + 28800) AT TIME ZONE 'UTC', 'YYYY-MM')"),
    }
}

/// Records that the number's statement of `month` is queued; false when it was before (nothing is written).
pub(in crate::store) fn record_statement_send(
    connection: &Connection<'_>,
    msisdn: &str,
    month: &str,
    outbox_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let inserted = connection
        .prepare_cached(
            "INSERT INTO statement_sends (msisdn, month, outbox_id, queued_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![msisdn, month, outbox_id, now])?;
    Ok(inserted == 1)
}

pub(in crate::store) fn statement_sent(
    connection: &Connection<'_>,
    msisdn: &str,
    month: &str,
) -> Result<bool, StoreError> {
    let found: i64 = connection
        .prepare_cached("SELECT COUNT(*) FROM statement_sends WHERE msisdn = ?1 AND month = ?2")?
        .query_row(params![msisdn, month], |row| row.get(0))?;
    Ok(found > 0)
}

/// The numbers with a succeeded charge finalized in `month`, in order.
pub(in crate::store) fn numbers_charged_in(
    connection: &Connection<'_>,
    month: &str,
) -> Result<Vec<String>, StoreError> {
    let finalized_month = finalized_month(connection, "finalized_at");
    let sql = format!(
        "SELECT DISTINCT msisdn FROM payments WHERE state = 'succeeded' AND msisdn IS NOT NULL \
         AND {finalized_month} = ?1 ORDER BY msisdn"
    );
    let mut statement = connection.prepare_cached(&sql)?;
    let rows = statement.query_map([month], |row| row.get(0))?;
    Ok(rows.collect::<Result<Vec<String>, _>>()?)
}

/// A number's succeeded charges finalized in `month`, per merchant (display name, total, count), largest first.
pub(in crate::store) fn merchant_totals_of(
    connection: &Connection<'_>,
    msisdn: &str,
    month: &str,
) -> Result<Vec<(String, i64, u32)>, StoreError> {
    let finalized_month = finalized_month(connection, "p.finalized_at");
    let sql = format!(
        "SELECT COALESCE(m.display_name, p.merchant_id), CAST(SUM(p.amount) AS BIGINT), COUNT(*) FROM payments p \
         LEFT JOIN merchants m ON m.merchant_id = p.merchant_id \
         WHERE p.msisdn = ?1 AND p.state = 'succeeded' AND {finalized_month} = ?2 \
         GROUP BY p.merchant_id, m.display_name ORDER BY SUM(p.amount) DESC, p.merchant_id"
    );
    let mut statement = connection.prepare_cached(&sql)?;
    let rows = statement.query_map(params![msisdn, month], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
