//! The `payment_adjustments` table: an operator's adjustment of one reconciliation difference of one day (a
//! record, the kind of difference, the reason, who), which reconciliation then counts as settled. One per day,
//! record and kind: adjusting twice keeps the first.

use crate::store::StoreError;
use numbind_database::params;
use numbind_database::Connection;

/// One adjustment as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PaymentAdjustment {
    pub adjustment_id: String,
    pub day: String,
    pub record_id: String,
    pub difference: String,
    pub reason: String,
    pub operator: String,
    pub created_at_unix_seconds: i64,
}

/// Inserts `adjustment`; `false` when that day, record and kind were adjusted already (nothing changes).
pub(in crate::store) fn insert_adjustment(
    connection: &Connection<'_>,
    adjustment: &PaymentAdjustment,
) -> Result<bool, StoreError> {
    let inserted = connection
        .prepare_cached(
            "INSERT INTO payment_adjustments (adjustment_id, day, record_id, difference, reason, operator, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (day, record_id, difference) DO NOTHING",
        )?
        .execute(params![
            adjustment.adjustment_id,
            adjustment.day,
            adjustment.record_id,
            adjustment.difference,
            adjustment.reason,
            adjustment.operator,
            adjustment.created_at_unix_seconds
        ])?;
    Ok(inserted == 1)
}

/// The adjustments of one reconciliation day, in the order they were made.
pub(in crate::store) fn adjustments_of_day(
    connection: &Connection<'_>,
    day: &str,
) -> Result<Vec<PaymentAdjustment>, StoreError> {
    let mut statement = connection.prepare_cached(
        "SELECT adjustment_id, day, record_id, difference, reason, operator, created_at FROM payment_adjustments
         WHERE day = ?1 ORDER BY created_at, adjustment_id",
    )?;
    let rows = statement.query_map([day], |row| {
        Ok(PaymentAdjustment {
            adjustment_id: row.get(0)?,
            day: row.get(1)?,
            record_id: row.get(2)?,
            difference: row.get(3)?,
            reason: row.get(4)?,
            operator: row.get(5)?,
            created_at_unix_seconds: row.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
