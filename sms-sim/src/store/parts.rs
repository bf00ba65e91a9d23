//! Parts of concatenated MT (UDH) kept until the last one arrives; then the whole message is stored as one MT
//! in the same transaction that drops the parts.

use super::messages::insert_mobile_terminated_rows;
use super::{NewMobileTerminated, Store, StoreError};
use crate::domain::concatenation::ConcatenatedPart;
use rusqlite::{params, Connection};

pub(crate) struct NewPart {
    pub(crate) account: String,
    pub(crate) destination_msisdn: String,
    pub(crate) part: ConcatenatedPart,
    pub(crate) data_coding: u8,
    pub(crate) octets: Vec<u8>,
    pub(crate) now_ms: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PartOutcome {
    /// More parts are expected.
    Waiting,
    /// The last part arrived; the whole message is stored under this ID.
    Completed { message_id: String },
    /// All parts arrived but `assemble` refused the whole (undecodable text); the parts are dropped.
    Refused,
}

impl Store {
    /// Stores one part (a repeated part is ignored); when all parts are in, `assemble(data_coding, octets)`
    /// builds the MT from the concatenated octets and it is stored in the same transaction.
    #[cfg(test)]
    pub(crate) fn insert_mobile_terminated_part(
        &self,
        part: &NewPart,
        assemble: impl FnOnce(u8, &[u8]) -> Option<NewMobileTerminated>,
    ) -> Result<PartOutcome, StoreError> {
        self.write(|transaction| insert_part_rows(transaction, part, assemble))
    }
}

/// One part inside the caller's transaction; see `insert_mobile_terminated_part`.
pub(super) fn insert_part_rows(
    transaction: &Connection,
    part: &NewPart,
    assemble: impl FnOnce(u8, &[u8]) -> Option<NewMobileTerminated>,
) -> Result<PartOutcome, StoreError> {
    let key = params![part.account, part.destination_msisdn, part.part.reference, part.part.total];
    transaction
        .prepare_cached(
            "INSERT OR IGNORE INTO mt_parts (account, destination, reference, total, sequence, data_coding, octets,
                                             created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            part.account,
            part.destination_msisdn,
            part.part.reference,
            part.part.total,
            part.part.sequence,
            part.data_coding,
            part.octets,
            part.now_ms
        ])?;
    let parts: Vec<(u8, Vec<u8>)> = {
        let mut statement = transaction.prepare_cached(
            "SELECT data_coding, octets FROM mt_parts
             WHERE account = ?1 AND destination = ?2 AND reference = ?3 AND total = ?4 ORDER BY sequence",
        )?;
        let rows = statement.query_map(key, |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    if parts.len() < usize::from(part.part.total) {
        return Ok(PartOutcome::Waiting);
    }
    transaction
        .prepare_cached(
            "DELETE FROM mt_parts WHERE account = ?1 AND destination = ?2 AND reference = ?3 AND total = ?4",
        )?
        .execute(key)?;
    let data_coding = parts.first().map(|(coding, _)| *coding).unwrap_or(part.data_coding);
    let octets: Vec<u8> = parts.into_iter().flat_map(|(_, octets)| octets).collect();
    let outcome = match assemble(data_coding, &octets) {
        Some(message) => {
            let (message_id, _) = insert_mobile_terminated_rows(transaction, &message)?;
            PartOutcome::Completed { message_id }
        }
        None => PartOutcome::Refused,
    };
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::message::MessageId;

    fn part(sequence: u8, octets: &[u8]) -> NewPart {
        NewPart {
            account: "platform".into(),
            destination_msisdn: "13800138000".into(),
            part: ConcatenatedPart { reference: 7, total: 2, sequence },
            data_coding: 0x08,
            octets: octets.to_vec(),
            now_ms: 1,
        }
    }

    fn assemble(_: u8, octets: &[u8]) -> Option<NewMobileTerminated> {
        Some(NewMobileTerminated {
            message_id: MessageId::generate(),
            source: "10658000".into(),
            destination_msisdn: "13800138000".into(),
            text: format!("{} octets", octets.len()),
            account: "platform".into(),
            client_reference: None,
            receipt: None,
            now_ms: 1,
        })
    }

    #[test]
    fn parts_in_any_order_complete_one_message_once() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.insert_mobile_terminated_part(&part(2, &[0, 0x41]), assemble).unwrap(), PartOutcome::Waiting);
        assert_eq!(store.insert_mobile_terminated_part(&part(2, &[0, 0x41]), assemble).unwrap(), PartOutcome::Waiting);
        let outcome = store.insert_mobile_terminated_part(&part(1, &[0x4E, 0x2D]), assemble).unwrap();
        assert!(matches!(outcome, PartOutcome::Completed { .. }));
        let inbox = store.inbox("13800138000").unwrap();
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox[0].text, "4 octets");
    }
}
