//! No full phone number, code or secret in any log line of any component, with full logging on.

use crate::helpers::{next_event, System};

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_flow_at_trace_level_logs_no_number_code_or_secret() {
    let system = System::start().await;
    let mut agent = system.agent("box", &["run"]);
    let activation = next_event(&mut agent, &["activation"]).await;
    let grouped_code = activation["code"].as_str().unwrap().to_owned();
    let code = grouped_code.replace('-', "");
    system.phone_sends("13800138000", &format!("BIND {code}")).await;
    next_event(&mut agent, &["bound"]).await;
    system.phone_sends("13900139000", "hello").await;
    system.wait_for_sms("13900139000", "无法识别").await;
    system.wait_for_sms("13800138000", "已绑定").await;

    let mut secrets: Vec<String> =
        ["oss-platform.secret", "smsc-oss.password", "smsc-platform.password", "oss-admin.token"]
            .iter()
            .map(|name| std::fs::read_to_string(system.path(name)).unwrap().trim().to_owned())
            .collect();
    secrets.extend(["13800138000".to_owned(), "13900139000".to_owned(), code, grouped_code]);
    let mut logs = Vec::new();
    for entry in std::fs::read_dir(system.directory.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with(".stderr.log") {
            logs.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
        }
    }
    assert!(logs.len() >= 4, "every component logged to a file");
    assert!(logs.iter().any(|(_, text)| text.contains("138****8000")), "numbers appear, masked");
    for (path, text) in &logs {
        for secret in &secrets {
            let leaked: Vec<&str> = text.lines().filter(|line| line.contains(secret.as_str())).take(3).collect();
            assert!(leaked.is_empty(), "{} leaks {:?}…: {leaked:?}", path.display(), &secret[..4]);
        }
    }
}
