//! Operator queries: tokens (stored hashed), binding search and export pages, terminal history, operator unbinding.

use super::activations::{read_activation, ACTIVATION_COLUMNS};
use super::audit::{append_audit_event, AuditEvent};
use super::bindings::{active_binding_in, revoke_binding, Binding};
use super::outbox::queue_sms;
use super::terminals::find_terminal_in;
use super::{Store, StoreError};
use crate::domain::activation::Activation;
use crate::domain::operator::{hashes_match, NewOperatorToken, Operator, OperatorRole};
use numbind_wire::{Msisdn, TerminalId};
use rusqlite::{params, OptionalExtension};

/// Actor of changes made from the command line on the database file.
const COMMAND_LINE_ACTOR: &str = "operator-cli";

/// A binding row as operators see it (the full number: the HTTP layer masks it unless revealed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRecord {
    /// Keyset position: pass it back as the cursor for the next page.
    pub cursor: i64,
    pub binding_id: String,
    pub terminal_id: String,
    pub msisdn: Msisdn,
    pub activation_id: String,
    pub state: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
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
}

const BINDING_RECORD_COLUMNS: &str =
    "rowid, binding_id, terminal_id, msisdn, activation_id, state, created_at, revoked_at, revoked_reason";

fn read_binding_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<BindingRecord, StoreError>> {
    let msisdn: String = row.get(3)?;
    let Ok(msisdn) = Msisdn::parse(&msisdn) else { return Ok(Err(StoreError::MalformedRow("bindings.msisdn"))) };
    Ok(Ok(BindingRecord {
        cursor: row.get(0)?,
        binding_id: row.get(1)?,
        terminal_id: row.get(2)?,
        msisdn,
        activation_id: row.get(4)?,
        state: row.get(5)?,
        created_at: row.get(6)?,
        revoked_at: row.get(7)?,
        revoked_reason: row.get(8)?,
    }))
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
                append_audit_event(transaction, now, &event)?;
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
        self.read(|connection| {
            let sql = format!(
                "SELECT {BINDING_RECORD_COLUMNS} FROM bindings WHERE rowid > ?1
                 AND (?2 IS NULL OR msisdn = ?2) AND (?3 IS NULL OR terminal_id = ?3) AND (?4 IS NULL OR state = ?4)
                 AND (?5 IS NULL OR created_at >= ?5) AND (?6 IS NULL OR created_at < ?6)
                 ORDER BY rowid LIMIT ?7"
            );
            let mut statement = connection.prepare_cached(&sql)?;
            let rows = statement.query_map(
                params![
                    after_cursor,
                    filter.msisdn.as_ref().map(Msisdn::as_digits),
                    filter.terminal_id.as_ref().map(TerminalId::as_str),
                    filter.state,
                    filter.from,
                    filter.to,
                    limit
                ],
                read_binding_record,
            )?;
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
            revoke_binding(transaction, &binding, &actor, "operator", now)?;
            let revocation = numbind_wire::api::RevocationReason::Operator;
            super::oss_outbox::queue_oss_revocation(transaction, &binding, revocation, now)?;
            let model = find_terminal_in(transaction, terminal_id)?.map(|terminal| terminal.device_model);
            let text = operator_unbound_text(&model.unwrap_or_default(), terminal_id);
            let outbox_id = queue_sms(transaction, &binding.msisdn, &text, now)?;
            let event = AuditEvent::new(&actor, "operator_unbound")
                .terminal(terminal_id)
                .msisdn(&binding.msisdn)
                .binding(&binding.binding_id)
                .message(&outbox_id)
                .detail(reason);
            append_audit_event(transaction, now, &event)?;
            Ok(Some(binding))
        })
    }

    /// Audits that an admin saw full numbers, and why.
    pub fn record_number_reveal(
        &self,
        operator_name: &str,
        what: &str,
        reason: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let actor = format!("operator:{operator_name}");
        let detail = format!("{what}; reason: {reason}");
        self.append_audit_event(now, &AuditEvent::new(&actor, "numbers_revealed").detail(&detail))
    }

    /// Inserts bindings rows directly, in one transaction (load tests of the export).
    #[doc(hidden)]
    pub fn insert_bindings_for_load_test(&self, rows: &[(String, TerminalId, Msisdn, i64)]) -> Result<(), StoreError> {
        self.in_transaction(|transaction| {
            let mut terminal = transaction.prepare(
                "INSERT OR IGNORE INTO terminals (terminal_id, public_key, device_model, registered_at)
                 VALUES (?1, '', 'load test', ?2)",
            )?;
            let mut activation = transaction.prepare(
                "INSERT OR IGNORE INTO activations (activation_id, terminal_id, code, state, created_at, expires_at)
                 VALUES ('load-' || ?1, ?1, '000000', 'expired', ?2, ?2)",
            )?;
            let mut binding = transaction.prepare(
                "INSERT INTO bindings (binding_id, terminal_id, msisdn, activation_id, state, created_at)
                 VALUES (?1, ?2, ?3, 'load-' || ?2, 'revoked', ?4)",
            )?;
            for (binding_id, terminal_id, msisdn, created_at) in rows {
                terminal.execute(params![terminal_id.as_str(), created_at])?;
                activation.execute(params![terminal_id.as_str(), created_at])?;
                binding.execute(params![binding_id, terminal_id.as_str(), msisdn.as_digits(), created_at])?;
            }
            Ok(())
        })
    }
}
