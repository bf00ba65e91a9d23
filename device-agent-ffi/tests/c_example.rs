//! `examples/box.c` compiles with gcc (warnings as errors) against this crate's static library and header, and
//! its error paths answer the library's codes and messages. The bind itself is `tests/e2e/c_box.rs` at the root.
#![allow(clippy::unwrap_used, reason = "a test that cannot unwrap should fail loudly")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `libnumbind_agent.a` as cargo built it for this test, next to the test binary in `<target>/<profile>/deps`
/// (cargo names libraries with a C crate type without a hash).
fn static_library() -> PathBuf {
    std::env::current_exe().unwrap().parent().unwrap().join("libnumbind_agent.a")
}

fn compile_box(directory: &Path) -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = directory.join("box");
    let output = Command::new("gcc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(crate_dir.join("include"))
        .arg(crate_dir.join("examples/box.c"))
        .arg(static_library())
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&binary)
        .output()
        .unwrap();
    assert!(output.status.success(), "gcc failed: {}", String::from_utf8_lossy(&output.stderr));
    binary
}

fn run_box(binary: &Path, arguments: &[&str]) -> Output {
    Command::new(binary).args(arguments).output().unwrap()
}

#[test]
fn the_c_example_compiles_and_refuses_bad_usage() {
    let directory = tempfile::tempdir().unwrap();
    let binary = compile_box(directory.path());
    let output = run_box(&binary, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage: box"));
}

#[test]
fn a_missing_key_file_is_refused_with_its_path_and_a_config_status() {
    let directory = tempfile::tempdir().unwrap();
    let binary = compile_box(directory.path());
    let key_file = directory.path().join("no-such-platform.key.pub");
    let state = directory.path().join("state");
    let arguments = ["status", "http://127.0.0.1:9", key_file.to_str().unwrap(), "", state.to_str().unwrap()];
    let output = run_box(&binary, &arguments);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("status 2") && stderr.contains("no-such-platform.key.pub"), "{stderr}");
    assert!(!state.exists(), "nothing written for a refused configuration");
}

#[test]
fn a_key_file_without_a_key_is_refused_and_an_unreachable_platform_is_a_network_status() {
    let directory = tempfile::tempdir().unwrap();
    let binary = compile_box(directory.path());
    let empty = directory.path().join("empty.key.pub");
    std::fs::write(&empty, "# no key yet\n").unwrap();
    let state = directory.path().join("state");
    let output =
        run_box(&binary, &["status", "http://127.0.0.1:9", empty.to_str().unwrap(), "", state.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("status 2") && stderr.contains("no platform public key is pinned"), "{stderr}");

    let key_file = directory.path().join("platform.key.pub");
    let random = ring::rand::SystemRandom::new();
    let (key, _) = numbind_wire::statement::PlatformSigningKey::generate(&random).unwrap();
    std::fs::write(&key_file, format!("{}\n", key.public_key())).unwrap();
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    let output =
        run_box(&binary, &["status", "http://127.0.0.1:9", key_file.to_str().unwrap(), "", state.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("status failed (status 4)") && stderr.contains("request to the platform failed"),
        "{stderr}"
    );
    assert!(state.join("terminal.key").exists(), "the identity was made on first boot");
}
