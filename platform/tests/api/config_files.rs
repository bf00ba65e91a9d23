//! The platform binary started with a configuration file: a refused file, a missing secret file or an unusable
//! data directory each stop it before it writes anything, naming the path and the problem; a good file is read,
//! and its log level is re-read on SIGHUP.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

const SECRET: &str = "an-oss-secret-of-at-least-thirty-two-characters";

/// Runs the platform binary with `--config config` (and nothing from the environment that could configure it);
/// returns its exit status and stderr.
fn run_platform(config: &Path, extra: &[&str]) -> (std::process::ExitStatus, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_numbind-platform"))
        .arg("--config")
        .arg(config)
        .args(extra)
        .env_remove("NUMBIND_OSS_SECRET")
        .env_remove("NUMBIND_PLATFORM_DATA_DIR")
        .env_remove("NUMBIND_PLATFORM_HTTP")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (output.status, String::from_utf8_lossy(&output.stderr).into_owned())
}

fn write_secret(path: &Path) {
    std::fs::write(path, SECRET).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn entries(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_malformed_config_file_is_refused_naming_the_path_and_nothing_is_written() {
    let directory = tempfile::tempdir().unwrap();
    let config = directory.path().join("platform.toml");
    std::fs::write(&config, "http = \"127.0.0.1:0\"\ndata_dir = [unclosed\n").unwrap();
    let data_dir = directory.path().join("data");
    let (status, stderr) = run_platform(&config, &["--data-dir", data_dir.to_str().unwrap()]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&config.display().to_string()) && stderr.contains("not valid TOML"), "{stderr}");
    assert_eq!(entries(directory.path()), vec!["platform.toml"], "nothing written");
}

#[test]
fn an_unknown_key_an_inline_secret_and_a_bad_value_are_refused_by_key() {
    let directory = tempfile::tempdir().unwrap();
    let config = directory.path().join("platform.toml");
    let cases = [
        ("listen = \"127.0.0.1:0\"\n", "unknown key `listen`"),
        ("oss_secret = \"inline\"\n", "holds a secret inline in `oss_secret`"),
        ("http = \"not an address\"\n", "bad value for `http`"),
        ("activation_ttl_seconds = -5\n", "bad value for `activation_ttl_seconds`"),
        ("require_manifest = \"maybe\"\n", "bad value for `require_manifest`"),
        ("log_level = \"info,numbind_platform=loud\"\n", "bad value for `log_level`"),
    ];
    for (text, expected) in cases {
        std::fs::write(&config, text).unwrap();
        let (status, stderr) = run_platform(&config, &[]);
        assert_eq!(status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.contains(expected) && stderr.contains(&config.display().to_string()), "{text}: {stderr}");
        assert!(!stderr.contains("inline\""), "the refused secret is not echoed: {stderr}");
    }
    assert_eq!(entries(directory.path()), vec!["platform.toml"], "nothing written");
}

#[test]
fn a_missing_secret_file_is_refused_naming_it_and_nothing_is_written() {
    let directory = tempfile::tempdir().unwrap();
    let config = directory.path().join("platform.toml");
    let data_dir = directory.path().join("data");
    let secret = directory.path().join("oss.secret");
    let text = format!("http = \"127.0.0.1:0\"\ndata_dir = {:?}\noss_secret_file = {:?}\n", data_dir, secret);
    std::fs::write(&config, text).unwrap();
    let (status, stderr) = run_platform(&config, &[]);
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains(&secret.display().to_string()), "names the secret file: {stderr}");
    assert!(stderr.contains("No such file"), "says what is wrong: {stderr}");
    assert_eq!(entries(directory.path()), vec!["platform.toml"], "nothing written");
}

#[test]
fn an_unusable_data_directory_is_refused_naming_it_and_nothing_is_written() {
    let directory = tempfile::tempdir().unwrap();
    let config = directory.path().join("platform.toml");
    let secret = directory.path().join("oss.secret");
    write_secret(&secret);
    // A regular file where the data directory's parent should be: refused even for root, whom permission bits
    // do not stop.
    let blocker = directory.path().join("state");
    std::fs::write(&blocker, "not a directory").unwrap();
    let data_dir = blocker.join("platform");
    let text = format!("http = \"127.0.0.1:0\"\ndata_dir = {:?}\noss_secret_file = {:?}\n", data_dir, secret);
    std::fs::write(&config, text).unwrap();
    let (status, stderr) = run_platform(&config, &[]);
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains(&data_dir.display().to_string()), "names the directory: {stderr}");
    assert!(stderr.contains("Not a directory"), "says what is wrong: {stderr}");
    assert_eq!(entries(directory.path()), vec!["oss.secret", "platform.toml", "state"], "nothing written");
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "not a directory");
}

#[test]
fn a_config_file_is_read_logged_and_overridden_by_flags() {
    let directory = tempfile::tempdir().unwrap();
    let config = directory.path().join("platform.toml");
    let secret = directory.path().join("oss.secret");
    write_secret(&secret);
    let data_dir = directory.path().join("from-file");
    // The file's address is taken (port 1 needs privileges nobody should give a test), the flag's is free.
    let text = format!("http = \"127.0.0.1:1\"\ndata_dir = {:?}\noss_secret_file = {:?}\n", data_dir, secret);
    std::fs::write(&config, text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_numbind-platform"))
        .arg("--config")
        .arg(&config)
        .args(["--http", "127.0.0.1:0"])
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(line.starts_with("listening http=127.0.0.1:") && !line.ends_with(":1\n"), "{line} {stderr}");
    assert!(data_dir.join("platform.db").exists(), "the file's data_dir was used: {stderr}");
    assert!(stderr.contains("configuration read from file") && stderr.contains("platform.toml"), "{stderr}");
}

/// `GET /healthz` over a plain connection; the answer's status line.
fn get_health(address: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nhost: platform\r\nconnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

/// Waits until the file holds `needle`; its text then.
fn wait_for_log(path: &Path, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(std::time::Instant::now() < deadline, "no {needle:?} in the log:\n{text}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn sighup_reloads_the_log_level_from_the_config_file() {
    let directory = tempfile::tempdir().unwrap();
    let (config, secret, log) =
        (directory.path().join("platform.toml"), directory.path().join("oss.secret"), directory.path().join("log"));
    write_secret(&secret);
    let base = format!(
        "http = \"127.0.0.1:0\"\ndata_dir = {:?}\noss_secret_file = {:?}\n",
        directory.path().join("data"),
        secret
    );
    std::fs::write(&config, format!("{base}log_level = \"warn\"\n")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_numbind-platform"))
        .arg("--config")
        .arg(&config)
        .env_remove("RUST_LOG")
        .env_remove("NUMBIND_LOG_LEVEL")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let address = line.trim().strip_prefix("listening http=").unwrap_or_else(|| panic!("{line}")).to_owned();
    assert!(get_health(&address).contains("200"));
    let at_warn = std::fs::read_to_string(&log).unwrap();
    assert!(!at_warn.contains(" INFO ") && !at_warn.contains(" DEBUG "), "nothing under warn at first:\n{at_warn}");

    std::fs::write(&config, format!("{base}log_level = \"debug\"\n")).unwrap();
    let _ = Command::new("kill").args(["-HUP", &child.id().to_string()]).status();
    let reloaded = wait_for_log(&log, "log level reloaded");
    assert!(reloaded.contains("directives=debug"), "the log says what was reloaded:\n{reloaded}");
    assert!(get_health(&address).contains("200"), "the SIGHUP did not stop the platform");
    wait_for_log(&log, " DEBUG ");

    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert!(child.wait().unwrap().success());
}
