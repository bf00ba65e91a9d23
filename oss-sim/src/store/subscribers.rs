//! SQL of the `subscribers` table.

use super::{Store, StoreError};
use crate::domain::subscriber::{Plan, Subscriber, SubscriberStatus};
use numbind_wire::Msisdn;
use rusqlite::{params, OptionalExtension, Row};

/// The columns `subscriber_from_row` reads, in its order; a macro so that the queries are constants, parsed once
/// per connection and then taken from its statement cache.
macro_rules! subscriber_columns {
    () => {
        "msisdn, status, plan, device_limit, billing_allowed, balance_fen"
    };
}
const ONE_SUBSCRIBER: &str = concat!("SELECT ", subscriber_columns!(), " FROM subscribers WHERE msisdn = ?1");
const EVERY_SUBSCRIBER: &str = concat!("SELECT ", subscriber_columns!(), " FROM subscribers ORDER BY msisdn");

/// One subscriber, read on `connection` (inside another table's transaction).
pub(super) fn subscriber_on(
    connection: &rusqlite::Connection,
    msisdn: &Msisdn,
) -> Result<Option<Subscriber>, StoreError> {
    let found =
        connection.prepare_cached(ONE_SUBSCRIBER)?.query_row([msisdn.as_digits()], subscriber_from_row).optional()?;
    found.transpose()
}

fn subscriber_from_row(row: &Row<'_>) -> Result<Result<Subscriber, StoreError>, rusqlite::Error> {
    let msisdn: String = row.get(0)?;
    let status: String = row.get(1)?;
    let plan: String = row.get(2)?;
    let device_limit: i64 = row.get(3)?;
    let billing_allowed: bool = row.get(4)?;
    let balance_fen: i64 = row.get(5)?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("subscriber {what}"));
    Ok((|| {
        Ok(Subscriber {
            msisdn: Msisdn::parse(&msisdn).map_err(|_| corrupt("msisdn"))?,
            status: SubscriberStatus::parse(&status).map_err(|_| corrupt("status"))?,
            plan: Plan::parse(&plan).map_err(|_| corrupt("plan"))?,
            device_limit: u32::try_from(device_limit).map_err(|_| corrupt("device_limit"))?,
            billing_allowed,
            balance_fen,
        })
    })())
}

impl Store {
    /// Inserts a new subscriber; `SubscriberExists` when the number is taken.
    pub(crate) fn insert_subscriber(&self, subscriber: &Subscriber, now_ms: i64) -> Result<(), StoreError> {
        self.write(|connection| {
            let inserted = connection
                .prepare_cached(
                    "INSERT OR IGNORE INTO subscribers (msisdn, status, plan, device_limit, billing_allowed, \
                     balance_fen, \
                     created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                )?
                .execute(params![
                    subscriber.msisdn.as_digits(),
                    subscriber.status.as_str(),
                    subscriber.plan.as_str(),
                    subscriber.device_limit,
                    subscriber.billing_allowed,
                    subscriber.balance_fen,
                    now_ms
                ])?;
            if inserted == 0 {
                return Err(StoreError::SubscriberExists);
            }
            Ok(())
        })
    }

    /// Inserts each subscriber that is not there yet; returns how many were new.
    pub(crate) fn seed_subscribers(&self, subscribers: &[Subscriber], now_ms: i64) -> Result<usize, StoreError> {
        let mut inserted = 0;
        for subscriber in subscribers {
            match self.insert_subscriber(subscriber, now_ms) {
                Ok(()) => inserted += 1,
                Err(StoreError::SubscriberExists) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(inserted)
    }

    pub(crate) fn get_subscriber(&self, msisdn: &Msisdn) -> Result<Option<Subscriber>, StoreError> {
        self.read(|connection| subscriber_on(connection, msisdn))
    }

    /// Replaces every field but the number; false when there is no such subscriber.
    pub(crate) fn update_subscriber(&self, subscriber: &Subscriber, now_ms: i64) -> Result<bool, StoreError> {
        self.write(|connection| {
            let updated = connection
                .prepare_cached(
                    "UPDATE subscribers SET status = ?2, plan = ?3, device_limit = ?4, billing_allowed = ?5, \
                 balance_fen = ?6, updated_at_ms = ?7 WHERE msisdn = ?1",
                )?
                .execute(params![
                    subscriber.msisdn.as_digits(),
                    subscriber.status.as_str(),
                    subscriber.plan.as_str(),
                    subscriber.device_limit,
                    subscriber.billing_allowed,
                    subscriber.balance_fen,
                    now_ms
                ])?;
            Ok(updated == 1)
        })
    }

    pub(crate) fn list_subscribers(&self) -> Result<Vec<Subscriber>, StoreError> {
        self.read(|connection| {
            let mut statement = connection.prepare(EVERY_SUBSCRIBER)?;
            let rows = statement.query_map([], subscriber_from_row)?;
            let mut subscribers = Vec::new();
            for row in rows {
                subscribers.push(row??);
            }
            Ok(subscribers)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::subscriber::demo_subscribers;

    #[test]
    fn a_subscriber_is_inserted_once_and_read_back() {
        let store = Store::open_in_memory().unwrap();
        let subscriber = demo_subscribers().remove(0);
        store.insert_subscriber(&subscriber, 1).unwrap();
        assert!(matches!(store.insert_subscriber(&subscriber, 2), Err(StoreError::SubscriberExists)));
        assert_eq!(store.get_subscriber(&subscriber.msisdn).unwrap(), Some(subscriber));
    }

    #[test]
    fn seeding_twice_inserts_nothing_the_second_time() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.seed_subscribers(&demo_subscribers(), 1).unwrap(), 6);
        assert_eq!(store.seed_subscribers(&demo_subscribers(), 2).unwrap(), 0);
    }

    #[test]
    fn an_update_changes_the_fields_of_an_existing_subscriber_only() {
        let store = Store::open_in_memory().unwrap();
        let mut subscriber = demo_subscribers().remove(0);
        assert!(!store.update_subscriber(&subscriber, 1).unwrap());
        store.insert_subscriber(&subscriber, 1).unwrap();
        subscriber.status = SubscriberStatus::Blacklisted;
        subscriber.device_limit = 5;
        assert!(store.update_subscriber(&subscriber, 2).unwrap());
        assert_eq!(store.get_subscriber(&subscriber.msisdn).unwrap(), Some(subscriber));
    }
}
