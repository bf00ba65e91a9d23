//! No full phone number, code, key or secret in any log line of any component, with every crate at trace level.

use crate::helpers::{next_event, System, SystemOptions};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_flow_at_trace_level_logs_no_number_code_or_secret() {
    // Everything at trace, the HTTP and TLS stacks included (hyper, h2, reqwest, rustls), where headers and
    // connection details would be written if anything wrote them.
    let options = SystemOptions { log_filter: Some("trace"), ..SystemOptions::default() };
    let system = System::start_with(options).await;
    let mut agent = system.agent("box", &["run"]);
    let activation = next_event(&mut agent, &["activation"]).await;
    let grouped_code = activation["code"].as_str().unwrap().to_owned();
    let code = grouped_code.replace('-', "");
    system.phone_sends("13800138000", &format!("BIND {code}")).await;
    next_event(&mut agent, &["bound"]).await;
    system.phone_sends("13900139000", "hello").await;
    system.wait_for_sms("13900139000", "无法识别").await;
    system.wait_for_sms("13800138000", "已绑定").await;
    // A second boot checks over the session the first one opened: the session key is used on the wire. It logs
    // to the same file name, so the first boot's log is kept under another name first.
    assert_eq!(agent.wait_exit(crate::helpers::FLOW_TIMEOUT).await, Some(0), "run ends once bound");
    let first_log = system.directory.path().join(format!("{}.stderr.log", agent.name));
    std::fs::rename(&first_log, system.directory.path().join("agent-box-first-boot.stderr.log")).unwrap();
    let mut second_boot = system.agent("box", &["run"]);
    next_event(&mut second_boot, &["already_bound", "bound"]).await;
    // An operator token, used against the platform and the OSS the way an operator uses it.
    let operator_token = system.admin_token().await;
    let (reconciled, summary) = system.reconcile(&operator_token).await;
    assert!(reconciled, "{summary}");

    let secrets = secrets_of(&system, &[operator_token, code, grouped_code]);
    let mut logs = Vec::new();
    for entry in std::fs::read_dir(system.directory.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with(".stderr.log") {
            logs.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
        }
    }
    assert!(logs.len() >= 5, "every component and both boots logged to a file");
    assert!(logs.iter().any(|(_, text)| text.contains("138****8000")), "numbers appear, masked");
    assert!(logs.iter().any(|(_, text)| text.contains("TRACE") && text.contains("hyper")), "hyper logged at trace");
    for (path, text) in &logs {
        for (name, secret) in &secrets {
            let leaked: Vec<&str> = text.lines().filter(|line| line.contains(secret.as_str())).take(3).collect();
            assert!(leaked.is_empty(), "{} leaks the {name}: {leaked:?}", path.display());
        }
    }
}

/// Every secret of the running system, named, in each form it could be printed in.
fn secrets_of(system: &System, extra: &[String]) -> Vec<(String, String)> {
    let mut secrets = Vec::new();
    for name in
        ["oss-platform.secret", "smsc-oss.password", "smsc-platform.password", "oss-admin.token", "platform-audit.key"]
    {
        secrets.push((name.to_owned(), std::fs::read_to_string(system.path(name)).unwrap().trim().to_owned()));
    }
    secrets.push(("number 13800138000".to_owned(), "13800138000".to_owned()));
    secrets.push(("number 13900139000".to_owned(), "13900139000".to_owned()));
    for (index, value) in extra.iter().enumerate() {
        secrets.push((format!("operator token or code #{index}"), value.clone()));
    }
    // The session key the box agreed with the platform (base64url in the box's session file).
    let session: serde_json::Value =
        serde_json::from_slice(&std::fs::read(system.path("box").join("session.json")).unwrap()).unwrap();
    let session_key = URL_SAFE_NO_PAD.decode(session["key"].as_str().unwrap()).unwrap();
    secrets.extend(encodings_of("session key", &session_key));
    // Private keys: the terminal's, the platform's signing key (both PKCS#8) and every TLS key (PEM).
    let terminal_key = std::fs::read(system.path("box").join("terminal.key")).unwrap();
    secrets.extend(encodings_of("terminal key", &terminal_key));
    let signing_key = std::fs::read(system.path("platform-signing.key")).unwrap();
    secrets.extend(encodings_of("platform signing key", &signing_key));
    for entry in std::fs::read_dir(system.path("tls")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|extension| extension == "key") {
            let pem = std::fs::read_to_string(&path).unwrap();
            // The first line of the base64 body: any print of the key holds it.
            let body = pem.lines().find(|line| !line.starts_with("-----") && line.len() >= 40).unwrap();
            secrets.push((format!("tls key {}", path.display()), body.to_owned()));
        }
    }
    secrets
}

/// A secret's bytes as hex, base64 and base64url: each long enough that a match cannot be chance. PKCS#8 documents
/// also get their private part alone (the last 32 bytes of ring's Ed25519 encoding hold the public key, the 32
/// before them the seed), so that printing the seed without the header is caught too.
fn encodings_of(name: &str, bytes: &[u8]) -> Vec<(String, String)> {
    let mut parts = vec![bytes.to_vec()];
    if bytes.len() == 85 {
        parts.push(bytes[16..48].to_vec());
    }
    let mut encodings = Vec::new();
    for part in parts {
        let hex: String = part.iter().map(|byte| format!("{byte:02x}")).collect();
        encodings.push((format!("{name} (hex)"), hex));
        encodings.push((format!("{name} (base64)"), STANDARD.encode(&part).trim_end_matches('=').to_owned()));
        encodings.push((format!("{name} (base64url)"), URL_SAFE_NO_PAD.encode(&part)));
    }
    encodings
}
