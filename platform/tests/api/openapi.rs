//! The OpenAPI document is served, and the refusals schemathesis probes stay refusals (never a dropped connection).

use crate::helpers::spawn_app;
use serde_json::Value;

#[tokio::test]
async fn the_openapi_document_is_served_as_json() {
    let app = spawn_app().await;
    let response = app.http.get(format!("{}/openapi.json", app.address)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.0.3");
    assert!(document["paths"]["/v1/oss/redemptions"]["post"].is_object());
}

#[tokio::test]
async fn a_signed_request_with_an_extreme_timestamp_is_refused_not_dropped() {
    let app = spawn_app().await;
    for timestamp in ["-9223372036854775808", "9223372036854775807"] {
        let response = app
            .http
            .post(format!("{}/v1/terminals", app.address))
            .header("x-numbind-terminal", app.terminal.terminal_id.as_str())
            .header("x-numbind-timestamp", timestamp)
            .header("x-numbind-nonce", "abcdefghijklmnop1234")
            .header("x-numbind-signature", "A".repeat(86))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "timestamp {timestamp}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "stale_timestamp");
    }
}

#[tokio::test]
async fn an_oss_request_with_an_extreme_timestamp_is_refused_not_dropped() {
    let app = spawn_app().await;
    for timestamp in ["-9223372036854775808", "9223372036854775807"] {
        let authorization = format!("NUMBIND-HMAC-SHA256 client=oss,ts={timestamp},sig={}", "A".repeat(43));
        let response = app
            .http
            .post(format!("{}/v1/oss/redemptions", app.address))
            .header("authorization", authorization)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "timestamp {timestamp}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "unauthenticated");
    }
}
