//! Code guessing: failed redemptions lock a number (even a right code is then refused), the lock ends, the
//! global guard trips and recovers, and neither replays nor successes count.

use crate::helpers::{spawn_app, spawn_app_with, TestApp, TestTerminal, OSS_SECRET};
use numbind_wire::activation_offer::OfferExpectation;
use numbind_wire::api::ActivationResponse;
use numbind_wire::component_auth::{ComponentRequest, ComponentSecret};
use serde_json::{json, Value};
use std::time::Duration;

const WRONG_CODE: &str = "BCDF-GHJK";

/// A redemption's status, error code and `Retry-After` seconds.
async fn redeem_with_retry_after(app: &TestApp, code: &str, msisdn: &str, sms_id: &str) -> (u16, Value, Option<u64>) {
    let path = "/v1/oss/redemptions";
    let body = json!({ "code": code, "msisdn": msisdn, "sms_message_id": sms_id }).to_string();
    let authorization = ComponentRequest {
        client: "oss",
        method: "POST",
        path_and_query: path,
        timestamp_unix_seconds: app.now(),
        body: body.as_bytes(),
    }
    .authorization(&ComponentSecret::parse(OSS_SECRET).unwrap());
    let response = app
        .http
        .post(format!("{}{path}", app.address))
        .header("authorization", authorization)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").map(|value| value.to_str().unwrap().parse().unwrap());
    (status, response.json().await.unwrap(), retry_after)
}

async fn guess_wrong(app: &TestApp, msisdn: &str, sms_ids: std::ops::Range<u32>) -> Vec<(u16, Option<String>)> {
    let mut answers = Vec::new();
    for index in sms_ids {
        let (status, body, _) =
            redeem_with_retry_after(app, WRONG_CODE, msisdn, &format!("guess-{msisdn}-{index}")).await;
        answers.push((status, body["code"].as_str().map(str::to_owned)));
    }
    answers
}

fn unknown() -> (u16, Option<String>) {
    (404, Some("code_unknown".to_owned()))
}

#[tokio::test]
async fn a_number_that_guesses_six_wrong_codes_is_locked_and_even_a_right_code_is_then_refused() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    assert_eq!(guess_wrong(&app, "13800138000", 0..5).await, vec![unknown(); 5]);
    let (status, body, retry_after) = redeem_with_retry_after(&app, WRONG_CODE, "13800138000", "sixth").await;
    assert_eq!((status, body["code"].as_str(), retry_after), (429, Some("number_locked"), Some(3600)), "{body}");
    app.clock.advance(Duration::from_secs(60));
    let (status, body, retry_after) = redeem_with_retry_after(&app, &activation.code, "13800138000", "right").await;
    assert_eq!((status, body["code"].as_str(), retry_after), (429, Some("number_locked"), Some(3540)), "{body}");
    let (status, body, _) = redeem_with_retry_after(&app, &activation.code, "13900139000", "other-number").await;
    assert_eq!(status, 200, "another number is not locked: {body}");
    let metrics = app.http.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("redemption_failures_total{reason=\"code_unknown\"} 6"), "{metrics}");
    assert!(metrics.contains("numbers_locked_total 1"), "{metrics}");
}

#[tokio::test]
async fn the_lock_ends_after_its_duration() {
    let app = spawn_app().await;
    assert_eq!(app.register(&app.terminal).await.0, 200);
    guess_wrong(&app, "13800138000", 0..6).await;
    app.clock.advance(Duration::from_secs(3600 - 1));
    let (status, body, _) = redeem_with_retry_after(&app, WRONG_CODE, "13800138000", "still-locked").await;
    assert_eq!((status, body["code"].as_str()), (429, Some("number_locked")));
    app.clock.advance(Duration::from_secs(1));
    let offer = app.activation_offer().await;
    let (status, body, retry_after) = redeem_with_retry_after(&app, &offer.code, "13800138000", "after-lock").await;
    assert_eq!((status, retry_after), (200, None), "{body}");
    assert_eq!(guess_wrong(&app, "13800138000", 10..15).await, vec![unknown(); 5], "the count starts afresh");
}

#[tokio::test]
async fn the_global_guard_trips_and_recovers() {
    let app = spawn_app_with(|config| config.max_failed_redemptions_global_per_minute = 3).await;
    let activation = app.registered_with_activation().await;
    for number in ["13800000001", "13800000002", "13800000003"] {
        assert_eq!(guess_wrong(&app, number, 0..1).await, vec![unknown()]);
    }
    app.clock.advance(Duration::from_secs(20));
    let (status, body, retry_after) = redeem_with_retry_after(&app, &activation.code, "13800138000", "valid").await;
    assert_eq!((status, body["code"].as_str(), retry_after), (429, Some("rate_limited"), Some(40)), "{body}");
    app.clock.advance(Duration::from_secs(40));
    let (status, body, _) = redeem_with_retry_after(&app, &activation.code, "13800138000", "valid").await;
    assert_eq!(status, 200, "the same sms retried after the guard's minute is redeemed: {body}");
}

#[tokio::test]
async fn replays_of_a_failed_sms_do_not_count_twice() {
    let app = spawn_app().await;
    for _ in 0..8 {
        let (status, body, _) = redeem_with_retry_after(&app, WRONG_CODE, "13800138000", "same-sms").await;
        assert_eq!((status, body["code"].as_str()), (404, Some("code_unknown")));
    }
    assert_eq!(guess_wrong(&app, "13800138000", 0..4).await, vec![unknown(); 4]);
    let (status, body, _) = redeem_with_retry_after(&app, WRONG_CODE, "13800138000", "sixth-distinct").await;
    assert_eq!((status, body["code"].as_str()), (429, Some("number_locked")));
    let (status, body, _) = redeem_with_retry_after(&app, WRONG_CODE, "13800138000", "sixth-distinct").await;
    assert_eq!((status, body["code"].as_str()), (429, Some("number_locked")), "the locking sms replayed");
}

#[tokio::test]
async fn successful_redemptions_never_count() {
    let app = spawn_app_with(|config| config.max_failed_redemptions_per_number = 1).await;
    // Three boxes, three codes, three distinct SMS from one number: three successes, none of them a replay.
    for index in 0..3 {
        let code = code_of_a_new_box(&app).await;
        let (status, body, _) = redeem_with_retry_after(&app, &code, "13800138000", &format!("win-{index}")).await;
        assert_eq!(status, 200, "{body}");
    }
    // Had any success counted, this first failure would already exceed the limit of one.
    assert_eq!(guess_wrong(&app, "13800138000", 0..1).await, vec![unknown()]);
    let (status, body, _) = redeem_with_retry_after(&app, WRONG_CODE, "13800138000", "second-failure").await;
    assert_eq!((status, body["code"].as_str()), (429, Some("number_locked")));
}

#[tokio::test]
async fn a_failure_still_counts_just_under_fifteen_minutes_later() {
    let app = spawn_app().await;
    assert_eq!(guess_wrong(&app, "13800138000", 0..5).await, vec![unknown(); 5]);
    app.clock.advance(Duration::from_secs(15 * 60 - 1));
    let (status, body, _) = redeem_with_retry_after(&app, WRONG_CODE, "13800138000", "sixth").await;
    assert_eq!((status, body["code"].as_str()), (429, Some("number_locked")), "{body}");
}

#[tokio::test]
async fn failures_older_than_fifteen_minutes_no_longer_count() {
    let app = spawn_app().await;
    assert_eq!(guess_wrong(&app, "13800138000", 0..5).await, vec![unknown(); 5]);
    app.clock.advance(Duration::from_secs(15 * 60 + 1));
    // The first five left the window: five more fit in it, and the sixth of these locks.
    assert_eq!(guess_wrong(&app, "13800138000", 5..10).await, vec![unknown(); 5]);
    let (status, body, _) = redeem_with_retry_after(&app, WRONG_CODE, "13800138000", "sixth-in-window").await;
    assert_eq!((status, body["code"].as_str()), (429, Some("number_locked")), "{body}");
}

/// Registers a new box and asks for an activation as it; returns the code its verified offer shows.
async fn code_of_a_new_box(app: &TestApp) -> String {
    let terminal = TestTerminal::new();
    assert_eq!(app.register(&terminal).await.0, 200);
    let path = format!("/v1/terminals/{}/activations", terminal.terminal_id);
    let request = app.sign_as(&terminal, reqwest::Method::POST, &path, b"{}", app.now());
    let (status, body) = app.send(&request).await;
    assert_eq!(status, 200, "{body}");
    let response: ActivationResponse = serde_json::from_value(body).unwrap();
    let expectation = OfferExpectation {
        terminal_id: &terminal.terminal_id,
        in_reply_to: &request.nonce,
        now_unix_seconds: app.now(),
    };
    app.pinned_keys.verify_offer(&response.offer, expectation).unwrap().code
}

#[tokio::test]
async fn a_code_refused_for_the_subscriber_answers_that_refusal_again_to_its_number_without_counting_a_guess() {
    let app = spawn_app_with(|config| config.max_failed_redemptions_per_number = 1).await;
    let activation = app.registered_with_activation().await;
    assert_eq!(app.redeem(&activation.code, "13900139000", "sms-1").await.0, 200);
    let denial = json!({ "activation_id": activation.activation_id, "msisdn": "13900139000", "outcome": "denied",
                         "reason": "subscriber_suspended" });
    assert_eq!(app.oss_post("/v1/oss/confirmations", &denial).await.0, 200);
    for sms_id in ["sms-2", "sms-3"] {
        let (status, body) = app.redeem(&activation.code, "13900139000", sms_id).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["refused_before"], "subscriber_suspended", "{body}");
        assert_eq!(body["activation_id"], activation.activation_id.as_str());
    }
    let metrics = app.http.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(!metrics.contains("redemption_failures_total"), "no guess was counted: {metrics}");
    // Anyone else resending it gets the code's answer, and it counts: with a limit of one, the next guess locks.
    let (status, body) = app.redeem(&activation.code, "13800138000", "sms-4").await;
    assert_eq!((status, body["code"].as_str()), (409, Some("code_used")), "{body}");
    let (status, body) = app.redeem(WRONG_CODE, "13800138000", "sms-6").await;
    assert_eq!((status, body["code"].as_str()), (429, Some("number_locked")), "{body}");
    // After the code's life, its own number gets the code's answer too.
    app.clock.advance(Duration::from_secs(601));
    let (status, body) = app.redeem(&activation.code, "13900139000", "sms-5").await;
    assert!(status >= 400 && body["refused_before"].is_null(), "{status} {body}");
}
