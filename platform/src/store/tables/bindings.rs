//! The `bindings` table: reading rows, the active binding of a terminal or a number, and revoking one.

use crate::store::{parse_column, StoreError};
use numbind_wire::{ActivationId, BindingId, Msisdn, TerminalId};
use rusqlite::{params, OptionalExtension};

/// An active binding: this number pays for this terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub binding_id: BindingId,
    pub terminal_id: TerminalId,
    pub msisdn: Msisdn,
    pub activation_id: ActivationId,
    pub created_at: i64,
}

impl Binding {
    /// What the OSS outbox copies of this binding when it is revoked.
    pub(in crate::store) fn revocation_target(&self) -> (&BindingId, &TerminalId, &Msisdn) {
        (&self.binding_id, &self.terminal_id, &self.msisdn)
    }
}

const BINDING_COLUMNS: &str = "binding_id, terminal_id, msisdn, activation_id, created_at";

fn read_binding(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String, String, i64)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
}

fn parse_binding(
    (binding_id, terminal_id, msisdn, activation_id, created_at): (String, String, String, String, i64),
) -> Result<Binding, StoreError> {
    Ok(Binding {
        binding_id: parse_column(&binding_id, "bindings.binding_id", BindingId::parse)?,
        terminal_id: TerminalId::parse(&terminal_id).map_err(|_| StoreError::MalformedRow("bindings.terminal_id"))?,
        msisdn: Msisdn::parse(&msisdn).map_err(|_| StoreError::MalformedRow("bindings.msisdn"))?,
        activation_id: parse_column(&activation_id, "bindings.activation_id", ActivationId::parse)?,
        created_at,
    })
}

pub(in crate::store) fn active_binding_in(
    connection: &rusqlite::Connection,
    terminal_id: &TerminalId,
) -> Result<Option<Binding>, StoreError> {
    let sql = format!("SELECT {BINDING_COLUMNS} FROM bindings WHERE terminal_id = ?1 AND state = 'active'");
    // Cached: this is every status check's query, and parsing it again costs more than running it.
    let mut statement = connection.prepare_cached(&sql)?;
    statement.query_row([terminal_id.as_str()], read_binding).optional()?.map(parse_binding).transpose()
}

pub(in crate::store) fn active_bindings_of_number(
    connection: &rusqlite::Connection,
    msisdn: &Msisdn,
) -> Result<Vec<Binding>, StoreError> {
    let sql =
        format!("SELECT {BINDING_COLUMNS} FROM bindings WHERE msisdn = ?1 AND state = 'active' ORDER BY created_at");
    let mut statement = connection.prepare_cached(&sql)?;
    let rows = statement.query_map([msisdn.as_digits()], read_binding)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(parse_binding).collect()
}

/// Marks a binding revoked for `reason` (audit it in the same transaction).
pub(in crate::store) fn mark_binding_revoked(
    connection: &rusqlite::Connection,
    binding_id: &BindingId,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    connection
        .prepare_cached(
            "UPDATE bindings SET state = 'revoked', revoked_at = ?2, revoked_reason = ?3 WHERE binding_id = ?1",
        )?
        .execute(params![binding_id.as_str(), now, reason])?;
    Ok(())
}
