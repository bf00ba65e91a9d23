//! The `merchants` table: a merchant's display name, webhook URL and token hash; finding, listing, revoking.

use crate::store::{parse_column, StoreError};
use numbind_database::Connection;
use numbind_database::{params, OptionalExtension};
use numbind_wire::MerchantId;

/// A merchant as stored (its token hash stays here).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Merchant {
    pub merchant_id: MerchantId,
    /// What the SMS shows: `演示影院`.
    pub display_name: String,
    pub webhook_url: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "merchant_id, display_name, webhook_url, created_at, revoked_at";

type Row = (String, String, Option<String>, i64, Option<i64>);

fn read_row(row: &numbind_database::Row<'_>) -> numbind_database::Result<Row> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
}

fn parse_row((merchant_id, display_name, webhook_url, created_at, revoked_at): Row) -> Result<Merchant, StoreError> {
    Ok(Merchant {
        merchant_id: parse_column(&merchant_id, "merchants.merchant_id", MerchantId::parse)?,
        display_name,
        webhook_url,
        created_at,
        revoked_at,
    })
}

/// Inserts a merchant; `false` if the ID is taken.
pub(in crate::store) fn insert_merchant(
    connection: &Connection<'_>,
    merchant: &Merchant,
    token_hash: &[u8; 32],
) -> Result<bool, StoreError> {
    let inserted = connection
        .prepare_cached(
            "INSERT INTO merchants (merchant_id, display_name, webhook_url, token_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (merchant_id) DO NOTHING",
        )?
        .execute(params![
            merchant.merchant_id.as_str(),
            merchant.display_name,
            merchant.webhook_url,
            token_hash.as_slice(),
            merchant.created_at
        ])?;
    Ok(inserted == 1)
}

pub(in crate::store) fn find_merchant_in(
    connection: &Connection<'_>,
    merchant_id: &MerchantId,
) -> Result<Option<Merchant>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM merchants WHERE merchant_id = ?1");
    connection.prepare_cached(&sql)?.query_row([merchant_id.as_str()], read_row).optional()?.map(parse_row).transpose()
}

/// The live merchant and its stored token hash.
pub(in crate::store) fn live_merchant_token_hash(
    connection: &Connection<'_>,
    merchant_id: &MerchantId,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(connection
        .prepare_cached("SELECT token_hash FROM merchants WHERE merchant_id = ?1 AND revoked_at IS NULL")?
        .query_row([merchant_id.as_str()], |row| row.get(0))
        .optional()?)
}

pub(in crate::store) fn all_merchants(connection: &Connection<'_>) -> Result<Vec<Merchant>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM merchants ORDER BY merchant_id");
    let mut statement = connection.prepare_cached(&sql)?;
    let rows = statement.query_map([], read_row)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(parse_row).collect()
}

/// Revokes a live merchant's token; `false` if none was live.
pub(in crate::store) fn mark_merchant_revoked(
    connection: &Connection<'_>,
    merchant_id: &MerchantId,
    now: i64,
) -> Result<bool, StoreError> {
    let revoked = connection
        .prepare_cached("UPDATE merchants SET revoked_at = ?2 WHERE merchant_id = ?1 AND revoked_at IS NULL")?
        .execute(params![merchant_id.as_str(), now])?;
    Ok(revoked == 1)
}
