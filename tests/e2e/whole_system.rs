//! `numbind up`, the README's one command, runs the whole system: by default a national hub of two provinces
//! (Beijing and Guangdong), each with its own OSS, or with `--provinces none` the operator's one OSS. A box binds
//! through it end to end, over HTTPS with the local authority `up` made on its first start, and a routing table
//! imported while it runs is taken up without a restart.

use crate::helpers::{client_trusting, next_event, numbind, Process, FLOW_TIMEOUT, SHORT_CODE};
use std::path::Path;
use std::time::{Duration, Instant};

/// A Beijing demo subscriber (segment 1380013), active and postpaid.
const BEIJING_PAYER: &str = "13800138000";
/// A China Telecom number: in no segment of the demo table.
const UNKNOWN_SEGMENT_PHONE: &str = "13300133000";

/// `numbind up` on port 0 in `data`, with `extra` flags.
fn up_command(data: &Path, extra: &[&str]) -> tokio::process::Command {
    let mut command = numbind();
    command.arg("up").arg("--data-dir").arg(data).args(extra);
    for flag in ["--platform-http", "--smsc-http", "--smsc-smpp", "--smsc-smpp-tls", "--smsc-cmpp", "--oss-http"] {
        command.args([flag, "127.0.0.1:0"]);
    }
    command
}

/// A box waiting for its SMS: the agent process and the SMS text it shows.
async fn waiting_box(directory: &Path, data: &Path, platform_url: &str) -> (Process, String) {
    let mut agent_command = numbind();
    agent_command
        .arg("agent")
        .arg("--state-dir")
        .arg(directory.join("box"))
        .args(["--platform-url", platform_url, "--platform-key-file"])
        .arg(data.join("platform-signing.key.pub"))
        .arg("--platform-ca-file")
        .arg(data.join("tls").join("ca.pem"))
        .args(["--json-events", "run"]);
    let mut agent = Process::spawn("agent", agent_command, directory);
    let activation = next_event(&mut agent, &["activation"]).await;
    let sms_text = activation["sms_text"].as_str().unwrap().to_owned();
    (agent, sms_text)
}

async fn phone_sends(smsc_url: &str, from: &str, text: &str) {
    let response = reqwest::Client::new()
        .post(format!("{smsc_url}/v1/phones/{from}/messages"))
        .json(&serde_json::json!({ "to": SHORT_CODE, "text": text }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
}

async fn inbox_text(smsc_url: &str, phone: &str) -> String {
    let inbox: serde_json::Value =
        reqwest::get(format!("{smsc_url}/v1/phones/{phone}/inbox")).await.unwrap().json().await.unwrap();
    inbox.to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn numbind_up_runs_a_hub_of_beijing_and_guangdong_by_default_with_demo_subscribers() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    let mut up = Process::spawn("up", up_command(&data, &[]), directory.path());
    let addresses = up.wait_listening(&["platform-http", "smsc-http", "oss-http-bj", "oss-http-gd"]).await;
    let (platform_url, smsc_url) = (format!("https://{}", addresses[0]), format!("http://{}", addresses[1]));
    assert_ne!(addresses[2], addresses[3], "each province's OSS listens on its own port");

    let (mut agent, sms_text) = waiting_box(directory.path(), &data, &platform_url).await;
    phone_sends(&smsc_url, UNKNOWN_SEGMENT_PHONE, &sms_text).await;
    phone_sends(&smsc_url, BEIJING_PAYER, &sms_text).await;
    let bound = next_event(&mut agent, &["bound"]).await;
    assert_eq!(bound["msisdn_masked"], "138****8000", "{bound}");
    assert!(inbox_text(&smsc_url, UNKNOWN_SEGMENT_PHONE).await.contains("号码归属地未知"));

    for database in ["platform.db", "smsc.db", "oss-bj/oss.db", "oss-gd/oss.db"] {
        assert!(data.join(database).exists(), "{database} is a real SQLite file in the data directory");
    }
    assert!(!data.join("oss.db").exists(), "a hub has no national OSS");
    for file in ["ca.pem", "ca.key", "platform.pem", "platform.key", "oss.pem", "oss.key", "smsc.pem", "smsc.key"] {
        assert!(data.join("tls").join(file).exists(), "up made tls/{file}");
    }
    let platform = rusqlite::Connection::open(data.join("platform.db")).unwrap();
    let province: String =
        platform.query_row("SELECT province FROM bindings", [], |row| row.get(0)).expect("one binding");
    assert_eq!(province, "BJ");
    let shown = numbind().args(["routing", "show", "--data-dir"]).arg(&data).output().await.unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(shown.starts_with("version 1 "), "up imported the demo table as the first version: {shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn numbind_up_with_provinces_none_runs_the_operators_one_oss() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    let mut up = Process::spawn("up", up_command(&data, &["--provinces", "none"]), directory.path());
    let addresses = up.wait_listening(&["platform-http", "smsc-http", "oss-http"]).await;
    let (platform_url, smsc_url) = (format!("https://{}", addresses[0]), format!("http://{}", addresses[1]));

    let (mut agent, sms_text) = waiting_box(directory.path(), &data, &platform_url).await;
    phone_sends(&smsc_url, BEIJING_PAYER, &sms_text).await;
    next_event(&mut agent, &["bound"]).await;
    assert!(data.join("oss.db").exists() && !data.join("oss-bj").exists(), "the one OSS keeps data/oss.db");
}

/// Waits until `condition` holds on the text `read` returns, for at most `FLOW_TIMEOUT`.
async fn wait_until<F, Fut>(what: &str, mut read: F, condition: impl Fn(&str) -> bool)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let deadline = Instant::now() + FLOW_TIMEOUT;
    loop {
        let text = read().await;
        if condition(&text) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An operator imports a table with a new segment while the hub runs: the platform takes it up by itself
/// within its refresh interval, the SMS centre on SIGHUP (and logs the version), and a subscriber of that segment
/// then binds through its province's OSS, the binding recording the new version.
#[tokio::test(flavor = "multi_thread")]
async fn a_routing_table_imported_while_up_runs_routes_the_next_binding_without_a_restart() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    let mut up = Process::spawn("up", up_command(&data, &[]), directory.path());
    let addresses = up.wait_listening(&["platform-http", "smsc-http", "oss-http-gd"]).await;
    let (platform_url, smsc_url) = (format!("https://{}", addresses[0]), format!("http://{}", addresses[1]));
    let guangdong_oss = format!("https://{}", addresses[2]);

    let segments = directory.path().join("segments.csv");
    std::fs::write(&segments, format!("{}1330013,GD\n", numbind_routing::DEMO_SEGMENTS_CSV)).unwrap();
    let imported = numbind().args(["routing", "import", "--data-dir"]).arg(&data).arg(&segments).output().await;
    let imported = imported.unwrap();
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let fingerprint = String::from_utf8_lossy(&imported.stdout).split("fingerprint ").nth(1).unwrap().to_owned();
    let fingerprint = fingerprint.trim().trim_end_matches(')').to_owned();
    let platform = client_trusting(&data.join("tls").join("ca.pem"));
    let (platform, metrics_url) = (&platform, format!("{platform_url}/metrics"));
    let metrics_url = &metrics_url;
    let metrics = move || async move { platform.get(metrics_url).send().await.unwrap().text().await.unwrap() };
    wait_until("the platform routes by version 2", metrics, |text| text.contains("\nrouting_version 2\n")).await;

    let id = up.child.id().expect("up runs").to_string();
    let status = std::process::Command::new("kill").args(["-HUP", &id]).status().expect("run kill");
    assert!(status.success(), "kill -HUP {id}");
    let running_up = &up;
    let stderr = move || async move { running_up.stderr() };
    wait_until("the SMS centre reloaded", stderr, |log| log.contains("routing tables reloaded")).await;
    assert!(up.stderr().contains(&fingerprint), "the SMS centre logs the version it now uses");

    let added = numbind()
        .args(["oss-sim", "subscriber", "--oss-url", &guangdong_oss, "--data-dir"])
        .arg(&data)
        .args(["add", "--msisdn", UNKNOWN_SEGMENT_PHONE, "--status", "active", "--plan", "postpaid"])
        .args(["--device-limit", "2"])
        .output()
        .await
        .unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let (mut agent, sms_text) = waiting_box(directory.path(), &data, &platform_url).await;
    phone_sends(&smsc_url, UNKNOWN_SEGMENT_PHONE, &sms_text).await;
    next_event(&mut agent, &["bound"]).await;
    let mut token = numbind();
    token.args(["operator", "token", "create", "--name", "audit", "--role", "auditor", "--data-dir"]).arg(&data);
    let token = token.output().await.unwrap();
    let token = String::from_utf8_lossy(&token.stdout).trim().to_owned();
    let bindings = platform.get(format!("{platform_url}/v1/operator/bindings")).bearer_auth(&token).send().await;
    let bindings: serde_json::Value = bindings.unwrap().json().await.unwrap();
    let binding = &bindings["bindings"][0];
    let (province, version) = (binding["province"].as_str().unwrap_or_default(), binding["routing_version"].as_str());
    assert_eq!((province, version), ("GD", Some(fingerprint.as_str())), "{bindings}");
}
