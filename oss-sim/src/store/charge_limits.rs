//! SQL of `charge_limits`: a subscriber's own limits, overriding the operator's.

use super::{Store, StoreError};
use crate::domain::charging::LimitOverride;
use numbind_wire::Msisdn;
use rusqlite::{params, Connection, OptionalExtension};

impl Store {
    /// Sets (or, with every field `None`, clears) a subscriber's own limits.
    pub(crate) fn set_limit_override(&self, msisdn: &Msisdn, overrides: &LimitOverride) -> Result<(), StoreError> {
        self.write(|connection| {
            connection
                .prepare_cached(
                    "INSERT INTO charge_limits (msisdn, max_per_charge_fen, daily_fen, monthly_fen, \
                     min_interval_seconds, credit_limit_fen) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (msisdn) DO UPDATE SET max_per_charge_fen = ?2, daily_fen = ?3, monthly_fen = ?4, \
                     min_interval_seconds = ?5, credit_limit_fen = ?6",
                )?
                .execute(params![
                    msisdn.as_digits(),
                    overrides.max_per_charge_fen,
                    overrides.daily_fen,
                    overrides.monthly_fen,
                    overrides.min_interval_seconds,
                    overrides.credit_limit_fen
                ])?;
            Ok(())
        })
    }

    /// A subscriber's own limits (all `None` when it has none).
    pub(crate) fn limit_override(&self, msisdn: &Msisdn) -> Result<LimitOverride, StoreError> {
        self.read(|connection| read_limit_override(connection, msisdn))
    }
}

pub(super) fn read_limit_override(connection: &Connection, msisdn: &Msisdn) -> Result<LimitOverride, StoreError> {
    Ok(connection
        .prepare_cached(
            "SELECT max_per_charge_fen, daily_fen, monthly_fen, min_interval_seconds, credit_limit_fen \
             FROM charge_limits WHERE msisdn = ?1",
        )?
        .query_row([msisdn.as_digits()], |row| {
            Ok(LimitOverride {
                max_per_charge_fen: row.get(0)?,
                daily_fen: row.get(1)?,
                monthly_fen: row.get(2)?,
                min_interval_seconds: row.get(3)?,
                credit_limit_fen: row.get(4)?,
            })
        })
        .optional()?
        .unwrap_or_default())
}
