//! Health, metrics, request IDs and the JSON shape of every refusal.

use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_answers_ok_when_the_store_answers() {
    let app = spawn_app().await;
    let response = app.http.get(format!("{}/healthz", app.address)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap(), serde_json::json!({ "status": "ok" }));
}

#[tokio::test]
async fn metrics_count_issued_activations_redemptions_and_requests() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    assert_eq!(app.redeem(&activation.code, "13800138000", "sms-1").await.0, 200);
    assert_eq!(app.redeem("BCDFGHJK", "13800138000", "sms-2").await.0, 404);
    let text = app.http.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    for expected in [
        "activations_issued_total 1",
        "redemptions_total{result=\"claimed\"} 1",
        "redemptions_total{result=\"code_unknown\"} 1",
        "waiting_terminals 0",
        "http_requests_total{route=\"/v1/terminals\",status=\"200\"} 1",
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
    let commits: u64 = text
        .lines()
        .find_map(|line| line.split_once("database_commits_total ").map(|(_, value)| value.trim().parse().unwrap()))
        .unwrap_or_else(|| panic!("no database commit counter in\n{text}"));
    assert!(commits >= 1, "{text}");
}

#[tokio::test]
async fn a_request_id_is_echoed_or_generated() {
    let app = spawn_app().await;
    let response =
        app.http.get(format!("{}/healthz", app.address)).header("x-request-id", "req-42").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-42");
    let response = app.http.get(format!("{}/healthz", app.address)).send().await.unwrap();
    assert!(!response.headers()["x-request-id"].is_empty());
}

#[tokio::test]
async fn bad_json_unknown_paths_and_bad_queries_are_answered_in_json() {
    let app = spawn_app().await;
    assert_eq!(app.register(&app.terminal).await.0, 200);
    let request = app.sign(reqwest::Method::POST, "/v1/terminals", b"{not json");
    let (status, body) = app.send(&request).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_request")), "{body}");
    let path = app.terminal_path("/activations/act-1?wait_seconds=soon");
    let (status, body, _) = app.terminal_call(reqwest::Method::GET, &path, b"").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_request")), "{body}");
    let response = app.http.get(format!("{}/v2/nothing", app.address)).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["code"], "invalid_request");
}
