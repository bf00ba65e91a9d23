//! `numbind up --print-config DIR`: the files and command lines it prints start a working hub (each province's OSS
//! its own process, as every other component), and a box is bound through it by a Beijing number.

use crate::helpers::{next_event, numbind, Process};
use crate::launch::{client_trusting, free_loopback_address};
use std::path::Path;

/// The printed `name: numbind ...` lines, as (name, arguments after `numbind`).
fn printed_commands(stdout: &str) -> Vec<(String, Vec<String>)> {
    stdout
        .lines()
        .filter_map(|line| {
            let (name, command) = line.split_once(": numbind ")?;
            Some((name.to_owned(), command.split_whitespace().map(str::to_owned).collect()))
        })
        .collect()
}

fn spawn(name: &str, arguments: &[String], logs: &Path) -> Process {
    let mut command = numbind();
    command.args(arguments);
    Process::spawn(name, command, logs)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_printed_configuration_starts_each_component_on_its_own_and_binds_a_box() {
    let directory = tempfile::tempdir().unwrap();
    let data_dir = directory.path().join("data");
    let [platform, smsc_http, smsc_smpp, smsc_smpp_tls, oss] = std::array::from_fn(|_| free_loopback_address());
    let output = numbind()
        .args(["up", "--print-config"])
        .arg(&data_dir)
        .args(["--platform-http", &platform, "--smsc-http", &smsc_http, "--smsc-smpp", &smsc_smpp])
        .args(["--smsc-smpp-tls", &smsc_smpp_tls, "--oss-http", &oss])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let accounts = std::fs::read_to_string(data_dir.join("smsc-accounts.toml")).unwrap();
    for account in ["system_id = \"oss-bj\"", "province = \"BJ\"", "system_id = \"oss-gd\"", "password_file"] {
        assert!(accounts.contains(account), "a hub's accounts file has {account}: {accounts}");
    }
    assert!(data_dir.join("start-components.sh").is_file() && data_dir.join("tls").join("ca.pem").is_file());
    assert!(data_dir.join("routing").join("segments.csv").is_file(), "the SMS centre's segment table");

    let commands = printed_commands(&stdout);
    let names: Vec<&str> = commands.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["sms-sim", "platform", "oss-sim-bj", "oss-sim-gd"], "one OSS per province: {stdout}");
    let mut processes = Vec::new();
    for (name, arguments) in &commands {
        let mut process = spawn(name, arguments, directory.path());
        process.wait_listening(&["http"]).await;
        processes.push(process);
    }

    let ca_file = data_dir.join("tls").join("ca.pem");
    let mut agent = numbind();
    agent
        .arg("agent")
        .arg("--state-dir")
        .arg(directory.path().join("box"))
        .args(["--platform-url", &format!("https://{platform}"), "--platform-key-file"])
        .arg(data_dir.join("platform-signing.key.pub"))
        .arg("--platform-ca-file")
        .arg(&ca_file)
        .args(["--device-model", "Skyworth E900", "--json-events", "run"]);
    let mut agent = Process::spawn("agent", agent, directory.path());
    let activation = next_event(&mut agent, &["activation"]).await;
    let phone = client_trusting(&ca_file);
    let sent = phone
        .post(format!("http://{smsc_http}/v1/phones/13800138000/messages"))
        .json(&serde_json::json!({ "to": "10658000", "text": activation["sms_text"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status().as_u16(), 202);
    let bound = next_event(&mut agent, &["bound"]).await;
    assert_eq!(bound["msisdn_masked"], "138****8000", "{bound}");
    drop(processes);
}
