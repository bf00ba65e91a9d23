//! The machine is shared: one process holds a data directory, and files with personal data or secrets stay private
//! however a component is started.

use crate::helpers::{numbind, Process, FLOW_TIMEOUT};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// `numbind up` on port 0 in `data`, listening.
async fn start_up(data: &Path, log_dir: &Path, name: &str) -> (Process, Vec<String>) {
    let mut command = numbind();
    command.arg("up").arg("--data-dir").arg(data);
    for flag in ["--platform-http", "--smsc-http", "--smsc-smpp", "--oss-http"] {
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
async fn a_second_process_on_a_data_directory_in_use_is_refused_and_told_who_holds_it() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    let (first, _) = start_up(&data, directory.path(), "up-first").await;
    let first_pid = first.child.id().expect("the first up runs");

    let mut second_up = numbind();
    second_up.arg("up").arg("--data-dir").arg(&data);
    for flag in ["--platform-http", "--smsc-http", "--smsc-smpp", "--oss-http"] {
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
