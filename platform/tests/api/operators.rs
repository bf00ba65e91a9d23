//! The operator API: bearer tokens and roles, masked numbers, audited reveals, search, history, unbinding, exports.

use crate::helpers::{spawn_app, TestApp};
use numbind_platform::EXPORT_PAGES_READ;
use numbind_platform::{create_operator_token, OperatorRole};
use numbind_wire::{Msisdn, TerminalId};
use serde_json::Value;
use std::sync::atomic::Ordering;

const NUMBER: &str = "13800138000";
const MASKED: &str = "138****8000";

impl TestApp {
    fn token(&self, name: &str, role: OperatorRole) -> String {
        create_operator_token(&self.database_path(), name, role).unwrap()
    }

    async fn operator_get(&self, token: &str, path_and_query: &str) -> (u16, String) {
        let response =
            self.http.get(format!("{}{path_and_query}", self.address)).bearer_auth(token).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn operator_post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let response =
            self.http.post(format!("{}{path}", self.address)).bearer_auth(token).json(body).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn requests_without_a_live_token_are_unauthenticated() {
    let app = spawn_app().await;
    let (status, body) = app.operator_get("nbo_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "/v1/operator/bindings").await;
    assert_eq!((status, json(&body)["code"].as_str()), (401, Some("unauthenticated")));
    let token = app.token("alice", OperatorRole::Auditor);
    assert!(token.starts_with("nbo_") && token.len() == 36);
    assert_eq!(app.operator_get(&token, "/v1/operator/bindings").await.0, 200);
    numbind_platform::revoke_operator_token(&app.database_path(), "alice").unwrap();
    assert_eq!(app.operator_get(&token, "/v1/operator/bindings").await.0, 401);
    let kinds: Vec<String> = app.store.audit_events().unwrap().into_iter().map(|event| event.kind).collect();
    assert!(
        kinds.contains(&"operator_token_created".to_owned()) && kinds.contains(&"operator_token_revoked".to_owned())
    );
}

#[tokio::test]
async fn an_auditor_never_receives_a_full_number() {
    let app = spawn_app().await;
    app.bind_test_terminal(NUMBER, "bnd-1").await;
    let auditor = app.token("audrey", OperatorRole::Auditor);
    let terminal = app.terminal.terminal_id.as_str().to_owned();
    for path in [
        "/v1/operator/bindings".to_owned(),
        format!("/v1/operator/bindings?msisdn={NUMBER}"),
        format!("/v1/operator/terminals/{terminal}/history"),
        "/v1/operator/audit-events".to_owned(),
        "/v1/operator/exports/bindings.csv".to_owned(),
        "/v1/operator/exports/bindings.jsonl".to_owned(),
        "/v1/operator/exports/audit-events.csv".to_owned(),
        "/v1/operator/exports/audit-events.jsonl".to_owned(),
    ] {
        let (status, body) = app.operator_get(&auditor, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(!body.contains(NUMBER), "{path} leaked the number: {body}");
        assert!(body.contains(MASKED) || path.contains("audit-events"), "{path}: {body}");
    }
    let (status, body) = app.operator_get(&auditor, "/v1/operator/bindings?reveal=true&reason=curious").await;
    assert_eq!((status, json(&body)["code"].as_str()), (403, Some("forbidden")));
    assert_eq!(app.operator_get(&auditor, "/v1/operator/reconciliation-snapshot").await.0, 403);
}

#[tokio::test]
async fn an_admin_sees_a_full_number_only_with_a_reason_that_is_audited() {
    let app = spawn_app().await;
    app.bind_test_terminal(NUMBER, "bnd-1").await;
    let admin = app.token("root", OperatorRole::Admin);
    let (_, masked) = app.operator_get(&admin, "/v1/operator/bindings").await;
    assert_eq!(json(&masked)["bindings"][0]["msisdn"], MASKED);
    let (status, _) = app.operator_get(&admin, "/v1/operator/bindings?reveal=true").await;
    assert_eq!(status, 400);
    let search = format!("/v1/operator/bindings?msisdn={NUMBER}&state=active&reveal=true&reason=ticket%2042");
    let (status, body) = app.operator_get(&admin, &search).await;
    assert_eq!((status, json(&body)["bindings"][0]["msisdn"].as_str()), (200, Some(NUMBER)));
    let reveal = app.store.audit_events().unwrap().into_iter().find(|event| event.kind == "numbers_revealed").unwrap();
    assert_eq!(reveal.actor, "operator:root");
    let detail = reveal.detail.unwrap();
    assert!(detail.contains("ticket 42"), "{detail}");
    assert!(detail.contains("bnd-1"), "the event names the binding whose number was shown: {detail}");
    assert!(detail.contains(&format!("msisdn={MASKED} state=active")), "and the search, masked: {detail}");
    assert!(!detail.contains(NUMBER), "{detail}");
    let (_, snapshot) = app.operator_get(&admin, "/v1/operator/reconciliation-snapshot").await;
    assert_eq!(json(&snapshot)["bindings"][0]["msisdn"], NUMBER);
}

#[tokio::test]
async fn bindings_are_searched_by_number_terminal_state_and_time_in_keyset_pages() {
    let app = spawn_app().await;
    let base = app.now();
    let rows: Vec<(String, TerminalId, Msisdn, i64)> = (0..30)
        .map(|index| {
            let terminal = TerminalId::from_public_key(format!("key-{}", index % 3).as_bytes());
            let number = Msisdn::parse(&format!("1390000{:04}", index % 5)).unwrap();
            (format!("bnd-{index:03}"), terminal, number, base + index)
        })
        .collect();
    app.store.insert_bindings_for_load_test(&rows).unwrap();
    let auditor = app.token("audrey", OperatorRole::Auditor);
    let count = |body: &str| json(body)["bindings"].as_array().unwrap().len();
    let (_, by_number) = app.operator_get(&auditor, "/v1/operator/bindings?msisdn=13900000001").await;
    assert_eq!(count(&by_number), 6);
    let terminal = rows[1].1.as_str().to_owned();
    let (_, by_terminal) = app.operator_get(&auditor, &format!("/v1/operator/bindings?terminal_id={terminal}")).await;
    assert_eq!(count(&by_terminal), 10);
    let (_, active) = app.operator_get(&auditor, "/v1/operator/bindings?state=active").await;
    assert_eq!(count(&active), 0);
    let window = format!("/v1/operator/bindings?from={}&to={}", base + 10, base + 20);
    assert_eq!(count(&app.operator_get(&auditor, &window).await.1), 10);
    let (_, first) = app.operator_get(&auditor, "/v1/operator/bindings?limit=20").await;
    let cursor = json(&first)["next_cursor"].as_i64().unwrap();
    let (_, second) = app.operator_get(&auditor, &format!("/v1/operator/bindings?limit=20&cursor={cursor}")).await;
    assert_eq!((count(&first), count(&second)), (20, 10));
    assert_eq!(json(&second)["bindings"][0]["binding_id"], "bnd-020");
    let (status, body) = app.operator_get(&auditor, "/v1/operator/bindings?msisdn=12").await;
    assert_eq!((status, json(&body)["code"].as_str()), (400, Some("invalid_request")));
}

#[tokio::test]
async fn an_admin_unbinds_a_terminal_with_a_reason_and_the_number_is_told() {
    let app = spawn_app().await;
    app.bind_test_terminal(NUMBER, "bnd-1").await;
    let terminal = app.terminal.terminal_id.as_str().to_owned();
    let path = format!("/v1/operator/terminals/{terminal}/unbind");
    let auditor = app.token("audrey", OperatorRole::Auditor);
    let (status, _) = app.operator_post(&auditor, &path, &serde_json::json!({"reason": "fraud"})).await;
    assert_eq!(status, 403);
    let admin = app.token("root", OperatorRole::Admin);
    let (status, body) = app.operator_post(&admin, &path, &serde_json::json!({"reason": "fraud report 7"})).await;
    assert_eq!((status, body["revoked_reason"].as_str()), (200, Some("operator")), "{body}");
    assert!(app.store.active_binding(&app.terminal.terminal_id).unwrap().is_none());
    let (status, body) = app.operator_post(&admin, &path, &serde_json::json!({"reason": "again"})).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("binding_not_found")));
    let events = app.store.audit_events().unwrap();
    let unbound = events.iter().find(|event| event.kind == "operator_unbound").unwrap();
    assert_eq!((unbound.actor.as_str(), unbound.detail.as_deref()), ("operator:root", Some("fraud report 7")));
    assert!(unbound.message_id.is_some());
    let (_, history) = app.operator_get(&auditor, &format!("/v1/operator/terminals/{terminal}/history")).await;
    let history = json(&history);
    assert_eq!(history["bindings"][0]["revoked_reason"], "operator");
    assert_eq!(history["activations"].as_array().unwrap().len(), 1);
    assert!(history["audit_events"].as_array().unwrap().iter().any(|event| event["kind"] == "code_redeemed"));
    let report = numbind_platform::verify_audit_chain(&app.database_path()).unwrap();
    assert!(report.is_intact(), "{report}");
}

#[tokio::test]
async fn the_history_of_a_terminal_nobody_knows_is_not_found() {
    let app = spawn_app().await;
    let auditor = app.token("audrey", OperatorRole::Auditor);
    let (status, body) = app.operator_get(&auditor, "/v1/operator/terminals/never-seen-box/history").await;
    assert_eq!((status, json(&body)["code"].as_str()), (404, Some("not_found")), "{body}");
}

#[tokio::test]
async fn numbers_typed_into_reasons_reach_an_auditor_masked_in_the_api_and_every_export() {
    let app = spawn_app().await;
    app.bind_test_terminal(NUMBER, "bnd-1").await;
    let terminal = app.terminal.terminal_id.as_str().to_owned();
    let admin = app.token("root", OperatorRole::Admin);
    let unbind = format!("/v1/operator/terminals/{terminal}/unbind");
    let (status, _) =
        app.operator_post(&admin, &unbind, &serde_json::json!({"reason": "caller 13800138001 asked"})).await;
    assert_eq!(status, 200);
    let reveal = "/v1/operator/bindings?reveal=true&reason=asked%20by%20%2B86%20139-0013-9000";
    assert_eq!(app.operator_get(&admin, reveal).await.0, 200);
    let auditor = app.token("audrey", OperatorRole::Auditor);
    for path in [
        format!("/v1/operator/terminals/{terminal}/history"),
        "/v1/operator/audit-events".to_owned(),
        "/v1/operator/exports/audit-events.csv".to_owned(),
        "/v1/operator/exports/audit-events.jsonl".to_owned(),
    ] {
        let (status, body) = app.operator_get(&auditor, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(!body.contains("13800138001") && !body.contains("139-0013-9000"), "{path} leaked: {body}");
        assert!(body.contains("caller 138****8001 asked"), "{path}: {body}");
        assert!(body.contains("asked by 139****9000") || path.contains("history"), "{path}: {body}");
    }
    let report = numbind_platform::verify_audit_chain(&app.database_path()).unwrap();
    assert!(report.is_intact(), "{report}");
}

#[tokio::test]
async fn a_large_export_is_streamed_page_by_page() {
    let app = spawn_app().await;
    let terminal = TerminalId::from_public_key(b"load");
    let number = Msisdn::parse(NUMBER).unwrap();
    let rows: Vec<_> =
        (0..200_000).map(|index| (format!("bnd-{index:06}"), terminal.clone(), number.clone(), index)).collect();
    app.store.insert_bindings_for_load_test(&rows).unwrap();
    drop(rows);
    let auditor = app.token("audrey", OperatorRole::Auditor);
    let before = EXPORT_PAGES_READ.load(Ordering::Relaxed);
    let url = format!("{}/v1/operator/exports/bindings.csv", app.address);
    let mut response = app.http.get(url).bearer_auth(&auditor).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut lines = 0_usize;
    let mut pages_when_first_chunk_arrived = None;
    while let Some(chunk) = response.chunk().await.unwrap() {
        pages_when_first_chunk_arrived.get_or_insert(EXPORT_PAGES_READ.load(Ordering::Relaxed) - before);
        assert!(!String::from_utf8_lossy(&chunk).contains(NUMBER));
        lines += chunk.iter().filter(|byte| **byte == b'\n').count();
    }
    assert_eq!(lines, 200_001, "a header and every row");
    assert!(pages_when_first_chunk_arrived.unwrap() < 50, "the export read the table before sending");
    assert!(EXPORT_PAGES_READ.load(Ordering::Relaxed) - before >= 200, "pages of at most 1000 rows");
}

#[tokio::test]
async fn a_misspelt_search_filter_is_refused_rather_than_ignored() {
    let app = spawn_app().await;
    let token = app.token("alice", OperatorRole::Auditor);
    let (status, body) = app.operator_get(&token, "/v1/operator/bindings?msisdm=13800138000").await;
    assert_eq!((status, json(&body)["code"].as_str()), (400, Some("invalid_request")));
    let (status, _) = app.operator_get(&token, "/v1/operator/audit-events?after=3").await;
    assert_eq!(status, 400);
}
