//! The OSS redeeming codes: unknown, expired, used, valid, idempotent by SMS, and one winner under a race.

use crate::helpers::{spawn_app, OSS_SECRET};
use numbind_wire::component_auth::ComponentSecret;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn redeeming_a_code_that_never_existed_is_refused_as_unknown() {
    let app = spawn_app().await;
    let (status, body) = app.redeem("BCDF-GHJK", "13800138000", "sms-1").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("code_unknown")), "{body}");
}

#[tokio::test]
async fn redeeming_an_expired_code_is_refused() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    app.clock.advance(Duration::from_secs(601));
    let (status, body) = app.redeem(&activation.code, "13800138000", "sms-1").await;
    assert_eq!((status, body["code"].as_str()), (410, Some("code_expired")));
}

#[tokio::test]
async fn redeeming_a_valid_code_claims_its_activation() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    let typed_sloppily = activation.code.to_lowercase().replace('-', " ");
    let (status, body) = app.redeem(&typed_sloppily, "+86 138 0013 8000", "sms-1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["activation_id"], activation.activation_id.as_str());
    assert_eq!(body["terminal_id"], app.terminal.terminal_id.as_str());
    assert_eq!(body["device_model"], crate::helpers::DEVICE_MODEL);
    assert!(body["currently_bound_msisdn"].is_null());
}

#[tokio::test]
async fn redeeming_a_code_claimed_by_another_sms_is_refused_as_used() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    assert_eq!(app.redeem(&activation.code, "13800138000", "sms-1").await.0, 200);
    let (status, body) = app.redeem(&activation.code, "13900139000", "sms-2").await;
    assert_eq!((status, body["code"].as_str()), (409, Some("code_used")));
}

#[tokio::test]
async fn the_same_sms_redeemed_again_gets_the_same_answer() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    let first = app.redeem(&activation.code, "13800138000", "sms-1").await;
    let again = app.redeem(&activation.code, "13800138000", "sms-1").await;
    assert_eq!(first.0, 200);
    assert_eq!(first, again);
}

#[tokio::test]
async fn of_two_concurrent_redemptions_of_one_code_exactly_one_wins() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    let (first, second) = tokio::join!(
        app.redeem(&activation.code, "13800138000", "sms-a"),
        app.redeem(&activation.code, "13900139000", "sms-b"),
    );
    let mut statuses = [first.0, second.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{first:?} {second:?}");
}

#[tokio::test]
async fn an_oss_call_with_a_wrong_or_missing_secret_is_refused() {
    let app = spawn_app().await;
    let body = json!({ "code": "BCDFGHJK", "msisdn": "13800138000", "sms_message_id": "forged-1" });
    let wrong = ComponentSecret::parse(&OSS_SECRET.replace('0', "1")).unwrap();
    let (status, answer) = app.oss_post_with(&wrong, "/v1/oss/redemptions", &body).await;
    assert_eq!((status, answer["code"].as_str()), (401, Some("unauthenticated")));
    let response = app.http.post(format!("{}/v1/oss/redemptions", app.address)).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["code"], "unauthenticated");
}

#[tokio::test]
async fn a_malformed_oss_body_is_answered_with_a_json_invalid_request() {
    let app = spawn_app().await;
    let (status, body) = app.oss_post("/v1/oss/redemptions", &json!({ "code": "WDJB", "msisdn": "13800138000" })).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_request")), "{body}");
    assert!(body["message"].as_str().is_some_and(|message| !message.is_empty()));
    // A malformed number is the hub's own refusal (`hub_checks`), not the body's.
    let (status, body) = app.oss_post("/v1/oss/redemptions", &json!({ "code": "WDJB", "msisdn": "12345" })).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("number_not_mobile")), "{body}");
    assert!(body["message"].as_str().is_some_and(|message| !message.is_empty()));
}
