//! Stopping: `numbind up` and each component's own binary end within two seconds of SIGTERM and exit 0, even
//! with a box's long-poll held open and the SMPP links bound, and say so in a log without colour codes when the
//! log is a file.

use crate::helpers::{next_event, numbind, Process, System};
use std::time::{Duration, Instant};

const STOP_LIMIT: Duration = Duration::from_secs(2);

fn send_sigterm(process: &Process) {
    let id = process.child.id().expect("the process is running");
    let status = std::process::Command::new("kill").args(["-TERM", &id.to_string()]).status().expect("run kill");
    assert!(status.success(), "kill -TERM {id}");
}

/// Sends SIGTERM and waits; the exit code and how long it took.
async fn stop(process: &mut Process) -> (Option<i32>, Duration) {
    let started = Instant::now();
    send_sigterm(process);
    let code = process.wait_exit(Duration::from_secs(15)).await;
    (code, started.elapsed())
}

fn assert_log_has_no_colour_codes(process: &Process) {
    let log = process.stderr();
    assert!(!log.is_empty(), "{} logged to its stderr file", process.name);
    assert!(!log.contains('\u{1b}'), "a log written to a file has no escape codes:\n{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn numbind_up_stops_within_two_seconds_of_sigterm_and_exits_zero() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    let mut command = numbind();
    command.arg("up").arg("--data-dir").arg(&data);
    for flag in ["--platform-http", "--smsc-http", "--smsc-smpp", "--smsc-smpp-tls", "--smsc-cmpp", "--oss-http"] {
        command.args([flag, "127.0.0.1:0"]);
    }
    let mut up = Process::spawn("up", command, directory.path());
    let addresses = up.wait_listening(&["platform-http"]).await;

    // A box waiting for its SMS holds a long-poll open on the platform while `up` is told to stop.
    let mut agent_command = numbind();
    agent_command
        .arg("agent")
        .arg("--state-dir")
        .arg(directory.path().join("box"))
        .args(["--platform-url", &format!("https://{}", addresses[0]), "--platform-key-file"])
        .arg(data.join("platform-signing.key.pub"))
        .arg("--platform-ca-file")
        .arg(data.join("tls").join("ca.pem"))
        .args(["--json-events", "run"]);
    let mut agent = Process::spawn("agent", agent_command, directory.path());
    next_event(&mut agent, &["activation"]).await;

    let (code, took) = stop(&mut up).await;
    assert_eq!(code, Some(0), "numbind up exits 0 after SIGTERM\n{}", up.stderr());
    assert!(took < STOP_LIMIT, "numbind up took {took:?} to stop\n{}", up.stderr());
    assert!(up.stderr().contains("stopped component=\"sms-sim\""), "{}", up.stderr());
    assert_log_has_no_colour_codes(&up);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_component_stops_within_two_seconds_of_sigterm_sent_to_all_at_once() {
    let mut system = System::start().await;
    let started = Instant::now();
    for process in &system.processes {
        send_sigterm(process);
    }
    for process in &mut system.processes {
        let code = process.wait_exit(Duration::from_secs(15)).await;
        let took = started.elapsed();
        assert_eq!(code, Some(0), "{} exits 0 after SIGTERM\n{}", process.name, process.stderr());
        assert!(took < STOP_LIMIT, "{} took {took:?} to stop\n{}", process.name, process.stderr());
        assert_log_has_no_colour_codes(process);
    }
}
