//! The audit trail against someone who can write the platform's database but not read its key: every event carries
//! a MAC only the platform can make, the platform signs checkpoints of the chain's head, the OSS keeps them as a
//! witness, and `numbind audit verify` names the break however well the forged hashes link, even when the
//! platform's own checkpoints were deleted too.

use crate::helpers::{numbind, Component, Process, System, FLOW_TIMEOUT, STARTUP_TIMEOUT};
use numbind_platform::domain::audit_chain::{AuditEventFields, ChainHash};
use rusqlite::params;
use std::time::Duration;
use tokio::time::Instant;

const PAYER: &str = "13800138000";

/// `numbind audit verify` of the system's platform database with the OSS's copies: exit code and output.
async fn audit_verify(system: &System) -> (Option<i32>, String) {
    let output = numbind()
        .args(["audit", "verify", "--data-dir"])
        .arg(system.directory.path())
        .args(["--oss-url", &system.oss_url])
        .env("NUMBIND_OSS_ADMIN_TOKEN", crate::helpers::OSS_ADMIN_TOKEN)
        .output()
        .await
        .expect("numbind audit verify");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code(), text)
}

/// `numbind audit verify` as run away from the platform host: a copy of the database, the public key and the OSS's
/// copies, but not the platform's audit key.
async fn audit_verify_without_the_audit_key(system: &System) -> (Option<i32>, String) {
    let elsewhere = tempfile::tempdir().unwrap();
    for file in ["platform.db", "platform.db-wal", "platform.db-shm"] {
        if system.path(file).exists() {
            std::fs::copy(system.path(file), elsewhere.path().join(file)).unwrap();
        }
    }
    let output = numbind()
        .args(["audit", "verify", "--data-dir"])
        .arg(elsewhere.path())
        .env("NUMBIND_OSS_ADMIN_TOKEN", crate::helpers::OSS_ADMIN_TOKEN)
        .arg("--platform-key-file")
        .arg(&system.platform_key_file)
        .arg("--ca-file")
        .arg(&system.ca_file)
        .args(["--oss-url", &system.oss_url])
        .output()
        .await
        .expect("numbind audit verify");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code(), text)
}

/// Binds a box (a dozen audit events), waits until the OSS witnesses every event, then stops the platform.
async fn witnessed_system() -> System {
    let mut system = System::start().await;
    system.bind_a_box("box", PAYER).await;
    let deadline = Instant::now() + FLOW_TIMEOUT;
    loop {
        let (code, output) = audit_verify(&system).await;
        assert_eq!(code, Some(0), "{output}");
        if output.contains("witnessed by the OSS") && output.contains("every event is witnessed") {
            break;
        }
        assert!(Instant::now() < deadline, "the oss never witnessed the whole chain:\n{output}");
        // The platform checkpoints once a second, in another process: there is nothing to await.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    system.kill(Component::Platform).await;
    system
}

/// A connection of someone who can write the database file and dropped the append-only guards.
fn attacker(system: &System) -> rusqlite::Connection {
    let connection = rusqlite::Connection::open(system.path("platform.db")).unwrap();
    connection
        .execute_batch(
            "DROP TRIGGER audit_events_are_append_only_update; DROP TRIGGER audit_events_are_append_only_delete;",
        )
        .unwrap();
    connection
}

/// Every event's fields and its row, in sequence order.
fn events(connection: &rusqlite::Connection) -> Vec<(i64, AuditEventFields)> {
    let mut statement = connection
        .prepare(
            "SELECT event_id, sequence, at, actor, kind, terminal_id, msisdn_masked, activation_id, binding_id,
             message_id, detail FROM audit_events ORDER BY sequence",
        )
        .unwrap();
    let rows = statement.query_map([], |row| {
        let fields = AuditEventFields {
            sequence: row.get(1)?,
            at: row.get(2)?,
            actor: row.get(3)?,
            kind: row.get(4)?,
            terminal_id: row.get(5)?,
            msisdn_masked: row.get(6)?,
            activation_id: row.get(7)?,
            binding_id: row.get(8)?,
            message_id: row.get(9)?,
            detail: row.get(10)?,
        };
        Ok((row.get(0)?, fields))
    });
    rows.unwrap().collect::<Result<_, _>>().unwrap()
}

fn head_hash(connection: &rusqlite::Connection) -> (i64, ChainHash) {
    let (sequence, hash): (i64, Vec<u8>) = connection
        .query_row("SELECT sequence, hash FROM audit_events ORDER BY sequence DESC LIMIT 1", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    (sequence, hash.try_into().unwrap())
}

/// Appends a forged event whose hash links correctly to the head, as the running platform would have, with `mac`
/// (none, or bytes made without the platform's key).
fn append_a_well_formed_forgery(connection: &rusqlite::Connection, mac: Option<&[u8]>) -> i64 {
    let (head, prev_hash) = head_hash(connection);
    let at: i64 = connection.query_row("SELECT max(at) FROM audit_events", [], |row| row.get(0)).unwrap();
    let forged = AuditEventFields {
        sequence: head + 1,
        at,
        actor: "oss".into(),
        kind: "binding_revoked".into(),
        detail: Some("forged".into()),
        ..AuditEventFields::default()
    };
    connection
        .execute(
            "INSERT INTO audit_events (sequence, at, actor, kind, detail, prev_hash, hash, mac)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                forged.sequence,
                forged.at,
                forged.actor,
                forged.kind,
                forged.detail,
                prev_hash.as_slice(),
                forged.chain_hash(&prev_hash).as_slice(),
                mac
            ],
        )
        .unwrap();
    head + 1
}

/// Changes the first event and recomputes every hash after it: a chain that links perfectly.
fn rewrite_the_whole_chain(connection: &rusqlite::Connection) {
    let mut prev_hash: ChainHash = [0; 32];
    for (index, (row_id, mut fields)) in events(connection).into_iter().enumerate() {
        if index == 0 {
            fields.detail = Some("rewritten".into());
        }
        let hash = fields.chain_hash(&prev_hash);
        connection
            .execute(
                "UPDATE audit_events SET detail = ?2, prev_hash = ?3, hash = ?4 WHERE event_id = ?1",
                params![row_id, fields.detail, prev_hash.as_slice(), hash.as_slice()],
            )
            .unwrap();
        prev_hash = hash;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rewritten_chain_with_a_forged_event_appended_is_named_against_the_oss_copy_and_the_platform_will_not_start()
{
    let system = witnessed_system().await;
    let attacker = attacker(&system);
    let forged = append_a_well_formed_forgery(&attacker, None);
    let (code, output) = audit_verify(&system).await;
    assert_eq!(code, Some(1), "a well-formed append without the platform's MAC is a break:\n{output}");
    assert!(output.contains(&format!("first break: forged at sequence {forged}: MAC missing")), "{output}");
    let (code, output) = audit_verify_without_the_audit_key(&system).await;
    assert_eq!(code, Some(0), "without the key only the checkpoints are checked:\n{output}");
    assert!(output.contains(&format!("not yet witnessed: events {forged} to {forged}")), "{output}");
    assert!(output.contains("MACs not checked: cannot read the audit key"), "{output}");

    rewrite_the_whole_chain(&attacker);
    let (code, output) = audit_verify(&system).await;
    assert_eq!(code, Some(1), "{output}");
    assert!(output.contains("first break: forged at sequence 1: MAC does not verify"), "{output}");
    assert!(output.contains("diverges from a signed checkpoint at sequence"), "{output}");
    assert!(output.contains("the earliest that may be: 1)"), "{output}");
    assert!(output.lines().count() < 40, "bounded output:\n{output}");

    let mut platform = numbind();
    platform
        .args(["platform", "--http", "127.0.0.1:0", "--data-dir"])
        .arg(system.directory.path())
        .arg("--oss-secret-file")
        .arg(system.path("oss-platform.secret"));
    let mut platform = Process::spawn("platform-on-a-tampered-chain", platform, system.directory.path());
    assert_eq!(platform.wait_exit(STARTUP_TIMEOUT).await, Some(1), "{}", platform.stderr());
    assert!(platform.stderr().contains("refusing to start"), "{}", platform.stderr());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chain_cut_back_with_the_platforms_checkpoints_deleted_is_caught_by_the_oss_copy() {
    let system = witnessed_system().await;
    let attacker = attacker(&system);
    let (head, _) = head_hash(&attacker);
    attacker.execute("DELETE FROM audit_events WHERE sequence > ?1", [head - 3]).unwrap();
    attacker.execute("DELETE FROM audit_checkpoints", []).unwrap();
    append_a_well_formed_forgery(&attacker, None);
    let (code, output) = audit_verify(&system).await;
    assert_eq!(code, Some(1), "{output}");
    assert!(output.contains("checkpoint tampered at sequence"), "{output}");
    assert!(output.contains("the platform's database lost"), "{output}");
    assert!(output.contains(&format!("diverges from a signed checkpoint at sequence {head}")), "{output}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_well_formed_event_forged_into_the_running_systems_database_is_named_and_nothing_is_appended_after_it() {
    let system = System::start().await;
    system.bind_a_box("box", PAYER).await;
    let token = system.admin_token().await;
    // Inserting needs no dropped guard: the platform is running, and the forger writes between its transactions.
    let writer = rusqlite::Connection::open(system.path("platform.db")).unwrap();
    let forged = append_a_well_formed_forgery(&writer, Some(&[7; 32]));

    let (code, output) = audit_verify(&system).await;
    assert_eq!(code, Some(1), "{output}");
    assert!(output.contains(&format!("first break: forged at sequence {forged}: MAC does not verify")), "{output}");

    let terminal_id: String =
        writer.query_row("SELECT terminal_id FROM bindings WHERE state = 'active'", [], |row| row.get(0)).unwrap();
    let response = system
        .http
        .post(format!("{}/v1/operator/terminals/{terminal_id}/unbind", system.platform_url))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "reason": "customer asked by phone" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503, "an audited change after a forged head is refused, never written");
    assert_eq!(head_hash(&writer).0, forged, "the platform appended nothing after the forgery");
    let active: i64 =
        writer.query_row("SELECT count(*) FROM bindings WHERE state = 'active'", [], |row| row.get(0)).unwrap();
    assert_eq!(active, 1, "the unbind was rolled back with its audit event");
}
