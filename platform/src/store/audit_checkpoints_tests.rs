//! Unit tests of the checkpoint store and of the checks that keep a tampered chain from being carried on.

use super::*;
use crate::domain::audit_chain::AuditEventFields;
use crate::store::AuditEvent;
use ring::rand::SystemRandom;

fn key() -> PlatformSigningKey {
    PlatformSigningKey::generate(&SystemRandom::new()).unwrap().0
}

fn store_with_events(count: i64) -> (tempfile::TempDir, std::path::PathBuf, Store) {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("platform.db");
    let store = Store::open(&path).unwrap().with_audit_key(AuditChainKey::from_secret(&[5; 32]));
    for at in 1..=count {
        store.append_audit_event(at, &AuditEvent::new("platform", "activation_expired")).unwrap();
    }
    (directory, path, store)
}

/// A connection of someone who can write the file and dropped the append-only guards.
fn attacker(path: &std::path::Path) -> rusqlite::Connection {
    let attacker = rusqlite::Connection::open(path).unwrap();
    attacker
        .execute_batch(
            "DROP TRIGGER audit_events_are_append_only_update; DROP TRIGGER audit_events_are_append_only_delete;
             DROP INDEX audit_events_by_sequence;",
        )
        .unwrap();
    attacker
}

#[test]
fn a_checkpoint_is_signed_when_the_head_moved_and_queued_until_the_oss_holds_it() {
    let (_directory, _path, store) = store_with_events(3);
    let key = key();
    assert_eq!(store.record_audit_checkpoint(10, &key).unwrap(), Some(3));
    assert_eq!(store.record_audit_checkpoint(11, &key).unwrap(), None, "the head did not move");
    store.append_audit_event(12, &AuditEvent::new("platform", "activation_expired")).unwrap();
    assert_eq!(store.record_audit_checkpoint(13, &key).unwrap(), Some(4));

    let keys = PinnedPlatformKeys::new(vec![key.public_key()]);
    let stored = store.audit_checkpoints().unwrap();
    assert_eq!(stored.iter().map(|checkpoint| checkpoint.sequence).collect::<Vec<_>>(), vec![3, 4]);
    assert_eq!(keys.verify_audit_checkpoint(&stored[1].signed).unwrap().sequence, 4);

    let due = store.due_audit_checkpoints(13, 10).unwrap();
    assert_eq!(due.len(), 2);
    store.reschedule_audit_checkpoint(3, 20, "oss unreachable").unwrap();
    store.mark_audit_checkpoint_delivered(4, 13).unwrap();
    assert!(store.due_audit_checkpoints(19, 10).unwrap().is_empty());
    assert_eq!(store.due_audit_checkpoints(20, 10).unwrap()[0].attempts, 1);
    assert_eq!(store.check_audit_head(&keys).unwrap(), 4);
}

#[test]
fn an_empty_chain_gets_no_checkpoint_and_its_head_verifies() {
    let store = Store::open_in_memory().unwrap();
    let key = key();
    assert_eq!(store.record_audit_checkpoint(1, &key).unwrap(), None);
    assert_eq!(store.check_audit_head(&PinnedPlatformKeys::new(vec![key.public_key()])).unwrap(), 0);
}

#[test]
fn appending_after_a_head_that_does_not_verify_is_refused() {
    let (_directory, path, store) = store_with_events(4);
    let attacker = attacker(&path);
    attacker.execute("UPDATE audit_events SET detail = 'forged' WHERE sequence = 4", []).unwrap();
    let refused = store.append_audit_event(5, &AuditEvent::new("platform", "activation_expired"));
    assert!(matches!(refused, Err(StoreError::AuditChainBroken(_))), "{refused:?}");
    assert!(refused.unwrap_err().is_storage_unavailable(), "answered 503, never written");
}

#[test]
fn a_forged_row_far_beyond_the_head_is_never_carried_on() {
    let (_directory, path, store) = store_with_events(4);
    let attacker = attacker(&path);
    attacker
        .execute(
            "INSERT INTO audit_events (sequence, at, actor, kind, prev_hash, hash)
             SELECT 5000000, at, actor, kind, hash, hash FROM audit_events WHERE sequence = 4",
            [],
        )
        .unwrap();
    let refused = store.append_audit_event(5, &AuditEvent::new("platform", "activation_expired"));
    assert!(matches!(refused, Err(StoreError::AuditChainBroken(_))), "{refused:?}");
}

#[test]
fn no_checkpoint_is_signed_over_a_break_since_the_last_one() {
    let (_directory, path, store) = store_with_events(3);
    let key = key();
    store.record_audit_checkpoint(10, &key).unwrap();
    store.append_audit_event(11, &AuditEvent::new("platform", "activation_expired")).unwrap();
    store.append_audit_event(12, &AuditEvent::new("platform", "activation_expired")).unwrap();
    attacker(&path).execute("UPDATE audit_events SET detail = 'forged' WHERE sequence = 4", []).unwrap();
    let refused = store.record_audit_checkpoint(13, &key);
    assert!(matches!(refused, Err(StoreError::AuditChainBroken(_))), "{refused:?}");
    assert_eq!(store.audit_checkpoints().unwrap().len(), 1);
}

#[test]
fn a_chain_rewritten_under_the_last_checkpoint_or_a_null_sequence_fails_the_start_check() {
    let (_directory, path, store) = store_with_events(3);
    let key = key();
    let keys = PinnedPlatformKeys::new(vec![key.public_key()]);
    store.record_audit_checkpoint(10, &key).unwrap();
    let writer = attacker(&path);
    let prev_hash: Vec<u8> =
        writer.query_row("SELECT prev_hash FROM audit_events WHERE sequence = 3", [], |row| row.get(0)).unwrap();
    let rewritten = crate::domain::audit_chain::AuditEventFields {
        sequence: 3,
        at: 3,
        actor: "platform".into(),
        kind: "rewritten".into(),
        ..Default::default()
    };
    let hash = rewritten.chain_hash(&prev_hash.try_into().unwrap());
    writer
        .execute("UPDATE audit_events SET kind = 'rewritten', hash = ?1 WHERE sequence = 3", [hash.as_slice()])
        .unwrap();
    let head_check = store.append_audit_event(4, &AuditEvent::new("platform", "activation_expired"));
    assert!(
        matches!(&head_check, Err(StoreError::AuditChainBroken(reason)) if reason.contains("MAC does not verify")),
        "a well-formed rewrite of the head is refused by its MAC: {head_check:?}"
    );
    assert!(matches!(store.check_audit_head(&keys), Err(StoreError::AuditChainBroken(_))));

    let (_directory, path, store) = store_with_events(2);
    attacker(&path)
        .execute("INSERT INTO audit_events (sequence, at, actor, kind) VALUES (NULL, 1, 'x', 'y')", [])
        .unwrap();
    assert!(matches!(store.check_audit_head(&keys), Err(StoreError::AuditChainBroken(_))));
}

/// Appends a well-formed event after the head as someone who can write the file but not MAC: the hash is correct,
/// the MAC is `mac` (none, or one made with another key).
fn append_well_formed_forgery(path: &std::path::Path, mac: Option<&[u8]>) {
    let writer = rusqlite::Connection::open(path).unwrap();
    let (sequence, prev_hash): (i64, Vec<u8>) = writer
        .query_row("SELECT sequence, hash FROM audit_events ORDER BY sequence DESC LIMIT 1", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    let fields = AuditEventFields {
        sequence: sequence + 1,
        at: 100,
        actor: "oss".into(),
        kind: "binding_revoked".into(),
        ..AuditEventFields::default()
    };
    let hash = fields.chain_hash(&prev_hash.clone().try_into().unwrap());
    writer
        .execute(
            "INSERT INTO audit_events (sequence, at, actor, kind, prev_hash, hash, mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![fields.sequence, fields.at, fields.actor, fields.kind, prev_hash, hash.as_slice(), mac],
        )
        .unwrap();
}

#[test]
fn appending_after_a_well_formed_head_without_a_valid_mac_is_refused() {
    let wrong_mac = AuditChainKey::from_secret(&[6; 32]).mac(&[0; 32]);
    for mac in [None, Some(wrong_mac.as_slice())] {
        let (_directory, path, store) = store_with_events(4);
        append_well_formed_forgery(&path, mac);
        let refused = store.append_audit_event(200, &AuditEvent::new("platform", "activation_expired"));
        assert!(
            matches!(&refused, Err(StoreError::AuditChainBroken(reason)) if reason.contains("forged")),
            "{refused:?}"
        );
        assert_eq!(store.audit_events().unwrap().len(), 5, "nothing appended after the forgery");
    }
}

#[test]
fn no_checkpoint_is_signed_over_an_event_whose_mac_does_not_verify() {
    let (_directory, path, store) = store_with_events(3);
    let key = key();
    store.record_audit_checkpoint(10, &key).unwrap();
    store.append_audit_event(11, &AuditEvent::new("platform", "activation_expired")).unwrap();
    store.append_audit_event(12, &AuditEvent::new("platform", "activation_expired")).unwrap();
    let wrong_mac = AuditChainKey::from_secret(&[6; 32]).mac(&[0; 32]);
    attacker(&path).execute("UPDATE audit_events SET mac = ?1 WHERE sequence = 4", [wrong_mac.as_slice()]).unwrap();
    let refused = store.record_audit_checkpoint(13, &key);
    assert!(
        matches!(&refused, Err(StoreError::AuditChainBroken(reason)) if reason.contains("sequence 4")),
        "{refused:?}"
    );
    assert_eq!(store.audit_checkpoints().unwrap().len(), 1);
    let keys = PinnedPlatformKeys::new(vec![key.public_key()]);
    assert!(matches!(store.check_audit_head(&keys), Err(StoreError::AuditChainBroken(_))), "nor does it start");
}

#[test]
fn two_events_appended_without_a_mac_are_refused_though_the_head_follows_an_unkeyed_one() {
    let (_directory, path, store) = store_with_events(4);
    append_well_formed_forgery(&path, None);
    append_well_formed_forgery(&path, None);
    let refused = store.append_audit_event(200, &AuditEvent::new("platform", "activation_expired"));
    assert!(
        matches!(&refused, Err(StoreError::AuditChainBroken(reason)) if reason.contains("keyed events come before it")),
        "{refused:?}"
    );
    assert_eq!(store.audit_events().unwrap().len(), 6, "nothing appended after the forgeries");
}
