//! SQL of `own_charge_controls` (the pause and the monthly cap a number's owner set by SMS) and the statement
//! queries the self-service replies read from the billing ledger (`charges`, `refunds`).

use super::{Store, StoreError};
use crate::domain::self_service::{MerchantTotal, MonthStatement, OwnChargeControls, RecentCharge};
use numbind_wire::Msisdn;
use rusqlite::{params, Connection, OptionalExtension};

/// The table, appended to the OSS's migrations.
pub(super) const SELF_SERVICE_MIGRATION: &str = r#"
CREATE TABLE own_charge_controls (
    msisdn TEXT PRIMARY KEY,
    paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    monthly_cap_fen INTEGER CHECK (monthly_cap_fen IS NULL OR monthly_cap_fen > 0),
    updated_at_ms INTEGER NOT NULL
);
"#;

impl Store {
    /// The number's own controls (the default when its owner never set any).
    pub(crate) fn own_charge_controls(&self, msisdn: &Msisdn) -> Result<OwnChargeControls, StoreError> {
        self.read(|connection| read_own_charge_controls(connection, msisdn))
    }

    /// Pauses (or resumes) charges on the number's boxes; setting what is already set changes nothing.
    pub(crate) fn set_charging_paused(&self, msisdn: &Msisdn, paused: bool, now_ms: i64) -> Result<(), StoreError> {
        self.write(|connection| {
            connection
                .prepare_cached(
                    "INSERT INTO own_charge_controls (msisdn, paused, updated_at_ms) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (msisdn) DO UPDATE SET paused = ?2, updated_at_ms = ?3",
                )?
                .execute(params![msisdn.as_digits(), paused, now_ms])?;
            Ok(())
        })
    }

    /// Sets (or, with `None`, removes) the owner's monthly cap in fen.
    pub(crate) fn set_own_monthly_cap(
        &self,
        msisdn: &Msisdn,
        monthly_cap_fen: Option<i64>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.write(|connection| {
            connection
                .prepare_cached(
                    "INSERT INTO own_charge_controls (msisdn, monthly_cap_fen, updated_at_ms) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (msisdn) DO UPDATE SET monthly_cap_fen = ?2, updated_at_ms = ?3",
                )?
                .execute(params![msisdn.as_digits(), monthly_cap_fen, now_ms])?;
            Ok(())
        })
    }

    /// The number's applied charges and refunds in `month` (`2026-12`, the operator's local month).
    pub(crate) fn month_statement(&self, msisdn: &Msisdn, month: &str) -> Result<MonthStatement, StoreError> {
        self.read(|connection| {
            let mut statement = connection.prepare_cached(
                "SELECT merchant_id, SUM(amount_fen), COUNT(*) FROM charges \
                 WHERE msisdn = ?1 AND local_month = ?2 AND outcome = 'charged' \
                 GROUP BY merchant_id ORDER BY SUM(amount_fen) DESC, merchant_id",
            )?;
            let merchants = statement
                .query_map(params![msisdn.as_digits(), month], |row| {
                    Ok(MerchantTotal { merchant_id: row.get(0)?, total_fen: row.get(1)?, count: row.get(2)? })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let refunded_fen = connection
                .prepare_cached(
                    "SELECT COALESCE(SUM(amount_fen), 0) FROM refunds WHERE msisdn = ?1 AND outcome = 'refunded' \
                     AND strftime('%Y-%m', created_at_ms / 1000 + 28800, 'unixepoch') = ?2",
                )?
                .query_row(params![msisdn.as_digits(), month], |row| row.get(0))?;
            Ok(MonthStatement {
                month: month.to_owned(),
                total_fen: merchants.iter().map(|merchant| merchant.total_fen).sum(),
                count: merchants.iter().map(|merchant| merchant.count).sum(),
                refunded_fen,
                merchants,
            })
        })
    }

    /// The number's `limit` latest applied charges, newest first.
    pub(crate) fn recent_charges(&self, msisdn: &Msisdn, limit: usize) -> Result<Vec<RecentCharge>, StoreError> {
        self.read(|connection| {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let mut statement = connection.prepare_cached(
                "SELECT merchant_id, item_description, amount_fen, created_at_ms FROM charges \
                 WHERE msisdn = ?1 AND outcome = 'charged' ORDER BY created_at_ms DESC, payment_id LIMIT ?2",
            )?;
            let rows = statement.query_map(params![msisdn.as_digits(), limit], |row| {
                Ok(RecentCharge {
                    merchant_id: row.get(0)?,
                    item_description: row.get(1)?,
                    amount_fen: row.get(2)?,
                    charged_at_unix_ms: row.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

pub(super) fn read_own_charge_controls(
    connection: &Connection,
    msisdn: &Msisdn,
) -> Result<OwnChargeControls, StoreError> {
    Ok(connection
        .prepare_cached("SELECT paused, monthly_cap_fen FROM own_charge_controls WHERE msisdn = ?1")?
        .query_row([msisdn.as_digits()], |row| {
            Ok(OwnChargeControls { paused: row.get(0)?, monthly_cap_fen: row.get(1)? })
        })
        .optional()?
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number() -> Msisdn {
        Msisdn::parse("13800138001").unwrap()
    }

    #[test]
    fn pause_and_cap_are_kept_apart_and_read_back() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.own_charge_controls(&number()).unwrap(), OwnChargeControls::default());
        store.set_own_monthly_cap(&number(), Some(10_000), 1).unwrap();
        store.set_charging_paused(&number(), true, 2).unwrap();
        let controls = store.own_charge_controls(&number()).unwrap();
        assert_eq!(controls, OwnChargeControls { paused: true, monthly_cap_fen: Some(10_000) });
        store.set_charging_paused(&number(), false, 3).unwrap();
        store.set_own_monthly_cap(&number(), None, 4).unwrap();
        assert_eq!(store.own_charge_controls(&number()).unwrap(), OwnChargeControls::default());
    }

    #[test]
    fn an_empty_month_has_an_empty_statement() {
        let store = Store::open_in_memory().unwrap();
        let statement = store.month_statement(&number(), "2026-12").unwrap();
        assert_eq!((statement.total_fen, statement.count, statement.merchants.len()), (0, 0, 0));
        assert!(store.recent_charges(&number(), 3).unwrap().is_empty());
    }
}
