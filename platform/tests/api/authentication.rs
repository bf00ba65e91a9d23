//! Registration and the refusal of unsigned, forged, stale, replayed and misdirected requests.

use crate::helpers::{spawn_app, TestTerminal};
use reqwest::Method;

#[tokio::test]
async fn registering_twice_with_the_same_key_is_idempotent() {
    let app = spawn_app().await;
    let (status, first) = app.register(&app.terminal).await;
    assert_eq!((status, first["newly_registered"].as_bool()), (200, Some(true)), "{first}");
    let (status, second) = app.register(&app.terminal).await;
    assert_eq!((status, second["newly_registered"].as_bool()), (200, Some(false)), "{second}");
    assert_eq!(second["terminal_id"], app.terminal.terminal_id.as_str());
}

#[tokio::test]
async fn registering_a_known_terminal_id_with_another_key_is_refused() {
    let app = spawn_app().await;
    assert_eq!(app.register(&app.terminal).await.0, 200);
    let impostor = TestTerminal { terminal_id: app.terminal.terminal_id.clone(), ..TestTerminal::new() };
    let (status, body) = app.register(&impostor).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("key_mismatch")), "{body}");
}

#[tokio::test]
async fn a_terminal_missing_from_a_required_manifest_cannot_register() {
    let app = crate::helpers::spawn_app_with(|config| config.require_manifest = true).await;
    let (status, body) = app.register(&app.terminal).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("terminal_not_in_manifest")));
}

#[tokio::test]
async fn an_unsigned_request_is_refused_as_unauthenticated() {
    let app = spawn_app().await;
    assert_eq!(app.register(&app.terminal).await.0, 200);
    let response = app.http.get(format!("{}{}", app.address, app.terminal_path("/binding"))).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unauthenticated");
}

#[tokio::test]
async fn a_request_signed_with_another_key_is_refused_as_unauthenticated() {
    let app = spawn_app().await;
    assert_eq!(app.register(&app.terminal).await.0, 200);
    let forger = TestTerminal { terminal_id: app.terminal.terminal_id.clone(), ..TestTerminal::new() };
    let forged = app.sign_as(&forger, Method::GET, &app.terminal_path("/binding"), b"", app.now());
    let (status, body) = app.send(&forged).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthenticated")));
    let mut tampered = app.sign(Method::GET, &app.terminal_path("/binding"), b"");
    tampered.path.push_str("?x=1");
    assert_eq!(app.send(&tampered).await.1["code"], "unauthenticated", "a path changed after signing");
}

#[tokio::test]
async fn a_stale_request_is_refused() {
    let app = spawn_app().await;
    assert_eq!(app.register(&app.terminal).await.0, 200);
    let stale = app.sign_as(&app.terminal, Method::GET, &app.terminal_path("/binding"), b"", app.now() - 301);
    let (status, body) = app.send(&stale).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("stale_timestamp")));
}

#[tokio::test]
async fn a_replayed_request_is_refused() {
    let app = spawn_app().await;
    assert_eq!(app.register(&app.terminal).await.0, 200);
    let request = app.sign(Method::GET, &app.terminal_path("/binding"), b"");
    assert_eq!(app.send(&request).await.0, 200);
    let (status, body) = app.send(&request).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("replayed_request")));
}

#[tokio::test]
async fn a_terminal_cannot_read_another_terminals_binding() {
    let app = spawn_app().await;
    let other = TestTerminal::new();
    assert_eq!(app.register(&app.terminal).await.0, 200);
    assert_eq!(app.register(&other).await.0, 200);
    let request = app.sign_as(&other, Method::GET, &app.terminal_path("/binding"), b"", app.now());
    let (status, body) = app.send(&request).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("terminal_mismatch")));
}

#[tokio::test]
async fn an_unregistered_terminal_is_told_to_register() {
    let app = spawn_app().await;
    let (status, body, _) = app.terminal_call(Method::GET, &app.terminal_path("/binding"), b"").await;
    assert_eq!((status, body["code"].as_str()), (401, Some("terminal_not_registered")));
}

#[tokio::test]
async fn an_unbound_terminal_gets_a_signed_unbound_statement_answering_its_request() {
    let app = spawn_app().await;
    assert_eq!(app.register(&app.terminal).await.0, 200);
    let (status, body, nonce) = app.terminal_call(Method::GET, &app.terminal_path("/binding"), b"").await;
    assert_eq!(status, 200, "{body}");
    let statement = app.verify_statement(&body["statement"], None, &nonce);
    assert_eq!(statement.state, numbind_wire::statement::BindingState::Unbound);
    assert!(statement.expires_at_unix_seconds > app.now());
}
