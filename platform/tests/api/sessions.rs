//! Terminal sessions: the signed handshake, session-tagged binding checks, and every way a session request is
//! refused (forged tag, another terminal's ticket, expired or foreign ticket, replay, stale timestamp).

use crate::helpers::{spawn_app, spawn_app_with, SignedRequest, TestApp, TestTerminal};
use numbind_wire::request_signing::{new_nonce, RequestToSign, HEADER_NONCE, HEADER_TERMINAL, HEADER_TIMESTAMP};
use numbind_wire::session_handshake::{OpenSessionResponse, SessionOffer};
use numbind_wire::statement::{BindingState, BindingStatement, StatementExpectation};
use numbind_wire::terminal_session::{SessionKey, SessionStatement, HEADER_SESSION_TAG, HEADER_SESSION_TICKET};
use reqwest::Method;
use ring::rand::SystemRandom;
use std::time::Duration;

/// An open session as the box keeps it.
struct OpenSession {
    ticket: String,
    key: SessionKey,
    expires_at: i64,
}

async fn open_session(app: &TestApp, terminal: &TestTerminal) -> OpenSession {
    let offer = SessionOffer::generate(&SystemRandom::new()).unwrap();
    let body = serde_json::to_vec(&offer.request()).unwrap();
    let path = format!("/v1/terminals/{}/sessions", terminal.terminal_id);
    let request = app.sign_as(terminal, Method::POST, &path, &body, app.now());
    let (status, answer) = app.send(&request).await;
    assert_eq!(status, 200, "{answer}");
    let response: OpenSessionResponse = serde_json::from_value(answer).unwrap();
    let grant = app
        .pinned_keys
        .verify_session_grant(&response.grant, &terminal.terminal_id, &request.nonce, app.now())
        .unwrap();
    let expires_at = grant.expires_at_unix_seconds;
    OpenSession { ticket: grant.ticket.clone(), key: offer.complete(&grant).unwrap(), expires_at }
}

/// A session-tagged `GET .../binding-check` of `terminal` (as named in the headers) on `path_terminal`'s path.
fn session_check(
    terminal: &TestTerminal,
    session: &OpenSession,
    path_terminal: &TestTerminal,
    timestamp: i64,
) -> SignedRequest {
    let path = format!("/v1/terminals/{}/binding-check", path_terminal.terminal_id);
    let nonce = new_nonce(&SystemRandom::new()).unwrap();
    let tag = session.key.tag_request(&RequestToSign {
        method: "GET",
        path_and_query: &path,
        terminal_id: &terminal.terminal_id,
        timestamp_unix_seconds: timestamp,
        nonce: &nonce,
        body: b"",
    });
    let headers = vec![
        (HEADER_TERMINAL, terminal.terminal_id.to_string()),
        (HEADER_TIMESTAMP, timestamp.to_string()),
        (HEADER_NONCE, nonce.clone()),
        (HEADER_SESSION_TICKET, session.ticket.clone()),
        (HEADER_SESSION_TAG, tag),
    ];
    SignedRequest { method: Method::GET, path, body: Vec::new(), headers, nonce }
}

fn open_answer(app: &TestApp, session: &OpenSession, answer: &serde_json::Value, nonce: &str) -> BindingStatement {
    let sealed: SessionStatement = serde_json::from_value(answer["statement"].clone()).unwrap();
    let expectation = StatementExpectation {
        terminal_id: &app.terminal.terminal_id,
        activation_id: None,
        in_reply_to: Some(nonce),
        now_unix_seconds: app.now(),
    };
    session.key.open_statement(&sealed, expectation).unwrap()
}

#[tokio::test]
async fn a_session_check_answers_the_binding_as_it_is_now_under_the_session_key() {
    let app = spawn_app().await;
    assert_eq!(app.register(&app.terminal).await.0, 200);
    let session = open_session(&app, &app.terminal).await;
    assert!(session.expires_at >= app.now() + 7 * 24 * 3600 - 5, "a week by default");
    let unbound = session_check(&app.terminal, &session, &app.terminal, app.now());
    let (status, answer) = app.send(&unbound).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(open_answer(&app, &session, &answer, &unbound.nonce).state, BindingState::Unbound);

    app.bind_test_terminal("13800138000", "bnd-1").await;
    let bound = session_check(&app.terminal, &session, &app.terminal, app.now());
    let (status, answer) = app.send(&bound).await;
    assert_eq!(status, 200, "{answer}");
    let statement = open_answer(&app, &session, &answer, &bound.nonce);
    assert_eq!((statement.state, statement.binding_id.as_deref()), (BindingState::Bound, Some("bnd-1")));
    assert_eq!(statement.msisdn_masked.as_deref(), Some("138****8000"));

    let (status, body, _) = app.terminal_call(Method::POST, &app.terminal_path("/reset"), b"{}").await;
    assert_eq!(status, 200, "{body}");
    let after_reset = session_check(&app.terminal, &session, &app.terminal, app.now());
    let (_, answer) = app.send(&after_reset).await;
    assert_eq!(open_answer(&app, &session, &answer, &after_reset.nonce).state, BindingState::Unbound);
    let metrics = app.http.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("terminal_sessions_opened_total 1"), "{metrics}");
}

#[tokio::test]
async fn a_forged_tag_a_replay_and_a_stale_timestamp_are_refused() {
    let app = spawn_app().await;
    assert_eq!(app.register(&app.terminal).await.0, 200);
    let session = open_session(&app, &app.terminal).await;
    let forger = OpenSession { key: SessionKey::from_bytes([7; 32]), ..open_session(&app, &app.terminal).await };
    let forged = session_check(&app.terminal, &forger, &app.terminal, app.now());
    let (status, body) = app.send(&forged).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthenticated")), "{body}");

    let genuine = session_check(&app.terminal, &session, &app.terminal, app.now());
    assert_eq!(app.send(&genuine).await.0, 200);
    let (status, body) = app.send(&genuine).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("replayed_request")), "{body}");

    let stale = session_check(&app.terminal, &session, &app.terminal, app.now() - 301);
    let (status, body) = app.send(&stale).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("stale_timestamp")), "{body}");

    let mut unticketed = session_check(&app.terminal, &session, &app.terminal, app.now());
    unticketed.headers.retain(|(name, _)| *name != HEADER_SESSION_TICKET);
    let (status, body) = app.send(&unticketed).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthenticated")), "{body}");
}

#[tokio::test]
async fn a_session_reads_only_its_own_terminal() {
    let app = spawn_app().await;
    let other = TestTerminal::new();
    assert_eq!(app.register(&app.terminal).await.0, 200);
    assert_eq!(app.register(&other).await.0, 200);
    let others_session = open_session(&app, &other).await;
    let on_my_path = session_check(&other, &others_session, &app.terminal, app.now());
    let (status, body) = app.send(&on_my_path).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("terminal_mismatch")), "{body}");
    let claiming_to_be_me = session_check(&app.terminal, &others_session, &app.terminal, app.now());
    let (status, body) = app.send(&claiming_to_be_me).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("session_invalid")), "{body}");
}

#[tokio::test]
async fn an_expired_session_and_another_platforms_ticket_are_invalid() {
    let app = spawn_app_with(|config| config.terminal_session_lifetime = Duration::from_secs(60)).await;
    let elsewhere = spawn_app().await;
    assert_eq!(app.register(&app.terminal).await.0, 200);
    let session = open_session(&app, &app.terminal).await;
    let alien_terminal = TestTerminal { terminal_id: app.terminal.terminal_id.clone(), ..TestTerminal::new() };
    assert_eq!(elsewhere.register(&alien_terminal).await.0, 200);
    let alien_session = open_session(&elsewhere, &alien_terminal).await;
    let alien = session_check(&app.terminal, &alien_session, &app.terminal, app.now());
    let (status, body) = app.send(&alien).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("session_invalid")), "{body}");

    app.clock.advance(Duration::from_secs(61));
    let expired = session_check(&app.terminal, &session, &app.terminal, app.now());
    let (status, body) = app.send(&expired).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("session_invalid")), "{body}");
}

#[tokio::test]
async fn opening_a_session_needs_a_registered_terminal_and_a_well_formed_key() {
    let app = spawn_app().await;
    let path = app.terminal_path("/sessions");
    let offer = SessionOffer::generate(&SystemRandom::new()).unwrap();
    let body = serde_json::to_vec(&offer.request()).unwrap();
    let (status, answer, _) = app.terminal_call(Method::POST, &path, &body).await;
    assert_eq!((status, answer["code"].as_str()), (401, Some("terminal_not_registered")), "{answer}");
    assert_eq!(app.register(&app.terminal).await.0, 200);
    let low_order_key = br#"{"terminal_ephemeral_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#;
    for bad in [&br#"{"terminal_ephemeral_key":"AAAA"}"#[..], low_order_key, b"{}", b"not json"] {
        let (status, answer, _) = app.terminal_call(Method::POST, &path, bad).await;
        assert_eq!((status, answer["code"].as_str()), (400, Some("invalid_request")), "{answer}");
    }
}
