//! The `bindings` table: reading rows, the active binding of a terminal or a number, and revoking one.

use crate::store::{parse_column, StoreError};
use numbind_database::{params, OptionalExtension};
use numbind_database::{Connection, Row};
use numbind_routing::ProvinceCode;
use numbind_wire::{ActivationId, BindingId, Msisdn, TerminalId};

/// An active binding: this number pays for this terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub binding_id: BindingId,
    pub terminal_id: TerminalId,
    pub msisdn: Msisdn,
    pub activation_id: ActivationId,
    pub created_at: i64,
    /// The province whose OSS holds the binding (`None`: made without provinces).
    pub province: Option<ProvinceCode>,
}

/// What the OSS outbox copies of a binding when it is revoked, and where it goes.
pub(in crate::store) struct RevocationTarget<'a> {
    pub(in crate::store) binding_id: &'a BindingId,
    pub(in crate::store) terminal_id: &'a TerminalId,
    pub(in crate::store) msisdn: &'a Msisdn,
    pub(in crate::store) province: Option<ProvinceCode>,
}

impl Binding {
    /// What the OSS outbox copies of this binding when it is revoked.
    pub(in crate::store) fn revocation_target(&self) -> RevocationTarget<'_> {
        RevocationTarget {
            binding_id: &self.binding_id,
            terminal_id: &self.terminal_id,
            msisdn: &self.msisdn,
            province: self.province,
        }
    }
}

const BINDING_COLUMNS: &str = "binding_id, terminal_id, msisdn, activation_id, created_at, province";

type BindingRow = (String, String, String, String, i64, Option<String>);

fn read_binding(row: &Row<'_>) -> numbind_database::Result<BindingRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
}

fn parse_binding(
    (binding_id, terminal_id, msisdn, activation_id, created_at, province): BindingRow,
) -> Result<Binding, StoreError> {
    Ok(Binding {
        binding_id: parse_column(&binding_id, "bindings.binding_id", BindingId::parse)?,
        terminal_id: TerminalId::parse(&terminal_id).map_err(|_| StoreError::MalformedRow("bindings.terminal_id"))?,
        msisdn: Msisdn::parse(&msisdn).map_err(|_| StoreError::MalformedRow("bindings.msisdn"))?,
        activation_id: parse_column(&activation_id, "bindings.activation_id", ActivationId::parse)?,
        created_at,
        province: province
            .map(|code| ProvinceCode::parse(&code).map_err(|_| StoreError::MalformedRow("bindings.province")))
            .transpose()?,
    })
}

pub(in crate::store) fn active_binding_in(
    connection: &Connection<'_>,
    terminal_id: &TerminalId,
) -> Result<Option<Binding>, StoreError> {
    let sql = format!("SELECT {BINDING_COLUMNS} FROM bindings WHERE terminal_id = ?1 AND state = 'active'");
    // Cached: this is every status check's query, and parsing it again costs more than running it.
    let mut statement = connection.prepare_cached(&sql)?;
    statement.query_row([terminal_id.as_str()], read_binding).optional()?.map(parse_binding).transpose()
}

pub(in crate::store) fn active_bindings_of_number(
    connection: &Connection<'_>,
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
    connection: &Connection<'_>,
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
