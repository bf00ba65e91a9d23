//! The `outbox_billing` table: charges and refunds the OSS must answer, queued in the transaction that decides
//! them, retried with backoff until the OSS answers (it is idempotent by payment and refund ID). At a national hub
//! each row carries the province of the binding it is charged to: that province's OSS answers it, and that
//! province's worker drains it.

use crate::store::{Store, StoreError};
use numbind_database::{params, Connection, OptionalExtension};
use numbind_routing::ProvinceCode;

// The province of the binding a charge (its record ID a payment ID) or a refund (a refund ID, through its payment)
// is charged to, the same SQL expression in each statement below: NULL for a binding made without provinces.

pub(in crate::store) const BILLING_OUTBOX_PROVINCE_MIGRATION: &str = r#"
ALTER TABLE outbox_billing ADD COLUMN province TEXT;
UPDATE outbox_billing SET province = (SELECT bindings.province FROM bindings WHERE bindings.binding_id =
    (SELECT payments.binding_id FROM payments WHERE payments.payment_id =
        COALESCE((SELECT refunds.payment_id FROM refunds WHERE refunds.refund_id = outbox_billing.record_id),
                 outbox_billing.record_id)));
CREATE INDEX outbox_billing_due_by_province ON outbox_billing(province, state, next_attempt_at);
"#;

/// What a queued billing call asks of the OSS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingKind {
    Charge,
    Refund,
}

/// A queued billing call: the record it is for, how many attempts it had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedBilling {
    pub record_id: String,
    pub kind: BillingKind,
    pub attempts: i64,
    /// The province whose OSS answers it (`None`: a binding made without provinces, routed by the table).
    pub province: Option<ProvinceCode>,
}

/// Queues a billing call, due for the worker at `due_at` (queued at `now`).
pub(in crate::store) fn enqueue_billing(
    connection: &Connection<'_>,
    record_id: &str,
    kind: BillingKind,
    (now, due_at): (i64, i64),
) -> Result<(), StoreError> {
    let kind = match kind {
        BillingKind::Charge => "charge",
        BillingKind::Refund => "refund",
    };
    connection
        .prepare_cached(
            "INSERT INTO outbox_billing (record_id, kind, state, next_attempt_at, created_at, province)
             VALUES (?1, ?2, 'queued', ?3, ?4, (SELECT bindings.province FROM bindings WHERE bindings.binding_id =
                 (SELECT payments.binding_id FROM payments WHERE payments.payment_id =
                     COALESCE((SELECT refunds.payment_id FROM refunds WHERE refunds.refund_id = ?1), ?1))))",
        )?
        .execute(params![record_id, kind, due_at, now])?;
    Ok(())
}

/// Queues the billing call of `record_id` again (a reconciliation repair re-drives a charge or refund the OSS
/// lacks): a delivered row goes back to `queued`, due now; a missing one is inserted.
pub(in crate::store) fn requeue_billing(
    connection: &Connection<'_>,
    record_id: &str,
    kind: BillingKind,
    now: i64,
) -> Result<(), StoreError> {
    let kind = match kind {
        BillingKind::Charge => "charge",
        BillingKind::Refund => "refund",
    };
    connection
        .prepare_cached(
            "INSERT INTO outbox_billing (record_id, kind, state, next_attempt_at, created_at, province)
             VALUES (?1, ?2, 'queued', ?3, ?3, (SELECT bindings.province FROM bindings WHERE bindings.binding_id =
                 (SELECT payments.binding_id FROM payments WHERE payments.payment_id =
                     COALESCE((SELECT refunds.payment_id FROM refunds WHERE refunds.refund_id = ?1), ?1))))
             ON CONFLICT (record_id) DO UPDATE SET state = 'queued', next_attempt_at = ?3, last_error = NULL,
                 province = excluded.province",
        )?
        .execute(params![record_id, kind, now])?;
    Ok(())
}

/// The OSS answered: the call is done (call it in the transaction that records the answer).
pub(in crate::store) fn mark_billing_delivered(
    connection: &Connection<'_>,
    record_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    connection
        .prepare_cached(
            "UPDATE outbox_billing SET state = 'delivered', delivered_at = ?2, attempts = attempts + 1,
             last_error = NULL WHERE record_id = ?1 AND state = 'queued'",
        )?
        .execute(params![record_id, now])?;
    Ok(())
}

fn read_queued(row: &numbind_database::Row<'_>) -> numbind_database::Result<QueuedBilling> {
    let kind: String = row.get(1)?;
    let kind = if kind == "refund" { BillingKind::Refund } else { BillingKind::Charge };
    // A province the parser refuses was never written by this store: routed by the table like a NULL one.
    let province = row.get::<_, Option<String>>(3)?.and_then(|code| ProvinceCode::parse(&code).ok());
    Ok(QueuedBilling { record_id: row.get(0)?, kind, attempts: row.get(2)?, province })
}

impl Store {
    /// Queued billing calls due by `now`, oldest first.
    pub fn due_billing(&self, now: i64, limit: usize) -> Result<Vec<QueuedBilling>, StoreError> {
        self.read(|connection| {
            let mut statement = connection.prepare_cached(
                "SELECT record_id, kind, attempts, province FROM outbox_billing
                 WHERE state = 'queued' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, created_at LIMIT ?2",
            )?;
            let rows = statement.query_map(params![now, limit as i64], read_queued)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Queued billing calls of one province's OSS (`None`: of bindings without a province) due by `now`, oldest
    /// first: each province is drained by a worker of its own, so one province down delays no other.
    pub fn due_billing_of_province(
        &self,
        province: Option<ProvinceCode>,
        now: i64,
        limit: usize,
    ) -> Result<Vec<QueuedBilling>, StoreError> {
        self.read(|connection| {
            let mut statement = connection.prepare_cached(
                "SELECT record_id, kind, attempts, province FROM outbox_billing
                 WHERE province IS NOT DISTINCT FROM ?3 AND state = 'queued' AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at, created_at LIMIT ?2",
            )?;
            let parameters = params![now, limit as i64, province.map(ProvinceCode::as_str)];
            let rows = statement.query_map(parameters, read_queued)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// How many calls wait in the queue of `province` (due or not), for its depth gauge.
    pub fn queued_billing_of_province(&self, province: Option<ProvinceCode>) -> Result<i64, StoreError> {
        self.read_one_query(|connection| {
            Ok(connection
                .prepare_cached(
                    "SELECT count(*) FROM outbox_billing WHERE province IS NOT DISTINCT FROM ?1 AND state = 'queued'",
                )?
                .query_row([province.map(ProvinceCode::as_str)], |row| row.get(0))?)
        })
    }

    /// The province whose OSS answers the billing call of `record_id` (`None`: none recorded, or no such call):
    /// an inline attempt goes where the worker would send it, so one charge never reaches two provinces.
    pub fn billing_province(&self, record_id: &str) -> Result<Option<ProvinceCode>, StoreError> {
        let province: Option<String> = self.read_one_query(|connection| {
            Ok(connection
                .prepare_cached("SELECT province FROM outbox_billing WHERE record_id = ?1")?
                .query_row([record_id], |row| row.get(0))
                .optional()?
                .flatten())
        })?;
        province
            .map(|code| ProvinceCode::parse(&code).map_err(|_| StoreError::MalformedRow("outbox_billing.province")))
            .transpose()
    }

    /// An attempt failed (`error` says why, no numbers in it); try again at `next_attempt_at`.
    pub fn reschedule_billing(&self, record_id: &str, next_attempt_at: i64, error: &str) -> Result<(), StoreError> {
        self.in_transaction(|connection| {
            connection
                .prepare_cached(
                    "UPDATE outbox_billing SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3
                     WHERE record_id = ?1 AND state = 'queued'",
                )?
                .execute(params![record_id, next_attempt_at, error])?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TERMINAL: &str = "STB-000001";

    /// A binding of [`TERMINAL`] in `province` (none for `None`) and a processing payment charged to it.
    fn payment_bound_in(connection: &Connection<'_>, payment_id: &str, province: Option<&str>) {
        let (binding_id, activation_id) = (format!("bnd-{payment_id}"), format!("act-{payment_id}"));
        connection
            .execute(
                "INSERT INTO activations (activation_id, terminal_id, code, state, created_at, expires_at)
                 VALUES (?1, ?2, ?1, 'bound', 1, 2)",
                params![activation_id, TERMINAL],
            )
            .unwrap();
        connection
            .execute(
                "INSERT INTO bindings (binding_id, terminal_id, msisdn, activation_id, state, created_at, province)
                 VALUES (?1, ?2, '13801008000', ?3, 'revoked', 1, ?4)",
                params![binding_id, TERMINAL, activation_id, province],
            )
            .unwrap();
        connection
            .execute(
                "INSERT INTO payments (payment_id, merchant_id, reference_code, terminal_id, intent_nonce, binding_id,
                 msisdn, item_id, item_description, amount, currency, state, created_at, updated_at)
                 VALUES (?1, 'demo', 'R', ?2, ?1, ?3, '13801008000', 'i', 'd', 100, 'CNY', 'processing', 1, 1)",
                params![payment_id, TERMINAL, binding_id],
            )
            .unwrap();
    }

    #[test]
    fn each_call_is_queued_for_the_province_of_its_binding_and_drained_only_by_that_province() {
        let store = Store::open_in_memory().unwrap();
        let beijing = ProvinceCode::parse("BJ").unwrap();
        let key = numbind_wire::request_signing::TerminalKeyPair::generate(&ring::rand::SystemRandom::new()).unwrap();
        let terminal_id = numbind_wire::TerminalId::parse(TERMINAL).unwrap();
        store.register_terminal(&terminal_id, &key.0.public_key(), "Skyworth E900", false, 1).unwrap();
        store
            .in_transaction(|connection| {
                payment_bound_in(connection, "pay-bj", Some("BJ"));
                payment_bound_in(connection, "pay-none", None);
                enqueue_billing(connection, "pay-bj", BillingKind::Charge, (10, 10))?;
                enqueue_billing(connection, "pay-none", BillingKind::Charge, (10, 10))?;
                connection.execute(
                    "INSERT INTO refunds (refund_id, payment_id, amount, currency, state, reason, requested_by,
                     created_at) VALUES ('ref-bj', 'pay-bj', 50, 'CNY', 'processing', 'r', 'merchant', 11)",
                    [],
                )?;
                enqueue_billing(connection, "ref-bj", BillingKind::Refund, (11, 11))
            })
            .unwrap();
        let of_beijing = store.due_billing_of_province(Some(beijing), 20, 10).unwrap();
        let records: Vec<(&str, Option<ProvinceCode>)> =
            of_beijing.iter().map(|queued| (queued.record_id.as_str(), queued.province)).collect();
        assert_eq!(
            records,
            [("pay-bj", Some(beijing)), ("ref-bj", Some(beijing))],
            "a refund goes where its charge went"
        );
        let without = store.due_billing_of_province(None, 20, 10).unwrap();
        assert_eq!(without.iter().map(|queued| queued.record_id.as_str()).collect::<Vec<_>>(), ["pay-none"]);
        let guangdong = ProvinceCode::parse("GD").ok();
        assert!(store.due_billing_of_province(guangdong, 20, 10).unwrap().is_empty());
        assert_eq!(store.billing_province("ref-bj").unwrap(), Some(beijing));
        assert_eq!(store.billing_province("pay-none").unwrap(), None);
        assert_eq!(store.queued_billing_of_province(Some(beijing)).unwrap(), 2);
        store.reschedule_billing("pay-bj", 100, "the oss of BJ is unreachable").unwrap();
        assert_eq!(store.due_billing_of_province(Some(beijing), 20, 10).unwrap().len(), 1, "its own retry state");
        assert_eq!(store.queued_billing_of_province(Some(beijing)).unwrap(), 2, "still queued");
        store.in_transaction(|connection| mark_billing_delivered(connection, "pay-bj", 30)).unwrap();
        assert_eq!(store.queued_billing_of_province(Some(beijing)).unwrap(), 1);
    }
}
