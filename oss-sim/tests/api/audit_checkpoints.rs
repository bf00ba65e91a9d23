//! The OSS as the witness of the platform's audit chain: it keeps the first signed checkpoint per sequence,
//! refuses another head there or a forged signature, and serves its copies to admins.

use crate::helpers::{spawn_app_with, AppOptions, TestApp, DEADLINE, PLATFORM_SECRET};
use numbind_wire::audit_checkpoint::{
    AuditCheckpoint, SignedAuditCheckpoint, OSS_AUDIT_CHECKPOINTS_PATH, PLATFORM_AUDIT_CHECKPOINTS_PATH,
};
use numbind_wire::component_auth::{ComponentRequest, ComponentSecret};
use numbind_wire::statement::{PinnedPlatformKeys, PlatformPublicKey, PlatformSigningKey};
use ring::rand::SystemRandom;
use serde_json::Value;
use std::time::Duration;

impl TestApp {
    async fn deliver_checkpoint(&self, secret: &str, signed: &SignedAuditCheckpoint) -> (u16, Value) {
        let body = serde_json::to_vec(signed).unwrap();
        let timestamp = numbind_process::clock::now_unix_seconds();
        let authorization = ComponentRequest {
            client: "platform",
            method: "POST",
            path_and_query: PLATFORM_AUDIT_CHECKPOINTS_PATH,
            timestamp_unix_seconds: timestamp,
            body: &body,
        }
        .authorization(&ComponentSecret::parse(secret).unwrap());
        let response = self
            .http
            .post(format!("{}{PLATFORM_AUDIT_CHECKPOINTS_PATH}", self.url))
            .header("authorization", authorization)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn held_checkpoints(&self) -> Vec<SignedAuditCheckpoint> {
        let body: Value = self.get(OSS_AUDIT_CHECKPOINTS_PATH).await.json().await.unwrap();
        serde_json::from_value(body["checkpoints"].clone()).unwrap()
    }
}

fn checkpoint(key: &PlatformSigningKey, sequence: i64, hash_byte: &str) -> SignedAuditCheckpoint {
    key.sign_audit_checkpoint(&AuditCheckpoint {
        sequence,
        head_hash: hash_byte.repeat(32),
        made_at_unix_seconds: 1_700_000_000,
        key_id: String::new(),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checkpoint_is_kept_once_and_another_head_or_a_forged_signature_at_its_sequence_is_refused() {
    let (key, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
    let public_key = key.public_key();
    let app = spawn_app_with(AppOptions {
        admin_token: Some("admin-token-0123456789".into()),
        adjust_oss: Some(Box::new(move |config| {
            config.platform_keys = Some(PinnedPlatformKeys::new(vec![public_key]))
        })),
        ..AppOptions::default()
    })
    .await;
    let first = checkpoint(&key, 5, "aa");
    let (status, receipt) = app.deliver_checkpoint(PLATFORM_SECRET, &first).await;
    assert_eq!((status, receipt["outcome"].as_str()), (200, Some("stored")), "{receipt}");
    let (status, receipt) = app.deliver_checkpoint(PLATFORM_SECRET, &first).await;
    assert_eq!((status, receipt["outcome"].as_str()), (200, Some("already_stored")), "{receipt}");

    let (status, refusal) = app.deliver_checkpoint(PLATFORM_SECRET, &checkpoint(&key, 5, "bb")).await;
    assert_eq!((status, refusal["code"].as_str()), (409, Some("checkpoint_conflict")), "{refusal}");
    let (forger, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
    let (status, refusal) = app.deliver_checkpoint(PLATFORM_SECRET, &checkpoint(&forger, 6, "cc")).await;
    assert_eq!((status, refusal["code"].as_str()), (400, Some("invalid_request")), "{refusal}");
    let (status, _) = app.deliver_checkpoint("another-secret-0123456789abcdef0123", &checkpoint(&key, 7, "dd")).await;
    assert_eq!(status, 401);

    assert_eq!(app.held_checkpoints().await, vec![first]);
    let anonymous = app.http.get(format!("{}{OSS_AUDIT_CHECKPOINTS_PATH}", app.url)).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401, "the copies are an admin read");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_platforms_signed_checkpoints_reach_the_oss() {
    let app = spawn_app_with(AppOptions::default()).await;
    let directory = tempfile::tempdir().unwrap();
    let database = directory.path().join("platform.db");
    // The platform's events are MAC'd with its audit key, which it will load from the file beside the database.
    let audit_key = numbind_platform::load_or_create_audit_key(&numbind_platform::audit_key_path(&database)).unwrap();
    let store = numbind_platform::store::Store::open(&database).unwrap().with_audit_key(audit_key);
    store.append_audit_event(1, &numbind_platform::store::AuditEvent::new("platform", "activation_expired")).unwrap();
    drop(store);
    let mut config = numbind_platform::Config::new(
        database,
        directory.path().join("platform-signing.key"),
        numbind_wire::ShortCode::parse(crate::helpers::SHORT_CODE).unwrap(),
        ComponentSecret::parse(PLATFORM_SECRET).unwrap(),
    );
    config.oss_url = Some(app.url.clone());
    config.audit_checkpoint_interval = Duration::from_millis(50);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stop_platform = tokio_util::sync::CancellationToken::new();
    let platform = tokio::spawn(numbind_platform::run(config, listener, stop_platform.clone().cancelled_owned()));

    let deadline = tokio::time::Instant::now() + DEADLINE;
    let held = loop {
        let held = app.held_checkpoints().await;
        if !held.is_empty() {
            break held;
        }
        assert!(tokio::time::Instant::now() < deadline, "no checkpoint reached the oss");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let key_text = std::fs::read_to_string(directory.path().join("platform-signing.key.pub")).unwrap();
    let keys = PinnedPlatformKeys::new(vec![PlatformPublicKey::parse(&key_text).unwrap()]);
    assert_eq!(keys.verify_audit_checkpoint(&held[0]).unwrap().sequence, 1);
    stop_platform.cancel();
    platform.await.unwrap().unwrap();
    app.stop().await;
}
