//! Daily settlement through the real processes: `numbind settlement run` twice gives byte-identical files, and a
//! run killed with `kill -9` part-way (after its first file, before its manifest) then run again gives the same
//! files as an undisturbed run. Hundreds of merchants' charges, copied straight into the platform's database,
//! make a run write over a thousand fsynced files, so that the kill lands mid-run.

use crate::helpers::numbind;
use crate::reconcile_payments::{billing_day, bound_box_with_purchases};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Merchants whose one charge each is copied into the platform's ledger: two files each, every one fsynced.
const BULK_MERCHANTS: usize = 600;

/// Copies the charge `payment_id` once for each of [`BULK_MERCHANTS`] merchants `bulk-000`…, as settled charges of
/// the same day.
fn copy_charges_to_many_merchants(system: &crate::helpers::System, payment_id: &str) {
    let mut platform = rusqlite::Connection::open(system.path("platform.db")).expect("the platform's database");
    platform.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
    let transaction = platform.transaction().expect("a transaction");
    for index in 0..BULK_MERCHANTS {
        transaction
            .execute(
                "INSERT INTO payments (payment_id, merchant_id, reference_code, terminal_id, intent_nonce, binding_id,
                 msisdn, item_id, item_description, amount, currency, state, server_reference_code, created_at,
                 updated_at, finalized_at)
                 SELECT ?1, ?2, 'bulk', terminal_id, ?3, binding_id, msisdn, item_id, item_description, amount,
                 currency, 'succeeded', server_reference_code, created_at, updated_at, finalized_at
                 FROM payments WHERE payment_id = ?4",
                rusqlite::params![
                    format!("pay-bulk{index:06}"),
                    format!("bulk-{index:03}"),
                    format!("bulk-nonce-{index}"),
                    payment_id
                ],
            )
            .expect("copy a charge");
    }
    transaction.commit().expect("commit the copies");
}

/// The names in `directory` of a run's output, finished files and `.partial` ones alike.
fn written_names(directory: &Path) -> Vec<String> {
    std::fs::read_dir(directory)
        .map(|entries| {
            entries.filter_map(Result::ok).map(|entry| entry.file_name().to_string_lossy().into_owned()).collect()
        })
        .unwrap_or_default()
}

/// Every settlement file in `directory` (no leftover temporary file counted) and its bytes.
fn files_in(directory: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(directory)
        .expect("the output folder")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("settlement-"))
        .map(|name| {
            let bytes = std::fs::read(directory.join(&name)).expect("read a settlement file");
            (name, bytes)
        })
        .collect()
}

fn settlement_command(
    system: &crate::helpers::System,
    token: &str,
    day: &str,
    output: &Path,
) -> tokio::process::Command {
    let mut command = numbind();
    command
        .args(["settlement", "run", "--date", day, "--platform-url", &system.platform_url])
        .arg("--ca-file")
        .arg(&system.ca_file)
        .arg("--output-dir")
        .arg(output)
        .env("NUMBIND_OPERATOR_TOKEN", token);
    command
}

#[tokio::test(flavor = "multi_thread")]
async fn settlement_files_are_the_same_bytes_on_a_rerun_and_after_a_killed_run() {
    let (system, _credentials, payments) = bound_box_with_purchases(&["1.00", "2.50"]).await;
    let (token, day) = (system.operator_token("auditor").await, billing_day());
    copy_charges_to_many_merchants(&system, &payments[0]);
    let first = system.path("settlement-first");
    let output = settlement_command(&system, &token, &day, &first).output().await.expect("settlement run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let files = files_in(&first);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(names.len(), 2 * (1 + BULK_MERCHANTS) + 1, "a CSV and a JSON file per merchant, and the manifest");
    let csv = String::from_utf8(files[&format!("settlement-{day}-e2e-films.csv")].clone()).unwrap();
    for payment_id in &payments {
        assert!(csv.contains(payment_id.as_str()), "{payment_id} is settled: {csv}");
    }
    assert!(csv.contains("net_fen=350"), "the total of ¥1.00 and ¥2.50: {csv}");
    assert!(csv.contains("138****8000") && !csv.contains("13800138000"), "numbers masked: {csv}");

    let rerun = settlement_command(&system, &token, &day, &first).output().await.expect("settlement rerun");
    assert!(rerun.status.success());
    assert_eq!(files_in(&first), files, "a rerun writes the same bytes");

    let killed = system.path("settlement-killed");
    let manifest = format!("settlement-{day}-manifest.json");
    let mut child = settlement_command(&system, &token, &day, &killed).spawn().expect("spawn settlement");
    let started = Instant::now();
    while written_names(&killed).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(60), "the run writes its first file");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.start_kill().expect("kill -9");
    let status = child.wait().await.expect("the killed run ends");
    assert!(!status.success(), "the run was killed, not finished: {status:?}");
    let left = written_names(&killed);
    assert!(!left.contains(&manifest), "the kill landed before the manifest was written: {} files", left.len());
    assert!(files_in(&killed).len() < files.len() - 1, "the kill landed mid-run: {} files", left.len());
    let after_kill =
        settlement_command(&system, &token, &day, &killed).output().await.expect("settlement after a kill");
    assert!(after_kill.status.success(), "{}", String::from_utf8_lossy(&after_kill.stderr));
    assert_eq!(files_in(&killed), files, "killed runs then a whole one leave the same bytes as an undisturbed run");
}
