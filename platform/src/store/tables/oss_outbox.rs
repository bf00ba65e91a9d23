//! The durable platform→OSS outbox (`outbox_oss`): revocations queued in the transaction that revokes, drained
//! by `workers::oss_revocations` until the OSS acknowledges.

use crate::domain::oss_revocation::{new_revocation_id, QueuedOssRevocation};
use crate::store::tables::bindings::RevocationTarget;
use crate::store::{parse_column, Store, StoreError};
use numbind_database::params;
use numbind_database::{Connection, Row};
use numbind_routing::ProvinceCode;
use numbind_wire::api::{PlatformRevocationRequest, RevocationReason};
use numbind_wire::{BindingId, Msisdn, TerminalId};
use ring::rand::SystemRandom;

/// Queues the OSS's copy of a revocation; call it inside the transaction that revokes the binding.
pub(in crate::store) fn enqueue_oss_revocation(
    connection: &Connection<'_>,
    target: RevocationTarget<'_>,
    reason: RevocationReason,
    now: i64,
) -> Result<String, StoreError> {
    let revocation_id = new_revocation_id(&SystemRandom::new()).map_err(|_| StoreError::RandomSourceFailed)?;
    connection
        .prepare_cached(
            "INSERT INTO outbox_oss (revocation_id, binding_id, terminal_id, msisdn, reason, state, attempts,
         next_attempt_at, created_at, province) VALUES (?1, ?2, ?3, ?4, ?5, 'queued', 0, ?6, ?6, ?7)",
        )?
        .execute(params![
            revocation_id,
            target.binding_id.as_str(),
            target.terminal_id.as_str(),
            target.msisdn.as_digits(),
            reason.as_str(),
            now,
            target.province.map(ProvinceCode::as_str),
        ])?;
    Ok(revocation_id)
}

const COLUMNS: &str =
    "revocation_id, binding_id, terminal_id, msisdn, reason, state, attempts, next_attempt_at, province";

fn read_row(row: &Row<'_>) -> numbind_database::Result<Result<QueuedOssRevocation, StoreError>> {
    let (terminal_id, msisdn, reason, state): (String, String, String, String) =
        (row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?);
    let parsed = (|| {
        Ok::<_, StoreError>((
            TerminalId::parse(&terminal_id).map_err(|_| StoreError::MalformedRow("outbox_oss.terminal_id"))?,
            Msisdn::parse(&msisdn).map_err(|_| StoreError::MalformedRow("outbox_oss.msisdn"))?,
            RevocationReason::parse(&reason).ok_or(StoreError::MalformedRow("outbox_oss.reason"))?,
        ))
    })();
    let binding_id: String = row.get(1)?;
    let binding_id = match parse_column(&binding_id, "outbox_oss.binding_id", BindingId::parse) {
        Ok(binding_id) => binding_id,
        Err(error) => return Ok(Err(error)),
    };
    let (terminal_id, msisdn, reason) = match parsed {
        Ok(values) => values,
        Err(error) => return Ok(Err(error)),
    };
    Ok(Ok(QueuedOssRevocation {
        request: PlatformRevocationRequest { revocation_id: row.get(0)?, binding_id, terminal_id, msisdn, reason },
        delivered: state == "delivered",
        attempts: row.get(6)?,
        next_attempt_at: row.get(7)?,
        province: row.get::<_, Option<String>>(8)?.and_then(|code| ProvinceCode::parse(&code).ok()),
    }))
}

fn query(
    connection: &Connection<'_>,
    sql: &str,
    parameters: impl numbind_database::Params,
) -> Result<Vec<QueuedOssRevocation>, StoreError> {
    let mut statement = connection.prepare_cached(sql)?;
    let rows = statement.query_map(parameters, read_row)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().collect()
}

impl Store {
    /// Queued revocations whose next attempt is due, oldest first.
    pub fn due_oss_revocations(&self, now: i64, limit: usize) -> Result<Vec<QueuedOssRevocation>, StoreError> {
        self.read(|connection| {
            let sql = format!(
                "SELECT {COLUMNS} FROM outbox_oss WHERE state = 'queued' AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at, created_at LIMIT ?2"
            );
            query(connection, &sql, params![now, limit as i64])
        })
    }

    /// Queued revocations of one province's OSS (`None`: bindings made without provinces) whose next attempt is
    /// due, oldest first: each province's OSS is drained by its own worker, so one province down delays no other.
    pub fn due_oss_revocations_of_province(
        &self,
        province: Option<ProvinceCode>,
        now: i64,
        limit: usize,
    ) -> Result<Vec<QueuedOssRevocation>, StoreError> {
        self.read(|connection| {
            let sql = format!(
                "SELECT {COLUMNS} FROM outbox_oss WHERE province IS NOT DISTINCT FROM ?3 AND state = 'queued' AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at, created_at LIMIT ?2"
            );
            query(connection, &sql, params![now, limit as i64, province.map(ProvinceCode::as_str)])
        })
    }

    /// The earliest next attempt of any queued revocation.
    pub fn next_oss_revocation_due_at(&self) -> Result<Option<i64>, StoreError> {
        self.read(|connection| {
            Ok(connection
                .prepare_cached("SELECT min(next_attempt_at) FROM outbox_oss WHERE state = 'queued'")?
                .query_row([], |row| row.get(0))?)
        })
    }

    /// The OSS acknowledged the revocation.
    pub fn mark_oss_revocation_delivered(&self, revocation_id: &str, now: i64) -> Result<(), StoreError> {
        self.in_transaction(|connection| {
            connection
                .prepare_cached(
                    "UPDATE outbox_oss SET state = 'delivered', delivered_at = ?2, attempts = attempts + 1, \
                     last_error = NULL
                 WHERE revocation_id = ?1",
                )?
                .execute(params![revocation_id, now])?;
            Ok(())
        })
    }

    /// An attempt failed (`error` says why, no numbers in it); try again at `next_attempt_at`.
    pub fn reschedule_oss_revocation(
        &self,
        revocation_id: &str,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        self.in_transaction(|connection| {
            connection
                .prepare_cached(
                    "UPDATE outbox_oss SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3
                 WHERE revocation_id = ?1",
                )?
                .execute(params![revocation_id, next_attempt_at, error])?;
            Ok(())
        })
    }

    /// Every revocation queued for `binding_id`, delivered or not, oldest first.
    pub fn oss_revocations_of_binding(&self, binding_id: &str) -> Result<Vec<QueuedOssRevocation>, StoreError> {
        self.read(|connection| {
            let sql = format!("SELECT {COLUMNS} FROM outbox_oss WHERE binding_id = ?1 ORDER BY created_at, rowid");
            query(connection, &sql, [binding_id])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_revocation_is_due_until_delivered_and_waits_when_rescheduled() {
        let store = Store::open_in_memory().unwrap();
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let msisdn = Msisdn::parse("13800138000").unwrap();
        let binding_id = BindingId::parse("bnd-1").unwrap();
        let binding =
            RevocationTarget { binding_id: &binding_id, terminal_id: &terminal_id, msisdn: &msisdn, province: None };
        let revocation_id = store
            .in_transaction(|connection| enqueue_oss_revocation(connection, binding, RevocationReason::Operator, 100))
            .unwrap();
        let due = store.due_oss_revocations(100, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!((due[0].request.binding_id.as_str(), due[0].request.reason), ("bnd-1", RevocationReason::Operator));
        store.reschedule_oss_revocation(&revocation_id, 130, "oss unreachable").unwrap();
        assert!(store.due_oss_revocations(129, 10).unwrap().is_empty());
        assert_eq!(store.next_oss_revocation_due_at().unwrap(), Some(130));
        store.mark_oss_revocation_delivered(&revocation_id, 130).unwrap();
        assert!(store.due_oss_revocations(1_000, 10).unwrap().is_empty());
        let all = store.oss_revocations_of_binding("bnd-1").unwrap();
        assert!(all[0].delivered && all[0].attempts == 2);
    }

    #[test]
    fn each_province_drains_only_its_own_revocations() {
        let store = Store::open_in_memory().unwrap();
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let msisdn = Msisdn::parse("13801001000").unwrap();
        let beijing = ProvinceCode::parse("BJ").unwrap();
        for (binding, province) in [("bnd-bj", Some(beijing)), ("bnd-none", None)] {
            let binding_id = BindingId::parse(binding).unwrap();
            let target =
                RevocationTarget { binding_id: &binding_id, terminal_id: &terminal_id, msisdn: &msisdn, province };
            store
                .in_transaction(|connection| {
                    enqueue_oss_revocation(connection, target, RevocationReason::Operator, 100)
                })
                .unwrap();
        }
        let of_beijing = store.due_oss_revocations_of_province(Some(beijing), 100, 10).unwrap();
        assert_eq!(of_beijing.len(), 1);
        assert_eq!((of_beijing[0].request.binding_id.as_str(), of_beijing[0].province), ("bnd-bj", Some(beijing)));
        let without = store.due_oss_revocations_of_province(None, 100, 10).unwrap();
        assert_eq!(without.len(), 1);
        assert_eq!(without[0].request.binding_id.as_str(), "bnd-none");
        let guangdong = ProvinceCode::parse("GD").unwrap();
        assert!(store.due_oss_revocations_of_province(Some(guangdong), 100, 10).unwrap().is_empty());
    }
}
