//! A body over the 64 KiB the phone API reads answers 413 `payload_too_large` as JSON on every documented operation.

use crate::helpers::spawn_app;
use numbind_openapi_check::oversized_bodies::{operations_answering_an_oversized_body_badly, Framing};
use serde_json::Value;

/// Larger than the 64 KiB the service reads.
const OVERSIZED: usize = 64 * 1024 + 1024;
/// Path parameters that parse, so that a chunked body gets as far as the handler where it can.
const PARAMETERS: &[(&str, &str)] = &[("{msisdn}", "13800138000"), ("{message_id}", "m-1")];

/// Every operation of the served OpenAPI document, sent a body over the 64 KiB the service reads: with
/// `content-length` each answers 413 `payload_too_large` as JSON; chunked, each refusal is JSON
/// (`payload_too_large` when it is a 413).
#[tokio::test]
async fn every_documented_operation_refuses_an_oversized_body_as_json() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let document: Value =
        app.http.get(format!("{}/openapi.json", app.http_url)).send().await.unwrap().json().await.unwrap();
    let address = app.http_url.trim_start_matches("http://").to_owned();
    for framing in [Framing::ContentLength, Framing::Chunked] {
        let (address, document) = (address.clone(), document.clone());
        let bad = tokio::task::spawn_blocking(move || {
            operations_answering_an_oversized_body_badly(&address, &document, OVERSIZED, framing, PARAMETERS, None)
        })
        .await
        .unwrap();
        assert!(bad.is_empty(), "{framing:?}: {bad:#?}");
    }
}
