//! Buying on a bound box, end to end through the real processes: the agent signs, plays the merchant with a
//! credentials file made the way an operator makes one, and follows the payment; the bound phone confirms by SMS
//! above the threshold and receives the receipt.

use crate::helpers::{next_event, numbind, Process, System, FLOW_TIMEOUT, OSS_ADMIN_TOKEN};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

const PAYER: &str = "13800138000";
const OTHER_PHONE: &str = "13900139000";
pub(crate) const FILM: &str = "《流浪地球》高清";
pub(crate) const MERCHANT: &str = "e2e-films";

/// Creates a merchant on the platform's database (`numbind merchant create`), which writes its credentials file.
pub(crate) async fn merchant_credentials(system: &System) -> PathBuf {
    let (path, output) = system.create_merchant(MERCHANT, "演示影院").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(!stdout.contains("nbm_"), "with a credentials file the token is not printed: {stdout}");
    path
}

/// `numbind agent buy` on the box `box` for `amount` yuan of the film.
fn buy(system: &System, credentials: &std::path::Path, amount: &str) -> Process {
    buy_on(system, "box", credentials, amount)
}

/// `numbind agent buy` on the box whose state is `state` for `amount` yuan of the film.
pub(crate) fn buy_on(system: &System, state: &str, credentials: &std::path::Path, amount: &str) -> Process {
    let credentials = credentials.to_str().expect("utf-8 path");
    system.agent(
        state,
        &[
            "buy",
            "--merchant-credentials",
            credentials,
            "--item",
            "film-4412",
            "--description",
            FILM,
            "--amount",
            amount,
        ],
    )
}

/// A bound box and a merchant to buy from.
async fn bound_box_and_merchant() -> (System, PathBuf) {
    let system = System::start().await;
    system.bind_a_box("box", PAYER).await;
    let credentials = merchant_credentials(&system).await;
    (system, credentials)
}

/// The six digits after `Y ` in the confirmation SMS the bound phone `PAYER` received.
async fn confirmation_number(system: &System) -> String {
    confirmation_number_of(system, PAYER).await
}

/// The six digits after `Y ` in the confirmation SMS (for ¥50.00 of the film) the bound phone `msisdn` received.
pub(crate) async fn confirmation_number_of(system: &System, msisdn: &str) -> String {
    let inbox = system.wait_for_sms(msisdn, "回复 Y").await;
    let text = inbox.iter().find(|text| text.contains("回复 Y")).expect("the confirmation sms");
    let after = text.split("Y ").nth(1).expect("Y and the number");
    let number: String = after.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(number.len(), 6, "six digits in {text}");
    assert!(text.contains("¥50.00") && text.contains(FILM), "the sms names the amount and the item: {text}");
    number
}

/// Waits until the phone's inbox has held `needle` for a moment, then counts the messages containing it.
async fn settled_count(system: &System, msisdn: &str, needle: &str) -> usize {
    system.wait_for_sms(msisdn, needle).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    system.inbox(msisdn).await.iter().filter(|text| text.contains(needle)).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_one_step_purchase_succeeds_and_the_phone_gets_one_receipt() {
    let (system, credentials) = bound_box_and_merchant().await;
    let mut agent = buy(&system, &credentials, "5.00");
    let outcome = next_event(&mut agent, &["purchase_outcome"]).await;
    assert_eq!(outcome["outcome"], "succeeded", "{outcome}");
    assert!(outcome["payment_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(agent.wait_exit(FLOW_TIMEOUT).await, Some(0), "the agent exits 0 once paid");
    assert_eq!(settled_count(&system, PAYER, "¥5.00").await, 1, "one receipt: {:?}", system.inbox(PAYER).await);
    let charges = oss_charges(&system, outcome["payment_id"].as_str().unwrap()).await;
    assert_eq!(charges.len(), 1, "billing holds the charge once: {charges:?}");
    assert_eq!(charges[0]["amount_fen"], 500);
    assert_eq!(charges[0]["outcome"], "charged");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_two_step_purchase_is_confirmed_by_y_and_the_number_from_the_bound_phone() {
    let (system, credentials) = bound_box_and_merchant().await;
    let mut agent = buy(&system, &credentials, "50.00");
    let waiting = next_stage(&mut agent, "waiting_for_confirmation").await;
    assert!(waiting["expires_at_unix_seconds"].as_i64().is_some(), "{waiting}");
    let number = confirmation_number(&system).await;
    system.phone_sends(PAYER, &format!("Y {number}")).await;
    let outcome = next_event(&mut agent, &["purchase_outcome"]).await;
    assert_eq!(outcome["outcome"], "succeeded", "{outcome}");
    assert_eq!(agent.wait_exit(FLOW_TIMEOUT).await, Some(0));
    let receipts = settled_count(&system, PAYER, "¥50.00").await;
    assert_eq!(receipts, 2, "the confirmation request and one receipt: {:?}", system.inbox(PAYER).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_from_another_phone_does_not_confirm() {
    let (system, credentials) = bound_box_and_merchant().await;
    let mut agent = buy(&system, &credentials, "50.00");
    next_stage(&mut agent, "waiting_for_confirmation").await;
    let number = confirmation_number(&system).await;
    system.phone_sends(OTHER_PHONE, &format!("Y {number}")).await;
    system.wait_for_sms(OTHER_PHONE, "没有待确认的支付").await;
    // Had the other phone's reply counted, the payment would be final already and `N` would change nothing.
    system.phone_sends(PAYER, &format!("N {number}")).await;
    let outcome = next_event(&mut agent, &["purchase_outcome"]).await;
    assert_eq!(outcome["outcome"], "cancelled", "{outcome}");
    assert_eq!(outcome["reason"], "declined_by_user");
    assert_ne!(agent.wait_exit(FLOW_TIMEOUT).await, Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn n_and_the_number_from_the_bound_phone_cancels_the_purchase() {
    let (system, credentials) = bound_box_and_merchant().await;
    let mut agent = buy(&system, &credentials, "50.00");
    next_stage(&mut agent, "waiting_for_confirmation").await;
    let number = confirmation_number(&system).await;
    system.phone_sends(PAYER, &format!("N {number}")).await;
    let outcome = next_event(&mut agent, &["purchase_outcome"]).await;
    assert_eq!(outcome["outcome"], "cancelled", "{outcome}");
    assert_eq!(agent.wait_exit(FLOW_TIMEOUT).await, Some(4), "cancelled exits 4");
    system.wait_for_sms(PAYER, "已取消支付").await;
    assert!(!system.inbox(PAYER).await.iter().any(|text| text.contains("收据")), "no receipt for a cancelled payment");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_charge_shows_its_reason_in_words() {
    let (system, credentials) = bound_box_and_merchant().await;
    let limits = numbind()
        .args(["oss-sim", "subscriber", "--url", &system.oss_url, "--ca-file"])
        .arg(&system.ca_file)
        .args(["limits", "set", PAYER, "--max-per-charge", "1.00"])
        .env("NUMBIND_OSS_ADMIN_TOKEN", OSS_ADMIN_TOKEN)
        .output()
        .await
        .expect("numbind oss-sim subscriber limits set");
    let printed = String::from_utf8_lossy(&limits.stdout);
    assert!(limits.status.success(), "{printed}{}", String::from_utf8_lossy(&limits.stderr));
    assert!(printed.contains("max_per_charge=¥1.00"), "{printed}");
    let mut agent = buy(&system, &credentials, "5.00");
    let outcome = next_event(&mut agent, &["purchase_outcome"]).await;
    assert_eq!(outcome["outcome"], "denied", "{outcome}");
    assert_eq!(outcome["reason"], "single_charge_limit");
    assert_eq!(outcome["words"], "the amount is over the limit for one purchase");
    assert_eq!(agent.wait_exit(FLOW_TIMEOUT).await, Some(3), "denied exits 3");
}

/// Reads progress events until the stage `stage`.
async fn next_stage(agent: &mut Process, stage: &str) -> Value {
    loop {
        let event = next_event(agent, &["purchase_progress", "purchase_outcome"]).await;
        assert_eq!(event["event"], "purchase_progress", "the purchase ended before {stage}: {event}");
        if event["stage"] == stage {
            return event;
        }
    }
}

/// The OSS's own records of a payment (`GET /v1/charges?payment_id=`).
async fn oss_charges(system: &System, payment_id: &str) -> Vec<Value> {
    let url = format!("{}/v1/charges?payment_id={payment_id}", system.oss_url);
    let body: Value =
        system.oss_admin(system.http.get(url)).send().await.expect("oss charges").json().await.expect("json");
    body["records"].as_array().cloned().unwrap_or_default()
}
