//! Payment test harness: a fake OSS billing system (idempotent by payment and refund ID, counting what it
//! applied), a platform pointed at it with a bound test terminal, merchants, and signed intents.

use crate::helpers::{spawn_app_with, TestApp, TestTerminal};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use numbind_platform::merchant_admin::{create_merchant, NewMerchant};
use numbind_platform::store::PaymentFilter;
use numbind_wire::api::{
    BillingRefundOutcome, BillingRefundRequest, ChargeOutcome, ChargeRequest, PaymentDenialReason,
};
use numbind_wire::{Amount, Currency, ItemDescription, ItemId, MerchantId, PurchaseIntent, SignedPurchaseIntent};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub(crate) const BOUND_NUMBER: &str = "13800138000";

/// What the fake billing system saw and applied.
#[derive(Default)]
pub(crate) struct Billing {
    /// Charges applied, by payment ID (a retried call answers the first outcome and applies nothing).
    pub(crate) charges: HashMap<String, ChargeOutcome>,
    pub(crate) charge_calls: usize,
    pub(crate) refunds: HashMap<String, i64>,
    /// Decline every charge with this reason.
    pub(crate) decline_with: Option<PaymentDenialReason>,
}

pub(crate) type SharedBilling = Arc<Mutex<Billing>>;

async fn charge(State(billing): State<SharedBilling>, Json(request): Json<ChargeRequest>) -> Json<ChargeOutcome> {
    let mut billing = billing.lock().unwrap();
    billing.charge_calls += 1;
    let outcome = match billing.decline_with {
        Some(reason) => ChargeOutcome::Declined { reason },
        None => {
            ChargeOutcome::Charged { bill_line_id: format!("BL-{}", request.payment_id), charged_at_unix_seconds: 1 }
        }
    };
    Json(billing.charges.entry(request.payment_id.to_string()).or_insert(outcome).clone())
}

async fn check(State(billing): State<SharedBilling>, Json(_): Json<ChargeRequest>) -> Json<ChargeOutcome> {
    let billing = billing.lock().unwrap();
    Json(match billing.decline_with {
        Some(reason) => ChargeOutcome::Declined { reason },
        None => ChargeOutcome::Charged { bill_line_id: "check".to_owned(), charged_at_unix_seconds: 1 },
    })
}

async fn refund(
    State(billing): State<SharedBilling>,
    Json(request): Json<BillingRefundRequest>,
) -> Json<BillingRefundOutcome> {
    let mut billing = billing.lock().unwrap();
    billing.refunds.entry(request.refund_id.to_string()).or_insert(request.amount.minor_units());
    Json(BillingRefundOutcome::Refunded {
        bill_line_id: format!("RF-{}", request.refund_id),
        refunded_at_unix_seconds: 1,
    })
}

/// A platform with a fake OSS billing system, its test terminal bound to [`BOUND_NUMBER`].
pub(crate) struct PaymentApp {
    pub(crate) app: TestApp,
    pub(crate) billing: SharedBilling,
}

pub(crate) async fn spawn_payment_app() -> PaymentApp {
    spawn_payment_app_with(|_| {}).await
}

/// [`spawn_payment_app`], its config adjusted by `adjust` after the OSS is set.
pub(crate) async fn spawn_payment_app_with(adjust: impl FnOnce(&mut numbind_platform::Config)) -> PaymentApp {
    let billing = SharedBilling::default();
    let router = Router::new()
        .route("/v1/platform/charges", post(charge))
        .route("/v1/platform/charge-checks", post(check))
        .route("/v1/platform/refunds", post(refund))
        .with_state(billing.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let oss_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let app = spawn_app_with(|config| {
        config.oss_url = Some(oss_url);
        adjust(config);
    })
    .await;
    app.bind_test_terminal(BOUND_NUMBER, "bnd-pay-1").await;
    PaymentApp { app, billing }
}

impl PaymentApp {
    /// Creates a merchant in the platform's database; returns its token.
    pub(crate) fn merchant(&self, merchant_id: &str) -> String {
        let request = NewMerchant {
            merchant_id,
            display_name: "演示影院",
            webhook_url: None,
            allow_insecure_http_webhook: false,
        };
        create_merchant(&self.app.database_path(), &request).unwrap()
    }

    /// An intent of the test terminal for `merchant_id`, signed now.
    pub(crate) fn intent(&self, merchant_id: &str, amount_fen: i64) -> PurchaseIntent {
        intent_of(&self.app.terminal, merchant_id, amount_fen, self.app.now())
    }

    pub(crate) fn signed(&self, intent: &PurchaseIntent) -> SignedPurchaseIntent {
        self.app.terminal.key_pair.sign_purchase_intent(intent)
    }

    /// `POST /v1/payments` with a raw body and optional idempotency key.
    pub(crate) async fn post_raw(&self, token: &str, key: Option<&str>, body: String) -> (u16, Value) {
        let mut request = self
            .app
            .http
            .post(format!("{}/v1/payments", self.app.address))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        status_and_json(request.send().await.unwrap()).await
    }

    pub(crate) async fn pay(&self, token: &str, key: &str, signed: &SignedPurchaseIntent) -> (u16, Value) {
        let body = json!({ "signed_intent": signed, "reference_code": "ORDER-1" });
        self.post_raw(token, Some(key), body.to_string()).await
    }

    pub(crate) async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let request = self.app.http.get(format!("{}{path}", self.app.address)).bearer_auth(token);
        status_and_json(request.send().await.unwrap()).await
    }

    pub(crate) async fn post(&self, token: &str, path: &str, key: &str, body: Value) -> (u16, Value) {
        let request = self
            .app
            .http
            .post(format!("{}{path}", self.app.address))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&body);
        status_and_json(request.send().await.unwrap()).await
    }

    /// Every payment in the database.
    pub(crate) fn payment_count(&self) -> usize {
        let filter = PaymentFilter { limit: 1000, ..PaymentFilter::default() };
        self.app.store.search_payments(&filter).unwrap().len()
    }

    pub(crate) fn charges_applied(&self) -> usize {
        self.billing.lock().unwrap().charges.len()
    }
}

pub(crate) fn intent_of(terminal: &TestTerminal, merchant_id: &str, amount_fen: i64, now: i64) -> PurchaseIntent {
    PurchaseIntent {
        terminal_id: terminal.terminal_id.clone(),
        merchant_id: MerchantId::parse(merchant_id).unwrap(),
        item_id: ItemId::parse("film-4412").unwrap(),
        item_description: ItemDescription::parse("《流浪地球》高清").unwrap(),
        amount: Amount::from_minor_units(amount_fen).unwrap(),
        currency: Currency::Cny,
        nonce: numbind_wire::request_signing::new_nonce(&ring::rand::SystemRandom::new()).unwrap(),
        signed_at_unix_seconds: now,
    }
}

pub(crate) async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}
