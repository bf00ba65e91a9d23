//! The payments API against its threats: a merchant cannot charge a box that did not sign, reuse an intent, raise
//! the amount after signing, or read another merchant's payment; a phone other than the bound number cannot
//! confirm; no charge is applied twice; bad input is refused with its code and writes nothing.

use crate::helpers::TestTerminal;
use crate::payment_helpers::{intent_of, spawn_payment_app, BOUND_NUMBER};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use numbind_wire::{Msisdn, SignedPurchaseIntent};
use serde_json::{json, Value};

#[tokio::test]
async fn a_one_step_payment_is_charged_once_and_answers_succeeded_with_its_bill_line() {
    let payments = spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    let signed = payments.signed(&payments.intent("demo-films", 500));
    let (status, body) = payments.pay(&token, "order-0001", &signed).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["state"], "succeeded");
    let payment_id = body["payment_id"].as_str().unwrap().to_owned();
    assert_eq!(body["server_reference_code"], format!("BL-{payment_id}"));
    let receipts = payments.app.store.notifications_to(&Msisdn::parse(BOUND_NUMBER).unwrap()).unwrap();
    let receipt = receipts.iter().filter(|sms| sms.text.contains(&payment_id)).count();
    assert_eq!(receipt, 1, "one receipt per completed charge");
}

#[tokio::test]
async fn no_charge_is_applied_twice_when_the_merchant_retries_with_the_same_key() {
    let payments = spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    let signed = payments.signed(&payments.intent("demo-films", 500));
    let (first_status, first) = payments.pay(&token, "order-0002", &signed).await;
    let (again_status, again) = payments.pay(&token, "order-0002", &signed).await;
    assert_eq!((first_status, again_status), (201, 201));
    assert_eq!(first["payment_id"], again["payment_id"], "the same key and body answer the same payment");
    assert_eq!((payments.payment_count(), payments.charges_applied()), (1, 1));
    let other_body = json!({ "signed_intent": signed, "reference_code": "ANOTHER" }).to_string();
    let (status, body) = payments.post_raw(&token, Some("order-0002"), other_body).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("idempotency_key_reused")));
}

#[tokio::test]
async fn a_retry_long_after_the_box_signed_still_answers_the_original_payment() {
    let payments = spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    let signed = payments.signed(&payments.intent("demo-films", 500));
    let (first_status, first) = payments.pay(&token, "order-0042", &signed).await;
    // Past the intent's freshness window (10 minutes): a new payment from it would be stale, a retry is not new.
    payments.app.clock.advance(std::time::Duration::from_secs(3600));
    let (again_status, again) = payments.pay(&token, "order-0042", &signed).await;
    assert_eq!((first_status, again_status), (201, 201), "{again}");
    assert_eq!(first["payment_id"], again["payment_id"], "the same key and body answer the same payment");
    assert_eq!((payments.payment_count(), payments.charges_applied()), (1, 1));
}

#[tokio::test]
async fn a_merchant_cannot_charge_a_box_that_did_not_sign() {
    let payments = spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    let intent = payments.intent("demo-films", 500);
    let forger = TestTerminal::new();
    let forged = forger.key_pair.sign_purchase_intent(&intent);
    let (status, body) = payments.pay(&token, "order-0003", &forged).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("purchase_intent_invalid")), "{body}");
    let unregistered = forger.key_pair.sign_purchase_intent(&intent_of(&forger, "demo-films", 500, payments.app.now()));
    let (status, _) = payments.pay(&token, "order-0004", &unregistered).await;
    assert_eq!(status, 403);
    assert_eq!((payments.payment_count(), payments.charges_applied()), (0, 0));
}

#[tokio::test]
async fn a_merchant_cannot_reuse_a_signed_intent_for_a_second_charge() {
    let payments = spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    let signed = payments.signed(&payments.intent("demo-films", 500));
    assert_eq!(payments.pay(&token, "order-0005", &signed).await.0, 201);
    let (status, body) = payments.pay(&token, "order-0006", &signed).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("purchase_intent_used")));
    assert_eq!(payments.charges_applied(), 1);
}

#[tokio::test]
async fn a_merchant_cannot_raise_the_amount_after_signing() {
    let payments = spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    let signed = payments.signed(&payments.intent("demo-films", 500));
    let mut payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&signed.payload).unwrap()).unwrap();
    payload["amount"] = json!(50_000);
    let raised = SignedPurchaseIntent {
        payload: URL_SAFE_NO_PAD.encode(payload.to_string().as_bytes()),
        signature: signed.signature.clone(),
    };
    let (status, body) = payments.pay(&token, "order-0007", &raised).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("purchase_intent_invalid")));
    assert_eq!((payments.payment_count(), payments.charges_applied()), (0, 0));
}

#[tokio::test]
async fn a_merchant_cannot_read_another_merchants_payment_or_submit_its_intent() {
    let payments = spawn_payment_app().await;
    let (films, games) = (payments.merchant("demo-films"), payments.merchant("demo-games"));
    let signed = payments.signed(&payments.intent("demo-films", 500));
    let (_, body) = payments.pay(&films, "order-0008", &signed).await;
    let path = format!("/v1/payments/{}", body["payment_id"].as_str().unwrap());
    assert_eq!(payments.get(&films, &path).await.0, 200);
    let (status, body) = payments.get(&games, &path).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("payment_not_found")), "never 403: existence is not told");
    let (_, page) = payments.get(&games, "/v1/payments").await;
    assert_eq!(page["payments"].as_array().unwrap().len(), 0);
    let theirs = payments.signed(&payments.intent("demo-films", 500));
    let (status, body) = payments.pay(&games, "order-0009", &theirs).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("purchase_intent_invalid")));
}

/// The confirmation number in the last SMS to the bound number.
fn confirmation_number(payments: &crate::payment_helpers::PaymentApp) -> String {
    let sent = payments.app.store.notifications_to(&Msisdn::parse(BOUND_NUMBER).unwrap()).unwrap();
    let text = &sent.iter().rev().find(|sms| sms.text.contains("确认支付")).unwrap().text;
    text.split("回复 Y ").nth(1).unwrap()[..6].to_owned()
}

async fn answer(
    payments: &crate::payment_helpers::PaymentApp,
    msisdn: &str,
    approve: bool,
    number: &str,
    sms: &str,
) -> Value {
    let body = json!({ "msisdn": msisdn, "approve": approve, "confirmation_number": number, "sms_message_id": sms });
    let (status, answer) = payments.app.oss_post("/v1/oss/payment-confirmations", &body).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

#[tokio::test]
async fn a_phone_other_than_the_bound_number_cannot_confirm() {
    let payments = spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    let signed = payments.signed(&payments.intent("demo-films", 5000));
    let (status, created) = payments.pay(&token, "order-0010", &signed).await;
    assert_eq!((status, created["state"].as_str()), (201, Some("pending_confirmation")), "{created}");
    let number = confirmation_number(&payments);
    let sms_text = payments.app.store.notifications_to(&Msisdn::parse(BOUND_NUMBER).unwrap()).unwrap();
    assert!(sms_text.iter().any(|sms| sms.text.contains("确认支付 ¥50.00（演示影院，《流浪地球》高清）")));
    let stranger = answer(&payments, "13900139000", true, &number, "sms-stranger").await;
    assert_eq!(stranger["outcome"], "nothing_pending");
    assert_eq!(payments.charges_applied(), 0);
    let confirmed = answer(&payments, BOUND_NUMBER, true, &number, "sms-owner").await;
    assert_eq!((confirmed["outcome"].as_str(), &confirmed["payment_id"]), (Some("confirmed"), &created["payment_id"]));
    let redelivered = answer(&payments, BOUND_NUMBER, true, &number, "sms-owner").await;
    assert_eq!(redelivered, confirmed, "a redelivered sms gets the same answer");
    let (_, payment) = payments.get(&token, &format!("/v1/payments/{}", created["payment_id"].as_str().unwrap())).await;
    assert_eq!(payment["state"], "succeeded");
    assert_eq!(payments.charges_applied(), 1);
}

#[tokio::test]
async fn three_wrong_numbers_cancel_a_pending_payment() {
    let payments = spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    let (_, created) = payments.pay(&token, "order-0011", &payments.signed(&payments.intent("demo-films", 3000))).await;
    let number = confirmation_number(&payments);
    let wrong = if number == "000000" { "000001" } else { "000000" };
    for (attempt, left) in [(1, 2), (2, 1), (3, 0)] {
        let answered = answer(&payments, BOUND_NUMBER, true, wrong, &format!("sms-wrong-{attempt}")).await;
        assert_eq!(
            (answered["outcome"].as_str(), answered["attempts_left"].as_u64()),
            (Some("wrong_number"), Some(left))
        );
    }
    let (_, payment) = payments.get(&token, &format!("/v1/payments/{}", created["payment_id"].as_str().unwrap())).await;
    assert_eq!(
        (payment["state"].as_str(), payment["cancellation_reason"].as_str()),
        (Some("cancelled"), Some("confirmation_attempts_exhausted"))
    );
    assert_eq!(answer(&payments, BOUND_NUMBER, true, &number, "sms-late").await["outcome"], "nothing_pending");
}

#[tokio::test]
async fn bad_input_is_refused_with_its_code_and_nothing_is_written() {
    let payments = spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    let intent = payments.intent("demo-films", 500);
    let good = json!({ "signed_intent": payments.signed(&intent), "reference_code": "ORDER-1" }).to_string();
    let mut cases: Vec<(&str, Option<&str>, String)> = vec![
        ("garbage json", Some("order-0100"), "{not json".to_owned()),
        ("no idempotency key", None, good.clone()),
        ("short idempotency key", Some("short"), good.clone()),
        ("oversized reference", Some("order-0101"), good.replace("ORDER-1", &"R".repeat(65))),
        ("unknown field", Some("order-0102"), good.replace("\"reference_code\"", "\"extra\":1,\"reference_code\"")),
    ];
    let tampered: Vec<(&str, Value)> = vec![
        ("zero amount", json!(0)),
        ("negative amount", json!(-500)),
        ("amount over 2^53", json!(9_007_199_254_740_992i64)),
    ];
    let mut bodies = Vec::new();
    for (name, amount) in tampered {
        let mut payload = serde_json::to_value(&intent).unwrap();
        payload["amount"] = amount;
        bodies.push((name, payload));
    }
    let mut unknown_currency = serde_json::to_value(&intent).unwrap();
    unknown_currency["currency"] = json!("XXX");
    bodies.push(("unknown currency", unknown_currency));
    for (index, (name, payload)) in bodies.into_iter().enumerate() {
        let signed = payments.app.terminal.key_pair.sign_purchase_intent(&intent);
        let forged =
            json!({ "payload": URL_SAFE_NO_PAD.encode(payload.to_string().as_bytes()), "signature": signed.signature });
        let body = json!({ "signed_intent": forged, "reference_code": "ORDER-1" }).to_string();
        cases.push((name, Some(["order-0200", "order-0201", "order-0202", "order-0203"][index]), body));
    }
    for (name, key, body) in cases {
        let (status, answer) = payments.post_raw(&token, key, body).await;
        assert_eq!((status, answer["code"].as_str()), (400, Some("invalid_request")), "{name}: {answer}");
    }
    assert_eq!((payments.payment_count(), payments.charges_applied()), (0, 0));
}

#[tokio::test]
async fn a_stale_intent_is_refused() {
    let payments = spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    let stale = intent_of(&payments.app.terminal, "demo-films", 500, payments.app.now() - 601);
    let (status, body) = payments.pay(&token, "order-0300", &payments.signed(&stale)).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("purchase_intent_stale")));
}

#[tokio::test]
async fn refunds_never_exceed_what_remains_and_send_a_receipt() {
    let payments = spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    let (_, paid) = payments.pay(&token, "order-0400", &payments.signed(&payments.intent("demo-films", 800))).await;
    let refunds = format!("/v1/payments/{}/refunds", paid["payment_id"].as_str().unwrap());
    let (status, refund) =
        payments.post(&token, &refunds, "refund-0001", json!({ "amount": 200, "reason": "坏片" })).await;
    assert_eq!((status, refund["state"].as_str()), (201, Some("succeeded")), "{refund}");
    let (status, body) = payments.post(&token, &refunds, "refund-0002", json!({ "amount": 700, "reason": "x" })).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("refund_exceeds_remaining")));
    let (_, remaining) = payments.get(&token, &format!("{refunds}/remaining-amount")).await;
    assert_eq!(remaining["minor_units"], 600);
    let (status, rest) = payments.post(&token, &refunds, "refund-0003", json!({ "reason": "全部退款" })).await;
    assert_eq!((status, rest["amount"].as_i64()), (201, Some(600)));
    let (_, list) = payments.get(&token, &refunds).await;
    assert_eq!(list["refunds"].as_array().unwrap().len(), 2);
    let one = format!("{refunds}/{}", refund["refund_id"].as_str().unwrap());
    let (status, read) = payments.get(&token, &one).await;
    assert_eq!((status, &read), (200, &refund), "one refund reads as it was answered");
    let sent = payments.app.store.notifications_to(&Msisdn::parse(BOUND_NUMBER).unwrap()).unwrap();
    assert_eq!(sent.iter().filter(|sms| sms.text.contains("已退款")).count(), 2);
}

#[tokio::test]
async fn the_box_follows_its_purchase_by_the_intents_nonce() {
    let payments = spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    let intent = payments.intent("demo-films", 500);
    let path = payments.app.terminal_path(&format!("/purchases/{}", intent.nonce));
    let (status, before, nonce) = payments.app.terminal_call(reqwest::Method::GET, &path, b"").await;
    let before = payments.app.verify_purchase_status(&before, &intent.nonce, &nonce);
    assert_eq!((status, &before["payment_id"]), (200, &Value::Null), "{before}");
    let (_, paid) = payments.pay(&token, "order-0500", &payments.signed(&intent)).await;
    payments.app.clock.advance(std::time::Duration::from_secs(10));
    let (status, after, nonce) = payments.app.terminal_call(reqwest::Method::GET, &path, b"").await;
    let after = payments.app.verify_purchase_status(&after, &intent.nonce, &nonce);
    assert_eq!((status, &after["payment_id"], after["state"].as_str()), (200, &paid["payment_id"], Some("succeeded")));
}

#[tokio::test]
async fn a_final_state_reaches_the_merchants_webhook_signed_by_the_platform_key() {
    use axum::routing::post;
    let payments = spawn_payment_app().await;
    let received = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::<(String, String)>::new()));
    let sink = received.clone();
    let router = axum::Router::new().route(
        "/hooks",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let sink = sink.clone();
            async move {
                let signature = headers["x-numbind-event-signature"].to_str().unwrap().to_owned();
                sink.lock().await.push((body, signature));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let request = numbind_platform::merchant_admin::NewMerchant {
        merchant_id: "hooked-films",
        display_name: "演示影院",
        webhook_url: Some(&url),
        allow_insecure_http_webhook: true,
    };
    let token = numbind_platform::merchant_admin::create_merchant(&payments.app.database_path(), &request).unwrap();
    let (_, paid) = payments.pay(&token, "order-0600", &payments.signed(&payments.intent("hooked-films", 500))).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while received.lock().await.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let events = received.lock().await.clone();
    assert_eq!(events.len(), 1, "one event per final state");
    let (body, signature) = &events[0];
    let key_file = payments.app.database_path().with_file_name("platform-signing.key.pub");
    let key = numbind_wire::statement::PlatformPublicKey::parse(&std::fs::read_to_string(key_file).unwrap()).unwrap();
    assert!(key.verifies_merchant_event(body.as_bytes(), signature));
    assert!(!key.verifies_merchant_event(body.replace("succeeded", "denied").as_bytes(), signature));
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (event["type"].as_str(), &event["payment"]["payment_id"]),
        (Some("payment.succeeded"), &paid["payment_id"])
    );
}

#[tokio::test]
async fn operators_refund_with_a_reason_as_admins_only_and_export_payments_with_the_number_masked() {
    use numbind_platform::{create_operator_token, OperatorRole};
    let payments = spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    let (_, paid) = payments.pay(&token, "order-0700", &payments.signed(&payments.intent("demo-films", 900))).await;
    let path = format!("/v1/operator/payments/{}/refunds", paid["payment_id"].as_str().unwrap());
    let auditor = create_operator_token(&payments.app.database_path(), "audrey", OperatorRole::Auditor).unwrap();
    let admin = create_operator_token(&payments.app.database_path(), "alice", OperatorRole::Admin).unwrap();
    let refund = |bearer: String| {
        let request = payments.app.http.post(format!("{}{path}", payments.app.address)).bearer_auth(bearer);
        async move {
            crate::payment_helpers::status_and_json(
                request.json(&json!({ "reason": "投诉成立" })).send().await.unwrap(),
            )
            .await
        }
    };
    assert_eq!(refund(auditor.clone()).await.0, 403);
    let (status, body) = refund(admin).await;
    assert_eq!(
        (status, body["requested_by"].as_str(), body["amount"].as_i64()),
        (201, Some("operator:alice"), Some(900))
    );
    for export in ["payments.csv", "payments.jsonl"] {
        let url = format!("{}/v1/operator/exports/{export}", payments.app.address);
        let text = payments.app.http.get(url).bearer_auth(&auditor).send().await.unwrap().text().await.unwrap();
        assert!(
            text.contains(paid["payment_id"].as_str().unwrap()) && text.contains("138****8000"),
            "{export}: {text}"
        );
        assert!(!text.contains(BOUND_NUMBER), "{export} shows the full number");
    }
    let kinds: Vec<String> = payments.app.store.audit_events().unwrap().into_iter().map(|event| event.kind).collect();
    for kind in ["payment_created", "payment_succeeded", "refund_created", "refund_succeeded"] {
        assert!(kinds.iter().any(|seen| seen == kind), "no {kind} in the audit chain: {kinds:?}");
    }
}

#[tokio::test]
async fn a_refund_is_read_only_through_its_own_payment_by_its_own_merchant() {
    let payments = spawn_payment_app().await;
    let films = payments.merchant("demo-films");
    let games = payments.merchant("demo-games");
    let (_, first) = payments.pay(&films, "order-0410", &payments.signed(&payments.intent("demo-films", 800))).await;
    let (_, second) = payments.pay(&films, "order-0411", &payments.signed(&payments.intent("demo-films", 300))).await;
    let first_refunds = format!("/v1/payments/{}/refunds", first["payment_id"].as_str().unwrap());
    let (status, refund) =
        payments.post(&films, &first_refunds, "refund-0410", json!({ "amount": 100, "reason": "卡顿" })).await;
    assert_eq!(status, 201, "{refund}");
    let refund_id = refund["refund_id"].as_str().unwrap();
    let through_other_payment = format!("/v1/payments/{}/refunds/{refund_id}", second["payment_id"].as_str().unwrap());
    let (status, body) = payments.get(&films, &through_other_payment).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("refund_not_found")), "{body}");
    let (status, body) = payments.get(&games, &format!("{first_refunds}/{refund_id}")).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("payment_not_found")), "another merchant learns nothing");
    let (status, body) = payments.get(&films, &format!("{first_refunds}/ref-000000000000000000000000")).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("refund_not_found")));
    let (status, body) = payments.get(&films, &format!("{first_refunds}/not%20an%20id")).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("refund_not_found")), "a malformed ID names no refund");
}

#[tokio::test]
async fn a_box_waiting_on_its_purchase_hears_at_once_that_unbinding_cancelled_it() {
    let payments = spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    let intent = payments.intent("demo-films", 5000);
    let (_, pending) = payments.pay(&token, "order-0600", &payments.signed(&intent)).await;
    assert_eq!(pending["state"].as_str(), Some("pending_confirmation"), "{pending}");
    let path = payments.app.terminal_path(&format!("/purchases/{}?wait_seconds=20", intent.nonce));
    let started = std::time::Instant::now();
    let waiting = payments.app.terminal_call(reqwest::Method::GET, &path, b"");
    let unbind = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let request = json!({ "request_id": "unbind-0600", "msisdn": BOUND_NUMBER });
        assert_eq!(payments.app.oss_post("/v1/oss/unbindings", &request).await.0, 200);
    };
    let ((status, answer, nonce), ()) = tokio::join!(waiting, unbind);
    let answer = payments.app.verify_purchase_status(&answer, &intent.nonce, &nonce);
    assert_eq!((status, answer["state"].as_str()), (200, Some("cancelled")), "{answer}");
    assert_eq!(answer["cancellation_reason"].as_str(), Some("unbound"));
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "answered at the unbinding, not at the wait's end");
}
