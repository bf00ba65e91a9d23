//! `GET /v1/platform/bill-lines?day=`: answered only to the platform's HMAC over this exact path and query, with
//! the day's records and whether they are all of them; a malformed day is refused.

use crate::helpers::{spawn_app, TestApp, PLATFORM_SECRET};
use numbind_process::component_client::signed_get;
use numbind_wire::api::PLATFORM_BILL_LINES_PATH;
use numbind_wire::component_auth::ComponentSecret;
use serde_json::Value;

impl TestApp {
    /// GETs `path_and_query` signed as `client` with `secret`, over `signed_over` (the path the signature covers).
    async fn bill_lines_as(&self, client: &str, secret: &str, path_and_query: &str, signed_over: &str) -> (u16, Value) {
        let secret = ComponentSecret::parse(secret).unwrap();
        let timestamp = numbind_process::clock::now_unix_seconds();
        let authorization = numbind_wire::component_auth::ComponentRequest {
            client,
            method: "GET",
            path_and_query: signed_over,
            timestamp_unix_seconds: timestamp,
            body: &[],
        }
        .authorization(&secret);
        let response = self
            .http
            .get(format!("{}{path_and_query}", self.url))
            .header("authorization", authorization)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_platform_reads_the_bill_lines_of_a_day_only_with_its_hmac_over_that_exact_query() {
    let app = spawn_app().await;
    let path = format!("{PLATFORM_BILL_LINES_PATH}?day=2026-12-07");
    let secret = ComponentSecret::parse(PLATFORM_SECRET).unwrap();
    let now = numbind_process::clock::now_unix_seconds();
    let answer = signed_get(&app.http, &app.url, &path, ("platform", &secret), now).await.unwrap();
    assert_eq!(answer.status(), 200);
    let list: Value = answer.json().await.unwrap();
    assert_eq!((list["records"].as_array().map(Vec::len), list["complete"].as_bool()), (Some(0), Some(true)));

    let (status, refused) =
        app.bill_lines_as("platform", "a different secret that is long enough!", &path, &path).await;
    assert_eq!((status, refused["code"].as_str()), (401, Some("unauthenticated")), "{refused}");
    let (status, _) = app.bill_lines_as("oss", PLATFORM_SECRET, &path, &path).await;
    assert_eq!(status, 401, "only the platform may read them");
    let other_day = format!("{PLATFORM_BILL_LINES_PATH}?day=2026-12-08");
    let (status, _) = app.bill_lines_as("platform", PLATFORM_SECRET, &other_day, &path).await;
    assert_eq!(status, 401, "a signature covers the query it was made for");
    let unsigned = app.http.get(format!("{}{path}", app.url)).send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
    let bad_day = format!("{PLATFORM_BILL_LINES_PATH}?day=2026-13-01");
    let (status, refused) = app.bill_lines_as("platform", PLATFORM_SECRET, &bad_day, &bad_day).await;
    assert_eq!((status, refused["code"].as_str()), (400, Some("invalid_request")), "{refused}");
    app.stop().await;
}
