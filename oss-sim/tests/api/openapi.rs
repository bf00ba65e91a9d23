//! The OpenAPI document is served, and a hostile HMAC timestamp is refused rather than dropping the connection.

use crate::helpers::spawn_app;
use serde_json::Value;

#[tokio::test]
async fn the_openapi_document_is_served_as_json() {
    let app = spawn_app().await;
    let response = app.http.get(format!("{}/openapi.json", app.url)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.0.3");
    assert!(document["paths"]["/v1/platform/revocations"]["post"].is_object());
}

#[tokio::test]
async fn a_platform_revocation_with_an_extreme_timestamp_is_refused_not_dropped() {
    let app = spawn_app().await;
    for timestamp in ["-9223372036854775808", "9223372036854775807"] {
        let authorization = format!("NUMBIND-HMAC-SHA256 client=platform,ts={timestamp},sig={}", "A".repeat(43));
        let response = app
            .http
            .post(format!("{}{}", app.url, numbind_wire::api::PLATFORM_REVOCATIONS_PATH))
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
