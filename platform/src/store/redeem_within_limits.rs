//! Redemption under the guessing limits: failed redemptions per number (then a lock) and the global guard,
//! decided, recorded and applied in the same transaction as the redemption itself.

use super::redeem::{earlier_redemption_of_sms, redeem_code_in};
use super::tables::audit_events::{append_audit_event, AuditEvent};
use super::{RedemptionOutcome, Store, StoreError};
use crate::domain::activation::RedemptionRefusal;
use crate::domain::audit_mac::AuditChainKey;
use crate::domain::redemption_limits::{RedemptionBlock, RedemptionLimits, GLOBAL_GUARD_WINDOW_SECONDS};
use numbind_database::Connection;
use numbind_database::{params, OptionalExtension};
use numbind_wire::api::RedeemCodeRequest;
use numbind_wire::Msisdn;

/// What the OSS is answered, and what this call counted (for the metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitedRedemption {
    pub answer: LimitedRedemptionAnswer,
    /// A new failure was recorded (a replay records nothing).
    pub counted_failure: Option<RedemptionRefusal>,
    /// This call's failure locked the number.
    pub locked_the_number: bool,
}

/// The redemption's result, or why it was not tried (or why its failure locked the number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitedRedemptionAnswer {
    Redeemed(RedemptionOutcome),
    Blocked(RedemptionBlock),
}

fn reason_name(refusal: RedemptionRefusal) -> &'static str {
    match refusal {
        RedemptionRefusal::Unknown => "code_unknown",
        RedemptionRefusal::Expired => "code_expired",
        RedemptionRefusal::Used => "code_used",
    }
}

fn refusal_named(name: &str) -> Result<RedemptionRefusal, StoreError> {
    match name {
        "code_unknown" => Ok(RedemptionRefusal::Unknown),
        "code_expired" => Ok(RedemptionRefusal::Expired),
        "code_used" => Ok(RedemptionRefusal::Used),
        _ => Err(StoreError::MalformedRow("redemption_failures.reason")),
    }
}

fn lock_end_of(connection: &Connection<'_>, msisdn: &Msisdn) -> Result<Option<i64>, StoreError> {
    Ok(connection
        .prepare_cached("SELECT locked_until FROM number_locks WHERE msisdn = ?1")?
        .query_row([msisdn.as_digits()], |row| row.get(0))
        .optional()?)
}

/// The answer given before to this SMS's failed redemption, if it failed.
fn earlier_failure_of_sms(
    connection: &Connection<'_>,
    request: &RedeemCodeRequest,
    now: i64,
) -> Result<Option<LimitedRedemptionAnswer>, StoreError> {
    let row: Option<(String, bool)> = connection
        .prepare_cached("SELECT reason, locked_the_number FROM redemption_failures WHERE sms_message_id = ?1")?
        .query_row([&request.sms_message_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((reason, locked_the_number)) = row else { return Ok(None) };
    if locked_the_number {
        let locked_until = lock_end_of(connection, &request.msisdn)?.unwrap_or(now);
        let retry_after_seconds = (locked_until - now).max(1) as u64;
        return Ok(Some(LimitedRedemptionAnswer::Blocked(RedemptionBlock::NumberLocked { retry_after_seconds })));
    }
    Ok(Some(LimitedRedemptionAnswer::Redeemed(RedemptionOutcome::Refused(refusal_named(&reason)?))))
}

fn global_guard_in(
    connection: &Connection<'_>,
    limits: &RedemptionLimits,
    now: i64,
) -> Result<Option<RedemptionBlock>, StoreError> {
    let (failures, oldest): (u32, Option<i64>) = connection
        .prepare_cached("SELECT count(*), min(failed_at) FROM redemption_failures WHERE failed_at > ?1")?
        .query_row([now - GLOBAL_GUARD_WINDOW_SECONDS], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(limits.global_guard(failures, oldest, now))
}

/// Records the failure; locks the number when it is one too many. Returns whether it locked.
fn record_failure(
    transaction: &Connection<'_>,
    audit_key: Option<&AuditChainKey>,
    request: &RedeemCodeRequest,
    refusal: RedemptionRefusal,
    limits: &RedemptionLimits,
    now: i64,
) -> Result<bool, StoreError> {
    let msisdn = request.msisdn.as_digits();
    transaction
        .prepare_cached(
            "INSERT INTO redemption_failures (sms_message_id, msisdn, reason, failed_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![request.sms_message_id, msisdn, reason_name(refusal), now])?;
    let window_start = limits.failure_window_start(now, lock_end_of(transaction, &request.msisdn)?);
    let failures: u32 = transaction
        .prepare_cached("SELECT count(*) FROM redemption_failures WHERE msisdn = ?1 AND failed_at >= ?2")?
        .query_row(params![msisdn, window_start], |row| row.get(0))?;
    if !limits.failures_lock_the_number(failures) {
        return Ok(false);
    }
    let locked_until = now + limits.number_lock_duration.as_secs() as i64;
    transaction
        .prepare_cached(
            "INSERT INTO number_locks (msisdn, locked_at, locked_until) VALUES (?1, ?2, ?3)
         ON CONFLICT (msisdn) DO UPDATE SET locked_at = excluded.locked_at, locked_until = excluded.locked_until",
        )?
        .execute(params![msisdn, now, locked_until])?;
    transaction
        .prepare_cached("UPDATE redemption_failures SET locked_the_number = 1 WHERE sms_message_id = ?1")?
        .execute([&request.sms_message_id])?;
    append_audit_event(transaction, audit_key, now, &AuditEvent::new("oss", "number_locked").msisdn(&request.msisdn))?;
    Ok(true)
}

impl Store {
    /// Redeems `request.code` unless the number is locked or the global guard is up; a failure is counted once
    /// per SMS, and the one that exceeds the number's limit locks it and is itself answered as locked.
    pub fn redeem_code_within_limits(
        &self,
        request: &RedeemCodeRequest,
        limits: &RedemptionLimits,
        now: i64,
    ) -> Result<LimitedRedemption, StoreError> {
        self.in_transaction(|transaction| {
            let uncounted = |answer| LimitedRedemption { answer, counted_failure: None, locked_the_number: false };
            if let Some(earlier) = earlier_redemption_of_sms(transaction, &request.sms_message_id)? {
                return Ok(uncounted(LimitedRedemptionAnswer::Redeemed(RedemptionOutcome::Claimed(earlier))));
            }
            if let Some(earlier) = earlier_failure_of_sms(transaction, request, now)? {
                return Ok(uncounted(earlier));
            }
            let lock =
                lock_end_of(transaction, &request.msisdn)?.and_then(|end| RedemptionLimits::lock_in_force(end, now));
            if let Some(block) = lock.or(global_guard_in(transaction, limits, now)?) {
                return Ok(uncounted(LimitedRedemptionAnswer::Blocked(block)));
            }
            let outcome = redeem_code_in(transaction, self.audit_key.as_ref(), request, now)?;
            let RedemptionOutcome::Refused(refusal) = outcome else {
                return Ok(uncounted(LimitedRedemptionAnswer::Redeemed(outcome)));
            };
            let locked_the_number =
                record_failure(transaction, self.audit_key.as_ref(), request, refusal, limits, now)?;
            let answer = if locked_the_number {
                let retry_after_seconds = limits.number_lock_duration.as_secs().max(1);
                LimitedRedemptionAnswer::Blocked(RedemptionBlock::NumberLocked { retry_after_seconds })
            } else {
                LimitedRedemptionAnswer::Redeemed(outcome)
            };
            Ok(LimitedRedemption { answer, counted_failure: Some(refusal), locked_the_number })
        })
    }

    /// Forgets failed redemptions older than `cutoff` (they no longer count and their SMS are long settled).
    pub fn purge_redemption_failures_before(&self, cutoff: i64) -> Result<usize, StoreError> {
        self.in_transaction(|connection| {
            Ok(connection.prepare_cached("DELETE FROM redemption_failures WHERE failed_at < ?1")?.execute([cutoff])?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_wire::ActivationCode;
    use std::time::Duration;

    fn limits() -> RedemptionLimits {
        RedemptionLimits {
            max_failed_redemptions_per_number: 1,
            failed_redemption_window: Duration::from_secs(900),
            number_lock_duration: Duration::from_secs(3600),
            max_failed_redemptions_global_per_minute: 600,
        }
    }

    fn wrong_guess(sms_message_id: &str) -> RedeemCodeRequest {
        RedeemCodeRequest {
            code: ActivationCode::parse("BCDF-GHJK").unwrap(),
            msisdn: Msisdn::parse("13800138000").unwrap(),
            sms_message_id: sms_message_id.to_owned(),
        }
    }

    #[test]
    fn a_lock_survives_reopening_the_database() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("platform.db");
        let audit_key = crate::domain::audit_mac::AuditChainKey::from_secret(&[1; 32]);
        let store = Store::open(&path).unwrap().with_audit_key(audit_key.clone());
        store.redeem_code_within_limits(&wrong_guess("sms-1"), &limits(), 1_000).unwrap();
        let locking = store.redeem_code_within_limits(&wrong_guess("sms-2"), &limits(), 1_001).unwrap();
        assert!(locking.locked_the_number);
        drop(store);
        let reopened = Store::open(&path).unwrap().with_audit_key(audit_key);
        let after_restart = reopened.redeem_code_within_limits(&wrong_guess("sms-3"), &limits(), 2_000).unwrap();
        assert_eq!(
            after_restart.answer,
            LimitedRedemptionAnswer::Blocked(RedemptionBlock::NumberLocked { retry_after_seconds: 2_601 })
        );
        assert_eq!(after_restart.counted_failure, None, "a refused-while-locked redemption is not a new failure");
    }
}
