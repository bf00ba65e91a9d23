//! Operator queries: tokens (stored hashed), binding search and export pages, terminal history, operator unbinding.

use super::revoke::revoke_binding;
use super::tables::activations::{read_activation, ACTIVATION_COLUMNS};
use super::tables::audit_events::{append_audit_event, AuditEvent};
use super::tables::bindings::{active_binding_in, Binding};
use super::tables::outbox::enqueue_notification;
use super::tables::terminals::find_terminal_in;
use super::{parse_column, Store, StoreError};
use crate::domain::activation::Activation;
use crate::domain::operator::{hashes_match, NewOperatorToken, Operator, OperatorRole};
use numbind_database::{params, OptionalExtension, Row, ValueRef};
use numbind_routing::ProvinceCode;
use numbind_wire::{mask_numbers_in_text, ActivationId, BindingId, Msisdn, TerminalId};

/// Actor of changes made from the command line on the database file.
const COMMAND_LINE_ACTOR: &str = "operator-cli";

/// A binding row as operators see it (the full number: the HTTP layer masks it unless revealed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRecord {
    /// Keyset position: pass it back as the cursor for the next page.
    pub cursor: i64,
    pub binding_id: BindingId,
    pub terminal_id: TerminalId,
    pub msisdn: Msisdn,
    pub activation_id: ActivationId,
    pub state: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
    /// At a hub, the province whose OSS holds it.
    pub province: Option<ProvinceCode>,
    /// At a hub, the fingerprint of the routing table that chose the province.
    pub routing_version: Option<String>,
}

/// Which bindings to list; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BindingFilter {
    pub msisdn: Option<Msisdn>,
    pub terminal_id: Option<TerminalId>,
    /// `active` or `revoked`.
    pub state: Option<String>,
    /// Created at or after (unix seconds).
    pub from: Option<i64>,
    /// Created before (unix seconds).
    pub to: Option<i64>,
    /// At a hub, only the bindings of this province's OSS.
    pub province: Option<ProvinceCode>,
}

const BINDING_RECORD_COLUMNS: &str =
    "rowid, binding_id, terminal_id, msisdn, activation_id, state, created_at, revoked_at, revoked_reason, province, \
     routing_version";

fn read_binding_record(row: &Row<'_>) -> numbind_database::Result<Result<BindingRecord, StoreError>> {
    let msisdn: String = row.get(3)?;
    let Ok(msisdn) = Msisdn::parse(&msisdn) else { return Ok(Err(StoreError::MalformedRow("bindings.msisdn"))) };
    let (binding_id, terminal_id, activation_id): (String, String, String) = (row.get(1)?, row.get(2)?, row.get(4)?);
    let typed = (|| {
        Ok((
            parse_column(&binding_id, "bindings.binding_id", BindingId::parse)?,
            parse_column(&terminal_id, "bindings.terminal_id", TerminalId::parse)?,
            parse_column(&activation_id, "bindings.activation_id", ActivationId::parse)?,
        ))
    })();
    let (binding_id, terminal_id, activation_id) = match typed {
        Ok(typed) => typed,
        Err(error) => return Ok(Err(error)),
    };
    Ok(Ok(BindingRecord {
        cursor: row.get(0)?,
        binding_id,
        terminal_id,
        msisdn,
        activation_id,
        state: row.get(5)?,
        created_at: row.get(6)?,
        revoked_at: row.get(7)?,
        revoked_reason: row.get(8)?,
        province: row.get::<_, Option<String>>(9)?.and_then(|code| ProvinceCode::parse(&code).ok()),
        routing_version: row.get(10)?,
    }))
}

/// One binding search as SQLite runs it: a condition for each present filter only, then keyset paging.
///
/// A condition such as `(?2 IS NULL OR msisdn = ?2)` cannot use an index, so SQLite would walk every binding
/// ever made by rowid to fill a terminal's history or a number's page. Each set of present filters has its own
/// text (at most 64, all from fixed fragments; values stay bound parameters), planned with its own index.
struct BindingSearch<'filter> {
    sql: String,
    /// In the order the SQL numbers them: the cursor, each present filter, the limit.
    parameters: Vec<ValueRef<'filter>>,
}

impl<'filter> BindingSearch<'filter> {
    fn new(filter: &'filter BindingFilter, after_cursor: i64, limit: i64) -> BindingSearch<'filter> {
        let conditions: [(&'static str, Option<ValueRef<'filter>>); 6] = [
            ("msisdn =", filter.msisdn.as_ref().map(|msisdn| ValueRef::Text(msisdn.as_digits()))),
            ("terminal_id =", filter.terminal_id.as_ref().map(|terminal_id| ValueRef::Text(terminal_id.as_str()))),
            ("state =", filter.state.as_deref().map(ValueRef::Text)),
            ("created_at >=", filter.from.map(ValueRef::Integer)),
            ("created_at <", filter.to.map(ValueRef::Integer)),
            ("province =", filter.province.map(|province| ValueRef::Text(province.as_str()))),
        ];
        let mut sql = format!("SELECT {BINDING_RECORD_COLUMNS} FROM bindings WHERE rowid > ?1");
        let mut parameters = vec![ValueRef::Integer(after_cursor)];
        numbind_sqlite::search_filters::push_present_conditions(&mut sql, &mut parameters, conditions);
        parameters.push(ValueRef::Integer(limit));
        sql.push_str(&format!(" ORDER BY rowid LIMIT ?{}", parameters.len()));
        BindingSearch { sql, parameters }
    }
}

/// The text to the number whose binding an operator removed.
fn operator_unbound_text(device_model: &str, terminal_id: &TerminalId) -> String {
    format!(
        "【numbind】运营商已解除本号码与设备 {device_model}（终端尾号{}）的绑定，该设备的费用不再由本号码支付。",
        terminal_id.tail()
    )
}

impl Store {
    /// Stores a new token's hash (never the token) and audits its creation.
    pub fn insert_operator_token(
        &self,
        token: &NewOperatorToken,
        name: &str,
        role: OperatorRole,
        now: i64,
    ) -> Result<(), StoreError> {
        self.in_transaction(|transaction| {
            transaction
                .prepare_cached(
                    "INSERT INTO operator_tokens (token_id, name, role, token_hash, created_at) VALUES (?1, ?2, \
                     ?3, ?4, ?5)",
                )?
                .execute(params![token.token_id, name, role.as_str(), token.hash.as_slice(), now])?;
            let detail = format!("token {} for {name} as {}", token.token_id, role.as_str());
            append_audit_event(
                transaction,
                self.audit_key.as_ref(),
                now,
                &AuditEvent::new(COMMAND_LINE_ACTOR, "operator_token_created").detail(&detail),
            )
        })
    }

    /// Revokes a token by ID (or every live token of an operator name); returns how many were revoked.
    pub fn revoke_operator_token(&self, token_id_or_name: &str, now: i64) -> Result<usize, StoreError> {
        self.in_transaction(|transaction| {
            let revoked = transaction
                .prepare_cached(
                    "UPDATE operator_tokens SET revoked_at = ?2 WHERE (token_id = ?1 OR name = ?1) AND \
                     revoked_at IS NULL",
                )?
                .execute(params![token_id_or_name, now])?;
            if revoked > 0 {
                let detail = format!("{revoked} token(s) of {token_id_or_name}");
                let event = AuditEvent::new(COMMAND_LINE_ACTOR, "operator_token_revoked").detail(&detail);
                append_audit_event(transaction, self.audit_key.as_ref(), now, &event)?;
            }
            Ok(revoked)
        })
    }

    /// The operator holding a live token with this hash.
    pub fn operator_by_token_hash(&self, token_hash: &[u8; 32]) -> Result<Option<Operator>, StoreError> {
        self.read(|connection| {
            let found: Option<(String, String, Vec<u8>)> = connection
                .prepare_cached(
                    "SELECT name, role, token_hash FROM operator_tokens WHERE token_hash = ?1 AND revoked_at IS NULL",
                )?
                .query_row([token_hash.as_slice()], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .optional()?;
            let Some((name, role, stored_hash)) = found else { return Ok(None) };
            if !hashes_match(&stored_hash, token_hash) {
                return Ok(None);
            }
            let role = OperatorRole::parse(&role).map_err(|_| StoreError::MalformedRow("operator_tokens.role"))?;
            Ok(Some(Operator { name, role }))
        })
    }

    /// Up to `limit` bindings matching `filter` after keyset position `after_cursor`, oldest first.
    pub fn search_bindings(
        &self,
        filter: &BindingFilter,
        after_cursor: i64,
        limit: i64,
    ) -> Result<Vec<BindingRecord>, StoreError> {
        let search = BindingSearch::new(filter, after_cursor, limit);
        self.read(|connection| {
            let mut statement = connection.prepare_cached(&search.sql)?;
            let rows =
                statement.query_map(numbind_database::params_from_iter(&search.parameters), read_binding_record)?;
            rows.map(|row| row?).collect()
        })
    }

    /// Every activation of one terminal, oldest first.
    pub fn activations_of_terminal(&self, terminal_id: &TerminalId) -> Result<Vec<Activation>, StoreError> {
        self.read(|connection| {
            let sql =
                format!("SELECT {ACTIVATION_COLUMNS} FROM activations WHERE terminal_id = ?1 ORDER BY created_at");
            let mut statement = connection.prepare(&sql)?;
            let rows = statement.query_map([terminal_id.as_str()], read_activation)?;
            rows.map(|row| row?).collect()
        })
    }

    /// An admin removes the terminal's active binding: revoked as `operator`, the number told by SMS, all audited.
    /// Numbers typed into the reason are masked before it is kept: the audit trail never holds a full number.
    pub fn unbind_by_operator(
        &self,
        terminal_id: &TerminalId,
        operator_name: &str,
        reason: &str,
        now: i64,
    ) -> Result<Option<Binding>, StoreError> {
        self.in_transaction(|transaction| {
            let Some(binding) = active_binding_in(transaction, terminal_id)? else { return Ok(None) };
            let actor = format!("operator:{operator_name}");
            revoke_binding(transaction, self.audit_key.as_ref(), &binding, &actor, "operator", now)?;
            let revocation = numbind_wire::api::RevocationReason::Operator;
            super::tables::oss_outbox::enqueue_oss_revocation(
                transaction,
                binding.revocation_target(),
                revocation,
                now,
            )?;
            let model = find_terminal_in(transaction, terminal_id)?.map(|terminal| terminal.device_model);
            let text = operator_unbound_text(&model.unwrap_or_default(), terminal_id);
            let outbox_id = enqueue_notification(transaction, &binding.msisdn, &text, now)?;
            let masked_reason = mask_numbers_in_text(reason);
            let event = AuditEvent::new(&actor, "operator_unbound")
                .terminal(terminal_id)
                .msisdn(&binding.msisdn)
                .binding(&binding.binding_id)
                .message(&outbox_id)
                .detail(&masked_reason);
            append_audit_event(transaction, self.audit_key.as_ref(), now, &event)?;
            Ok(Some(binding))
        })
    }

    /// Audits that an admin saw full numbers, and why: `what` names the bindings and the search (built from masked
    /// values and IDs, kept as it is so that no ID is mistaken for a number), numbers typed into the reason masked.
    pub fn record_number_reveal(
        &self,
        operator_name: &str,
        what: &str,
        reason: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let actor = format!("operator:{operator_name}");
        let detail = format!("{what}; reason: {}", mask_numbers_in_text(reason));
        self.append_audit_event(now, &AuditEvent::new(&actor, "numbers_revealed").detail(&detail))
    }
}

impl Store {
    /// The province and routing version recorded with each of `binding_ids` (the payments export names them);
    /// bindings made without provinces are left out. One primary-key lookup each, in one read.
    pub fn binding_routes<'a>(
        &self,
        binding_ids: impl IntoIterator<Item = &'a BindingId>,
    ) -> Result<std::collections::HashMap<String, super::BindingRoute>, StoreError> {
        self.read(|connection| {
            let mut statement =
                connection.prepare_cached("SELECT province, routing_version FROM bindings WHERE binding_id = ?1")?;
            let mut routes = std::collections::HashMap::new();
            for binding_id in binding_ids {
                let row: Option<(Option<String>, Option<String>)> =
                    statement.query_row([binding_id.as_str()], |row| Ok((row.get(0)?, row.get(1)?))).optional()?;
                if let Some((Some(province), Some(routing_version))) = row {
                    let province = parse_column(&province, "bindings.province", ProvinceCode::parse)?;
                    routes.insert(binding_id.to_string(), super::BindingRoute { province, routing_version });
                }
            }
            Ok(routes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_database::Connection;

    /// The search before each filter had its own statement: the reference for what every search must find.
    const ONE_STATEMENT_FOR_EVERY_FILTER: &str = "SELECT rowid, binding_id, terminal_id, msisdn, activation_id, state,
        created_at, revoked_at, revoked_reason, province, routing_version FROM bindings WHERE rowid > ?1
        AND (CAST(?2 AS TEXT) IS NULL OR msisdn = ?2) AND (CAST(?3 AS TEXT) IS NULL OR terminal_id = ?3)
        AND (CAST(?4 AS TEXT) IS NULL OR state = ?4) AND (CAST(?5 AS BIGINT) IS NULL OR created_at >= ?5)
        AND (CAST(?6 AS BIGINT) IS NULL OR created_at < ?6) ORDER BY rowid LIMIT ?7";

    /// The filter whose fields are present where `present` has their bit: msisdn, terminal, `state`, from, to.
    fn filter_with(present: u8, state: &str) -> BindingFilter {
        BindingFilter {
            msisdn: (present & 1 != 0).then(|| Msisdn::parse("13800138001").unwrap()),
            terminal_id: (present & 2 != 0).then(|| TerminalId::parse("STB-000002").unwrap()),
            state: (present & 4 != 0).then(|| state.to_owned()),
            from: (present & 8 != 0).then_some(1_002),
            to: (present & 16 != 0).then_some(1_010),
            province: None,
        }
    }

    /// Twelve bindings over three terminals and two numbers, the newest of each terminal active.
    fn store_with_bindings() -> Store {
        let store = Store::open_in_memory().unwrap();
        let rows: Vec<(String, TerminalId, Msisdn, i64)> = (0..12)
            .map(|index| {
                let terminal_id = TerminalId::parse(&format!("STB-00000{}", index % 3 + 1)).unwrap();
                let msisdn = Msisdn::parse(&format!("1380013800{}", index % 2)).unwrap();
                (format!("binding-{index}"), terminal_id, msisdn, 1_000 + index)
            })
            .collect();
        store.insert_bindings_for_load_test(&rows).unwrap();
        store
            .in_transaction(|connection| {
                let newest = "binding_id IN ('binding-9', 'binding-10', 'binding-11')";
                connection.execute(&format!("UPDATE bindings SET state = 'active' WHERE {newest}"), [])?;
                Ok(())
            })
            .unwrap();
        store
    }

    /// The `EXPLAIN QUERY PLAN` steps of a search as the store runs it, its parameters bound.
    fn plan_of(connection: &Connection<'_>, search: &BindingSearch<'_>) -> Vec<String> {
        let mut statement = connection.prepare(&format!("EXPLAIN QUERY PLAN {}", search.sql)).unwrap();
        let steps =
            statement.query_map(numbind_database::params_from_iter(&search.parameters), |row| row.get(3)).unwrap();
        steps.collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn every_set_of_filters_finds_what_one_statement_with_null_filters_found() {
        let store = store_with_bindings();
        // A state bound to `active` lets SQLite pick the partial index of active bindings: check both values.
        for (present, state) in (0..32).flat_map(|present| [(present, "active"), (present, "revoked")]) {
            let filter = filter_with(present, state);
            for (after_cursor, limit) in [(0, i64::MAX), (0, 2), (4, 3), (12, 5)] {
                let found = store.search_bindings(&filter, after_cursor, limit).unwrap();
                let expected = store
                    .read(|connection| {
                        let mut statement = connection.prepare(ONE_STATEMENT_FOR_EVERY_FILTER)?;
                        let parameters = params![
                            after_cursor,
                            filter.msisdn.as_ref().map(Msisdn::as_digits),
                            filter.terminal_id.as_ref().map(TerminalId::as_str),
                            filter.state,
                            filter.from,
                            filter.to,
                            limit
                        ];
                        let rows = statement.query_map(parameters, read_binding_record)?;
                        rows.map(|row| row?).collect::<Result<Vec<_>, _>>()
                    })
                    .unwrap();
                assert_eq!(found, expected, "filters {present:05b} ({state}), after {after_cursor}, limit {limit}");
            }
        }
        let terminal_history = store.search_bindings(&filter_with(0b00010, "active"), 0, i64::MAX).unwrap();
        let cursors: Vec<i64> = terminal_history.iter().map(|binding| binding.cursor).collect();
        assert_eq!(cursors, vec![2, 5, 8, 11]);
        let active_of_number_in_range = store.search_bindings(&filter_with(0b11101, "active"), 0, i64::MAX).unwrap();
        assert_eq!(active_of_number_in_range.iter().map(|binding| binding.cursor).collect::<Vec<_>>(), vec![10]);
    }

    #[test]
    fn a_terminals_history_and_a_numbers_bindings_search_their_index_without_statistics() {
        let store = Store::open_in_memory().unwrap();
        if !store.runs_on_sqlite() {
            return;
        }
        store
            .read(|connection| {
                let history = plan_of(connection, &BindingSearch::new(&filter_with(0b00010, "active"), 0, i64::MAX));
                let by_terminal = "SEARCH bindings USING INDEX bindings_by_terminal (terminal_id=? AND rowid>?)";
                assert_eq!(history, vec![by_terminal.to_owned()]);
                let number = plan_of(connection, &BindingSearch::new(&filter_with(0b00001, "active"), 0, 50));
                let by_number = "SEARCH bindings USING INDEX bindings_by_msisdn (msisdn=?)";
                assert_eq!(number.first().map(String::as_str), Some(by_number), "{number:?}");
                for present in 0..32 {
                    let filter = filter_with(present, "active");
                    let search = BindingSearch::new(&filter, 0, 50);
                    let scans =
                        numbind_sqlite::query_plan::unbounded_scans(connection.as_sqlite().unwrap(), &search.sql, &[])?;
                    assert_eq!(scans, Vec::<String>::new(), "filters {present:05b}: {}", search.sql);
                    let plan = plan_of(connection, &search);
                    let by_number_or_terminal = present & 0b00011 != 0;
                    let walks_every_binding = plan.iter().any(|step| step.contains("INTEGER PRIMARY KEY"));
                    assert!(!(by_number_or_terminal && walks_every_binding), "filters {present:05b}: {plan:?}");
                }
                Ok(())
            })
            .unwrap();
    }
}
