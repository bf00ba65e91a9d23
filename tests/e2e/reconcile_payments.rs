//! Three-way payment reconciliation through the real processes: purchases on a bound box, then one-sided entries
//! injected straight into one side's SQLite database (as an operator's bug would leave them), the real
//! `numbind reconcile payments` naming each kind, each repaired with `numbind reconcile payments repair`, and the
//! next run clean. Exit codes 0, 1 and 2 (the OSS stopped).

use crate::helpers::{next_event, numbind, Component, System, FLOW_TIMEOUT, OSS_ADMIN_TOKEN};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub(crate) const PAYER: &str = "13800138000";
const INJECTED_PLATFORM_PAYMENT: &str = "pay-0000000000000000000000dd";
const INJECTED_BILL_LINE: &str = "pay-0000000000000000000000ee";
const INJECTED_RECEIPT: &str = "pay-0000000000000000000000ff";

/// A system with a bound box, a merchant, and one succeeded purchase per amount (yuan, below the confirmation
/// threshold): the system, the merchant's credentials file and the payment IDs.
pub(crate) async fn bound_box_with_purchases(amounts: &[&str]) -> (System, PathBuf, Vec<String>) {
    let system = System::start().await;
    system.bind_a_box("box", PAYER).await;
    let (credentials, output) = system.create_merchant("e2e-films", "演示影院").await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut payment_ids = Vec::new();
    for amount in amounts {
        payment_ids.push(buy(&system, &credentials, amount).await);
        // The OSS's minimum interval between two charges of one binding is 2 s.
        tokio::time::sleep(Duration::from_millis(2_100)).await;
    }
    (system, credentials, payment_ids)
}

/// `numbind agent buy` of `amount` yuan; the succeeded payment's ID.
pub(crate) async fn buy(system: &System, credentials: &Path, amount: &str) -> String {
    let credentials = credentials.to_str().expect("utf-8 path");
    let arguments = [
        "buy",
        "--merchant-credentials",
        credentials,
        "--item",
        "film-1",
        "--description",
        "流浪地球",
        "--amount",
        amount,
    ];
    let mut agent = system.agent("box", &arguments);
    let outcome = next_event(&mut agent, &["purchase_outcome"]).await;
    assert_eq!(outcome["outcome"], "succeeded", "{outcome}");
    outcome["payment_id"].as_str().expect("payment_id").to_owned()
}

/// Today in China Standard Time, the billing day of the purchases just made.
pub(crate) fn billing_day() -> String {
    let now = numbind_process::clock::now_unix_seconds();
    numbind_process::clock::CivilDateTime::at(now, numbind_process::clock::CHINA_STANDARD_TIME_OFFSET_SECONDS)
        .date_text()
}

/// `numbind reconcile payments --date <day> --json`: its exit code and summary.
async fn reconcile_payments(system: &System, token: &str, day: &str) -> (Option<i32>, Value) {
    let output = numbind()
        .args(["reconcile", "payments", "--json", "--date", day, "--platform-url", &system.platform_url])
        .args(["--oss-url", &system.oss_url, "--smsc-url", &system.smsc_url])
        .arg("--ca-file")
        .arg(&system.ca_file)
        .env("NUMBIND_OPERATOR_TOKEN", token)
        .env("NUMBIND_OSS_ADMIN_TOKEN", OSS_ADMIN_TOKEN)
        .output()
        .await
        .expect("numbind reconcile payments");
    let summary = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    if output.status.code() != Some(0) {
        eprintln!("reconcile payments: {}", String::from_utf8_lossy(&output.stderr));
    }
    (output.status.code(), summary)
}

/// Runs reconciliation until it is clean (receipts and re-driven charges take a moment); fails after the flow timeout.
async fn wait_until_clean(system: &System, token: &str, day: &str) -> Value {
    let deadline = Instant::now() + FLOW_TIMEOUT;
    loop {
        let (code, summary) = reconcile_payments(system, token, day).await;
        if code == Some(0) {
            return summary;
        }
        assert!(Instant::now() < deadline, "reconciliation never came out clean: {code:?} {summary}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `numbind reconcile payments repair ...`; fails unless it exits 0.
async fn repair(system: &System, token: &str, day: &str, record_id: &str, action: &str, adjust: Option<(&str, &str)>) {
    let mut command = numbind();
    command
        .args(["reconcile", "payments", "repair", "--date", day, "--record-id", record_id, "--action", action])
        .args(["--platform-url", &system.platform_url])
        .arg("--ca-file")
        .arg(&system.ca_file)
        .env("NUMBIND_OPERATOR_TOKEN", token)
        .env("NUMBIND_OSS_ADMIN_TOKEN", OSS_ADMIN_TOKEN);
    if let Some((difference, reason)) = adjust {
        command.args(["--difference", difference, "--reason", reason]);
    }
    let output = command.output().await.expect("numbind reconcile payments repair");
    assert_eq!(
        output.status.code(),
        Some(0),
        "repair {action} {record_id}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn open(path: PathBuf) -> rusqlite::Connection {
    let connection = rusqlite::Connection::open(path).expect("open a component's database");
    connection.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
    connection
}

/// The one-sided entries an operator's bug would leave, one of each kind, written straight into the databases.
fn inject_one_sided_entries(system: &System, payments: &[String]) {
    let (deleted_in_billing, amount_changed, receipt_dropped) = (&payments[0], &payments[1], &payments[2]);
    let oss = open(system.path("oss.db"));
    let copy_as_bill_line_only = "INSERT INTO charges SELECT ?1, binding_id, msisdn, merchant_id, item_description, 300,
         currency, 'charged', NULL, 'bill-injected', local_day, local_month, created_at_ms FROM charges WHERE payment_id = ?2";
    oss.execute(copy_as_bill_line_only, [INJECTED_BILL_LINE, deleted_in_billing.as_str()]).expect("bill line only");
    oss.execute("DELETE FROM charges WHERE payment_id = ?1", [deleted_in_billing]).expect("delete a bill line");
    oss.execute("UPDATE charges SET amount_fen = amount_fen + 1 WHERE payment_id = ?1", [amount_changed])
        .expect("amount");
    let platform = open(system.path("platform.db"));
    let copy_as_platform_only =
        "INSERT INTO payments (payment_id, merchant_id, reference_code, terminal_id, intent_nonce,
         binding_id, msisdn, item_id, item_description, amount, currency, state, created_at, updated_at, finalized_at)
         SELECT ?1, merchant_id, 'injected', terminal_id, 'injected-nonce', binding_id, msisdn, item_id,
         item_description, 250, currency, 'succeeded', created_at, updated_at, finalized_at FROM payments
         WHERE payment_id = ?2";
    platform
        .execute(copy_as_platform_only, [INJECTED_PLATFORM_PAYMENT, amount_changed.as_str()])
        .expect("platform only");
    let smsc = open(system.path("smsc.db"));
    smsc.execute("DELETE FROM messages WHERE client_reference = 'rcpt-' || ?1", [receipt_dropped])
        .expect("drop receipt");
    let now_ms = numbind_process::clock::now_unix_millis();
    smsc.execute(
        "INSERT INTO messages (message_id, direction, source, destination, text, account, client_reference, state,
         attempts, next_attempt_at_ms, created_at_ms, delivered_at_ms)
         VALUES ('injected-receipt', 'mt', '10658000', ?1, 'receipt', 'platform', ?2, 'delivered', 1, ?3, ?3, ?3)",
        rusqlite::params![PAYER, format!("rcpt-{INJECTED_RECEIPT}"), now_ms],
    )
    .expect("a receipt of no charge");
}

fn named(summary: &Value) -> Vec<(String, String)> {
    let mut kinds: Vec<(String, String)> = summary["differences"]
        .as_array()
        .map(|differences| {
            differences
                .iter()
                .map(|difference| {
                    (
                        difference["kind"].as_str().unwrap_or("").to_owned(),
                        difference["record_id"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    kinds.sort();
    kinds
}

#[tokio::test(flavor = "multi_thread")]
async fn each_one_sided_entry_is_named_repaired_and_reconciliation_comes_out_clean() {
    let (mut system, _credentials, payments) = bound_box_with_purchases(&["1.00", "2.00", "3.00"]).await;
    let (token, day) = (system.admin_token().await, billing_day());
    let clean = wait_until_clean(&system, &token, &day).await;
    assert_eq!(clean["platform_entries"], 3, "{clean}");

    inject_one_sided_entries(&system, &payments);
    let (code, summary) = reconcile_payments(&system, &token, &day).await;
    assert_eq!(code, Some(1), "differences exit 1: {summary}");
    let mut expected: Vec<(String, String)> = [
        ("platform_only", payments[0].as_str()),
        ("amount_differs", payments[1].as_str()),
        ("receipt_missing", payments[2].as_str()),
        ("platform_only", INJECTED_PLATFORM_PAYMENT),
        ("receipt_missing", INJECTED_PLATFORM_PAYMENT),
        ("billing_only", INJECTED_BILL_LINE),
        ("receipt_without_charge", INJECTED_RECEIPT),
    ]
    .iter()
    .map(|(kind, record)| (kind.to_string(), record.to_string()))
    .collect();
    expected.sort();
    assert_eq!(named(&summary), expected, "{summary}");
    for difference in summary["differences"].as_array().unwrap() {
        let masked = difference["msisdn_masked"].as_str().unwrap_or("");
        assert_eq!(masked, "138****8000", "each difference names the masked number: {difference}");
        assert!(difference["at"].as_str().is_some_and(|at| at.starts_with(&day)), "and the time: {difference}");
    }
    assert!(!summary.to_string().contains(PAYER), "no full number in the output: {summary}");

    repair(&system, &token, &day, &payments[0], "redrive-billing", None).await;
    // Two charges of one binding less than 2 s apart: the OSS would decline the second as too soon.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    repair(&system, &token, &day, INJECTED_PLATFORM_PAYMENT, "redrive-billing", None).await;
    repair(&system, &token, &day, INJECTED_PLATFORM_PAYMENT, "resend-receipt", None).await;
    repair(&system, &token, &day, &payments[2], "resend-receipt", None).await;
    let reason = Some(("amount_differs", "billing corrected the amount by hand, ticket 4711"));
    repair(&system, &token, &day, &payments[1], "adjust", reason).await;
    repair(&system, &token, &day, INJECTED_BILL_LINE, "adjust", Some(("billing_only", "test line, ticket 4712"))).await;
    let stray = Some(("receipt_without_charge", "stray test SMS, ticket 4713"));
    repair(&system, &token, &day, INJECTED_RECEIPT, "adjust", stray).await;
    let after = wait_until_clean(&system, &token, &day).await;
    assert_eq!(after["adjustments"], 3, "{after}");

    let audit = open(system.path("platform.db"));
    let audited: i64 = audit
        .query_row(
            "SELECT count(*) FROM audit_events WHERE kind IN ('payment_adjusted', 'payment_billing_redriven', 'payment_receipt_resent')",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(audited, 7, "every repair is audited");

    system.kill(Component::Oss).await;
    let (code, _) = reconcile_payments(&system, &token, &day).await;
    assert_eq!(code, Some(2), "the OSS stopped: could not compare");
    let bindings = numbind()
        .args(["reconcile", "--platform-url", &system.platform_url, "--oss-url", &system.oss_url])
        .arg("--ca-file")
        .arg(&system.ca_file)
        .env("NUMBIND_OPERATOR_TOKEN", &token)
        .env("NUMBIND_OSS_ADMIN_TOKEN", OSS_ADMIN_TOKEN)
        .output()
        .await
        .expect("numbind reconcile");
    assert_eq!(bindings.status.code(), Some(2), "bindings reconciliation too exits 2 when it cannot compare");
}
