//! The append-only audit log: one event per state change, numbers masked at write.

use super::{Store, StoreError};
use numbind_wire::{Msisdn, TerminalId};
use rusqlite::params;

/// An event to append; build with [`AuditEvent::new`] and the setters.
#[derive(Debug, Clone, Default)]
pub struct AuditEvent<'a> {
    actor: &'a str,
    kind: &'a str,
    terminal_id: Option<&'a TerminalId>,
    msisdn: Option<&'a Msisdn>,
    activation_id: Option<&'a str>,
    binding_id: Option<&'a str>,
    detail: Option<&'a str>,
}

impl<'a> AuditEvent<'a> {
    pub fn new(actor: &'a str, kind: &'a str) -> Self {
        AuditEvent { actor, kind, ..AuditEvent::default() }
    }
    pub fn terminal(self, terminal_id: &'a TerminalId) -> Self {
        AuditEvent { terminal_id: Some(terminal_id), ..self }
    }
    pub fn msisdn(self, msisdn: &'a Msisdn) -> Self {
        AuditEvent { msisdn: Some(msisdn), ..self }
    }
    pub fn activation(self, activation_id: &'a str) -> Self {
        AuditEvent { activation_id: Some(activation_id), ..self }
    }
    pub fn binding(self, binding_id: &'a str) -> Self {
        AuditEvent { binding_id: Some(binding_id), ..self }
    }
    pub fn detail(self, detail: &'a str) -> Self {
        AuditEvent { detail: Some(detail), ..self }
    }
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub event_id: i64,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub terminal_id: Option<String>,
    pub msisdn_masked: Option<String>,
    pub activation_id: Option<String>,
    pub binding_id: Option<String>,
    pub detail: Option<String>,
}

pub(super) fn append_audit_event(
    connection: &rusqlite::Connection,
    at: i64,
    event: &AuditEvent<'_>,
) -> Result<(), StoreError> {
    connection.execute(
        "INSERT INTO audit_events (at, actor, kind, terminal_id, msisdn_masked, activation_id, binding_id, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            at,
            event.actor,
            event.kind,
            event.terminal_id.map(TerminalId::as_str),
            event.msisdn.map(Msisdn::masked),
            event.activation_id,
            event.binding_id,
            event.detail
        ],
    )?;
    Ok(())
}

impl Store {
    /// Appends one event in its own transaction (for changes that touch no other table).
    pub fn append_audit_event(&self, at: i64, event: &AuditEvent<'_>) -> Result<(), StoreError> {
        self.with_connection(|connection| append_audit_event(connection, at, event))
    }

    /// Every event in order.
    pub fn audit_events(&self) -> Result<Vec<AuditRecord>, StoreError> {
        self.with_connection(|connection| {
            let mut statement = connection.prepare(
                "SELECT event_id, at, actor, kind, terminal_id, msisdn_masked, activation_id, binding_id, detail
                 FROM audit_events ORDER BY event_id",
            )?;
            let rows = statement.query_map([], |row| {
                Ok(AuditRecord {
                    event_id: row.get(0)?,
                    at: row.get(1)?,
                    actor: row.get(2)?,
                    kind: row.get(3)?,
                    terminal_id: row.get(4)?,
                    msisdn_masked: row.get(5)?,
                    activation_id: row.get(6)?,
                    binding_id: row.get(7)?,
                    detail: row.get(8)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_stored_masked_and_cannot_be_edited() {
        let store = Store::open_in_memory().unwrap();
        let msisdn = Msisdn::parse("13800138000").unwrap();
        store.append_audit_event(5, &AuditEvent::new("oss", "binding_created").msisdn(&msisdn).binding("b1")).unwrap();
        let events = store.audit_events().unwrap();
        assert_eq!(events[0].msisdn_masked.as_deref(), Some("138****8000"));
        let edit = store.with_connection(|connection| Ok(connection.execute("DELETE FROM audit_events", [])?));
        assert!(edit.is_err());
    }
}
