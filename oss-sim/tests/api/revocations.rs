//! `POST /v1/platform/revocations`: only the platform's HMAC is accepted; revoking is idempotent and always 200s.

use crate::helpers::{spawn_app_with, AppOptions, TestApp, PLATFORM_SECRET};
use crate::terminal::TestTerminal;
use numbind_wire::api::PLATFORM_REVOCATIONS_PATH;
use numbind_wire::component_auth::{ComponentRequest, ComponentSecret};
use serde_json::{json, Value};

const PAYER: &str = "13800138000";

impl TestApp {
    async fn revoke_as(&self, client: &str, secret: &str, body: &[u8]) -> (u16, Value) {
        let timestamp = numbind_process::clock::now_unix_seconds();
        let authorization = ComponentRequest {
            client,
            method: "POST",
            path_and_query: PLATFORM_REVOCATIONS_PATH,
            timestamp_unix_seconds: timestamp,
            body,
        }
        .authorization(&ComponentSecret::parse(secret).unwrap());
        let response = self
            .http
            .post(format!("{}{PLATFORM_REVOCATIONS_PATH}", self.url))
            .header("authorization", authorization)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn binding_of(&self, terminal: &TestTerminal) -> Value {
        let body: Value =
            self.get(&format!("/v1/bindings?terminal_id={}", terminal.terminal_id)).await.json().await.unwrap();
        body["bindings"][0].clone()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_platform_revocation_revokes_the_record_once_and_only_with_the_platform_hmac() {
    let app = spawn_app_with(AppOptions {
        seed_demo: true,
        sms_centre: Some(false),
        platform: true,
        ..AppOptions::default()
    })
    .await;
    let terminal = TestTerminal::register(app.platform_url.as_deref().unwrap(), "Skyworth E900").await;
    let activation = terminal.activation(&app.platform_keys).await;
    let message_id = app.phone_sends(PAYER, &activation.sms_text).await;
    app.wait_for_inbox(&message_id, |view| view["state"] == "processed").await;
    let binding = app.binding_of(&terminal).await;
    assert_eq!(binding["state"], "active", "{binding}");
    let body = json!({
        "revocation_id": "rev-1",
        "binding_id": binding["binding_id"],
        "terminal_id": terminal.terminal_id.as_str(),
        "msisdn": PAYER,
        "reason": "factory_reset",
    })
    .to_string();
    let (status, answer) = app.revoke_as("platform", "a different secret that is long enough!", body.as_bytes()).await;
    assert_eq!((status, answer["code"].as_str()), (401, Some("unauthenticated")));
    let (status, _) = app.revoke_as("oss", PLATFORM_SECRET, body.as_bytes()).await;
    assert_eq!(status, 401, "only the platform may revoke");
    assert_eq!(app.binding_of(&terminal).await["state"], "active");
    let (status, answer) = app.revoke_as("platform", PLATFORM_SECRET, body.as_bytes()).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("revoked")), "{answer}");
    let (status, answer) = app.revoke_as("platform", PLATFORM_SECRET, body.as_bytes()).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("already_revoked")), "{answer}");
    let revoked = app.binding_of(&terminal).await;
    assert_eq!(
        (revoked["state"].as_str(), revoked["revoked_reason"].as_str()),
        (Some("revoked"), Some("factory_reset"))
    );
    let unknown = body.replace(binding["binding_id"].as_str().unwrap(), "bnd-unknown");
    let (status, answer) = app.revoke_as("platform", PLATFORM_SECRET, unknown.as_bytes()).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("unknown_binding")), "{answer}");
    let (status, answer) = app.revoke_as("platform", PLATFORM_SECRET, br#"{"binding_id": 7}"#).await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("invalid_request")));
    app.stop().await;
}
