//! Binding lifecycle (issue 4): operator unbinding and factory reset reach the OSS through the durable
//! `outbox_oss`; a bound terminal may ask, explicitly, for a code that replaces its binding.

use crate::helpers::{spawn_app_with, TestApp, OSS_SECRET};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use numbind_platform::OperatorRole;
use numbind_wire::api::{RevocationReason, PLATFORM_REVOCATIONS_PATH};
use numbind_wire::component_auth::{ComponentAuthorization, ComponentSecret};
use numbind_wire::Msisdn;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const OLD_NUMBER: &str = "13800138000";
const NEW_NUMBER: &str = "13900139000";

/// A real HTTP server standing in for the OSS's revocation endpoint: checks the platform's HMAC, records each
/// body, answers 503 to the first `failures_left` calls.
pub(crate) struct RevocationEndpoint {
    secret: ComponentSecret,
    pub(crate) received: Mutex<Vec<Value>>,
    failures_left: AtomicUsize,
}

async fn take_revocation(
    State(endpoint): State<Arc<RevocationEndpoint>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let header = headers.get("authorization").and_then(|value| value.to_str().ok());
    let authorization = ComponentAuthorization::parse(header).unwrap();
    assert_eq!(authorization.client, "platform");
    authorization.verify(&endpoint.secret, "POST", PLATFORM_REVOCATIONS_PATH, &body).unwrap();
    let request: Value = serde_json::from_slice(&body).unwrap();
    endpoint.received.lock().unwrap().push(request.clone());
    if endpoint.failures_left.load(Ordering::SeqCst) > 0 {
        endpoint.failures_left.fetch_sub(1, Ordering::SeqCst);
        return (StatusCode::SERVICE_UNAVAILABLE, "{}".into());
    }
    let answer =
        json!({"revocation_id": request["revocation_id"], "binding_id": request["binding_id"], "outcome": "revoked"});
    (StatusCode::OK, answer.to_string())
}

pub(crate) async fn spawn_revocation_endpoint(failures: usize) -> (String, Arc<RevocationEndpoint>) {
    let endpoint = Arc::new(RevocationEndpoint {
        secret: ComponentSecret::parse(OSS_SECRET).unwrap(),
        received: Mutex::new(Vec::new()),
        failures_left: AtomicUsize::new(failures),
    });
    let router = axum::Router::new()
        .route(PLATFORM_REVOCATIONS_PATH, axum::routing::post(take_revocation))
        .with_state(endpoint.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, endpoint)
}

/// Polls `condition` every 20 ms for up to 10 s (the worker runs in the background).
pub(crate) async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) async fn operator_unbind(app: &TestApp) -> (u16, Value) {
    let admin = numbind_platform::create_operator_token(&app.database_path(), "root", OperatorRole::Admin).unwrap();
    let path = format!("{}/v1/operator/terminals/{}/unbind", app.address, app.terminal.terminal_id);
    let response =
        app.http.post(path).bearer_auth(admin).json(&json!({"reason": "fraud report 7"})).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn an_operator_unbinding_is_delivered_to_the_oss_with_the_platform_hmac() {
    let (url, endpoint) = spawn_revocation_endpoint(0).await;
    let app = spawn_app_with(|config| config.oss_url = Some(url)).await;
    app.bind_test_terminal(OLD_NUMBER, "bnd-1").await;
    assert_eq!(operator_unbind(&app).await.0, 200);
    eventually("the oss received the revocation", || endpoint.received.lock().unwrap().len() == 1).await;
    let received = endpoint.received.lock().unwrap()[0].clone();
    assert_eq!(received["binding_id"], "bnd-1");
    assert_eq!(received["terminal_id"], app.terminal.terminal_id.as_str());
    assert_eq!((received["msisdn"].as_str(), received["reason"].as_str()), (Some(OLD_NUMBER), Some("operator")));
    eventually("the outbox marked it delivered", || {
        app.store.oss_revocations_of_binding("bnd-1").unwrap()[0].delivered
    })
    .await;
}

#[tokio::test]
async fn a_factory_reset_revocation_is_retried_with_the_same_key_until_the_oss_acknowledges() {
    let (url, endpoint) = spawn_revocation_endpoint(1).await;
    let app = spawn_app_with(|config| config.oss_url = Some(url)).await;
    app.bind_test_terminal(OLD_NUMBER, "bnd-1").await;
    let (status, body, _) = app.terminal_call(Method::POST, &app.terminal_path("/reset"), b"{}").await;
    assert_eq!(status, 200, "{body}");
    eventually("the first attempt failed", || app.store.oss_revocations_of_binding("bnd-1").unwrap()[0].attempts == 1)
        .await;
    let queued = app.store.oss_revocations_of_binding("bnd-1").unwrap();
    assert!(!queued[0].delivered && queued[0].request.reason == RevocationReason::FactoryReset);
    app.clock.advance(Duration::from_secs(120));
    eventually("the retry was acknowledged", || app.store.oss_revocations_of_binding("bnd-1").unwrap()[0].delivered)
        .await;
    let received = endpoint.received.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0], received[1], "a retry carries the same revocation id");
}

#[tokio::test]
async fn without_an_oss_url_revocations_wait_in_the_outbox() {
    let app = spawn_app_with(|_| {}).await;
    app.bind_test_terminal(OLD_NUMBER, "bnd-1").await;
    assert_eq!(operator_unbind(&app).await.0, 200);
    let queued = app.store.oss_revocations_of_binding("bnd-1").unwrap();
    assert_eq!(queued.len(), 1);
    assert!(!queued[0].delivered && queued[0].attempts == 0 && queued[0].request.reason == RevocationReason::Operator);
}

#[tokio::test]
async fn a_bound_terminal_that_asks_to_replace_its_binding_gets_a_code_and_the_old_number_is_told() {
    let app = spawn_app_with(|_| {}).await;
    app.bind_test_terminal(OLD_NUMBER, "bnd-1").await;
    let activations = app.terminal_path("/activations");
    let (status, body, _) = app.terminal_call(Method::POST, &activations, b"{}").await;
    assert_eq!((status, body["code"].as_str()), (409, Some("terminal_already_bound")));
    let (status, body, _) = app.terminal_call(Method::POST, &activations, br#"{"replace_binding":"yes"}"#).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_request")));
    let (status, body, nonce) = app.terminal_call(Method::POST, &activations, br#"{"replace_binding":true}"#).await;
    assert_eq!(status, 200, "{body}");
    let offer = app.verify_offer(&body, &nonce);
    let (activation_id, code) = (offer.activation_id.as_str(), offer.code.as_str());
    let (status, redeemed) = app.redeem(code, NEW_NUMBER, "sms-replace").await;
    assert_eq!((status, redeemed["currently_bound_msisdn"].as_str()), (200, Some(OLD_NUMBER)));
    let (status, confirmed) = app.confirm_bound(activation_id, NEW_NUMBER, "bnd-2").await;
    assert_eq!((status, confirmed["replaced_msisdn"].as_str()), (200, Some(OLD_NUMBER)));
    let active = app.store.active_binding(&app.terminal.terminal_id).unwrap().unwrap();
    assert_eq!((active.binding_id.as_str(), active.msisdn.as_digits()), ("bnd-2", NEW_NUMBER));
    let to_old_number = app.store.notifications_to(&Msisdn::parse(OLD_NUMBER).unwrap()).unwrap();
    assert!(to_old_number.iter().any(|sms| sms.text.contains("已由其他号码取代")), "{to_old_number:?}");
    assert!(app.store.oss_revocations_of_binding("bnd-1").unwrap().is_empty(), "the oss made this change itself");
}
