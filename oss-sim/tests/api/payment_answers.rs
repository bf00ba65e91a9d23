//! `Y <number>` / `N <number>` through a real SMS centre to a fake platform on port 0 (the real platform's
//! payments API lives on another branch): the answer is forwarded once per SMS, retried while the platform is
//! unavailable, and the user is told what it did in Chinese.

use crate::helpers::{spawn_app_with, AppOptions, TestApp};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Json, Router};
use numbind_wire::api::{
    PaymentConfirmationOutcome, PaymentConfirmationRequest, PaymentConfirmationResponse, OSS_PAYMENT_CONFIRMATIONS_PATH,
};
use numbind_wire::PaymentId;
use std::sync::{Arc, Mutex};

const PHONE: &str = "13800138000";

/// Every confirmation request the fake platform received.
type Received = Arc<Mutex<Vec<PaymentConfirmationRequest>>>;

/// `111111`: confirmed; `N`: declined; `222222`: wrong number, 2 tries left; `333333`: unavailable on the first
/// call, then nothing pending; anything else: nothing pending.
async fn fake_platform() -> (String, Received) {
    let received: Received = Arc::default();
    let recorded = received.clone();
    let answer = move |Json(request): Json<PaymentConfirmationRequest>| {
        let recorded = recorded.clone();
        async move {
            let earlier_calls = {
                let mut calls = recorded.lock().unwrap();
                calls.push(request.clone());
                calls.iter().filter(|call| call.sms_message_id == request.sms_message_id).count() - 1
            };
            let (outcome, attempts_left) = match (request.approve, request.confirmation_number.as_str()) {
                (false, _) => (PaymentConfirmationOutcome::Declined, None),
                (true, "111111") => (PaymentConfirmationOutcome::Confirmed, None),
                (true, "222222") => (PaymentConfirmationOutcome::WrongNumber, Some(2)),
                (true, "333333") if earlier_calls == 0 => {
                    let body = serde_json::json!({"code": "overloaded", "message": "busy"});
                    return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
                }
                _ => (PaymentConfirmationOutcome::NothingPending, None),
            };
            let settled =
                matches!(outcome, PaymentConfirmationOutcome::Confirmed | PaymentConfirmationOutcome::Declined);
            let payment_id = settled.then(|| PaymentId::parse("pay-0123456789abcdef01234567").unwrap());
            Json(PaymentConfirmationResponse { outcome, payment_id, attempts_left }).into_response()
        }
    };
    let router = Router::new().route(OSS_PAYMENT_CONFIRMATIONS_PATH, axum::routing::post(answer));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, received)
}

async fn app_with_fake_platform() -> (TestApp, Received) {
    let (url, received) = fake_platform().await;
    let options = AppOptions {
        seed_demo: true,
        sms_centre: Some(false),
        adjust_oss: Some(Box::new(move |config| config.platform_url = url)),
        ..AppOptions::default()
    };
    (spawn_app_with(options).await, received)
}

/// Sends `text`, waits until the OSS has processed it, and returns the recorded outcome.
async fn answer(app: &TestApp, text: &str) -> String {
    let message_id = app.phone_sends(PHONE, text).await;
    let view = app.wait_for_inbox(&message_id, |view| view["state"] == "processed").await;
    view["outcome"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_answer_is_forwarded_once_and_the_user_is_told_what_it_did() {
    let (app, received) = app_with_fake_platform().await;
    assert_eq!(answer(&app, "N 111111").await, "payment_declined");
    app.wait_for_reply(PHONE, "已取消支付").await;
    assert_eq!(answer(&app, "Y 222222").await, "payment_wrong_number");
    app.wait_for_reply(PHONE, "还可尝试2次").await;
    assert_eq!(answer(&app, "是 999999").await, "nothing_pending");
    app.wait_for_reply(PHONE, "没有待确认的支付").await;
    assert_eq!(answer(&app, "Y 111111").await, "payment_confirmed");
    let calls = received.lock().unwrap().clone();
    assert_eq!(calls.len(), 4, "{calls:?}");
    assert!(!calls[0].approve);
    assert!(calls.iter().all(|call| call.msisdn.as_digits() == PHONE));
    assert_eq!(calls[3].confirmation_number, "111111");
    assert!(calls.iter().all(|call| !call.sms_message_id.is_empty()));
    // A confirmation is answered by the platform's receipt, not by the OSS.
    assert_eq!(app.phone_inbox(PHONE).await.len(), 3, "{:?}", app.phone_inbox(PHONE).await);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_is_retried_with_the_same_message_id_while_the_platform_is_unavailable() {
    let (app, received) = app_with_fake_platform().await;
    assert_eq!(answer(&app, "Y 333333").await, "nothing_pending");
    app.wait_for_reply(PHONE, "没有待确认的支付").await;
    let calls = received.lock().unwrap().clone();
    assert_eq!(calls.len(), 2, "one refusal, one answer: {calls:?}");
    assert_eq!(calls[0], calls[1], "the retry repeats the same request, message id included");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"platform_calls_total{endpoint="payment-confirmations",result="unavailable"} 1"#),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_answer_is_explained_without_asking_the_platform() {
    let (app, received) = app_with_fake_platform().await;
    assert_eq!(answer(&app, "Y 12345").await, "invalid_confirmation_number");
    app.wait_for_reply(PHONE, "6位确认码").await;
    assert!(received.lock().unwrap().is_empty());
    app.stop().await;
}
