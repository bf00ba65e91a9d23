//! Daily settlement through the real processes: `numbind settlement run` twice gives byte-identical files, and a
//! run killed with `kill -9` then run again gives the same files as an undisturbed run.

use crate::helpers::numbind;
use crate::reconcile_payments::{billing_day, bound_box_with_purchases};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

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
    let first = system.path("settlement-first");
    let output = settlement_command(&system, &token, &day, &first).output().await.expect("settlement run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let files = files_in(&first);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(names.len(), 3, "a CSV and a JSON file of the one merchant, and the manifest: {names:?}");
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
    for delay_ms in [0, 40, 120] {
        let mut child = settlement_command(&system, &token, &day, &killed).spawn().expect("spawn settlement");
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        child.start_kill().expect("kill -9");
        let _ = child.wait().await;
    }
    let after_kill =
        settlement_command(&system, &token, &day, &killed).output().await.expect("settlement after a kill");
    assert!(after_kill.status.success(), "{}", String::from_utf8_lossy(&after_kill.stderr));
    assert_eq!(files_in(&killed), files, "killed runs then a whole one leave the same bytes as an undisturbed run");
}
