//! Software nobody here wrote against the SMS centre: stock python-smpplib (`pip install smpplib==2.2.4`) runs
//! `tests/third_party/smpplib_esme.py` as a new user's ESME would. Needs `python3` with `smpplib` importable
//! (`NUMBIND_PYTHON` names another interpreter); the test fails, naming the install, when it is missing.

use crate::helpers::{spawn_app_with, test_config, PHONE};
use numbind_sms_sim::EsmeAccount;
use numbind_wire::ShortCode;
use std::process::Command;
use std::time::Duration;

const PARTNER_CODE: &str = "10659999";
const PARTNER_PASSWORD: &str = "partner1";

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
    let mut config = test_config(directory.path());
    // A partner account as the accounts file makes it by default: no vendor TLV, national numbers.
    config.accounts.push(EsmeAccount::new("partner", PARTNER_PASSWORD, vec![ShortCode::parse(PARTNER_CODE).unwrap()]));
    config.enquire_link_interval = Duration::from_secs(60);
    let app = spawn_app_with(config).await;
    let (host, port) = app.smpp_address.rsplit_once(':').unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/third_party/smpplib_esme.py");
    let arguments =
        [script, host, port, &app.http_url, "partner", PARTNER_PASSWORD, PARTNER_CODE, PHONE].map(str::to_owned);
    let output = tokio::task::spawn_blocking(move || Command::new(python()).args(arguments).output())
        .await
        .unwrap()
        .expect("python3 runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "smpplib ESME failed:\n{stderr}\n{stdout}");
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one json line");
    assert!(seen["parts"].as_u64().unwrap() >= 4, "{seen}");
    assert_eq!(seen["mobile_originated"], serde_json::json!(["BIND BCDFGHJK", "BIND CDFGHJKL"]));
    assert_eq!(app.inbox_texts(PHONE).await.len(), 2, "the UDH message and the SAR message, each reassembled");
}
