//! Unit tests of the audit log: masked, append-only, gapless, keyed; old events chained and keyed after them.

use super::*;
use crate::domain::audit_chain::{hash_from_hex, AuditProblemKind};
use crate::domain::audit_mac::MacCheck;
use crate::store::{verify_audit_chain_file, verify_audit_trail_file};

fn audit_key() -> AuditChainKey {
    AuditChainKey::from_secret(&[5; 32])
}

fn keyed_store(path: &std::path::Path) -> Store {
    Store::open(path).unwrap().with_audit_key(audit_key())
}

#[test]
fn events_are_stored_masked_and_cannot_be_edited() {
    let store = Store::open_in_memory().unwrap();
    let msisdn = Msisdn::parse("13800138000").unwrap();
    store
        .append_audit_event(
            5,
            &AuditEvent::new("oss", "binding_created").msisdn(&msisdn).binding(&BindingId::parse("b1").unwrap()),
        )
        .unwrap();
    let events = store.audit_events().unwrap();
    assert_eq!(events[0].msisdn_masked.as_deref(), Some("138****8000"));
    let edit = store.in_transaction(|connection| Ok(connection.execute("DELETE FROM audit_events", [])?));
    assert!(edit.is_err());
    let update = store.in_transaction(|connection| Ok(connection.execute("UPDATE audit_events SET at = 1", [])?));
    assert!(update.is_err());
}

#[test]
fn appended_events_form_a_gapless_verified_chain() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("platform.db");
    let store = keyed_store(&path);
    for at in 1..=4 {
        store.append_audit_event(at, &AuditEvent::new("platform", "activation_expired").message("sms-1")).unwrap();
    }
    let events = store.audit_events().unwrap();
    assert_eq!(events.iter().map(|event| event.sequence).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    let report = verify_audit_chain_file(&path).unwrap();
    assert!(report.is_intact(), "{report}");
    assert_eq!((report.event_count, report.head_hash.as_str()), (4, events[3].hash.as_str()));
}

#[test]
fn an_event_whose_clock_reading_is_older_than_the_head_keeps_the_chain_in_time_order() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("platform.db");
    let store = keyed_store(&path);
    for at in [100, 90, 120] {
        store.append_audit_event(at, &AuditEvent::new("platform", "activation_expired")).unwrap();
    }
    let times: Vec<_> = store.audit_events().unwrap().iter().map(|event| event.at).collect();
    assert_eq!(times, vec![100, 100, 120]);
    let report = verify_audit_chain_file(&path).unwrap();
    assert!(report.is_intact(), "{report}");
}

#[test]
fn every_appended_event_carries_the_mac_of_its_hash() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("platform.db");
    let store = keyed_store(&path);
    for at in 1..=3 {
        store.append_audit_event(at, &AuditEvent::new("platform", "activation_expired")).unwrap();
    }
    let report = verify_audit_trail_file(&path, None, None, Some(&audit_key())).unwrap();
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.mac_check, MacCheck::Checked { unkeyed_through: 0 });
    let other_key = AuditChainKey::from_secret(&[6; 32]);
    let report = verify_audit_trail_file(&path, None, None, Some(&other_key)).unwrap();
    assert!(report.names(AuditProblemKind::Forged, 1), "{report}");
}

#[test]
fn a_store_without_the_audit_key_appends_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::open(&directory.path().join("platform.db")).unwrap();
    let refused = store.append_audit_event(1, &AuditEvent::new("platform", "activation_expired"));
    assert!(matches!(refused, Err(StoreError::AuditKeyMissing)), "{refused:?}");
    assert!(store.audit_events().unwrap().is_empty());
}

/// A database as an older build left it: two events written before the chain existed.
fn database_from_before_the_chain(path: &std::path::Path) {
    let connection = rusqlite::Connection::open(path).unwrap();
    connection.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL)").unwrap();
    connection.execute_batch(crate::store::schema::FIRST_MIGRATION_FOR_TESTS).unwrap();
    connection.execute("INSERT INTO schema_version (version) VALUES (1)", []).unwrap();
    for kind in ["activation_issued", "code_redeemed"] {
        connection.execute("INSERT INTO audit_events (at, actor, kind) VALUES (3, 'oss', ?1)", [kind]).unwrap();
    }
}

#[test]
fn events_written_before_the_chain_are_chained_by_the_migration() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("platform.db");
    database_from_before_the_chain(&path);
    let store = Store::open(&path).unwrap();
    let events = store.audit_events().unwrap();
    assert_eq!(
        events.iter().map(|event| (event.sequence, event.kind.as_str())).collect::<Vec<_>>(),
        vec![(1, "activation_issued"), (2, "code_redeemed")]
    );
}

#[test]
fn migrated_events_stay_unkeyed_until_the_platform_keys_the_chain_after_them() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("platform.db");
    database_from_before_the_chain(&path);
    let store = keyed_store(&path);
    assert_eq!(store.key_audit_chain(10).unwrap(), Some(2), "the unkeyed events end at 2");
    assert_eq!(store.key_audit_chain(11).unwrap(), None, "keyed once");
    let events = store.audit_events().unwrap();
    assert_eq!(events.last().map(|event| event.kind.as_str()), Some("audit_chain_keyed"));
    let report = verify_audit_trail_file(&path, None, None, Some(&audit_key())).unwrap();
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.mac_check, MacCheck::Checked { unkeyed_through: 2 });

    // A well-formed event after the keyed one, without a MAC: it would pass as migrated were keying not marked.
    let prev_hash = hash_from_hex(&events[2].hash).unwrap();
    let forged = AuditEventFields { sequence: 4, at: 20, actor: "oss".into(), kind: "x".into(), ..Default::default() };
    let hash = forged.chain_hash(&prev_hash);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO audit_events (sequence, at, actor, kind, prev_hash, hash) VALUES (4, 20, 'oss', 'x', ?1, ?2)",
            rusqlite::params![prev_hash.as_slice(), hash.as_slice()],
        )
        .unwrap();
    let refused = store.append_audit_event(21, &AuditEvent::new("platform", "activation_expired"));
    assert!(matches!(refused, Err(StoreError::AuditChainBroken(_))), "{refused:?}");
}

#[test]
fn a_mac_stored_as_text_is_named_forged_instead_of_failing_the_read() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("platform.db");
    let store = keyed_store(&path);
    for at in 1..=2 {
        store.append_audit_event(at, &AuditEvent::new("platform", "activation_expired")).unwrap();
    }
    let writer = rusqlite::Connection::open(&path).unwrap();
    writer.execute_batch("DROP TRIGGER audit_events_are_append_only_update").unwrap();
    writer.execute("UPDATE audit_events SET mac = 'not a blob' WHERE sequence = 2", []).unwrap();
    let report = verify_audit_trail_file(&path, None, None, Some(&audit_key())).unwrap();
    assert!(report.names(AuditProblemKind::Forged, 2), "{report}");
    let refused = store.append_audit_event(3, &AuditEvent::new("platform", "activation_expired"));
    assert!(matches!(refused, Err(StoreError::AuditChainBroken(_))), "{refused:?}");
}
