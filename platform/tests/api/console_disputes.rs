//! The console's disputes page: an open dispute listed with its number masked, resolved by each of its two forms
//! (a refund of what remains, a rejection with the reason the user is sent), and a malformed rejection refused.

use crate::console::Browser;
use crate::payment_helpers::{spawn_payment_app, PaymentApp, BOUND_NUMBER};
use numbind_platform::store::Store;
use numbind_platform::OperatorRole;
use numbind_wire::api::DisputeState;
use serde_json::json;

/// Pays `amount_fen` and opens a dispute on it as the OSS would for the number's `投诉 <receipt number>`.
async fn disputed_payment(payments: &PaymentApp, token: &str, key: &str, amount_fen: i64) -> (String, String) {
    let (status, paid) = payments.pay(token, key, &payments.signed(&payments.intent("demo-films", amount_fen))).await;
    assert_eq!(status, 201, "{paid}");
    let payment_id = paid["payment_id"].as_str().unwrap().to_owned();
    let request = json!({ "msisdn": BOUND_NUMBER, "payment_id": payment_id, "sms_message_id": format!("mo-{key}") });
    let (status, opened) = payments.app.oss_post("/v1/oss/disputes", &request).await;
    assert_eq!(status, 200, "{opened}");
    (payment_id, opened["dispute_id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn an_admin_refunds_one_dispute_and_rejects_another_from_the_disputes_page() {
    let payments = spawn_payment_app().await;
    let app = &payments.app;
    let token = payments.merchant("demo-films");
    let (refunded_payment, refunded) = disputed_payment(&payments, &token, "order-d1", 500).await;
    let (_, rejected) = disputed_payment(&payments, &token, "order-d2", 300).await;

    let admin = Browser::signed_in(app, "bob", OperatorRole::Admin).await;
    let auditor = Browser::signed_in(app, "audrey", OperatorRole::Auditor).await;
    let listed = admin.get("/console/disputes").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert!(listed.body.contains(&refunded) && listed.body.contains(&rejected), "{}", listed.body);
    assert!(listed.body.contains("138****8000") && !listed.body.contains(BOUND_NUMBER), "numbers are masked");
    assert!(listed.body.contains(&format!("/console/disputes/{refunded}/refund")));
    let read_only = auditor.get("/console/disputes").await;
    assert!(read_only.body.contains(&refunded) && !read_only.body.contains("/refund\""), "an auditor only reads");

    let csrf = admin.csrf_token().await;
    let forbidden = auditor.post(&format!("/console/disputes/{refunded}/refund"), &[("csrf_token", &csrf)]).await;
    assert_eq!(forbidden.status, 403, "{}", forbidden.body);
    let no_reason =
        admin.post(&format!("/console/disputes/{rejected}/reject"), &[("reason", " "), ("csrf_token", &csrf)]).await;
    assert_eq!(no_reason.status, 400, "{}", no_reason.body);
    let unknown = admin.post("/console/disputes/dsp-nosuch/refund", &[("csrf_token", &csrf)]).await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    let refund = admin.post(&format!("/console/disputes/{refunded}/refund"), &[("csrf_token", &csrf)]).await;
    assert_eq!((refund.status, refund.location.as_deref()), (303, Some("/console/disputes")), "{}", refund.body);
    let reason = [("reason", "扣费与订单一致"), ("csrf_token", csrf.as_str())];
    let reject = admin.post(&format!("/console/disputes/{rejected}/reject"), &reason).await;
    assert_eq!((reject.status, reject.location.as_deref()), (303, Some("/console/disputes")), "{}", reject.body);
    let again = admin.post(&format!("/console/disputes/{refunded}/refund"), &[("csrf_token", &csrf)]).await;
    assert_eq!(again.status, 400, "a resolved dispute is not resolved twice: {}", again.body);

    let store = Store::open(&app.database_path()).unwrap();
    let refunded_now = store.dispute(&refunded).unwrap().unwrap();
    assert_eq!(refunded_now.state, DisputeState::Refunded);
    assert_eq!(refunded_now.resolved_by.as_deref(), Some("operator:bob"));
    assert!(refunded_now.refund_id.is_some(), "a refund was made of what remains");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while payments.billing.lock().unwrap().refunds.values().sum::<i64>() != 500 {
        assert!(std::time::Instant::now() < deadline, "the refund of {refunded_payment} reaches billing");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let rejected_now = store.dispute(&rejected).unwrap().unwrap();
    assert_eq!(rejected_now.state, DisputeState::Rejected);
    assert_eq!(rejected_now.rejection_reason.as_deref(), Some("扣费与订单一致"));
    let emptied = admin.get("/console/disputes").await;
    assert!(!emptied.body.contains(&refunded) && !emptied.body.contains(&rejected), "{}", emptied.body);
}
