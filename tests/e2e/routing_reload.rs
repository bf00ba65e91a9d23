//! The SMS centre run on its own reads its segment and portability files again on SIGHUP: a bad file is refused
//! and the tables in use kept, a good one routes the next MO and its version is logged.

use crate::helpers::{Process, SystemOptions, FLOW_TIMEOUT, SHORT_CODE, SMSC_OSS_PASSWORD, SMSC_PLATFORM_PASSWORD};
use crate::launch::{make_local_authority, smsc_command, write_secret};
use std::path::Path;
use std::time::{Duration, Instant};

/// A Guangdong number: in no segment of the first table, in the second one's.
const GUANGDONG_PHONE: &str = "13802008000";

fn provincial_accounts(root: &Path) -> String {
    let oss_password = root.join("smsc-oss.password");
    let mut text = String::new();
    for province in ["BJ", "GD"] {
        text.push_str(&format!(
            "[[accounts]]\nsystem_id = \"oss-{}\"\npassword_file = {:?}\nroutes = [\"{SHORT_CODE}\"]\n\
             province = \"{province}\"\n\n",
            province.to_lowercase(),
            oss_password.display().to_string(),
        ));
    }
    let platform_password = root.join("smsc-platform.password").display().to_string();
    text.push_str(&format!(
        "[[accounts]]\nsystem_id = \"platform\"\npassword_file = {platform_password:?}\nroutes = []\n"
    ));
    text
}

/// The SMS centre's answer to an MO from `from`: `queued` (routed to an account) or `answered` (refused by it).
async fn mo_state(smsc_url: &str, from: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{smsc_url}/v1/phones/{from}/messages"))
        .json(&serde_json::json!({ "to": SHORT_CODE, "text": "BIND AAAABBBB" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let body: serde_json::Value = response.json().await.unwrap();
    body["state"].as_str().unwrap().to_owned()
}

fn send_sighup(process: &Process) {
    let id = process.child.id().expect("the sms centre runs").to_string();
    let status = std::process::Command::new("kill").args(["-HUP", &id]).status().expect("run kill");
    assert!(status.success(), "kill -HUP {id}");
}

/// Waits until the process's log holds `needle` `times` times.
async fn wait_for_log(process: &Process, needle: &str, times: usize) {
    let deadline = Instant::now() + FLOW_TIMEOUT;
    while process.stderr().matches(needle).count() < times {
        assert!(Instant::now() < deadline, "no {needle:?} in the log:\n{}", process.stderr());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sms_centre_reloads_its_routing_files_on_sighup_and_keeps_them_when_the_new_ones_are_bad() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    write_secret(&root.join("smsc-oss.password"), SMSC_OSS_PASSWORD);
    write_secret(&root.join("smsc-platform.password"), SMSC_PLATFORM_PASSWORD);
    std::fs::write(root.join("smsc.toml"), provincial_accounts(root)).unwrap();
    let segments = root.join("segments.csv");
    std::fs::write(&segments, "segment,province\n1380013,BJ\n").unwrap();
    make_local_authority(root);
    let mut command = smsc_command(root, ["127.0.0.1:0"; 3], &SystemOptions::default());
    command.arg("--segments-file").arg(&segments);
    let mut smsc = Process::spawn("sms-sim", command, root);
    let smsc_url = format!("http://{}", smsc.wait_listening(&["http"]).await.remove(0));
    assert_eq!(mo_state(&smsc_url, GUANGDONG_PHONE).await, "answered", "no segment of Guangdong yet");

    std::fs::write(&segments, "segment,province\n1380013,BJ\n1380200,XX\n").unwrap();
    send_sighup(&smsc);
    wait_for_log(&smsc, "routing tables not reloaded", 1).await;
    assert!(smsc.stderr().contains("line 3"), "the bad line is named: {}", smsc.stderr());
    assert_eq!(mo_state(&smsc_url, GUANGDONG_PHONE).await, "answered", "the tables in use were kept");

    let good = "segment,province\n1380013,BJ\n1380200,GD\n";
    std::fs::write(&segments, good).unwrap();
    send_sighup(&smsc);
    wait_for_log(&smsc, "routing tables reloaded", 1).await;
    let version = numbind_routing::RoutingTable::new(
        numbind_routing::SegmentTable::parse_csv(good).unwrap(),
        numbind_routing::PortabilityTable::default(),
    )
    .version();
    assert!(smsc.stderr().contains(&version.to_string()), "the new version is logged: {}", smsc.stderr());
    assert_eq!(mo_state(&smsc_url, GUANGDONG_PHONE).await, "queued", "routed to Guangdong's account");
    assert_eq!(smsc.child.try_wait().unwrap(), None, "SIGHUP did not stop the sms centre");
}
