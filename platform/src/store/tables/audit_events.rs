//! The append-only, hash-chained audit log: one event per state change, numbers masked at write.
//!
//! Each append reads the chain head inside the caller's write transaction (the store is a single writer), so
//! sequence numbers are gapless and every event links to the one before it, and MACs its hash with the store's audit
//! key (`domain::audit_mac`): a head whose MAC does not verify was not written by the platform and is not carried on.

use crate::domain::audit_chain::{hash_to_hex, AuditEventFields, ChainHash, StoredAuditEvent, GENESIS_HASH};
use crate::domain::audit_mac::AuditChainKey;
use crate::store::{Store, StoreError};
use numbind_database::{params, OptionalExtension};
use numbind_database::{Connection, Row};
use numbind_wire::{ActivationId, BindingId, Msisdn, TerminalId};

/// An event to append; build with [`AuditEvent::new`] and the setters.
#[derive(Debug, Clone, Default)]
pub struct AuditEvent<'a> {
    actor: &'a str,
    kind: &'a str,
    terminal_id: Option<&'a TerminalId>,
    msisdn: Option<&'a Msisdn>,
    activation_id: Option<&'a str>,
    binding_id: Option<&'a str>,
    message_id: Option<&'a str>,
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
    pub fn activation(self, activation_id: &'a ActivationId) -> Self {
        AuditEvent { activation_id: Some(activation_id.as_str()), ..self }
    }
    pub fn binding(self, binding_id: &'a BindingId) -> Self {
        AuditEvent { binding_id: Some(binding_id.as_str()), ..self }
    }
    /// The SMS (or other message) that caused the change.
    pub fn message(self, message_id: &'a str) -> Self {
        AuditEvent { message_id: Some(message_id), ..self }
    }
    pub fn detail(self, detail: &'a str) -> Self {
        AuditEvent { detail: Some(detail), ..self }
    }
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditRecord {
    pub sequence: i64,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub terminal_id: Option<String>,
    pub msisdn_masked: Option<String>,
    pub activation_id: Option<String>,
    pub binding_id: Option<String>,
    pub message_id: Option<String>,
    pub detail: Option<String>,
    /// Lowercase hex of the chain hash.
    pub hash: String,
}

pub(in crate::store) const RECORD_COLUMNS: &str =
    "sequence, at, actor, kind, terminal_id, msisdn_masked, activation_id, binding_id, \
     message_id, detail, prev_hash, hash, event_id, mac";

/// A row as the verifier reads it: an event with its place in the chain, or a row without a valid sequence.
#[allow(clippy::large_enum_variant, reason = "one row at a time, moved once: boxing would allocate per row")]
pub(in crate::store) enum ReadAuditRow {
    Chained(StoredAuditEvent),
    WithoutSequence { row_id: i64, what: &'static str },
}

/// The sequence column: an integer, or why it is not one (a NULL is no place in the chain, not sequence 0).
fn read_sequence(row: &Row<'_>) -> numbind_database::Result<Result<i64, &'static str>> {
    Ok(match row.get_ref(0)? {
        numbind_database::ValueRef::Integer(sequence) => Ok(sequence),
        numbind_database::ValueRef::Null => Err("NULL"),
        _ => Err("non-integer"),
    })
}

pub(in crate::store) fn read_audit_row(row: &Row<'_>) -> numbind_database::Result<ReadAuditRow> {
    match read_sequence(row)? {
        Ok(sequence) => Ok(ReadAuditRow::Chained(read_event_at(row, sequence)?)),
        Err(what) => Ok(ReadAuditRow::WithoutSequence { row_id: row.get(12)?, what }),
    }
}

/// The event of a row, with `sequence` for its place.
fn read_event_at(row: &Row<'_>, sequence: i64) -> numbind_database::Result<StoredAuditEvent> {
    let prev_hash: Option<Vec<u8>> = row.get(10)?;
    let hash: Option<Vec<u8>> = row.get(11)?;
    Ok(StoredAuditEvent {
        row_id: row.get(12)?,
        fields: AuditEventFields {
            sequence,
            at: row.get(1)?,
            actor: row.get(2)?,
            kind: row.get(3)?,
            terminal_id: row.get(4)?,
            msisdn_masked: row.get(5)?,
            activation_id: row.get(6)?,
            binding_id: row.get(7)?,
            message_id: row.get(8)?,
            detail: row.get(9)?,
        },
        prev_hash: prev_hash.unwrap_or_default(),
        hash: hash.unwrap_or_default(),
        mac: read_mac(row)?,
    })
}

/// The MAC column: a blob, none, or (anything else a writer of the file put there) an empty MAC that never
/// verifies, so that it is named forged instead of failing the read.
fn read_mac(row: &Row<'_>) -> numbind_database::Result<Option<Vec<u8>>> {
    Ok(match row.get_ref(13)? {
        numbind_database::ValueRef::Blob(mac) => Some(mac.to_vec()),
        numbind_database::ValueRef::Null => None,
        _ => Some(Vec::new()),
    })
}

/// An event with a sequence, or a conversion error that names the column (never a NULL read as 0).
fn read_stored_event(row: &Row<'_>) -> numbind_database::Result<StoredAuditEvent> {
    match read_audit_row(row)? {
        ReadAuditRow::Chained(event) => Ok(event),
        ReadAuditRow::WithoutSequence { .. } => {
            Err(numbind_database::QueryError::WrongColumnType { found: "null", wanted: "sequence" })
        }
    }
}

fn read_record(row: &Row<'_>) -> numbind_database::Result<AuditRecord> {
    let stored = read_stored_event(row)?;
    let fields = stored.fields;
    Ok(AuditRecord {
        sequence: fields.sequence,
        at: fields.at,
        actor: fields.actor,
        kind: fields.kind,
        terminal_id: fields.terminal_id,
        msisdn_masked: fields.msisdn_masked,
        activation_id: fields.activation_id,
        binding_id: fields.binding_id,
        message_id: fields.message_id,
        detail: fields.detail,
        hash: hash_to_hex(&stored.hash),
    })
}

/// The last chained event: where the next one links on, and the time it may not go back before.
pub(in crate::store) struct ChainHead {
    pub(in crate::store) sequence: i64,
    pub(in crate::store) hash: ChainHash,
    at: i64,
    /// The head has a MAC (it was written after events were keyed).
    pub(in crate::store) keyed: bool,
}

/// The chain's head (sequence 0, the genesis hash and the earliest time when the chain is empty), checked against
/// its predecessor: a head that does not hash to its stored hash, has no predecessor or does not link to it is
/// not carried on (two point reads and one hash; the whole chain is `numbind audit verify`'s job). With `audit_key`
/// its MAC is checked too (one HMAC): a head with a wrong MAC, or without one after a keyed predecessor, is
/// refused. Only the migration that chains events written before the chain existed reads the head without a key.
pub(in crate::store) fn chain_head(
    connection: &Connection<'_>,
    audit_key: Option<&AuditChainKey>,
) -> Result<ChainHead, StoreError> {
    let head = connection
        .prepare_cached(&format!(
            "SELECT {RECORD_COLUMNS} FROM audit_events WHERE sequence IS NOT NULL ORDER BY sequence DESC LIMIT 1"
        ))?
        .query_row([], read_audit_row)
        .optional()?;
    let head = match head {
        None => return Ok(ChainHead { sequence: 0, hash: GENESIS_HASH, at: i64::MIN, keyed: false }),
        Some(ReadAuditRow::Chained(head)) => head,
        Some(ReadAuditRow::WithoutSequence { .. }) => return Err(StoreError::MalformedRow("audit_events.sequence")),
    };
    let sequence = head.fields.sequence;
    if !head.hash_is_consistent() {
        return Err(StoreError::AuditChainBroken(format!(
            "the head event {sequence} does not hash to its stored hash"
        )));
    }
    let (predecessor_hash, predecessor_keyed): (Option<Vec<u8>>, bool) = if sequence == 1 {
        (Some(GENESIS_HASH.to_vec()), false)
    } else {
        connection
            .prepare_cached("SELECT hash, mac IS NOT NULL FROM audit_events WHERE sequence = ?1")?
            .query_row([sequence - 1], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?
            .unwrap_or((None, false))
    };
    if predecessor_hash.as_deref() != Some(head.prev_hash.as_slice()) {
        return Err(StoreError::AuditChainBroken(format!(
            "the head event {sequence} does not link to an event at sequence {}",
            sequence - 1
        )));
    }
    if let Some(audit_key) = audit_key {
        check_head_mac(connection, audit_key, &head, predecessor_keyed)?;
    }
    let hash = ChainHash::try_from(head.hash.as_slice()).map_err(|_| StoreError::MalformedRow("audit_events.hash"))?;
    Ok(ChainHead { sequence, hash, at: head.fields.at, keyed: head.mac.is_some() })
}

/// The head was written by the platform: its MAC verifies, or it has none and no event has one (the chain is still
/// the prefix written before events were keyed). Only an unkeyed head costs a further read (once, at the first start
/// after the migration, or under attack): a keyed predecessor settles it at once, and otherwise a search for any
/// keyed event catches several unkeyed events appended together.
fn check_head_mac(
    connection: &Connection<'_>,
    audit_key: &AuditChainKey,
    head: &StoredAuditEvent,
    predecessor_keyed: bool,
) -> Result<(), StoreError> {
    let sequence = head.fields.sequence;
    let forged = |why: &str| Err(StoreError::AuditChainBroken(format!("the head event {sequence} is forged: {why}")));
    match &head.mac {
        Some(mac) if audit_key.verifies(&head.hash, mac) => Ok(()),
        Some(_) => forged("its MAC does not verify (not written by this platform)"),
        None if predecessor_keyed => forged("it has no MAC, though the event before it is keyed"),
        None => {
            let any_keyed: bool = connection
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM audit_events WHERE mac IS NOT NULL)")?
                .query_row([], |row| row.get(0))?;
            if any_keyed {
                forged("it has no MAC, though keyed events come before it")
            } else {
                Ok(())
            }
        }
    }
}

/// Appends one event at the head of the chain; call inside the transaction of the state change it records.
///
/// `at` is read before the writer's lock is taken, so a writer that read the clock earlier can append after one
/// that read it later (or the clock can step back). The chain's times never go backwards: such an event is
/// stamped with its predecessor's time, which is when it could first have been recorded.
///
/// `audit_key` is the store's; a store without one (opened for tooling that writes no events) refuses to append.
pub(in crate::store) fn append_audit_event(
    connection: &Connection<'_>,
    audit_key: Option<&AuditChainKey>,
    at: i64,
    event: &AuditEvent<'_>,
) -> Result<(), StoreError> {
    let audit_key = audit_key.ok_or(StoreError::AuditKeyMissing)?;
    let head = chain_head(connection, Some(audit_key))?;
    let prev_hash = head.hash;
    let fields = AuditEventFields {
        sequence: head.sequence + 1,
        at: at.max(head.at),
        actor: event.actor.to_owned(),
        kind: event.kind.to_owned(),
        terminal_id: event.terminal_id.map(|terminal_id| terminal_id.as_str().to_owned()),
        msisdn_masked: event.msisdn.map(Msisdn::masked),
        activation_id: event.activation_id.map(str::to_owned),
        binding_id: event.binding_id.map(str::to_owned),
        message_id: event.message_id.map(str::to_owned),
        detail: event.detail.map(str::to_owned),
    };
    let hash = fields.chain_hash(&prev_hash);
    let mac = audit_key.mac(&hash);
    connection
        .prepare_cached(
            "INSERT INTO audit_events (sequence, at, actor, kind, terminal_id, msisdn_masked, activation_id, binding_id,
         message_id, detail, prev_hash, hash, mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(
        params![
            fields.sequence,
            fields.at,
            fields.actor,
            fields.kind,
            fields.terminal_id,
            fields.msisdn_masked,
            fields.activation_id,
            fields.binding_id,
            fields.message_id,
            fields.detail,
            prev_hash.as_slice(),
            hash.as_slice(),
            mac.as_slice()
        ],
    )?;
    Ok(())
}

/// Chains events written before the chain existed, in row order (run once, by the migration that adds it). The
/// migration runs without the platform's key: these events stay unkeyed, the start of the chain that only the
/// signed checkpoints vouch for.
pub(in crate::store) fn chain_unchained_audit_events(connection: &Connection<'_>) -> Result<(), StoreError> {
    let mut statement = connection
        .prepare(&format!("SELECT {RECORD_COLUMNS} FROM audit_events WHERE hash IS NULL ORDER BY event_id"))?;
    let unchained = statement.query_map([], |row| read_event_at(row, 0))?.collect::<Result<Vec<_>, _>>()?;
    for stored in unchained {
        let head = chain_head(connection, None)?;
        let prev_hash = head.hash;
        let fields = AuditEventFields { sequence: head.sequence + 1, ..stored.fields };
        let hash = fields.chain_hash(&prev_hash);
        connection
            .prepare_cached("UPDATE audit_events SET sequence = ?2, prev_hash = ?3, hash = ?4 WHERE event_id = ?1")?
            .execute(params![stored.row_id, fields.sequence, prev_hash.as_slice(), hash.as_slice()])?;
    }
    Ok(())
}

impl Store {
    /// Appends one event in its own transaction (for changes that touch no other table).
    pub fn append_audit_event(&self, at: i64, event: &AuditEvent<'_>) -> Result<(), StoreError> {
        self.in_transaction(|transaction| append_audit_event(transaction, self.audit_key.as_ref(), at, event))
    }

    /// Ends the unkeyed start of a chain migrated from before events were keyed: when the head has no MAC, appends
    /// a keyed `audit_chain_keyed` event after it, so that from now on an event without a valid MAC is never
    /// carried on. Returns the last unkeyed sequence when it did. Run at start, after the head was checked.
    pub fn key_audit_chain(&self, now: i64) -> Result<Option<i64>, StoreError> {
        let audit_key = self.audit_key.as_ref().ok_or(StoreError::AuditKeyMissing)?;
        self.in_transaction(|transaction| {
            let head = chain_head(transaction, Some(audit_key))?;
            if head.sequence == 0 || head.keyed {
                return Ok(None);
            }
            let detail = format!("events 1 to {} were written before events were keyed", head.sequence);
            let event = AuditEvent::new("platform", "audit_chain_keyed").detail(&detail);
            append_audit_event(transaction, Some(audit_key), now, &event)?;
            Ok(Some(head.sequence))
        })
    }

    /// Every event in order.
    pub fn audit_events(&self) -> Result<Vec<AuditRecord>, StoreError> {
        self.audit_events_after(0, i64::MAX)
    }

    /// Up to `limit` events with a sequence above `after_sequence`, in order (keyset pages).
    pub fn audit_events_after(&self, after_sequence: i64, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
        self.read(|connection| {
            let sql =
                format!("SELECT {RECORD_COLUMNS} FROM audit_events WHERE sequence > ?1 ORDER BY sequence LIMIT ?2");
            let mut statement = connection.prepare_cached(&sql)?;
            let rows = statement.query_map(params![after_sequence, limit], read_record)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Every event about one terminal, in order.
    pub fn audit_events_of_terminal(&self, terminal_id: &TerminalId) -> Result<Vec<AuditRecord>, StoreError> {
        self.read(|connection| {
            let sql = format!("SELECT {RECORD_COLUMNS} FROM audit_events WHERE terminal_id = ?1 ORDER BY sequence");
            let mut statement = connection.prepare(&sql)?;
            let rows = statement.query_map([terminal_id.as_str()], read_record)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

#[cfg(test)]
#[path = "audit_events_tests.rs"]
mod tests;
