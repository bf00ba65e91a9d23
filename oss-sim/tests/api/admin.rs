//! The admin API: subscribers, bindings, errors as JSON, the admin token, health and metrics.

use crate::helpers::{spawn_app, spawn_app_with, AppOptions};
use serde_json::{json, Value};

fn subscriber(msisdn: &str) -> Value {
    json!({ "msisdn": msisdn, "status": "active", "plan": "postpaid", "device_limit": 2 })
}

async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("errors are json");
    assert!(body["message"].is_string(), "{body}");
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_created_subscriber_can_be_read_back_with_defaults_filled_in() {
    let app = spawn_app().await;
    let response = app.post_json("/v1/subscribers", &subscriber("+86 133-0013-3000")).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["msisdn"], "13300133000");
    assert_eq!(created["billing_allowed"], true);
    assert_eq!(created["balance_fen"], 0);
    let fetched: Value = app.get("/v1/subscribers/13300133000").await.json().await.unwrap();
    assert_eq!(fetched, created);
    app.stop().await;
}

#[tokio::test]
async fn creating_a_subscriber_twice_is_a_conflict() {
    let app = spawn_app().await;
    assert_eq!(app.post_json("/v1/subscribers", &subscriber("13300133000")).await.status(), 201);
    let again = app.post_json("/v1/subscribers", &subscriber("13300133000")).await;
    assert_eq!(error_code(again).await, (409, "subscriber_exists".into()));
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_subscriber_is_not_found_and_a_malformed_number_is_a_bad_request() {
    let app = spawn_app().await;
    assert_eq!(error_code(app.get("/v1/subscribers/13300133000").await).await, (404, "subscriber_not_found".into()));
    assert_eq!(error_code(app.get("/v1/subscribers/12345").await).await, (400, "invalid_request".into()));
    assert_eq!(error_code(app.get("/v1/nowhere").await).await, (404, "not_found".into()));
    app.stop().await;
}

#[tokio::test]
async fn bad_bodies_are_answered_with_json_400s() {
    let app = spawn_app().await;
    let cases = [
        json!({ "msisdn": "12345", "status": "active", "plan": "postpaid", "device_limit": 2 }),
        json!({ "msisdn": "13300133000", "status": "sleeping", "plan": "postpaid", "device_limit": 2 }),
        json!({ "msisdn": "13300133000", "status": "active", "plan": "postpaid", "device_limit": 1000 }),
        json!({ "msisdn": "13300133000", "status": "active", "plan": "postpaid", "device_limit": 2, "extra": 1 }),
        json!({ "msisdn": "13300133000" }),
    ];
    for body in cases {
        let response = app.post_json("/v1/subscribers", &body).await;
        assert_eq!(error_code(response).await, (400, "invalid_request".into()), "{body}");
    }
    let not_json = app.http.post(format!("{}/v1/subscribers", app.url)).body("{").send().await.unwrap();
    assert_eq!(error_code(not_json).await, (400, "invalid_request".into()));
    app.stop().await;
}

#[tokio::test]
async fn a_patch_changes_only_the_fields_it_names() {
    let app = spawn_app().await;
    app.post_json("/v1/subscribers", &subscriber("13300133000")).await;
    let response = app.patch_json("/v1/subscribers/13300133000", &json!({ "status": "suspended_for_arrears" })).await;
    assert_eq!(response.status(), 200);
    let fetched: Value = app.get("/v1/subscribers/13300133000").await.json().await.unwrap();
    assert_eq!(fetched["status"], "suspended_for_arrears");
    assert_eq!(fetched["device_limit"], 2);
    let bad = app.patch_json("/v1/subscribers/13300133000", &json!({ "colour": "blue" })).await;
    assert_eq!(error_code(bad).await, (400, "invalid_request".into()));
    let missing = app.patch_json("/v1/subscribers/13300133001", &json!({ "device_limit": 1 })).await;
    assert_eq!(error_code(missing).await, (404, "subscriber_not_found".into()));
    app.stop().await;
}

#[tokio::test]
async fn the_demo_subscribers_are_seeded_when_asked() {
    let app = spawn_app_with(AppOptions { seed_demo: true, ..AppOptions::default() }).await;
    let list: Value = app.get("/v1/subscribers").await.json().await.unwrap();
    let numbers: Vec<&str> =
        list["subscribers"].as_array().unwrap().iter().map(|s| s["msisdn"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["13500135000", "13600136000", "13700137000", "13800138000", "13800138001", "13900139000"]);
    app.stop().await;
}

#[tokio::test]
async fn with_an_admin_token_the_api_wants_it_but_health_and_metrics_do_not() {
    let app = spawn_app_with(AppOptions { admin_token: Some("admin-secret".into()), ..AppOptions::default() }).await;
    let anonymous = app.http.get(format!("{}/v1/subscribers", app.url)).send().await.unwrap();
    assert_eq!(error_code(anonymous).await, (401, "unauthenticated".into()));
    let wrong = app.http.get(format!("{}/v1/subscribers", app.url)).bearer_auth("guess").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(app.get("/v1/subscribers").await.status(), 200);
    let health = app.http.get(format!("{}/healthz", app.url)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.unwrap(), json!({ "status": "ok" }));
    assert!(app.metrics().await.contains("sms_received_total"));
    app.stop().await;
}

#[tokio::test]
async fn bindings_are_listed_with_filters_and_bad_filters_are_refused() {
    let app = spawn_app().await;
    let list: Value = app.get("/v1/bindings?msisdn=13800138000&state=active").await.json().await.unwrap();
    assert_eq!(list, json!({ "bindings": [] }));
    assert_eq!(error_code(app.get("/v1/bindings?state=maybe").await).await, (400, "invalid_request".into()));
    assert_eq!(error_code(app.get("/v1/bindings?terminal_id=a").await).await, (400, "invalid_request".into()));
    assert_eq!(error_code(app.get("/v1/bindings?colour=blue").await).await, (400, "invalid_request".into()));
    assert_eq!(error_code(app.get("/v1/inbox/unknown-id").await).await, (404, "message_not_found".into()));
    app.stop().await;
}

#[tokio::test]
async fn a_request_id_is_echoed_or_made_up() {
    let app = spawn_app().await;
    let response = app.http.get(format!("{}/healthz", app.url)).header("x-request-id", "req-42").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-42");
    let response = app.http.get(format!("{}/healthz", app.url)).send().await.unwrap();
    assert!(!response.headers()["x-request-id"].is_empty());
    app.stop().await;
}

#[tokio::test]
async fn the_charge_ledger_is_listed_for_operators_and_a_bad_month_is_refused() {
    let app = spawn_app_with(AppOptions { admin_token: Some("admin-token".into()), ..AppOptions::default() }).await;
    let listed: Value = app.get("/v1/charges?msisdn=13800138000&month=2026-12").await.json().await.unwrap();
    assert_eq!(listed, json!({ "records": [] }));
    assert_eq!(error_code(app.get("/v1/charges?month=2026-13").await).await, (400, "invalid_request".into()));
    assert_eq!(error_code(app.get("/v1/charges?colour=red").await).await, (400, "invalid_request".into()));
    let anonymous = app.http.get(format!("{}/v1/charges", app.url)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401, "the ledger names full numbers: admin token only");
    app.stop().await;
}
