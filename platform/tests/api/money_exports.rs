//! The money exports and the ledger behind settlement and reconciliation: refunds and a day's settlement lines as
//! CSV and JSON Lines (numbers masked), the ledger's receipts, and the repair route's refusals and adjustments.

use crate::payment_helpers::{spawn_payment_app, PaymentApp, BOUND_NUMBER};
use numbind_platform::{create_operator_token, OperatorRole};
use serde_json::{json, Value};

/// A charge of 800 fen and a refund of 200 of it; the payment and refund IDs.
async fn charge_and_refund(payments: &PaymentApp) -> (String, String) {
    let token = payments.merchant("demo-films");
    let (_, paid) = payments.pay(&token, "order-x1", &payments.signed(&payments.intent("demo-films", 800))).await;
    let payment_id = paid["payment_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/payments/{payment_id}/refunds");
    let (status, refund) = payments.post(&token, &path, "refund-x1", json!({ "amount": 200, "reason": "坏片" })).await;
    assert_eq!(status, 201, "{refund}");
    (payment_id, refund["refund_id"].as_str().unwrap().to_owned())
}

async fn text(payments: &PaymentApp, token: &str, path: &str) -> (u16, String) {
    let response =
        payments.app.http.get(format!("{}{path}", payments.app.address)).bearer_auth(token).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn today(payments: &PaymentApp) -> String {
    numbind_process::civil_date::CivilDate::of(payments.app.now(), 8 * 3600).to_string()
}

#[tokio::test]
async fn refunds_and_settlement_lines_export_masked_in_both_formats() {
    let payments = spawn_payment_app().await;
    let (payment_id, refund_id) = charge_and_refund(&payments).await;
    let token = create_operator_token(&payments.app.database_path(), "ann", OperatorRole::Auditor).unwrap();
    let (status, csv) = text(&payments, &token, "/v1/operator/exports/refunds.csv").await;
    assert_eq!(status, 200);
    assert!(csv.starts_with("refund_id,payment_id,merchant_id,msisdn_masked") && csv.contains(&refund_id), "{csv}");
    assert!(csv.contains("138****8000") && !csv.contains(BOUND_NUMBER), "{csv}");
    let (_, lines) = text(&payments, &token, "/v1/operator/exports/refunds.jsonl").await;
    let refund: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!((refund["amount_fen"].as_i64(), refund["payment_id"].as_str()), (Some(200), Some(payment_id.as_str())));

    let day = today(&payments);
    let (status, settlement) =
        text(&payments, &token, &format!("/v1/operator/exports/settlement-lines.jsonl?day={day}")).await;
    assert_eq!(status, 200, "{settlement}");
    let kinds: Vec<String> = settlement
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["charge", "refund"], "{settlement}");
    assert!(!settlement.contains(BOUND_NUMBER));
    let (_, csv) = text(&payments, &token, &format!("/v1/operator/exports/settlement-lines.csv?day={day}")).await;
    assert_eq!(csv.lines().count(), 3, "a header and two lines: {csv}");
    let (status, _) = text(&payments, &token, "/v1/operator/exports/settlement-lines.csv?day=2026-13-01").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_ledger_names_each_receipt_and_repairs_are_admin_only_typed_and_audited() {
    let payments = spawn_payment_app().await;
    let (payment_id, refund_id) = charge_and_refund(&payments).await;
    let day = today(&payments);
    let auditor = create_operator_token(&payments.app.database_path(), "ann", OperatorRole::Auditor).unwrap();
    let (status, ledger) = payments.get(&auditor, &format!("/v1/operator/payment-ledger?day={day}")).await;
    assert_eq!(status, 200, "{ledger}");
    let entries = ledger["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{ledger}");
    assert_eq!(entries[0]["receipts"][0]["outbox_id"], format!("rcpt-{payment_id}"));
    assert_eq!(entries[1]["receipts"][0]["outbox_id"], format!("rcpt-{refund_id}"));

    let repair = |token: String, body: Value| {
        let request = payments.app.http.post(format!("{}/v1/operator/payment-repairs", payments.app.address));
        async move {
            let response = request.bearer_auth(token).json(&body).send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    let adjust = json!({ "day": day, "record_id": refund_id, "action": "adjust", "difference": "amount_differs",
                         "reason": "billing rounded, ticket 1" });
    assert_eq!(repair(auditor.clone(), adjust.clone()).await.0, 403, "an auditor may not repair");
    let admin = create_operator_token(&payments.app.database_path(), "bob", OperatorRole::Admin).unwrap();
    let (status, answer) = repair(admin.clone(), adjust.clone()).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("adjusted")), "{answer}");
    assert_eq!(repair(admin.clone(), adjust).await.1["outcome"], "already_adjusted");
    let unknown = json!({ "day": day, "record_id": "pay-0000000000000000000000aa", "action": "resend_receipt" });
    assert_eq!(repair(admin.clone(), unknown).await.0, 404);
    let no_reason = json!({ "day": day, "record_id": refund_id, "action": "adjust", "difference": "billing_only" });
    assert_eq!(repair(admin.clone(), no_reason).await.0, 400);
    let (_, ledger) = payments.get(&auditor, &format!("/v1/operator/payment-ledger?day={day}")).await;
    assert_eq!(ledger["adjustments"][0]["reason"], "billing rounded, ticket 1");
}
