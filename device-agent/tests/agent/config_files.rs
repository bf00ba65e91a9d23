//! The agent binary started with a configuration file: a refused file or an unusable state directory stop it
//! before it writes anything, naming the path and the problem.

// Test helpers panic on setup failures by design: a broken harness must fail the test loudly.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

fn run_agent(config: &Path, subcommand: &str) -> (std::process::ExitStatus, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_numbind-agent"))
        .arg("--config")
        .arg(config)
        .arg(subcommand)
        .env_remove("NUMBIND_AGENT_STATE_DIR")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (output.status, String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_malformed_agent_config_is_refused_naming_the_path_and_key() {
    let directory = tempfile::tempdir().unwrap();
    let config = directory.path().join("agent.toml");
    for (text, expected) in [
        ("state_dir = \n", "not valid TOML"),
        ("stat_dir = \"x\"\n", "unknown key `stat_dir`"),
        ("platform_key = [\"pk-00000000:AAAA\"]\n", "bad value for `platform_key`"),
        ("[watch]\ninterval_seconds = 0\n", "bad value for `interval_seconds`"),
    ] {
        std::fs::write(&config, text).unwrap();
        let (status, stderr) = run_agent(&config, "show-identity");
        assert_eq!(status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.contains(expected) && stderr.contains(&config.display().to_string()), "{text}: {stderr}");
    }
    let names: Vec<_> = std::fs::read_dir(directory.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "nothing written beside the config file");
}

#[test]
fn an_unusable_state_directory_is_refused_naming_it() {
    let directory = tempfile::tempdir().unwrap();
    let blocker = directory.path().join("blocker");
    std::fs::write(&blocker, "not a directory").unwrap();
    let config = directory.path().join("agent.toml");
    let state_dir = blocker.join("state");
    std::fs::write(&config, format!("state_dir = {state_dir:?}\n")).unwrap();
    let (status, stderr) = run_agent(&config, "show-identity");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&state_dir.display().to_string()) && stderr.contains("Not a directory"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "not a directory");
}
