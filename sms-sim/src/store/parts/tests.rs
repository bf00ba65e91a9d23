//! Parts of concatenated MT: reassembly, one ID, outcome and receipt per part, expiry.

use super::*;

const PHONE: &str = "13800138000";

fn part(sequence: u8, octets: &[u8]) -> NewPart {
    NewPart {
        message_id: MessageId::generate(),
        account: "platform".into(),
        source: "10658000".into(),
        destination_msisdn: PHONE.into(),
        part: ConcatenatedPart { reference: 7, total: 2, sequence },
        data_coding: 0x08,
        octets: octets.to_vec(),
        wants_receipt: true,
        now_ms: 1,
    }
}

fn assemble(_: u8, octets: &[u8]) -> Option<NewMobileTerminated> {
    Some(NewMobileTerminated {
        message_id: MessageId::generate(),
        source: "10658000".into(),
        destination_msisdn: PHONE.into(),
        text: format!("{} octets", octets.len()),
        account: "platform".into(),
        client_reference: None,
        receipt: None,
        now_ms: 1,
    })
}

fn state_of(store: &Store, message_id: &str) -> Option<MessageState> {
    store.message_status(&MessageId::parse(message_id).unwrap()).unwrap().map(|status| status.state)
}

/// (receipted message ID, receipt state) of every queued receipt.
fn receipts(store: &Store) -> Vec<(String, FinalState)> {
    let due = store.due_deliveries(i64::MAX, 100).unwrap();
    due.into_iter().map(|delivery| (delivery.receipted_message_id.unwrap(), delivery.receipt_state)).collect()
}

#[test]
fn parts_in_any_order_complete_one_message_once_and_each_part_keeps_its_own_id() {
    let store = Store::open_in_memory().unwrap();
    let second = part(2, &[0, 0x41]);
    let Ok(PartOutcome::Waiting { message_id: second_id }) = store.insert_mobile_terminated_part(&second, assemble)
    else {
        panic!("the first part to arrive waits")
    };
    assert_eq!(second_id, second.message_id.as_str());
    assert_eq!(state_of(&store, &second_id), Some(MessageState::Queued));
    let repeated = store.insert_mobile_terminated_part(&part(2, &[0, 0x41]), assemble).unwrap();
    assert_eq!(repeated, PartOutcome::Waiting { message_id: second_id.clone() }, "a repeat gets the first one's id");

    let first = part(1, &[0x4E, 0x2D]);
    let outcome = store.insert_mobile_terminated_part(&first, assemble).unwrap();
    assert_eq!(outcome, PartOutcome::Completed { message_id: first.message_id.to_string() });
    let inbox = store.inbox(PHONE).unwrap();
    assert_eq!(inbox.iter().map(|entry| entry.text.as_str()).collect::<Vec<_>>(), vec!["4 octets"]);
    for id in [first.message_id.as_str(), &second_id] {
        assert_eq!(state_of(&store, id), Some(MessageState::Delivered));
    }
    let mut queued = receipts(&store);
    queued.sort();
    let mut expected =
        vec![(first.message_id.to_string(), FinalState::Delivered), (second_id.clone(), FinalState::Delivered)];
    expected.sort();
    assert_eq!(queued, expected, "one receipt per part, none for the reassembled whole");
}

#[test]
fn a_part_whose_siblings_never_arrive_expires_as_undeliverable_with_a_receipt() {
    let store = Store::open_in_memory().unwrap();
    let lonely = part(1, &[0x4E, 0x2D]);
    store.insert_mobile_terminated_part(&lonely, assemble).unwrap();
    assert!(!store.has_parts_created_before(1).unwrap() && store.has_parts_created_before(2).unwrap());
    assert_eq!(store.expire_parts(1, 50).unwrap(), 0, "not old enough yet");
    assert_eq!(store.expire_parts(2, 50).unwrap(), 1);

    assert_eq!(state_of(&store, lonely.message_id.as_str()), Some(MessageState::Failed));
    assert_eq!(receipts(&store), vec![(lonely.message_id.to_string(), FinalState::Undeliverable)]);
    let queried = store.submitted_message_state("platform", &lonely.message_id).unwrap().unwrap();
    assert_eq!((queried.state, queried.done_at_ms), (MessageState::Failed, Some(50)));
    assert_eq!(store.submitted_message_state("oss", &lonely.message_id).unwrap(), None, "another account's part");
    assert!(store.inbox(PHONE).unwrap().is_empty());
}

#[test]
fn a_waiting_part_is_cancelled_by_its_own_account_only_and_its_late_sibling_starts_afresh() {
    let store = Store::open_in_memory().unwrap();
    let waiting = part(1, &[0x4E, 0x2D]);
    store.insert_mobile_terminated_part(&waiting, assemble).unwrap();
    assert!(!store.cancel_waiting_part("oss", &waiting.message_id, 20).unwrap(), "another account's part");
    assert!(store.cancel_waiting_part("platform", &waiting.message_id, 20).unwrap());
    assert!(!store.cancel_waiting_part("platform", &waiting.message_id, 21).unwrap(), "no longer waiting");

    assert_eq!(state_of(&store, waiting.message_id.as_str()), Some(MessageState::Failed));
    assert_eq!(receipts(&store), vec![(waiting.message_id.to_string(), FinalState::Undeliverable)]);
    let late = store.insert_mobile_terminated_part(&part(2, &[0, 0x41]), assemble).unwrap();
    assert!(matches!(late, PartOutcome::Waiting { .. }), "{late:?}");
    assert!(store.inbox(PHONE).unwrap().is_empty(), "nothing reached the phone");
}
