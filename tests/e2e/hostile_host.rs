//! The machine is shared and the network hostile: the OSS admin API wants its token under `numbind up`, one process
//! holds a data directory, files with personal data or secrets stay private however a component is started, and a
//! failed phone command prints no full number.

use crate::helpers::{numbind, Process, FLOW_TIMEOUT};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// `numbind up` on port 0 in `data`, listening.
async fn start_up(data: &Path, log_dir: &Path, name: &str) -> (Process, Vec<String>) {
    let mut command = numbind();
    command.arg("up").arg("--data-dir").arg(data);
    for flag in ["--platform-http", "--smsc-http", "--smsc-smpp", "--smsc-smpp-tls", "--smsc-cmpp", "--oss-http"] {
        command.args([flag, "127.0.0.1:0"]);
    }
    let mut up = Process::spawn(name, command, log_dir);
    let addresses = up.wait_listening(&["platform-http", "oss-http"]).await;
    (up, addresses)
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|error| panic!("{}: {error}", path.display())).permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn under_up_the_oss_admin_api_refuses_a_request_without_its_token_and_the_cli_finds_the_token_itself() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    let (_up, addresses) = start_up(&data, directory.path(), "up").await;
    let oss_url = format!("https://{}", addresses[1]);

    let http = crate::helpers::client_trusting(&data.join("tls").join("ca.pem"));
    for path in ["/v1/subscribers", "/v1/subscribers/13800139000", "/v1/bindings"] {
        let response = http.get(format!("{oss_url}{path}")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "{path} without the token");
    }
    let lift = http
        .patch(format!("{oss_url}/v1/subscribers/13800139000"))
        .json(&serde_json::json!({ "status": "active" }))
        .send()
        .await
        .unwrap();
    assert_eq!(lift.status().as_u16(), 401, "lifting an arrears suspension without the token");

    assert_eq!(mode_of(&data.join("secrets/oss-admin.token")), 0o600);
    let listed = numbind()
        .args(["oss-sim", "subscriber", "--url", &oss_url, "--data-dir"])
        .arg(&data)
        .arg("list")
        .env_remove("NUMBIND_OSS_ADMIN_TOKEN")
        .env_remove("NUMBIND_OSS_ADMIN_TOKEN_FILE")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.status.success(),
        "the README's subscriber command works: {}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(stdout.contains("13800139000 suspended_for_arrears"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_process_on_a_data_directory_in_use_is_refused_and_told_who_holds_it() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    let (first, _) = start_up(&data, directory.path(), "up-first").await;
    let first_pid = first.child.id().expect("the first up runs");

    let mut second_up = numbind();
    second_up.arg("up").arg("--data-dir").arg(&data);
    for flag in ["--platform-http", "--smsc-http", "--smsc-smpp", "--smsc-smpp-tls", "--smsc-cmpp", "--oss-http"] {
        second_up.args([flag, "127.0.0.1:0"]);
    }
    let mut platform_alone = numbind();
    platform_alone.args(["platform", "--http", "127.0.0.1:0", "--data-dir"]).arg(&data).arg("--oss-secret-file");
    platform_alone.arg(data.join("secrets/oss-platform.secret"));
    for (name, command) in [("up-second", second_up), ("platform-alone", platform_alone)] {
        let mut second = Process::spawn(name, command, directory.path());
        let code = second.wait_exit(FLOW_TIMEOUT).await;
        let stderr = second.stderr();
        assert_eq!(code, Some(1), "{name} is refused: {stderr}");
        assert!(stderr.contains(&format!("numbind up (pid {first_pid})")), "{name} names the first: {stderr}");
        assert!(!stderr.contains("listening"), "{stderr}");
    }

    let verify = numbind().args(["audit", "verify", "--data-dir"]).arg(&data).output().await.unwrap();
    assert!(
        verify.status.success(),
        "a read-only operator command still runs: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_oss_run_alone_without_an_admin_token_refuses_to_start_unless_told_the_risk() {
    let directory = tempfile::tempdir().unwrap();
    let secret = directory.path().join("oss-platform.secret");
    std::fs::write(&secret, "e2e-oss-platform-secret-0123456789abcdef").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let oss = |extra: &[&str]| {
        let mut command = numbind();
        command
            .args(["oss-sim", "serve", "--http", "127.0.0.1:0", "--data-dir"])
            .arg(directory.path().join("oss"))
            .arg("--platform-secret-file")
            .arg(&secret)
            .env("NUMBIND_SMSC_PASSWORD", "oss-pass")
            .env_remove("NUMBIND_OSS_ADMIN_TOKEN")
            .env_remove("NUMBIND_OSS_ADMIN_TOKEN_FILE")
            .args(extra);
        command
    };
    let mut refused = Process::spawn("oss-no-token", oss(&[]), directory.path());
    assert_eq!(refused.wait_exit(FLOW_TIMEOUT).await, Some(1), "{}", refused.stderr());
    assert!(refused.stderr().contains("--insecure-no-admin-token"), "{}", refused.stderr());

    let mut open = Process::spawn("oss-insecure", oss(&["--insecure-no-admin-token"]), directory.path());
    let address = open.wait_listening(&["http"]).await.remove(0);
    // Once it answers, its start (and the warning logged there) is behind it.
    let health = reqwest::get(format!("http://{address}/healthz")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert!(open.stderr().contains("without a token"), "the risk is logged: {}", open.stderr());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_platform_run_alone_refuses_an_open_secret_file_and_keeps_its_data_directory_private() {
    let directory = tempfile::tempdir().unwrap();
    let (secret, data) = (directory.path().join("oss-platform.secret"), directory.path().join("platform-data"));
    std::fs::write(&secret, "e2e-oss-platform-secret-0123456789abcdef").unwrap();
    let platform = || {
        let mut command = numbind();
        command.args(["platform", "--http", "127.0.0.1:0", "--data-dir"]).arg(&data).arg("--oss-secret-file");
        command.arg(&secret);
        command
    };
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut refused = Process::spawn("platform-open-secret", platform(), directory.path());
    assert_eq!(refused.wait_exit(FLOW_TIMEOUT).await, Some(1), "{}", refused.stderr());
    assert!(refused.stderr().contains("chmod 600"), "{}", refused.stderr());

    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut started = Process::spawn("platform", platform(), directory.path());
    started.wait_listening(&["http"]).await;
    assert_eq!(mode_of(&data), 0o700, "the data directory");
    for file in ["platform.db", "platform.db-wal", "platform.db-shm", "platform-signing.key", "platform.lock"] {
        assert_eq!(mode_of(&data.join(file)), 0o600, "{file}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn phone_send_with_the_sms_centre_down_prints_no_full_number() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let smsc_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let output = numbind()
        .args(["phone", "--smsc-url", &smsc_url, "send", "--from", "13800138001", "--to", "10658000", "BIND WDJBMJHT"])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains(&smsc_url), "the error says where it failed: {stderr}");
    assert!(!stderr.contains("13800138001"), "the full number leaked: {stderr}");
}
