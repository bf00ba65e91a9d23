//! Use case, activations:  issuing (or showing again), reading, lazy expiry and the terminal's acknowledgement.

use super::tables::activations::{find_activation_in, read_activation, set_activation_state, ACTIVATION_COLUMNS};
use super::tables::audit_events::{append_audit_event, AuditEvent};
use super::tables::bindings::active_binding_in;
use super::{Store, StoreError};
use crate::domain::activation::{Activation, ActivationState};
use crate::domain::audit_mac::AuditChainKey;
use crate::domain::ids::new_activation_id;
use numbind_database::Connection;
use numbind_database::{params, OptionalExtension};
use numbind_wire::{ActivationCode, ActivationId, BindingId, TerminalId};
use ring::rand::SecureRandom;

/// What asking for an activation gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueOutcome {
    /// A new activation, or the live one shown again (`reused`).
    Issued {
        activation: Activation,
        reused: bool,
    },
    AlreadyBound,
    /// Too many activations lately; the oldest counted one leaves the window after this many seconds.
    RateLimited {
        retry_after_seconds: i64,
    },
}

/// Limits for issuing activations.
#[derive(Debug, Clone, Copy)]
pub struct IssueLimits {
    pub time_to_live_seconds: i64,
    pub max_per_window: i64,
    pub window_seconds: i64,
}

/// Writes back the expiry of every live activation past its deadline (frees their codes for reuse).
fn expire_overdue_activations(connection: &Connection<'_>, now: i64) -> Result<(), StoreError> {
    connection
        .prepare_cached("UPDATE activations SET state = 'expired' WHERE state = 'pending' AND expires_at <= ?1")?
        .execute([now])?;
    connection
        .prepare_cached("UPDATE activations SET state = 'expired' WHERE state = 'claimed' AND expires_at + ?2 <= ?1")?
        .execute(params![now, crate::domain::activation::CLAIM_GRACE_SECONDS])?;
    Ok(())
}

fn live_activation_of_terminal(
    connection: &Connection<'_>,
    terminal_id: &TerminalId,
) -> Result<Option<Activation>, StoreError> {
    let sql = format!(
        "SELECT {ACTIVATION_COLUMNS} FROM activations WHERE terminal_id = ?1 AND state IN ('pending','claimed')
         ORDER BY created_at DESC LIMIT 1"
    );
    connection.prepare_cached(&sql)?.query_row([terminal_id.as_str()], read_activation).optional()?.transpose()
}

fn rate_limit_retry_after(
    connection: &Connection<'_>,
    terminal_id: &TerminalId,
    limits: IssueLimits,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let (count, oldest): (i64, Option<i64>) = connection
        .prepare_cached("SELECT count(*), min(created_at) FROM activations WHERE terminal_id = ?1 AND created_at > ?2")?
        .query_row(params![terminal_id.as_str(), now - limits.window_seconds], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok((count >= limits.max_per_window).then(|| (oldest.unwrap_or(now) + limits.window_seconds - now).max(1)))
}

fn insert_fresh_activation(
    transaction: &Connection<'_>,
    audit_key: Option<&AuditChainKey>,
    terminal_id: &TerminalId,
    random: &dyn SecureRandom,
    limits: IssueLimits,
    now: i64,
) -> Result<Activation, StoreError> {
    for _ in 0..8 {
        let activation_id = new_activation_id(random).map_err(|_| StoreError::RandomSourceFailed)?;
        let code = ActivationCode::generate(random).map_err(|_| StoreError::RandomSourceFailed)?;
        let expires_at = now + limits.time_to_live_seconds;
        let inserted = transaction
            .prepare_cached(
                "INSERT INTO activations (activation_id, terminal_id, code, state, created_at, expires_at)
             VALUES (?1, ?2, ?3, 'pending', ?4, ?5) ON CONFLICT DO NOTHING",
            )?
            .execute(params![activation_id.as_str(), terminal_id.as_str(), code.as_str(), now, expires_at])?;
        if inserted == 1 {
            let event =
                AuditEvent::new("terminal", "activation_issued").terminal(terminal_id).activation(&activation_id);
            append_audit_event(transaction, audit_key, now, &event)?;
            return Ok(Activation {
                activation_id,
                terminal_id: terminal_id.clone(),
                code,
                state: ActivationState::Pending,
                created_at: now,
                expires_at,
                claimed_msisdn: None,
                claimed_sms_message_id: None,
                denial_reason: None,
                binding_id: None,
            });
        }
    }
    // Eight collisions among live codes in a space of 2.56e10 means the random source is broken.
    Err(StoreError::RandomSourceFailed)
}

impl Store {
    /// Shows the terminal's live activation again, or issues a fresh one (superseding a nearly expired one).
    pub fn issue_activation(
        &self,
        terminal_id: &TerminalId,
        random: &dyn SecureRandom,
        limits: IssueLimits,
        now: i64,
    ) -> Result<IssueOutcome, StoreError> {
        self.issue_activation_replacing(terminal_id, random, limits, false, now)
    }

    /// As `issue_activation`; with `replace_binding` a bound terminal gets one too (its binding will be replaced).
    pub fn issue_activation_replacing(
        &self,
        terminal_id: &TerminalId,
        random: &dyn SecureRandom,
        limits: IssueLimits,
        replace_binding: bool,
        now: i64,
    ) -> Result<IssueOutcome, StoreError> {
        self.in_transaction(|transaction| {
            if !replace_binding && active_binding_in(transaction, terminal_id)?.is_some() {
                return Ok(IssueOutcome::AlreadyBound);
            }
            expire_overdue_activations(transaction, now)?;
            if let Some(live) = live_activation_of_terminal(transaction, terminal_id)? {
                if live.can_be_shown_again(now) {
                    return Ok(IssueOutcome::Issued { activation: live, reused: true });
                }
            }
            if let Some(retry_after_seconds) = rate_limit_retry_after(transaction, terminal_id, limits, now)? {
                return Ok(IssueOutcome::RateLimited { retry_after_seconds });
            }
            if let Some(superseded) = live_activation_of_terminal(transaction, terminal_id)? {
                set_activation_state(transaction, &superseded.activation_id, ActivationState::Cancelled)?;
                let event = AuditEvent::new("terminal", "activation_superseded")
                    .terminal(terminal_id)
                    .activation(&superseded.activation_id);
                append_audit_event(transaction, self.audit_key.as_ref(), now, &event)?;
            }
            let activation =
                insert_fresh_activation(transaction, self.audit_key.as_ref(), terminal_id, random, limits, now)?;
            Ok(IssueOutcome::Issued { activation, reused: false })
        })
    }

    /// The activation with this ID, if it belongs to this terminal.
    pub fn find_activation(
        &self,
        terminal_id: &TerminalId,
        activation_id: &ActivationId,
    ) -> Result<Option<Activation>, StoreError> {
        self.read_one_query(|connection| {
            Ok(find_activation_in(connection, activation_id)?
                .filter(|activation| &activation.terminal_id == terminal_id))
        })
    }

    /// Writes back the expiry of a live activation past its deadline; returns the activation as stored after.
    pub fn expire_activation_if_due(
        &self,
        activation_id: &ActivationId,
        now: i64,
    ) -> Result<Option<Activation>, StoreError> {
        self.in_transaction(|transaction| {
            let Some(mut activation) = find_activation_in(transaction, activation_id)? else { return Ok(None) };
            if activation.state.is_live() && activation.effective_state(now) == ActivationState::Expired {
                set_activation_state(transaction, activation_id, ActivationState::Expired)?;
                let event = AuditEvent::new("platform", "activation_expired")
                    .terminal(&activation.terminal_id)
                    .activation(activation_id);
                append_audit_event(transaction, self.audit_key.as_ref(), now, &event)?;
                activation.state = ActivationState::Expired;
            }
            Ok(Some(activation))
        })
    }

    /// Records that the terminal wrote its bound flag; false when the binding is not this activation's.
    pub fn acknowledge_binding(
        &self,
        terminal_id: &TerminalId,
        activation_id: &ActivationId,
        binding_id: &BindingId,
        now: i64,
    ) -> Result<Option<bool>, StoreError> {
        self.in_transaction(|transaction| {
            let Some(activation) =
                find_activation_in(transaction, activation_id)?.filter(|a| &a.terminal_id == terminal_id)
            else {
                return Ok(None);
            };
            if activation.state != ActivationState::Bound || activation.binding_id.as_ref() != Some(binding_id) {
                return Ok(Some(false));
            }
            let first_time = transaction
                .prepare_cached(
                    "UPDATE activations SET acknowledged_at = ?2 WHERE activation_id = ?1 AND acknowledged_at IS NULL",
                )?
                .execute(params![activation_id.as_str(), now])?
                == 1;
            if first_time {
                let event = AuditEvent::new("terminal", "binding_acknowledged")
                    .terminal(terminal_id)
                    .activation(activation_id)
                    .binding(binding_id);
                append_audit_event(transaction, self.audit_key.as_ref(), now, &event)?;
            }
            Ok(Some(true))
        })
    }
}
