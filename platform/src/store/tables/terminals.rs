//! The `terminals` table: a registered terminal and finding one.

use crate::store::StoreError;
use numbind_database::Connection;
use numbind_database::OptionalExtension;
use numbind_wire::request_signing::TerminalPublicKey;
use numbind_wire::TerminalId;

/// A registered terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terminal {
    pub terminal_id: TerminalId,
    pub public_key: TerminalPublicKey,
    pub device_model: String,
    pub registered_at: i64,
}

pub(in crate::store) fn find_terminal_in(
    connection: &Connection<'_>,
    terminal_id: &TerminalId,
) -> Result<Option<Terminal>, StoreError> {
    let row = connection
        .prepare_cached("SELECT public_key, device_model, registered_at FROM terminals WHERE terminal_id = ?1")?
        .query_row([terminal_id.as_str()], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?))
        })
        .optional()?;
    let Some((public_key, device_model, registered_at)) = row else { return Ok(None) };
    let public_key =
        TerminalPublicKey::parse(&public_key).map_err(|_| StoreError::MalformedRow("terminals.public_key"))?;
    Ok(Some(Terminal { terminal_id: terminal_id.clone(), public_key, device_model, registered_at }))
}
