//! Software nobody here wrote against the SMS centre, driven as a new user's ESME would be:
//! - stock python-smpplib runs `tests/third_party/smpplib_esme.py`: needs `python3` with `smpplib` importable
//!   (`python3 -m pip install smpplib==2.2.4`; `NUMBIND_PYTHON` names another interpreter);
//! - npm `smpp` runs `tests/third_party/node_smpp_esme.js`: needs `node` and
//!   `npm install --prefix sms-sim/tests/third_party` (the `smpp` 0.5.1 of its `package.json`).
//!
//! A missing client fails its test with the install command, rather than skipping it unseen.

use crate::helpers::{spawn_app_with, test_config, PHONE};
use numbind_sms_sim::EsmeAccount;
use numbind_wire::ShortCode;
use std::process::Command;
use std::time::Duration;

const PARTNER_CODE: &str = "10659999";
const PARTNER_PASSWORD: &str = "partner1";

/// A partner account as the accounts file makes it by default: no vendor TLV, national numbers.
fn partner_config(directory: &std::path::Path) -> numbind_sms_sim::Config {
    let mut config = test_config(directory);
    let route = ShortCode::parse(PARTNER_CODE).expect("short code");
    config.accounts.push(EsmeAccount::new("partner", PARTNER_PASSWORD, vec![route]));
    config.enquire_link_interval = Duration::from_secs(60);
    config
}

/// Runs a client to its end on the blocking pool; its stdout on success, a failure with its output otherwise.
async fn run_client(mut command: Command) -> String {
    let output =
        tokio::task::spawn_blocking(move || command.output()).await.expect("client task").expect("the client runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "third-party ESME failed:\n{stderr}\n{stdout}");
    stdout.trim().to_owned()
}

fn python() -> String {
    std::env::var("NUMBIND_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_python_smpplib_gets_an_id_and_a_receipt_per_part_and_parses_every_deliver_sm() {
    let importable = Command::new(python()).args(["-c", "import smpplib"]).status();
    assert!(
        importable.is_ok_and(|status| status.success()),
        "python-smpplib is missing: python3 -m pip install smpplib==2.2.4"
    );
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app_with(partner_config(directory.path())).await;
    let (host, port) = app.smpp_address.rsplit_once(':').unwrap();
    let mut command = Command::new(python());
    command.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/third_party/smpplib_esme.py"));
    command.args([host, port, &app.http_url, "partner", PARTNER_PASSWORD, PARTNER_CODE, PHONE]);
    let stdout = run_client(command).await;
    let seen: serde_json::Value = serde_json::from_str(&stdout).expect("one json line");
    assert!(seen["parts"].as_u64().unwrap() >= 4, "{seen}");
    assert_eq!(seen["mobile_originated"], serde_json::json!(["BIND BCDFGHJK", "BIND CDFGHJKL"]));
    assert_eq!(app.inbox_texts(PHONE).await.len(), 2, "the UDH message and the SAR message, each reassembled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_smpp_gets_an_id_and_a_receipt_per_part_and_a_bodiless_refusal() {
    let modules = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/third_party/node_modules");
    assert!(
        std::path::Path::new(modules).join("smpp").is_dir(),
        "npm smpp is missing: npm install --prefix sms-sim/tests/third_party"
    );
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app_with(partner_config(directory.path())).await;
    let (host, port) = app.smpp_address.rsplit_once(':').unwrap();
    let mut command = Command::new("node");
    command.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/third_party/node_smpp_esme.js"));
    command.args([host, port, "partner", PARTNER_PASSWORD, PARTNER_CODE, PHONE]);
    let stdout = run_client(command).await;
    let seen: serde_json::Value = serde_json::from_str(&stdout).expect("one json line");
    assert_eq!((seen["parts"].as_u64(), seen["receipts"].as_u64()), (Some(2), Some(2)), "{seen}");
    assert_eq!(app.inbox_texts(PHONE).await, vec!["您的机顶盒已绑定本号码，回复 UNBIND 可解除。".to_owned()]);
}
