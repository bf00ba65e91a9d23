//! The one way a numbind component calls another's component API: a JSON `POST` (or a `GET`) carrying the
//! component HMAC (`NUMBIND-HMAC-SHA256`, `numbind_wire::component_auth`) over the exact path and body, through an
//! HTTP client that trusts only the configured authorities. The OSS calls the platform and the platform calls the
//! OSS this way; each reads the answer by its own rules.

use numbind_wire::component_auth::{ComponentRequest, ComponentSecret};

/// Sends `body` (JSON bytes) to `base_url` + `path` as `client`, signed with `secret` at `timestamp_unix_seconds`.
pub async fn signed_json_post(
    http: &reqwest::Client,
    base_url: &str,
    path: &str,
    (client, secret): (&str, &ComponentSecret),
    timestamp_unix_seconds: i64,
    body: Vec<u8>,
) -> Result<reqwest::Response, reqwest::Error> {
    let authorization =
        ComponentRequest { client, method: "POST", path_and_query: path, timestamp_unix_seconds, body: &body }
            .authorization(secret);
    http.post(format!("{base_url}{path}"))
        .header(reqwest::header::AUTHORIZATION, authorization)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
}

/// GETs `base_url` + `path_and_query` as `client`, signed with `secret` at `timestamp_unix_seconds` over the exact
/// path, query and the empty body.
pub async fn signed_get(
    http: &reqwest::Client,
    base_url: &str,
    path_and_query: &str,
    (client, secret): (&str, &ComponentSecret),
    timestamp_unix_seconds: i64,
) -> Result<reqwest::Response, reqwest::Error> {
    let authorization = ComponentRequest { client, method: "GET", path_and_query, timestamp_unix_seconds, body: &[] }
        .authorization(secret);
    http.get(format!("{base_url}{path_and_query}")).header(reqwest::header::AUTHORIZATION, authorization).send().await
}
