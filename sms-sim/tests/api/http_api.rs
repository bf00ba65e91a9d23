//! The phone API's contract: typed input, JSON errors, health, metrics and request IDs.

use crate::helpers::{spawn_app, PHONE, SHORT_CODE};

#[tokio::test]
async fn bad_http_input_gets_a_4xx_json_error() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let cases = [
        (app.phone_sends("12345", SHORT_CODE, "hi").await, 400, "invalid_request"),
        (app.phone_sends(PHONE, "ab", "hi").await, 400, "invalid_request"),
        (app.phone_sends(PHONE, SHORT_CODE, "").await, 400, "invalid_request"),
        (app.phone_sends(PHONE, "95588", "hi").await, 404, "no_route"),
    ];
    for (response, status, code) in cases {
        assert_eq!(response.status().as_u16(), status);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], code, "{body}");
        assert!(body["message"].is_string());
    }
    let malformed = app
        .http
        .post(format!("{}/v1/phones/{PHONE}/messages", app.http_url))
        .header("content-type", "application/json")
        .body("{\"to\": 10658000")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status().as_u16(), 400);
    assert_eq!(malformed.json::<serde_json::Value>().await.unwrap()["code"], "invalid_request");

    assert_eq!(
        app.get_json("/v1/messages/no-such-message").await,
        (404, serde_json::json!({"code": "not_found", "message": "message not found"}))
    );
    assert_eq!(app.get_json("/v1/messages/bad%20id").await.1["code"], "invalid_request");
    assert_eq!(app.get_json("/v1/phones/123/inbox").await.1["code"], "invalid_request");
    assert_eq!(app.get_json("/nowhere").await.0, 404);
}

#[tokio::test]
async fn health_metrics_and_request_ids_are_served() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    assert_eq!(app.get_json("/healthz").await, (200, serde_json::json!({"status": "ok"})));
    app.phone_sends_ok("BIND QUEUED1").await;
    let response =
        app.http.get(format!("{}/metrics", app.http_url)).header("x-request-id", "req-7").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-7");
    let text = response.text().await.unwrap();
    assert!(text.contains("smsc_mo_received_total 1"), "{text}");
    assert!(text.contains("smsc_sessions_bound"), "{text}");
    let commits: u64 = text
        .lines()
        .find_map(|line| line.split_once("database_commits_total ").map(|(_, value)| value.trim().parse().unwrap()))
        .unwrap_or_else(|| panic!("no database commit counter in\n{text}"));
    assert!(commits >= 1, "{text}");
    let generated = app.http.get(format!("{}/healthz", app.http_url)).send().await.unwrap();
    assert!(generated.headers().contains_key("x-request-id"));
}
