//! The national hub's billing, end to end: each province's charges are queued and drained apart, so with one
//! province's OSS killed the other province's purchases complete as usual, and the killed province's queued charges
//! complete after it restarts, each charged once. And the hub's own checks: a number on the national blacklist is
//! refused before any province decides, with its own words in the user's SMS.

use crate::helpers::{next_event, numbind, System, FLOW_TIMEOUT};
use crate::hub::{Hub, BEIJING_PAYER, GUANGDONG_PAYER};
use crate::purchases::{buy_on, merchant_credentials};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The charges `province`'s OSS holds for `msisdn`: bill lines by payment ID (a payment charged twice would show
/// two records).
async fn oss_charges_by_payment(hub: &Hub, province: &str, msisdn: &str) -> BTreeMap<String, usize> {
    let address = &hub.oss_addresses[Hub::province_index(province)];
    let url = format!("https://{address}/v1/charges?msisdn={msisdn}");
    let body: Value = hub.system.oss_admin(hub.system.http.get(url)).send().await.unwrap().json().await.unwrap();
    let mut charged = BTreeMap::new();
    for record in body["records"].as_array().cloned().unwrap_or_default() {
        if record["kind"] != "refund" && record["outcome"] == "charged" {
            *charged.entry(record["payment_id"].as_str().unwrap_or_default().to_owned()).or_insert(0) += 1;
        }
    }
    charged
}

/// The platform's ledger of `msisdn`: its succeeded payments' IDs.
fn platform_succeeded_payments(hub: &Hub, msisdn: &str) -> Vec<String> {
    let database = rusqlite::Connection::open(hub.system.path("platform.db")).expect("platform.db");
    let mut statement = database
        .prepare("SELECT payment_id FROM payments WHERE msisdn = ?1 AND state = 'succeeded' ORDER BY payment_id")
        .unwrap();
    statement.query_map([msisdn], |row| row.get(0)).unwrap().map(Result::unwrap).collect()
}

/// The platform's `/metrics` text.
async fn platform_metrics(hub: &Hub) -> String {
    let url = format!("{}/metrics", hub.system.platform_url);
    hub.system.http.get(url).send().await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn with_one_provinces_oss_killed_the_others_purchases_complete_and_its_own_are_charged_once_after() {
    let mut hub = Hub::start().await;
    // Two boxes per province, each paid for by the province's demo payer (up to two boxes): the OSS spaces one
    // binding's charges by 2 s, so each box buys once.
    let bound = tokio::join!(
        hub.system.bind_a_box("beijing-1", BEIJING_PAYER),
        hub.system.bind_a_box("beijing-2", BEIJING_PAYER),
        hub.system.bind_a_box("guangdong-1", GUANGDONG_PAYER),
        hub.system.bind_a_box("guangdong-2", GUANGDONG_PAYER),
    );
    for event in [bound.0, bound.1, bound.2, bound.3] {
        assert_eq!(event["event"], "bound", "{event}");
    }
    let credentials = merchant_credentials(&hub.system).await;
    hub.kill_oss("BJ").await;

    // Beijing's purchases wait in Beijing's queue: their charges cannot be answered while its OSS is down.
    let mut beijing_buyers = vec![
        buy_on(&hub.system, "beijing-1", &credentials, "5.00"),
        buy_on(&hub.system, "beijing-2", &credentials, "6.00"),
    ];
    for buyer in &mut beijing_buyers {
        let progress = next_event(buyer, &["purchase_progress", "purchase_outcome"]).await;
        assert_eq!(progress["event"], "purchase_progress", "{progress}");
    }
    // Guangdong's purchases complete meanwhile, at once: nothing of Beijing's stands in their way.
    for (state, amount) in [("guangdong-1", "7.00"), ("guangdong-2", "8.00")] {
        let started = Instant::now();
        let mut buyer = buy_on(&hub.system, state, &credentials, amount);
        let outcome = next_event(&mut buyer, &["purchase_outcome"]).await;
        assert_eq!(outcome["outcome"], "succeeded", "{outcome}");
        assert!(started.elapsed() < Duration::from_secs(10), "a Guangdong purchase took {:?}", started.elapsed());
    }
    let metrics = platform_metrics(&hub).await;
    assert!(metrics.contains("billing_outbox_depth{province=\"BJ\"} 2"), "Beijing's queue holds its two: {metrics}");

    hub.restart_oss("BJ").await;
    for buyer in &mut beijing_buyers {
        let outcome = next_event(buyer, &["purchase_outcome"]).await;
        assert_eq!(outcome["outcome"], "succeeded", "{outcome}");
    }
    // The ledger equals each province's bill lines, every payment charged once, and by its own province only.
    let deadline = Instant::now() + FLOW_TIMEOUT;
    let mut ledger = platform_succeeded_payments(&hub, BEIJING_PAYER);
    while ledger.len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        ledger = platform_succeeded_payments(&hub, BEIJING_PAYER);
    }
    let beijing_bill = oss_charges_by_payment(&hub, "BJ", BEIJING_PAYER).await;
    assert_eq!(beijing_bill.keys().cloned().collect::<Vec<_>>(), ledger, "Beijing's ledger is its bill");
    assert!(beijing_bill.values().all(|lines| *lines == 1), "each charged once: {beijing_bill:?}");
    let guangdong_bill = oss_charges_by_payment(&hub, "GD", GUANGDONG_PAYER).await;
    let guangdong_ledger = platform_succeeded_payments(&hub, GUANGDONG_PAYER);
    assert_eq!(guangdong_bill.keys().cloned().collect::<Vec<_>>(), guangdong_ledger);
    assert_eq!(guangdong_ledger.len(), 2);
    assert!(oss_charges_by_payment(&hub, "GD", BEIJING_PAYER).await.is_empty(), "Guangdong billed no Beijing number");
    let metrics = platform_metrics(&hub).await;
    assert!(
        metrics.contains("billing_attempts_total{province=\"BJ\",kind=\"charge\",result=\"answered\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("billing_outbox_depth{province=\"GD\"} 0"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_number_on_the_national_blacklist_is_refused_with_its_own_words_before_any_province_decides() {
    let system = System::start().await;
    let listed = numbind()
        .args(["blacklist", "add", "13800138000", "--operator", "e2e", "--reason", "fraud case 42", "--data-dir"])
        .arg(system.path(""))
        .output()
        .await
        .expect("numbind blacklist add");
    let printed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.status.success(), "{printed}{}", String::from_utf8_lossy(&listed.stderr));
    assert!(printed.contains("138****8000 added to") && !printed.contains("13800138000"), "{printed}");
    let list = numbind().args(["blacklist", "list", "--data-dir"]).arg(system.path("")).output().await.unwrap();
    let printed = String::from_utf8_lossy(&list.stdout);
    assert!(printed.contains("138****8000") && printed.contains("fraud case 42"), "{printed}");
    assert!(!printed.contains("13800138000"), "numbers are masked: {printed}");

    let mut agent = system.agent("box", &["run"]);
    let activation = next_event(&mut agent, &["activation"]).await;
    system.phone_sends("13800138000", activation["sms_text"].as_str().unwrap()).await;
    let inbox = system.wait_for_sms("13800138000", "全国业务黑名单").await;
    assert_eq!(inbox.len(), 1, "only the hub's refusal: {inbox:?}");
    let subscribers = system.oss_admin(system.http.get(format!("{}/v1/bindings?msisdn=13800138000", system.oss_url)));
    let body: Value = subscribers.send().await.unwrap().json().await.unwrap();
    assert_eq!(body["bindings"].as_array().map(Vec::len), Some(0), "the province recorded nothing: {body}");
}
