//! SQL of the `bindings` table: the billing record of truth, at most one active binding per terminal.

use super::{Store, StoreError};
use crate::domain::binding::{BindingRecord, BindingRecordState};
use numbind_wire::api::{PlatformRevocationRequest, RevocationOutcome};
use numbind_wire::{Msisdn, TerminalId};
use rusqlite::{params, Connection, Row};

/// A binding to record.
#[derive(Debug, Clone)]
pub(crate) struct NewBinding {
    pub(crate) binding_id: String,
    pub(crate) msisdn: Msisdn,
    pub(crate) terminal_id: TerminalId,
    pub(crate) device_model: String,
    pub(crate) activation_id: String,
}

/// Which bindings to list; `None` matches all.
#[derive(Debug, Clone, Default)]
pub(crate) struct BindingFilter {
    pub(crate) msisdn: Option<Msisdn>,
    pub(crate) terminal_id: Option<TerminalId>,
    pub(crate) state: Option<BindingRecordState>,
}

const COLUMNS: &str = "binding_id, msisdn, terminal_id, device_model, activation_id, state, created_at_ms, \
                       revoked_at_ms, revoked_reason";

fn binding_from_row(row: &Row<'_>) -> Result<Result<BindingRecord, StoreError>, rusqlite::Error> {
    let msisdn: String = row.get(1)?;
    let terminal_id: String = row.get(2)?;
    let state: String = row.get(5)?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("binding {what}"));
    let parsed = (|| {
        Ok((
            Msisdn::parse(&msisdn).map_err(|_| corrupt("msisdn"))?,
            TerminalId::parse(&terminal_id).map_err(|_| corrupt("terminal_id"))?,
            BindingRecordState::parse(&state).ok_or_else(|| corrupt("state"))?,
        ))
    })();
    let (msisdn, terminal_id, state) = match parsed {
        Ok(values) => values,
        Err(error) => return Ok(Err(error)),
    };
    Ok(Ok(BindingRecord {
        binding_id: row.get(0)?,
        msisdn,
        terminal_id,
        device_model: row.get(3)?,
        activation_id: row.get(4)?,
        state,
        created_at_unix_ms: row.get(6)?,
        revoked_at_unix_ms: row.get(7)?,
        revoked_reason: row.get(8)?,
    }))
}

/// Whether `binding_id` is an active binding of `msisdn`, read on `connection` (inside a charge's transaction).
pub(super) fn is_active_binding_of(
    connection: &Connection,
    binding_id: &str,
    msisdn: &Msisdn,
) -> Result<bool, StoreError> {
    Ok(connection
        .prepare_cached("SELECT COUNT(*) > 0 FROM bindings WHERE binding_id = ?1 AND msisdn = ?2 AND state = 'active'")?
        .query_row(params![binding_id, msisdn.as_digits()], |row| row.get(0))?)
}

/// Revokes the terminal's active binding unless it is `keep_binding_id`; inserts the new one if it is new.
pub(super) fn record_binding_in(transaction: &Connection, binding: &NewBinding, now_ms: i64) -> Result<(), StoreError> {
    transaction
        .prepare_cached(
            "UPDATE bindings SET state = 'revoked', revoked_at_ms = ?3, revoked_reason = 'replaced' \
         WHERE terminal_id = ?1 AND state = 'active' AND binding_id <> ?2",
        )?
        .execute(params![binding.terminal_id.as_str(), binding.binding_id, now_ms])?;
    transaction
        .prepare_cached(
            "INSERT OR IGNORE INTO bindings (binding_id, msisdn, terminal_id, device_model, activation_id, state, \
         created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6)",
        )?
        .execute(params![
            binding.binding_id,
            binding.msisdn.as_digits(),
            binding.terminal_id.as_str(),
            binding.device_model,
            binding.activation_id,
            now_ms
        ])?;
    Ok(())
}

pub(super) fn revoke_binding_in(
    transaction: &Connection,
    binding_id: &str,
    reason: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    transaction
        .prepare_cached(
            "UPDATE bindings SET state = 'revoked', revoked_at_ms = ?2, revoked_reason = ?3 \
         WHERE binding_id = ?1 AND state = 'active'",
        )?
        .execute(params![binding_id, now_ms, reason])?;
    Ok(())
}

pub(super) fn revoke_bindings_of_number_in(
    transaction: &Connection,
    msisdn: &Msisdn,
    reason: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    transaction
        .prepare_cached(
            "UPDATE bindings SET state = 'revoked', revoked_at_ms = ?2, revoked_reason = ?3 \
         WHERE msisdn = ?1 AND state = 'active'",
        )?
        .execute(params![msisdn.as_digits(), now_ms, reason])?;
    Ok(())
}

impl Store {
    /// The platform revoked a binding (operator, factory reset): revoke the record if it is still active.
    /// Idempotent: a repeat finds it revoked; an unknown binding (or one of another terminal) changes nothing.
    pub(crate) fn revoke_binding_for_platform(
        &self,
        request: &PlatformRevocationRequest,
        now_ms: i64,
    ) -> Result<RevocationOutcome, StoreError> {
        self.write(|connection| {
            let changed = connection
                .prepare_cached(
                    "UPDATE bindings SET state = 'revoked', revoked_at_ms = ?3, revoked_reason = ?4 \
                 WHERE binding_id = ?1 AND terminal_id = ?2 AND state = 'active'",
                )?
                .execute(params![
                    request.binding_id.as_str(),
                    request.terminal_id.as_str(),
                    now_ms,
                    request.reason.as_str()
                ])?;
            if changed == 1 {
                return Ok(RevocationOutcome::Revoked);
            }
            let known: bool = connection
                .prepare_cached("SELECT COUNT(*) > 0 FROM bindings WHERE binding_id = ?1 AND terminal_id = ?2")?
                .query_row(params![request.binding_id.as_str(), request.terminal_id.as_str()], |row| row.get(0))?;
            Ok(if known { RevocationOutcome::AlreadyRevoked } else { RevocationOutcome::UnknownBinding })
        })
    }

    /// This number's active bindings on terminals other than `terminal_id`.
    pub(crate) fn count_active_bindings_elsewhere(
        &self,
        msisdn: &Msisdn,
        terminal_id: &TerminalId,
    ) -> Result<u32, StoreError> {
        self.read(|connection| {
            let count: i64 = connection
                .prepare_cached(
                    "SELECT COUNT(*) FROM bindings WHERE msisdn = ?1 AND state = 'active' AND terminal_id <> ?2",
                )?
                .query_row(params![msisdn.as_digits(), terminal_id.as_str()], |row| row.get(0))?;
            Ok(u32::try_from(count).unwrap_or(u32::MAX))
        })
    }

    pub(crate) fn list_bindings(&self, filter: &BindingFilter) -> Result<Vec<BindingRecord>, StoreError> {
        self.read(|connection| {
            let (sql, values) = binding_list_query(filter);
            let mut statement = connection.prepare_cached(&sql)?;
            let rows = statement.query_map(rusqlite::params_from_iter(values), binding_from_row)?;
            let mut bindings = Vec::new();
            for row in rows {
                bindings.push(row??);
            }
            Ok(bindings)
        })
    }
}

/// The listing's SQL with a condition for each filter present (`?n IS NULL OR ...` conditions cannot use an
/// index, so SQLite walked every binding ever made for each `QUERY` SMS), and its parameters in order.
fn binding_list_query(filter: &BindingFilter) -> (String, Vec<&str>) {
    let mut sql = format!("SELECT {COLUMNS} FROM bindings WHERE 1");
    let mut values = Vec::new();
    let present = [
        ("msisdn =", filter.msisdn.as_ref().map(Msisdn::as_digits)),
        ("terminal_id =", filter.terminal_id.as_ref().map(TerminalId::as_str)),
        ("state =", filter.state.map(BindingRecordState::as_str)),
    ];
    numbind_sqlite::search_filters::push_present_conditions(&mut sql, &mut values, present);
    sql.push_str(" ORDER BY created_at_ms, binding_id");
    (sql, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn new_binding(activation: &str, msisdn: &str, terminal: &str) -> NewBinding {
        NewBinding {
            binding_id: crate::domain::binding::binding_id_for_activation(activation),
            msisdn: Msisdn::parse(msisdn).unwrap(),
            terminal_id: TerminalId::parse(terminal).unwrap(),
            device_model: "Skyworth E900".into(),
            activation_id: activation.into(),
        }
    }

    #[test]
    fn a_listing_by_number_or_terminal_searches_an_index_whatever_else_it_filters() {
        let store = Store::open_in_memory().unwrap();
        let msisdn = Msisdn::parse("13800138000").unwrap();
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let combinations = [(true, false, false), (true, false, true), (false, true, false), (false, true, true)];
        for (by_number, by_terminal, by_state) in combinations.into_iter().chain([(true, true, true)]) {
            let filter = BindingFilter {
                msisdn: by_number.then(|| msisdn.clone()),
                terminal_id: by_terminal.then(|| terminal_id.clone()),
                state: by_state.then_some(BindingRecordState::Active),
            };
            let (sql, values) = binding_list_query(&filter);
            assert_eq!(values.len(), [by_number, by_terminal, by_state].iter().filter(|present| **present).count());
            let scans = store
                .read(|connection| Ok(numbind_sqlite::query_plan::unbounded_scans(connection, &sql, &[])?))
                .unwrap();
            assert_eq!(scans, Vec::<String>::new(), "{sql}");
        }
    }

    fn record(store: &Store, binding: &NewBinding, now_ms: i64) {
        store.write(|transaction| record_binding_in(transaction, binding, now_ms)).unwrap();
    }

    #[test]
    fn a_new_binding_of_a_terminal_revokes_its_binding_to_another_number() {
        let store = Store::open_in_memory().unwrap();
        record(&store, &new_binding("act-1", "13800138000", "STB-000001"), 1);
        record(&store, &new_binding("act-2", "13800138001", "STB-000001"), 2);
        let active = BindingFilter { state: Some(BindingRecordState::Active), ..BindingFilter::default() };
        let bindings = store.list_bindings(&active).unwrap();
        assert_eq!(bindings.len(), 1);
        assert_eq!(bindings[0].binding_id, "bnd-2");
        let all = store.list_bindings(&BindingFilter::default()).unwrap();
        assert_eq!(all[0].revoked_reason.as_deref(), Some("replaced"));
    }

    #[test]
    fn recording_the_same_binding_twice_changes_nothing() {
        let store = Store::open_in_memory().unwrap();
        let binding = new_binding("act-1", "13800138000", "STB-000001");
        record(&store, &binding, 1);
        record(&store, &binding, 2);
        let all = store.list_bindings(&BindingFilter::default()).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].state, BindingRecordState::Active);
        assert_eq!(all[0].created_at_unix_ms, 1);
    }

    #[test]
    fn a_platform_revocation_revokes_once_and_ignores_unknown_bindings() {
        let store = Store::open_in_memory().unwrap();
        record(&store, &new_binding("act-1", "13800138000", "STB-000001"), 1);
        let mut request = PlatformRevocationRequest {
            revocation_id: "rev-1".into(),
            binding_id: numbind_wire::BindingId::parse("bnd-1").unwrap(),
            terminal_id: TerminalId::parse("STB-000001").unwrap(),
            msisdn: Msisdn::parse("13800138000").unwrap(),
            reason: numbind_wire::api::RevocationReason::FactoryReset,
        };
        assert_eq!(store.revoke_binding_for_platform(&request, 2).unwrap(), RevocationOutcome::Revoked);
        assert_eq!(store.revoke_binding_for_platform(&request, 3).unwrap(), RevocationOutcome::AlreadyRevoked);
        let all = store.list_bindings(&BindingFilter::default()).unwrap();
        assert_eq!(
            (all[0].state, all[0].revoked_reason.as_deref()),
            (BindingRecordState::Revoked, Some("factory_reset"))
        );
        request.terminal_id = TerminalId::parse("STB-000002").unwrap();
        assert_eq!(store.revoke_binding_for_platform(&request, 4).unwrap(), RevocationOutcome::UnknownBinding);
    }

    #[test]
    fn bindings_on_other_terminals_are_counted_for_the_device_limit() {
        let store = Store::open_in_memory().unwrap();
        record(&store, &new_binding("act-1", "13800138000", "STB-000001"), 1);
        record(&store, &new_binding("act-2", "13800138000", "STB-000002"), 2);
        let msisdn = Msisdn::parse("13800138000").unwrap();
        assert_eq!(
            store.count_active_bindings_elsewhere(&msisdn, &TerminalId::parse("STB-000001").unwrap()).unwrap(),
            1
        );
        assert_eq!(
            store.count_active_bindings_elsewhere(&msisdn, &TerminalId::parse("STB-000009").unwrap()).unwrap(),
            2
        );
    }
}
