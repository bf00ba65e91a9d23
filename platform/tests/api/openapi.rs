//! The OpenAPI document is served, the refusals schemathesis probes stay refusals (never a dropped connection), and
//! an oversized body is refused as JSON by every documented operation.

use crate::helpers::spawn_app;
use numbind_openapi_check::oversized_bodies::{operations_answering_an_oversized_body_badly, Framing};
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

/// Larger than the 64 KiB the service reads.
const OVERSIZED: usize = 64 * 1024 + 1024;
/// Path parameters that parse, so that a chunked body gets as far as the handler where it can.
const PARAMETERS: &[(&str, &str)] = &[
    ("{terminal_id}", "NB-AAAAAAAAAAAAAAAA"),
    ("{activation_id}", "act-1"),
    ("{name}", "bindings.csv"),
    ("{payment_id}", "pay-000000000000000000000000"),
    ("{intent_nonce}", "AAAAAAAAAAAAAAAAAAAAAA"),
];

/// Every operation of the served OpenAPI document, sent a body over the 64 KiB the service reads: with `content-length` each answers
/// 413 `payload_too_large` as JSON; chunked, each refusal is JSON (`payload_too_large` when it is a 413).
#[tokio::test]
async fn every_documented_operation_refuses_an_oversized_body_as_json() {
    let app = spawn_app().await;
    let document: Value =
        app.http.get(format!("{}/openapi.json", app.address)).send().await.unwrap().json().await.unwrap();
    let address = app.address.trim_start_matches("http://").to_owned();
    for framing in [Framing::ContentLength, Framing::Chunked] {
        let (address, document) = (address.clone(), document.clone());
        let bad = tokio::task::spawn_blocking(move || {
            operations_answering_an_oversized_body_badly(
                &address,
                &document,
                OVERSIZED,
                framing,
                PARAMETERS,
                Some("/console"),
            )
        })
        .await
        .unwrap();
        assert!(bad.is_empty(), "{framing:?}: {bad:#?}");
    }
}
