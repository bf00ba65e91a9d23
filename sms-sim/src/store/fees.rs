//! The fee fields of MT submitted over CMPP (`mt_fees`): stored in the same write as their message (a window of
//! submits in one group commit), read back for `GET /v1/messages/{id}`.

use super::submits::{insert_submit_rows, StoredSubmit, SubmitToStore};
use super::{Store, StoreError};
use crate::domain::message::MessageId;
use rusqlite::{params, Connection, OptionalExtension};

/// What a provider's SUBMIT said about charging for the message (CMPP `Service_Id` and fee fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MobileTerminatedFee {
    pub(crate) service_id: String,
    /// `Fee_UserType`: 0 the destination, 1 the source, 2 the provider, 3 `fee_terminal_id`.
    pub(crate) fee_user_type: u8,
    /// `FeeType`: 1 free, 2 per message, 3 monthly, 4 capped, 5 charged by the provider.
    pub(crate) fee_type: u8,
    /// `FeeCode`, in fen.
    pub(crate) fee_code_fen: u32,
    pub(crate) fee_terminal_id: String,
}

impl Store {
    /// Stores a window of submits in one durable write, each with its fee when it made a new MT, each atomic on
    /// its own (see `insert_submits`, whose outcomes these are).
    pub(crate) fn insert_submits_with_fees(
        &self,
        submits: Vec<(SubmitToStore, MobileTerminatedFee)>,
    ) -> Result<Vec<Result<StoredSubmit, StoreError>>, StoreError> {
        self.insert_each(
            submits,
            |_| false,
            |transaction, (submit, fee)| insert_submit_with_fee_rows(transaction, submit, &fee),
        )
    }

    /// The fee of an MT submitted over CMPP; `None` for any other message.
    pub(crate) fn mobile_terminated_fee(
        &self,
        message_id: &MessageId,
    ) -> Result<Option<MobileTerminatedFee>, StoreError> {
        self.read(|connection| {
            Ok(connection
                .prepare_cached(
                    "SELECT service_id, fee_user_type, fee_type, fee_code_fen, fee_terminal_id FROM mt_fees \
                     WHERE message_id = ?1",
                )?
                .query_row([message_id.as_str()], |row| {
                    Ok(MobileTerminatedFee {
                        service_id: row.get(0)?,
                        fee_user_type: row.get(1)?,
                        fee_type: row.get(2)?,
                        fee_code_fen: row.get(3)?,
                        fee_terminal_id: row.get(4)?,
                    })
                })
                .optional()?)
        })
    }
}

fn insert_submit_with_fee_rows(
    transaction: &Connection,
    submit: SubmitToStore,
    fee: &MobileTerminatedFee,
) -> Result<StoredSubmit, StoreError> {
    let stored = insert_submit_rows(transaction, submit)?;
    if let StoredSubmit::Stored { message_id } = &stored {
        transaction
            .prepare_cached(
                "INSERT OR IGNORE INTO mt_fees (message_id, service_id, fee_user_type, fee_type, fee_code_fen, \
                 fee_terminal_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                message_id,
                fee.service_id,
                fee.fee_user_type,
                fee.fee_type,
                fee.fee_code_fen,
                fee.fee_terminal_id
            ])?;
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewMobileTerminated;

    #[test]
    fn a_fee_is_stored_with_its_message_and_read_back_and_a_failing_neighbour_refuses_only_itself() {
        let store = Store::open_in_memory().unwrap();
        let message_id = MessageId::parse("1234567890123").unwrap();
        let mt = || NewMobileTerminated {
            message_id: MessageId::generate(),
            source: "1065800".into(),
            destination_msisdn: "13800138000".into(),
            text: "收据".into(),
            account: "901234".into(),
            client_reference: None,
            receipt: None,
            now_ms: 1,
        };
        let message = NewMobileTerminated { message_id: message_id.clone(), ..mt() };
        let fee = MobileTerminatedFee {
            service_id: "NUMBIND".into(),
            fee_user_type: 3,
            fee_type: 2,
            fee_code_fen: 150,
            fee_terminal_id: "13800138000".into(),
        };
        let duplicate = NewMobileTerminated { message_id: message_id.clone(), text: "same id again".into(), ..mt() };
        let window = vec![(SubmitToStore::Whole(message), fee.clone()), (SubmitToStore::Whole(duplicate), fee.clone())];
        let stored = store.insert_submits_with_fees(window).unwrap();
        assert_eq!(stored[0].as_ref().unwrap(), &StoredSubmit::Stored { message_id: message_id.to_string() });
        assert!(stored[1].is_err(), "a failing submit refuses only itself: {stored:?}");
        assert_eq!(store.mobile_terminated_fee(&message_id).unwrap(), Some(fee));
        assert_eq!(store.mobile_terminated_fee(&MessageId::parse("other").unwrap()).unwrap(), None);
    }
}
