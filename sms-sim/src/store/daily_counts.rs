//! What one account sent and received in a span of time (a CMPP QUERY's day), counted from the message store:
//! its MT (stored whole, parts still waiting for their siblings, parts that failed) and its MO by state.

use super::{Store, StoreError};
use rusqlite::params;

/// The counts of one account (or of one of its services) in one span of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct DailyCounts {
    pub(crate) mt_total: u32,
    /// Distinct phones the stored MT went to.
    pub(crate) mt_users: u32,
    pub(crate) mt_delivered: u32,
    /// Parts of concatenated MT waiting for their siblings.
    pub(crate) mt_waiting: u32,
    /// Parts that expired or were cancelled.
    pub(crate) mt_failed: u32,
    pub(crate) mo_delivered: u32,
    pub(crate) mo_waiting: u32,
    pub(crate) mo_failed: u32,
}

impl Store {
    /// The counts of `account` for messages created in `[from_ms, to_ms)`. With a `service_id`, only the MT
    /// stored with that Service_Id count: waiting and failed parts have no fee row yet, and MO carry no
    /// service, so those counts are 0 then. MO are counted by a scan of the account's rows: a QUERY is rare,
    /// and an index for it would cost every write.
    pub(crate) fn daily_counts(
        &self,
        account: &str,
        service_id: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<DailyCounts, StoreError> {
        self.read(|connection| {
            let [mt_stored, mt_users, mt_delivered] = count_row(
                connection,
                "SELECT COUNT(*), COUNT(DISTINCT destination), COALESCE(SUM(state = 'delivered'), 0) \
                 FROM messages WHERE direction = 'mt' AND account = ?1 AND created_at_ms >= ?2 \
                 AND created_at_ms < ?3 AND (?4 IS NULL OR EXISTS (SELECT 1 FROM mt_fees \
                 WHERE mt_fees.message_id = messages.message_id AND mt_fees.service_id = ?4))",
                params![account, from_ms, to_ms, service_id],
            )?;
            let mut counts = DailyCounts { mt_users, mt_delivered, ..DailyCounts::default() };
            if service_id.is_none() {
                [counts.mt_waiting, counts.mt_failed] = count_row(
                    connection,
                    "SELECT (SELECT COUNT(*) FROM mt_parts WHERE account = ?1 AND created_at_ms >= ?2 \
                     AND created_at_ms < ?3), (SELECT COUNT(*) FROM mt_part_outcomes WHERE account = ?1 \
                     AND state = 'failed' AND created_at_ms >= ?2 AND created_at_ms < ?3)",
                    params![account, from_ms, to_ms],
                )?;
                [counts.mo_delivered, counts.mo_waiting, counts.mo_failed] = count_row(
                    connection,
                    "SELECT COALESCE(SUM(state = 'delivered'), 0), COALESCE(SUM(state = 'queued'), 0), \
                     COALESCE(SUM(state = 'failed'), 0) FROM messages WHERE direction = 'mo' AND account = ?1 \
                     AND created_at_ms >= ?2 AND created_at_ms < ?3",
                    params![account, from_ms, to_ms],
                )?;
            }
            counts.mt_total = mt_stored.saturating_add(counts.mt_waiting).saturating_add(counts.mt_failed);
            Ok(counts)
        })
    }
}

/// The `N` counts of the one row `sql` returns, each clamped into a `u32`.
fn count_row<const N: usize>(
    connection: &rusqlite::Connection,
    sql: &str,
    parameters: &[&dyn rusqlite::ToSql],
) -> Result<[u32; N], StoreError> {
    let values = connection.prepare_cached(sql)?.query_row(parameters, |row| {
        let mut values = [0u32; N];
        for (index, value) in values.iter_mut().enumerate() {
            *value = clamp(row.get::<_, i64>(index)?);
        }
        Ok(values)
    })?;
    Ok(values)
}

fn clamp(count: i64) -> u32 {
    u32::try_from(count.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::concatenation::ConcatenatedPart;
    use crate::domain::message::MessageId;
    use crate::store::{MobileTerminatedFee, NewMobileOriginated, NewMobileTerminated, NewPart, SubmitToStore};

    fn mt(destination: &str, now_ms: i64) -> NewMobileTerminated {
        NewMobileTerminated {
            message_id: MessageId::generate(),
            source: "1065800".into(),
            destination_msisdn: destination.into(),
            text: "收据".into(),
            account: "901234".into(),
            client_reference: None,
            receipt: None,
            now_ms,
        }
    }

    fn fee(service_id: &str) -> MobileTerminatedFee {
        MobileTerminatedFee {
            service_id: service_id.into(),
            fee_user_type: 0,
            fee_type: 1,
            fee_code_fen: 0,
            fee_terminal_id: String::new(),
        }
    }

    #[test]
    fn a_day_counts_the_accounts_mt_by_phone_and_service_its_waiting_parts_and_its_mo() {
        let store = Store::open_in_memory().unwrap();
        for (destination, service, now_ms) in
            [("13800138000", "BIND", 1_000), ("13800138000", "PAY", 2_000), ("13900139000", "BIND", 3_000)]
        {
            store
                .insert_submits_with_fees(vec![(SubmitToStore::Whole(mt(destination, now_ms)), fee(service))])
                .unwrap();
        }
        store.insert_submits_with_fees(vec![(SubmitToStore::Whole(mt("13700137000", 90_000)), fee("BIND"))]).unwrap();
        let part = NewPart {
            message_id: MessageId::generate(),
            account: "901234".into(),
            source: "1065800".into(),
            destination_msisdn: "13800138000".into(),
            part: ConcatenatedPart { reference: 1, total: 2, sequence: 1 },
            data_coding: 8,
            octets: vec![0x4E, 0x2D],
            wants_receipt: false,
            now_ms: 4_000,
        };
        store.insert_mobile_terminated_part(&part, |_, _| None).unwrap();
        let mo = NewMobileOriginated {
            message_id: MessageId::generate(),
            source_msisdn: "13800138000".into(),
            destination_short_code: "1065800".into(),
            text: "绑定".into(),
            account: "901234".into(),
            now_ms: 5_000,
        };
        store.insert_mobile_originated(&mo, 1_000).unwrap();

        let day = store.daily_counts("901234", None, 0, 86_400).unwrap();
        let expected = DailyCounts {
            mt_total: 4,
            mt_users: 2,
            mt_delivered: 3,
            mt_waiting: 1,
            mo_waiting: 1,
            ..DailyCounts::default()
        };
        assert_eq!(day, expected);
        let bind = store.daily_counts("901234", Some("BIND"), 0, 86_400).unwrap();
        assert_eq!(bind, DailyCounts { mt_total: 2, mt_users: 2, mt_delivered: 2, ..DailyCounts::default() });
        assert_eq!(store.daily_counts("other", None, 0, 86_400).unwrap(), DailyCounts::default());
    }
}
