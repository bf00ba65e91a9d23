//! The audit chain against a writer of the SQLite file who can recompute every hash but not the events' MACs:
//! splices, rewrites, forged appends, impossible sequences. Each is named at its first break by
//! `verify_audit_trail`, against the platform's signed checkpoints alone (MACs unchecked, as where the signing key
//! cannot be read) and with the MACs; and the platform will not start on, append to, or sign a checkpoint over a
//! chain that does not verify.

use numbind_platform::domain::audit_chain::{AuditEventFields, ChainHash};
use numbind_platform::domain::audit_mac::AuditChainKey;
use numbind_platform::operators::AuditProblemKind;
use numbind_platform::store::{AuditEvent, Store};
use numbind_platform::{
    audit_key_path, load_or_create_audit_key, load_or_create_signing_key, public_key_path, read_audit_key,
    verify_audit_trail, AuditVerifyReport,
};
use numbind_wire::statement::PlatformSigningKey;
use rusqlite::params;
use std::path::PathBuf;
use tempfile::TempDir;

/// A database of `count` events, the first `checkpointed` of them under a signed checkpoint, and an attacker's
/// connection that dropped the append-only guards and the unique sequence index.
struct Tampered {
    directory: TempDir,
    database: PathBuf,
    attacker: rusqlite::Connection,
}

fn chain(count: i64, checkpointed: i64) -> Tampered {
    let directory = tempfile::tempdir().unwrap();
    let database = directory.path().join("platform.db");
    let key = load_or_create_signing_key(&directory.path().join("platform-signing.key")).unwrap();
    let audit_key = load_or_create_audit_key(&audit_key_path(&database)).unwrap();
    let store = Store::open(&database).unwrap().with_audit_key(audit_key);
    for at in 1..=count {
        store.append_audit_event(1000 + at, &AuditEvent::new("oss", "code_redeemed").detail("genuine")).unwrap();
        if at == checkpointed {
            store.record_audit_checkpoint(2000, &key).unwrap().unwrap();
        }
    }
    drop(store);
    let attacker = rusqlite::Connection::open(&database).unwrap();
    attacker
        .execute_batch(
            "DROP TRIGGER audit_events_are_append_only_update; DROP TRIGGER audit_events_are_append_only_delete;
             DROP INDEX audit_events_by_sequence;",
        )
        .unwrap();
    Tampered { directory, database, attacker }
}

impl Tampered {
    fn signing_key_path(&self) -> PathBuf {
        self.directory.path().join("platform-signing.key")
    }

    /// Against the signed checkpoints alone: the MACs are not checked.
    fn verify(&self) -> AuditVerifyReport {
        verify_audit_trail(&self.database, &public_key_path(&self.signing_key_path()), None, None).unwrap()
    }

    /// Against the signed checkpoints and every event's MAC.
    fn verify_with_macs(&self) -> AuditVerifyReport {
        let audit_key = read_audit_key(&audit_key_path(&self.database)).unwrap();
        verify_audit_trail(&self.database, &public_key_path(&self.signing_key_path()), None, Some(&audit_key)).unwrap()
    }

    /// The platform's own store of this database, keyed as the running platform's is.
    fn platform_store(&self) -> Store {
        Store::open(&self.database).unwrap().with_audit_key(read_audit_key(&audit_key_path(&self.database)).unwrap())
    }

    fn fields(&self, sequence: i64) -> (ChainHash, AuditEventFields) {
        self.attacker
            .query_row(
                "SELECT prev_hash, at, actor, kind, detail FROM audit_events WHERE sequence = ?1",
                [sequence],
                |row| {
                    let prev_hash: Vec<u8> = row.get(0)?;
                    let fields = AuditEventFields {
                        sequence,
                        at: row.get(1)?,
                        actor: row.get(2)?,
                        kind: row.get(3)?,
                        detail: row.get(4)?,
                        ..AuditEventFields::default()
                    };
                    Ok((prev_hash.try_into().unwrap(), fields))
                },
            )
            .unwrap()
    }

    fn hash_at(&self, sequence: i64) -> ChainHash {
        let hash: Vec<u8> = self
            .attacker
            .query_row("SELECT hash FROM audit_events WHERE sequence = ?1", [sequence], |row| row.get(0))
            .unwrap();
        hash.try_into().unwrap()
    }

    /// Inserts a forged event at `sequence` that links to `prev_hash` with a correct hash.
    fn insert_forged(&self, sequence: i64, prev_hash: ChainHash) -> ChainHash {
        // The predecessor's time: the forger keeps the times in order.
        let at: i64 = self
            .attacker
            .query_row("SELECT max(at) FROM audit_events WHERE sequence < ?1", [sequence], |row| row.get(0))
            .unwrap();
        let forged = AuditEventFields {
            sequence,
            at,
            actor: "oss".into(),
            kind: "binding_revoked".into(),
            detail: Some("forged".into()),
            ..AuditEventFields::default()
        };
        let hash = forged.chain_hash(&prev_hash);
        self.attacker
            .execute(
                "INSERT INTO audit_events (sequence, at, actor, kind, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![sequence, forged.at, forged.actor, forged.kind, forged.detail, prev_hash.as_slice(), hash.as_slice()],
            )
            .unwrap();
        hash
    }

    /// Recomputes every hash from `sequence` on, in sequence order.
    fn rehash_from(&self, sequence: i64, mut prev_hash: ChainHash) {
        let last: i64 =
            self.attacker.query_row("SELECT max(sequence) FROM audit_events", [], |row| row.get(0)).unwrap();
        for current in sequence..=last {
            let (_, fields) = self.fields(current);
            let hash = fields.chain_hash(&prev_hash);
            self.attacker
                .execute(
                    "UPDATE audit_events SET prev_hash = ?2, hash = ?3 WHERE sequence = ?1",
                    params![current, prev_hash.as_slice(), hash.as_slice()],
                )
                .unwrap();
            prev_hash = hash;
        }
    }

    /// Splices a forged event in at `sequence`, renumbering the genuine events from there on.
    fn splice(&self, sequence: i64) {
        self.attacker
            .execute("UPDATE audit_events SET sequence = -sequence - 1 WHERE sequence >= ?1", [sequence])
            .unwrap();
        self.attacker.execute("UPDATE audit_events SET sequence = -sequence WHERE sequence < 0", []).unwrap();
        self.insert_forged(sequence, self.hash_at(sequence - 1));
    }
}

fn first_break(report: &AuditVerifyReport) -> (AuditProblemKind, i64) {
    let first = report.first_break().unwrap_or_else(|| panic!("no break found:\n{report}"));
    (first.kind, first.sequence)
}

#[test]
fn a_forged_event_spliced_in_is_named_once_at_its_sequence_not_at_every_renumbered_event_after_it() {
    let tampered = chain(28, 0);
    tampered.splice(5);
    let report = tampered.verify();
    assert_eq!(first_break(&report), (AuditProblemKind::Inserted, 5), "{report}");
    assert_eq!(report.problems.len(), 1, "{report}");
    let report = tampered.verify_with_macs();
    assert!(report.names(AuditProblemKind::Forged, 5), "{report}");
    assert_eq!(report.problems.len(), 2, "the renumbered genuine events keep valid MACs: {report}");
}

#[test]
fn a_splice_with_recomputed_hashes_diverges_from_the_signed_checkpoint_and_names_the_earliest_forgery() {
    let tampered = chain(12, 10);
    tampered.splice(5);
    tampered.rehash_from(6, tampered.hash_at(5));
    let report = tampered.verify();
    let divergence = report.problems.iter().find(|problem| problem.kind == AuditProblemKind::DivergesFromCheckpoint);
    let divergence = divergence.unwrap_or_else(|| panic!("no divergence named:\n{report}"));
    assert_eq!(divergence.sequence, 10, "{report}");
    assert!(divergence.detail.contains("the earliest that may be: 1)"), "{report}");
    // The spliced row was written last, so the row order still shows where it went in.
    assert_eq!(first_break(&report), (AuditProblemKind::Inserted, 5), "{report}");
}

#[test]
fn a_whole_chain_rewritten_with_recomputed_hashes_diverges_from_the_signed_checkpoint() {
    let tampered = chain(6, 4);
    tampered.attacker.execute("UPDATE audit_events SET actor = 'nobody'", []).unwrap();
    tampered.rehash_from(1, [0; 32]);
    let report = tampered.verify();
    assert_eq!(first_break(&report), (AuditProblemKind::DivergesFromCheckpoint, 4), "{report}");
    assert!(report.problems[0].detail.contains("the earliest that may be: 1)"), "{report}");
    let report = tampered.verify_with_macs();
    assert_eq!(first_break(&report), (AuditProblemKind::Forged, 1), "every rewritten event is forged: {report}");
}

#[test]
fn a_forged_event_appended_with_a_correct_hash_is_forged_by_its_mac_and_behind_a_checkpoint_diverges() {
    let tampered = chain(6, 6);
    tampered.insert_forged(7, tampered.hash_at(6));
    let report = tampered.verify_with_macs();
    assert_eq!(first_break(&report), (AuditProblemKind::Forged, 7), "{report}");
    assert_eq!(report.problems.len(), 1, "{report}");
    let without_macs = tampered.verify();
    assert!(without_macs.is_intact(), "the checkpoints alone only see it as not yet witnessed: {without_macs}");
    assert_eq!(without_macs.unwitnessed(), Some((7, 7)), "{without_macs}");
    assert!(without_macs.to_string().contains("MACs not checked"), "{without_macs}");

    let cut = chain(6, 6);
    cut.attacker.execute("DELETE FROM audit_events WHERE sequence >= 5", []).unwrap();
    cut.insert_forged(5, cut.hash_at(4));
    let report = cut.verify();
    assert_eq!(first_break(&report), (AuditProblemKind::DivergesFromCheckpoint, 6), "{report}");
}

#[test]
fn a_sequence_of_five_million_is_one_line_and_a_null_sequence_is_named_not_read_as_zero() {
    let tampered = chain(6, 0);
    tampered.insert_forged(5_000_000, tampered.hash_at(6));
    let report = tampered.verify();
    assert_eq!(first_break(&report), (AuditProblemKind::SequenceOutOfRange, 5_000_000), "{report}");
    assert!(report.to_string().lines().count() < 10, "{report}");

    let tampered = chain(6, 0);
    tampered
        .attacker
        .execute("INSERT INTO audit_events (sequence, at, actor, kind) VALUES (NULL, 1, 'oss', 'x')", [])
        .unwrap();
    let report = tampered.verify();
    assert_eq!(first_break(&report), (AuditProblemKind::SequenceInvalid, 0), "{report}");
    assert!(report.problems[0].detail.contains("NULL sequence"), "{report}");
}

#[test]
fn a_checkpoint_forged_without_the_platform_key_is_named() {
    let tampered = chain(4, 4);
    let (forger, _) = PlatformSigningKey::generate(&ring::rand::SystemRandom::new()).unwrap();
    let store = tampered.platform_store();
    store.append_audit_event(3000, &AuditEvent::new("oss", "code_redeemed")).unwrap();
    let refused = store.record_audit_checkpoint(3001, &forger);
    assert!(refused.is_err(), "another key does not vouch for this chain's checkpoints: {refused:?}");
    tampered.attacker.execute("UPDATE audit_checkpoints SET signature = 'AAAA' WHERE sequence = 4", []).unwrap();
    let report = tampered.verify();
    assert_eq!(first_break(&report), (AuditProblemKind::CheckpointTampered, 4), "{report}");
}

#[tokio::test]
async fn the_platform_refuses_to_start_on_a_chain_that_diverges_from_its_last_checkpoint() {
    let tampered = chain(6, 6);
    tampered.attacker.execute("UPDATE audit_events SET actor = 'nobody'", []).unwrap();
    tampered.rehash_from(1, [0; 32]);
    let config = numbind_platform::Config::new(
        tampered.database.clone(),
        tampered.directory.path().join("platform-signing.key"),
        numbind_wire::ShortCode::parse("10658000").unwrap(),
        numbind_wire::component_auth::ComponentSecret::parse(crate::helpers::OSS_SECRET).unwrap(),
    );
    let refused = numbind_platform::prepare(config).await.err().expect("refused");
    assert!(format!("{refused:#}").contains("refusing to start"), "{refused:#}");
}

#[test]
fn a_well_formed_event_with_a_wrong_mac_at_the_head_is_refused_never_signed_and_named_forged() {
    let tampered = chain(6, 6);
    let hash = tampered.insert_forged(7, tampered.hash_at(6));
    let wrong_mac = AuditChainKey::from_secret(&[9; 32]).mac(&hash);
    tampered.attacker.execute("UPDATE audit_events SET mac = ?1 WHERE sequence = 7", [wrong_mac.as_slice()]).unwrap();
    let store = tampered.platform_store();

    let refused = store.append_audit_event(3000, &AuditEvent::new("oss", "code_redeemed"));
    assert!(matches!(refused, Err(numbind_platform::store::StoreError::AuditChainBroken(_))), "{refused:?}");
    assert!(format!("{}", refused.unwrap_err()).contains("MAC does not verify"));
    let key = load_or_create_signing_key(&tampered.signing_key_path()).unwrap();
    let unsigned = store.record_audit_checkpoint(3001, &key);
    assert!(unsigned.is_err(), "no checkpoint is signed over the forgery: {unsigned:?}");
    assert_eq!(store.audit_checkpoints().unwrap().len(), 1);

    let report = tampered.verify_with_macs();
    assert_eq!(first_break(&report), (AuditProblemKind::Forged, 7), "{report}");
    assert!(report.to_string().contains("forged at sequence 7: MAC does not verify"), "{report}");
}

#[tokio::test]
async fn the_platform_refuses_to_start_on_a_head_it_did_not_write() {
    let tampered = chain(6, 0);
    tampered.insert_forged(7, tampered.hash_at(6));
    let config = numbind_platform::Config::new(
        tampered.database.clone(),
        tampered.signing_key_path(),
        numbind_wire::ShortCode::parse("10658000").unwrap(),
        numbind_wire::component_auth::ComponentSecret::parse(crate::helpers::OSS_SECRET).unwrap(),
    );
    let refused = numbind_platform::prepare(config).await.err().expect("refused");
    assert!(format!("{refused:#}").contains("forged"), "{refused:#}");
}

#[tokio::test]
async fn a_platform_started_with_a_rotated_signing_key_carries_on_the_chain_its_audit_key_keyed() {
    let tampered = chain(3, 0);
    let rotated_key_path = tampered.directory.path().join("rotated-signing.key");
    let config = numbind_platform::Config::new(
        tampered.database.clone(),
        rotated_key_path.clone(),
        numbind_wire::ShortCode::parse("10658000").unwrap(),
        numbind_wire::component_auth::ComponentSecret::parse(crate::helpers::OSS_SECRET).unwrap(),
    );
    numbind_platform::prepare(config)
        .await
        .expect("the audit key is not the signing key: rotating one keeps the other");
    let store = tampered.platform_store();
    store.append_audit_event(3000, &AuditEvent::new("oss", "code_redeemed")).expect("the chain carries on");
    let report = verify_audit_trail(&tampered.database, &public_key_path(&rotated_key_path), None, None).unwrap();
    assert!(report.is_intact(), "{report}");
    assert!(tampered.verify_with_macs().is_intact());
}
