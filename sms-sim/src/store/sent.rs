//! What an ESME account submitted in a span of time: the SMS centre's record of the messages it took (message ID,
//! the sender's client reference, state), which reconciliation compares with the sender's own.

use super::{Store, StoreError};
use rusqlite::params;

/// One MT message an account submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SentMessage {
    pub(crate) message_id: String,
    pub(crate) client_reference: Option<String>,
    pub(crate) destination: String,
    pub(crate) state: String,
    pub(crate) created_at_unix_ms: i64,
    pub(crate) delivered_at_unix_ms: Option<i64>,
}

impl Store {
    /// MT messages `account` submitted from `from_ms` (inclusive) to `to_ms` (exclusive), oldest first.
    pub(crate) fn sent_by_account(
        &self,
        account: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<SentMessage>, StoreError> {
        self.read(|connection| {
            let mut statement = connection.prepare_cached(
                "SELECT message_id, client_reference, destination, state, created_at_ms, delivered_at_ms FROM messages
                 WHERE direction = 'mt' AND account = ?1 AND created_at_ms >= ?2 AND created_at_ms < ?3
                 ORDER BY created_at_ms, message_id",
            )?;
            let rows = statement.query_map(params![account, from_ms, to_ms], |row| {
                Ok(SentMessage {
                    message_id: row.get(0)?,
                    client_reference: row.get(1)?,
                    destination: row.get(2)?,
                    state: row.get(3)?,
                    created_at_unix_ms: row.get(4)?,
                    delivered_at_unix_ms: row.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::message::MessageId;
    use crate::store::NewMobileTerminated;

    fn mt(account: &str, reference: &str, now_ms: i64) -> NewMobileTerminated {
        NewMobileTerminated {
            message_id: MessageId::generate(),
            source: "10658000".into(),
            destination_msisdn: "13800138000".into(),
            text: "扣费成功".into(),
            account: account.into(),
            client_reference: Some(reference.into()),
            receipt: None,
            now_ms,
        }
    }

    #[test]
    fn an_account_lists_only_its_own_messages_of_the_span() {
        let store = Store::open_in_memory().unwrap();
        store.insert_mobile_terminated(&mt("platform", "before", 999)).unwrap();
        store.insert_mobile_terminated(&mt("platform", "inside", 1_000)).unwrap();
        store.insert_mobile_terminated(&mt("oss", "other-account", 1_500)).unwrap();
        store.insert_mobile_terminated(&mt("platform", "after", 2_000)).unwrap();
        let sent = store.sent_by_account("platform", 1_000, 2_000).unwrap();
        let references: Vec<_> = sent.iter().map(|message| message.client_reference.as_deref()).collect();
        assert_eq!(references, [Some("inside")]);
        assert_eq!((sent[0].state.as_str(), sent[0].delivered_at_unix_ms), ("delivered", Some(1_000)));
    }
}
