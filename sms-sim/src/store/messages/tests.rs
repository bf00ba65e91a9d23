//! The MO queue, MT dedupe, queue depth and migrations of the `messages` table.

use super::*;

fn mo(account: &str, now_ms: i64) -> NewMobileOriginated {
    NewMobileOriginated {
        message_id: MessageId::generate(),
        source_msisdn: "13800138000".into(),
        destination_short_code: "10658000".into(),
        text: "BIND X".into(),
        account: account.into(),
        now_ms,
    }
}

fn mt(reference: Option<&str>) -> NewMobileTerminated {
    NewMobileTerminated {
        message_id: MessageId::generate(),
        source: "10658000".into(),
        destination_msisdn: "13800138000".into(),
        text: "绑定成功".into(),
        account: "platform".into(),
        client_reference: reference.map(str::to_owned),
        receipt: None,
        now_ms: 5,
    }
}

#[test]
fn a_queued_mo_is_due_until_delivered() {
    let store = Store::open_in_memory().unwrap();
    let message = mo("oss", 10);
    store.insert_mobile_originated(&message, 10).unwrap();
    let due = store.due_deliveries(10, 10).unwrap();
    assert_eq!(due.len(), 1);
    store.record_attempt(&message.message_id, 2_010).unwrap();
    assert!(store.due_deliveries(11, 10).unwrap().is_empty());
    store.make_account_due("oss", 12).unwrap();
    assert_eq!(store.due_deliveries(12, 10).unwrap()[0].attempts, 1);
    store.mark_delivered(&message.message_id, 13).unwrap();
    assert!(store.due_deliveries(99_999, 10).unwrap().is_empty());
    let status = store.message_status(&message.message_id).unwrap().unwrap();
    assert_eq!((status.state, status.attempts), (MessageState::Delivered, 2), "the delivering attempt counts");
}

#[test]
fn a_full_queue_refuses_more_mo() {
    let store = Store::open_in_memory().unwrap();
    store.insert_mobile_originated(&mo("oss", 1), 1).unwrap();
    assert!(matches!(store.insert_mobile_originated(&mo("oss", 2), 1), Err(StoreError::QueueFull { .. })));
}

#[test]
fn a_resubmitted_reference_returns_the_original_id_and_stores_once() {
    let store = Store::open_in_memory().unwrap();
    let (first, first_new) = store.insert_mobile_terminated(&mt(Some("ref-1"))).unwrap();
    let (second, second_new) = store.insert_mobile_terminated(&mt(Some("ref-1"))).unwrap();
    assert_eq!((first.as_str(), first_new, second_new), (second.as_str(), true, false));
    store.insert_mobile_terminated(&mt(None)).unwrap();
    assert_eq!(store.inbox("13800138000").unwrap().len(), 2);
}

#[test]
fn the_queue_depth_of_an_account_is_counted_in_an_index_with_the_account() {
    let store = Store::open_in_memory().unwrap();
    let plan: Vec<String> = store
        .read(|connection| {
            let mut statement = connection.prepare(&format!("EXPLAIN QUERY PLAN {QUEUE_DEPTH}"))?;
            let rows = statement.query_map(["oss"], |row| row.get::<_, String>(3))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .unwrap();
    assert_eq!(plan, vec!["SEARCH messages USING COVERING INDEX messages_queued_by_account (account=?)"]);
}

#[test]
fn migrations_run_once_on_reopen() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("smsc.db");
    Store::open(&path).unwrap().insert_mobile_originated(&mo("oss", 1), 10).unwrap();
    assert_eq!(Store::open(&path).unwrap().due_deliveries(1, 10).unwrap().len(), 1);
}
