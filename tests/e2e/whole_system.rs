//! `numbind up`, the README's one command, runs the whole system: a box binds through it end to end, over HTTPS
//! with the local authority `up` made on its first start.

use crate::helpers::{next_event, numbind, Process, FLOW_TIMEOUT, SHORT_CODE};

#[tokio::test(flavor = "multi_thread")]
async fn numbind_up_runs_the_whole_system_with_demo_subscribers() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    let mut command = numbind();
    command.arg("up").arg("--data-dir").arg(&data);
    for flag in ["--platform-http", "--smsc-http", "--smsc-smpp", "--smsc-smpp-tls", "--smsc-cmpp", "--oss-http"] {
        command.args([flag, "127.0.0.1:0"]);
    }
    let mut up = Process::spawn("up", command, directory.path());
    let addresses = up.wait_listening(&["platform-http", "smsc-http"]).await;
    let (platform_url, smsc_url) = (format!("https://{}", addresses[0]), format!("http://{}", addresses[1]));

    let mut agent_command = numbind();
    agent_command
        .arg("agent")
        .arg("--state-dir")
        .arg(directory.path().join("box"))
        .args(["--platform-url", &platform_url, "--platform-key-file"])
        .arg(data.join("platform-signing.key.pub"))
        .arg("--platform-ca-file")
        .arg(data.join("tls").join("ca.pem"))
        .args(["--json-events", "run"]);
    let mut agent = Process::spawn("agent", agent_command, directory.path());
    let activation = next_event(&mut agent, &["activation"]).await;

    let mut phone = numbind();
    phone
        .args(["phone", "--smsc-url", &smsc_url, "send", "--from", "13800138000", "--to", SHORT_CODE])
        .arg(activation["sms_text"].as_str().unwrap());
    let mut phone = Process::spawn("phone", phone, directory.path());
    assert_eq!(phone.wait_exit(FLOW_TIMEOUT).await, Some(0), "numbind phone send succeeds");

    next_event(&mut agent, &["bound"]).await;
    for database in ["platform.db", "oss.db", "smsc.db"] {
        assert!(data.join(database).exists(), "{database} is a real SQLite file in the data directory");
    }
    for file in ["ca.pem", "ca.key", "platform.pem", "platform.key", "oss.pem", "oss.key", "smsc.pem", "smsc.key"] {
        assert!(data.join("tls").join(file).exists(), "up made tls/{file}");
    }
}

/// `numbind up --provinces BJ,GD` runs a national hub in one process: each province's OSS with its own database and
/// listener, a Beijing demo number binds through Beijing's, and a number of no demo segment gets the SMS centre's
/// refusal.
#[tokio::test(flavor = "multi_thread")]
async fn numbind_up_with_provinces_runs_one_oss_per_province() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    let mut command = numbind();
    command.arg("up").arg("--data-dir").arg(&data).args(["--provinces", "BJ,GD"]);
    for flag in ["--platform-http", "--smsc-http", "--smsc-smpp", "--smsc-smpp-tls", "--smsc-cmpp", "--oss-http"] {
        command.args([flag, "127.0.0.1:0"]);
    }
    let mut up = Process::spawn("up", command, directory.path());
    let addresses = up.wait_listening(&["platform-http", "smsc-http", "oss-http-bj", "oss-http-gd"]).await;
    let (platform_url, smsc_url) = (format!("https://{}", addresses[0]), format!("http://{}", addresses[1]));
    assert_ne!(addresses[2], addresses[3], "each province's OSS listens on its own port");

    let mut agent_command = numbind();
    agent_command
        .arg("agent")
        .arg("--state-dir")
        .arg(directory.path().join("box"))
        .args(["--platform-url", &platform_url, "--platform-key-file"])
        .arg(data.join("platform-signing.key.pub"))
        .arg("--platform-ca-file")
        .arg(data.join("tls").join("ca.pem"))
        .args(["--json-events", "run"]);
    let mut agent = Process::spawn("agent", agent_command, directory.path());
    let activation = next_event(&mut agent, &["activation"]).await;
    let sms_text = activation["sms_text"].as_str().unwrap();
    let http = reqwest::Client::new();
    for from in ["13800138000", "13801008000"] {
        let response = http
            .post(format!("{smsc_url}/v1/phones/{from}/messages"))
            .json(&serde_json::json!({ "to": SHORT_CODE, "text": sms_text }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 202);
    }
    next_event(&mut agent, &["bound"]).await;
    let inbox: serde_json::Value =
        http.get(format!("{smsc_url}/v1/phones/13800138000/inbox")).send().await.unwrap().json().await.unwrap();
    assert!(inbox.to_string().contains("号码归属地未知"), "{inbox}");
    for province in ["oss-bj", "oss-gd"] {
        assert!(data.join(province).join("oss.db").exists(), "{province} keeps its own database");
    }
}
