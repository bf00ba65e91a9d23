//! The platform on PostgreSQL (`--database-url`): a fresh database per test on the test server, the same HTTP API.

use crate::helpers::{spawn_app_on_postgres, TestTerminal};
use numbind_platform::{audit_key_path, read_audit_key};
use numbind_wire::statement::BindingState;
use reqwest::Method;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_box_is_bound_end_to_end_on_postgresql_and_its_code_redeems_once() {
    let app = spawn_app_on_postgres().await;
    let activation = app.registered_with_activation().await;
    assert_eq!(app.redeem(&activation.code, "13800138000", "sms-1").await.0, 200);
    let (status, body) = app.redeem(&activation.code, "13800138001", "sms-2").await;
    assert_eq!((status, body["code"].as_str()), (409, Some("code_used")), "a code is redeemed once: {body}");
    assert_eq!(app.confirm_bound(activation.activation_id.as_str(), "13800138000", "bnd-1").await.0, 200);
    let path = app.terminal_path(&format!("/activations/{}?wait_seconds=5", activation.activation_id));
    let (status, body, nonce) = app.terminal_call(Method::GET, &path, b"").await;
    assert_eq!(status, 200, "{body}");
    let statement = app.verify_statement(&body["statement"], Some(activation.activation_id.as_str()), &nonce);
    assert_eq!(statement.state, BindingState::Bound);
    assert_eq!(statement.binding_id.as_deref(), Some("bnd-1"));
    // The audit chain the platform wrote in PostgreSQL verifies under its audit key and signing key.
    let audit_key = read_audit_key(&audit_key_path(&app.database_path())).unwrap();
    let store = app.store.clone().with_audit_key(audit_key);
    let keys = app.pinned_keys.clone();
    tokio::task::spawn_blocking(move || store.check_audit_head(&keys)).await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_database_connections_answer_503_and_the_platform_recovers_by_itself() {
    let app = spawn_app_on_postgres().await;
    assert_eq!(app.register(&TestTerminal::new()).await.0, 200);
    let store = app.store.clone();
    tokio::task::spawn_blocking(move || store.end_every_other_connection_for_tests()).await.unwrap().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut unavailable_answers = 0;
    loop {
        let (status, body) = app.register(&TestTerminal::new()).await;
        if status == 200 {
            break;
        }
        unavailable_answers += 1;
        assert_eq!(status, 503, "a lost connection is the database unavailable, never a 500: {body}");
        assert_eq!(body["code"], "storage_unavailable", "{body}");
        assert!(std::time::Instant::now() < deadline, "the platform never reconnected");
    }
    assert!(unavailable_answers >= 1, "the pooled connection that was ended was never noticed");
}
