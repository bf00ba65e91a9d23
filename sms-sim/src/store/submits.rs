//! A window of submit_sm stored in one durable write: one transaction (shared by group commit), each message
//! atomic on its own so that a failing message refuses only itself (a savepoint each, or for a message written by
//! one statement that statement's own atomicity), cached statements throughout.

use super::messages::insert_mobile_terminated_rows;
use super::parts::insert_part_rows;
use super::{NewMobileTerminated, NewPart, PartOutcome, Store, StoreError};
use rusqlite::Connection;

/// Builds the whole MT from the concatenated octets of all its parts, in their data_coding; `None` refuses it.
pub(crate) type AssembleParts = Box<dyn FnOnce(u8, &[u8]) -> Option<NewMobileTerminated> + Send>;

/// One checked submit_sm to store.
pub(crate) enum SubmitToStore {
    Whole(NewMobileTerminated),
    Part { part: NewPart, assemble: AssembleParts },
}

/// What storing one submit_sm did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StoredSubmit {
    /// A new MT, stored under this ID (a lone MT, or the whole of a concatenated one whose last part this was).
    Stored { message_id: String },
    /// A known (account, client_reference): nothing was stored; this is the original ID.
    Resubmitted { message_id: String },
    /// A part of a concatenated MT, kept under this ID until the others arrive.
    PartWaiting { message_id: String },
    /// The last part of a concatenated MT whose whole was refused (undecodable); its parts are dropped.
    PartsRefused,
}

impl Store {
    /// Stores every submit in one write, each in its own savepoint: the outer `Err` means none was committed
    /// (the shared commit failed, or SQLite threw the whole transaction away); otherwise the outcome of each
    /// submit, in order, all durably committed before this returns. A later submit sees the earlier ones, so a
    /// client reference repeated inside one window is answered with the first one's ID.
    pub(crate) fn insert_submits(
        &self,
        submits: Vec<SubmitToStore>,
    ) -> Result<Vec<Result<StoredSubmit, StoreError>>, StoreError> {
        self.insert_each(submits, SubmitToStore::is_written_by_one_statement, insert_submit_rows)
    }

    /// The window write behind `insert_submits`, for any kind of item: `insert` writes one item's rows, in a
    /// savepoint of its own unless `is_one_statement` says a failure rolls back nothing but that statement.
    pub(super) fn insert_each<T>(
        &self,
        items: Vec<T>,
        is_one_statement: impl Fn(&T) -> bool,
        insert: impl Fn(&Connection, T) -> Result<StoredSubmit, StoreError>,
    ) -> Result<Vec<Result<StoredSubmit, StoreError>>, StoreError> {
        self.write(|transaction| {
            let mut outcomes = Vec::with_capacity(items.len());
            for item in items {
                let outcome = if is_one_statement(&item) {
                    insert(transaction, item)
                } else {
                    in_own_savepoint(transaction, |transaction| insert(transaction, item))
                };
                if let Err(error) = outcome {
                    if transaction.is_autocommit() {
                        return Err(error);
                    }
                    outcomes.push(Err(error));
                } else {
                    outcomes.push(outcome);
                }
            }
            Ok(outcomes)
        })
    }
}

impl SubmitToStore {
    /// A lone MT without a receipt is one INSERT (after a read-only dedupe lookup): when it fails, SQLite rolls
    /// that statement back and nothing else, which is all its own savepoint would do, for two statements less.
    fn is_written_by_one_statement(&self) -> bool {
        matches!(self, SubmitToStore::Whole(message) if message.receipt.is_none())
    }
}

pub(super) fn insert_submit_rows(transaction: &Connection, submit: SubmitToStore) -> Result<StoredSubmit, StoreError> {
    match submit {
        SubmitToStore::Whole(message) => {
            let (message_id, newly_stored) = insert_mobile_terminated_rows(transaction, &message)?;
            Ok(if newly_stored {
                StoredSubmit::Stored { message_id }
            } else {
                StoredSubmit::Resubmitted { message_id }
            })
        }
        SubmitToStore::Part { part, assemble } => Ok(match insert_part_rows(transaction, &part, assemble)? {
            PartOutcome::Waiting { message_id } => StoredSubmit::PartWaiting { message_id },
            PartOutcome::Completed { message_id } => StoredSubmit::Stored { message_id },
            PartOutcome::Refused => StoredSubmit::PartsRefused,
        }),
    }
}

/// Runs `work` in a savepoint of the open transaction: released when it succeeds, rolled back when it fails.
fn in_own_savepoint<T>(
    transaction: &Connection,
    work: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    transaction.prepare_cached("SAVEPOINT numbind_submit")?.execute([])?;
    let outcome = work(transaction)
        .and_then(|value| Ok(transaction.prepare_cached("RELEASE numbind_submit")?.execute([]).map(|_| value)?));
    if outcome.is_err() && !transaction.is_autocommit() {
        transaction.execute_batch("ROLLBACK TO numbind_submit; RELEASE numbind_submit")?;
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::concatenation::ConcatenatedPart;
    use crate::domain::message::MessageId;

    const PHONE: &str = "13800138000";

    fn mt(text: &str, reference: Option<&str>) -> NewMobileTerminated {
        NewMobileTerminated {
            message_id: MessageId::generate(),
            source: "10658000".into(),
            destination_msisdn: PHONE.into(),
            text: text.into(),
            account: "platform".into(),
            client_reference: reference.map(str::to_owned),
            receipt: None,
            now_ms: 5,
        }
    }

    fn part(sequence: u8) -> SubmitToStore {
        let part = NewPart {
            message_id: MessageId::generate(),
            account: "platform".into(),
            source: "10658000".into(),
            wants_receipt: false,
            destination_msisdn: PHONE.into(),
            part: ConcatenatedPart { reference: 3, total: 2, sequence },
            data_coding: 0x08,
            octets: vec![0x4E, 0x2D],
            now_ms: 5,
        };
        SubmitToStore::Part {
            part,
            assemble: Box::new(|_, octets| Some(mt(&format!("{} octets", octets.len()), None))),
        }
    }

    fn open_on_file(directory: &tempfile::TempDir) -> Store {
        Store::open(&directory.path().join("smsc.db")).unwrap()
    }

    fn inbox_texts(store: &Store) -> Vec<String> {
        store.inbox(PHONE).unwrap().into_iter().map(|entry| entry.text).collect()
    }

    #[test]
    fn a_window_whose_middle_message_fails_refuses_only_that_message() {
        let directory = tempfile::tempdir().unwrap();
        let store = open_on_file(&directory);
        let first = mt("first", Some("ref-1"));
        let mut clashing = mt("clashing", None);
        clashing.message_id = first.message_id.clone(); // a primary key violation after nothing else was written
        let mut receipt_clashes = mt("receipt clashes", None);
        receipt_clashes.receipt = Some((first.message_id.clone(), "receipt".into())); // fails after its MT row
        let first_id = first.message_id.to_string();
        let window = vec![
            SubmitToStore::Whole(first),
            SubmitToStore::Whole(clashing),
            SubmitToStore::Whole(receipt_clashes),
            SubmitToStore::Whole(mt("last", None)),
        ];
        let outcomes = store.insert_submits(window).unwrap();

        assert_eq!(outcomes[0].as_ref().unwrap(), &StoredSubmit::Stored { message_id: first_id });
        assert!(outcomes[1].is_err() && outcomes[2].is_err(), "{outcomes:?}");
        assert!(matches!(outcomes[3], Ok(StoredSubmit::Stored { .. })), "{outcomes:?}");
        assert_eq!(inbox_texts(&open_on_file(&directory)), vec!["first", "last"], "committed, on disk");
        assert!(store.due_deliveries(i64::MAX, 10).unwrap().is_empty(), "the refused message's receipt is gone");
    }

    #[test]
    fn a_reference_repeated_inside_one_window_is_stored_once_and_answered_with_the_first_id() {
        let directory = tempfile::tempdir().unwrap();
        let store = open_on_file(&directory);
        let earlier = store.insert_submits(vec![SubmitToStore::Whole(mt("earlier", Some("ref-0")))]).unwrap();
        let Ok(StoredSubmit::Stored { message_id: earlier_id }) = &earlier[0] else { panic!("{earlier:?}") };
        let window = vec![
            SubmitToStore::Whole(mt("one", Some("ref-1"))),
            SubmitToStore::Whole(mt("one again", Some("ref-1"))),
            SubmitToStore::Whole(mt("earlier again", Some("ref-0"))),
        ];
        let outcomes = store.insert_submits(window).unwrap();

        let Ok(StoredSubmit::Stored { message_id: first_id }) = &outcomes[0] else { panic!("{outcomes:?}") };
        assert_eq!(outcomes[1].as_ref().unwrap(), &StoredSubmit::Resubmitted { message_id: first_id.clone() });
        assert_eq!(outcomes[2].as_ref().unwrap(), &StoredSubmit::Resubmitted { message_id: earlier_id.clone() });
        assert_eq!(inbox_texts(&store), vec!["earlier", "one"]);
    }

    #[test]
    fn both_parts_of_a_concatenated_mt_in_one_window_complete_it() {
        let directory = tempfile::tempdir().unwrap();
        let store = open_on_file(&directory);
        let outcomes = store.insert_submits(vec![part(2), part(1)]).unwrap();

        assert!(matches!(outcomes[0], Ok(StoredSubmit::PartWaiting { .. })), "{outcomes:?}");
        assert!(matches!(outcomes[1], Ok(StoredSubmit::Stored { .. })), "{outcomes:?}");
        assert_eq!(inbox_texts(&store), vec!["4 octets"]);
    }
}
