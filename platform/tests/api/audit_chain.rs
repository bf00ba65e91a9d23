//! The audit hash chain against an attacker with write access to the SQLite file: every kind of tampering is named.

use numbind_platform::domain::audit_mac::AuditChainKey;
use numbind_platform::operators::AuditProblemKind;
use numbind_platform::store::{AuditEvent, Store};
use numbind_platform::verify_audit_chain;
use rusqlite::params;
use std::path::PathBuf;
use tempfile::TempDir;

/// A database with six chained events and an attacker's connection that dropped the append-only guards.
fn chained_database() -> (TempDir, PathBuf, rusqlite::Connection) {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("platform.db");
    let store = Store::open(&path).unwrap().with_audit_key(AuditChainKey::from_secret(&[1; 32]));
    for at in 1..=6 {
        store.append_audit_event(1000 + at, &AuditEvent::new("oss", "code_redeemed").detail("genuine")).unwrap();
    }
    drop(store);
    let attacker = rusqlite::Connection::open(&path).unwrap();
    attacker
        .execute_batch(
            "DROP TRIGGER audit_events_are_append_only_update; DROP TRIGGER audit_events_are_append_only_delete;
             DROP INDEX audit_events_by_sequence;",
        )
        .unwrap();
    (directory, path, attacker)
}

#[test]
fn an_untouched_chain_verifies_and_reports_its_head_hash() {
    let (_directory, path, _attacker) = chained_database();
    let report = verify_audit_chain(&path).unwrap();
    assert!(report.is_intact(), "{report}");
    assert_eq!((report.event_count, report.head_sequence), (6, 6));
    assert_eq!(report.head_hash.len(), 64);
    assert!(report.to_string().contains(&report.head_hash));
}

#[test]
fn an_edited_event_is_named_with_its_sequence() {
    let (_directory, path, attacker) = chained_database();
    attacker.execute("UPDATE audit_events SET detail = 'forged' WHERE sequence = 3", []).unwrap();
    let report = verify_audit_chain(&path).unwrap();
    assert!(report.names(AuditProblemKind::Edited, 3), "{report}");
    assert_eq!(report.problems.len(), 1, "{report}");
}

#[test]
fn a_deleted_event_is_named_with_its_sequence() {
    let (_directory, path, attacker) = chained_database();
    attacker.execute("DELETE FROM audit_events WHERE sequence = 4", []).unwrap();
    let report = verify_audit_chain(&path).unwrap();
    assert!(report.names(AuditProblemKind::Deleted, 4), "{report}");
    assert_eq!(report.problems.len(), 1, "{report}");
}

#[test]
fn an_inserted_event_is_named_with_its_sequence() {
    let (_directory, path, attacker) = chained_database();
    attacker
        .execute(
            "INSERT INTO audit_events (sequence, at, actor, kind, detail, prev_hash, hash)
             SELECT 2, at, actor, kind, 'forged', prev_hash, hash FROM audit_events WHERE sequence = 2",
            [],
        )
        .unwrap();
    attacker
        .execute(
            "INSERT INTO audit_events (sequence, at, actor, kind, prev_hash, hash) VALUES (7, 2000, 'x', 'y', ?1, ?1)",
            params![vec![9u8; 32]],
        )
        .unwrap();
    let report = verify_audit_chain(&path).unwrap();
    assert!(report.names(AuditProblemKind::Inserted, 2), "{report}");
    assert!(report.names(AuditProblemKind::Inserted, 7), "{report}");
}

#[test]
fn reordered_events_are_named_with_their_sequences() {
    let (_directory, path, attacker) = chained_database();
    attacker.execute("UPDATE audit_events SET sequence = -5 WHERE sequence = 5", []).unwrap();
    attacker.execute("UPDATE audit_events SET sequence = 5 WHERE sequence = 4", []).unwrap();
    attacker.execute("UPDATE audit_events SET sequence = 4 WHERE sequence = -5", []).unwrap();
    let report = verify_audit_chain(&path).unwrap();
    assert!(report.names(AuditProblemKind::Reordered, 4), "{report}");
    assert!(report.names(AuditProblemKind::Reordered, 5), "{report}");
}

#[test]
fn verification_goes_on_past_the_first_problem() {
    let (_directory, path, attacker) = chained_database();
    attacker.execute("UPDATE audit_events SET actor = 'nobody' WHERE sequence = 2", []).unwrap();
    attacker.execute("DELETE FROM audit_events WHERE sequence = 5", []).unwrap();
    let report = verify_audit_chain(&path).unwrap();
    assert!(report.names(AuditProblemKind::Edited, 2), "{report}");
    assert!(report.names(AuditProblemKind::Deleted, 5), "{report}");
}

#[test]
fn a_missing_database_is_an_error_not_an_empty_chain() {
    assert!(verify_audit_chain(std::path::Path::new("/nonexistent/platform.db")).is_err());
}
