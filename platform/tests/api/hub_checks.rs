//! The national hub's own checks, before any province is asked: a number of no known operator's prefix, a number on
//! the national blacklist and an amount above the national limit each get their own code, a metric line and an
//! audit event.

use crate::helpers::{spawn_app, TestApp};
use crate::payment_helpers::{spawn_payment_app, BOUND_NUMBER};
use numbind_platform::blacklist_admin::{add_to_national_blacklist, remove_from_national_blacklist};
use serde_json::{json, Value};

async fn metrics(app: &TestApp) -> String {
    app.http.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap()
}

/// The hub's refusals in the audit trail: (detail, masked number).
fn hub_refusals(app: &TestApp) -> Vec<(String, Option<String>)> {
    let database = rusqlite::Connection::open(app.database_path()).unwrap();
    let mut statement = database
        .prepare("SELECT detail, msisdn_masked FROM audit_events WHERE kind = 'hub_refusal' ORDER BY sequence")
        .unwrap();
    statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().map(Result::unwrap).collect()
}

fn activation_state(app: &TestApp, activation_id: &str) -> (String, Option<String>) {
    let database = rusqlite::Connection::open(app.database_path()).unwrap();
    database
        .query_row("SELECT state, denial_reason FROM activations WHERE activation_id = ?1", [activation_id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap()
}

#[tokio::test]
async fn a_number_of_no_known_operator_prefix_is_refused_at_the_hub_and_the_code_stays_live() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    for (number, sms) in [("15412345678", "sms-1"), ("1380013800", "sms-2")] {
        let (status, body) = app.redeem(&activation.code, number, sms).await;
        assert_eq!((status, &body["code"]), (422, &json!("number_not_mobile")), "{number}: {body}");
        assert!(!body["message"].as_str().unwrap().contains(number), "{body}");
    }
    let (status, body) = app.redeem(&activation.code, "13800138000", "sms-3").await;
    assert_eq!(status, 200, "the code was not spent by the refused numbers: {body}");
    let text = metrics(&app).await;
    assert!(text.contains("numbind_hub_refusals_total{check=\"number_prefix\",path=\"redemption\"} 2"), "{text}");
    let refusals = hub_refusals(&app);
    assert_eq!(refusals.len(), 2);
    assert_eq!(refusals[0], ("check number_prefix on redemption".to_owned(), Some("154****5678".to_owned())));
    assert_eq!(refusals[1].1, None, "a text that is no number is audited without one");
}

#[tokio::test]
async fn a_nationally_blacklisted_number_is_refused_at_redemption_with_its_own_code_until_removed() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    add_to_national_blacklist(&app.database_path(), "13800138000", "alice", "fraud case 42").unwrap();
    let (status, body) = app.redeem(&activation.code, "13800138000", "sms-1").await;
    assert_eq!((status, &body["code"]), (403, &json!("number_blacklisted_nationally")), "{body}");
    assert_eq!(hub_refusals(&app), [("check blacklist on redemption".to_owned(), Some("138****8000".to_owned()))]);
    assert!(metrics(&app).await.contains("numbind_hub_refusals_total{check=\"blacklist\",path=\"redemption\"} 1"));

    remove_from_national_blacklist(&app.database_path(), "13800138000", "alice", "cleared").unwrap();
    let (status, body) = app.redeem(&activation.code, "13800138000", "sms-2").await;
    assert_eq!(status, 200, "the running platform reads the list on every check: {body}");
}

#[tokio::test]
async fn a_number_blacklisted_after_its_redemption_is_denied_at_confirmation_the_same_way_each_time() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    let (status, body) = app.redeem(&activation.code, "13800138000", "sms-1").await;
    assert_eq!(status, 200, "{body}");
    add_to_national_blacklist(&app.database_path(), "13800138000", "alice", "fraud case 42").unwrap();
    for _ in 0..2 {
        let (status, body) = app.confirm_bound(activation.activation_id.as_str(), "13800138000", "bnd-1").await;
        assert_eq!((status, &body["code"]), (403, &json!("number_blacklisted_nationally")), "{body}");
    }
    let state = activation_state(&app, activation.activation_id.as_str());
    assert_eq!(
        state,
        ("denied".to_owned(), Some("subscriber_blacklisted".to_owned())),
        "the box is told, not left waiting"
    );
    assert!(app.store.active_binding(&app.terminal.terminal_id).unwrap().is_none());
    let refusals = hub_refusals(&app);
    assert_eq!(refusals.len(), 2, "each refused call is audited");
    assert!(refusals[0].0.starts_with("check blacklist on confirmation"), "{refusals:?}");
}

#[tokio::test]
async fn a_payment_above_the_national_limit_is_refused_before_any_province_is_asked() {
    let payments = spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    let over = payments.signed(&payments.intent("demo-films", 50_001));
    let (status, body) = payments.pay(&token, "key-over", &over).await;
    assert_eq!((status, &body["code"]), (422, &json!("amount_over_national_limit")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("50000 fen"), "{body}");
    assert_eq!((payments.payment_count(), payments.billing.lock().unwrap().charge_calls), (0, 0));
    let refusals = hub_refusals(&payments.app);
    assert!(refusals[0].0.starts_with("check amount_limit on payment: merchant demo-films"), "{refusals:?}");
    assert!(metrics(&payments.app)
        .await
        .contains("numbind_hub_refusals_total{check=\"amount_limit\",path=\"payment\"} 1"));
    let within = payments.signed(&payments.intent("demo-films", 100));
    let (status, body) = payments.pay(&token, "key-within", &within).await;
    assert_eq!((status, &body["state"]), (201, &json!("succeeded")), "{body}");
}

#[tokio::test]
async fn a_payment_for_a_nationally_blacklisted_number_is_denied_at_once_with_its_own_reason() {
    let payments = spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    add_to_national_blacklist(&payments.app.database_path(), BOUND_NUMBER, "alice", "fraud case 42").unwrap();
    for amount in [100, 5_000] {
        let signed = payments.signed(&payments.intent("demo-films", amount));
        let (status, body): (u16, Value) = payments.pay(&token, &format!("key-amount-{amount}"), &signed).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!((&body["state"], &body["denial_reason"]), (&json!("denied"), &json!("blacklisted_nationally")));
    }
    assert_eq!(payments.billing.lock().unwrap().charge_calls, 0, "no province was asked");
    assert!(
        payments.app.store.notifications_to(&numbind_wire::Msisdn::parse(BOUND_NUMBER).unwrap()).unwrap().len() <= 1,
        "no confirmation SMS for a payment the hub refused (only the binding's confirmation)"
    );
    let text = metrics(&payments.app).await;
    assert!(text.contains("numbind_hub_refusals_total{check=\"blacklist\",path=\"payment\"} 2"), "{text}");
}
