//! What the command line says when something is in the way: a subscriber that exists already, an SMS centre that
//! is down, and the flag names shared by the OSS's and the platform's commands.

use crate::helpers::{numbind, System, OSS_ADMIN_TOKEN};
use std::process::Output;

/// `numbind oss-sim ...` against the running OSS with its admin token.
async fn oss_cli(system: &System, arguments: &[&str]) -> Output {
    numbind()
        .arg("oss-sim")
        .args(arguments)
        .args(["--oss-url", &system.oss_url])
        .arg("--ca-file")
        .arg(&system.ca_file)
        .env("NUMBIND_OSS_ADMIN_TOKEN", OSS_ADMIN_TOKEN)
        .output()
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn adding_a_subscriber_that_exists_says_what_exists_and_update_sets_it() {
    let system = System::start().await;
    let add = ["subscriber", "add", "--msisdn", "13800138000", "--plan", "prepaid", "--device-limit", "1"];
    let refused = oss_cli(&system, &add).await;
    let said = text(&refused.stderr);
    assert!(!refused.status.success(), "an existing number is not added twice");
    assert!(said.contains("exists") && said.contains("138****8000") && said.contains("postpaid"), "{said}");
    assert!(said.contains("--update") && !said.contains("13800138000"), "what to do, the number masked: {said}");

    let updated = oss_cli(&system, &[&add[..], &["--update"]].concat()).await;
    assert!(updated.status.success(), "{}", text(&updated.stderr));
    let shown = text(&oss_cli(&system, &["subscriber", "show", "13800138000"]).await.stdout);
    assert!(shown.contains("prepaid") && shown.contains("device_limit=1"), "{shown}");
    let added = oss_cli(&system, &["subscriber", "add", "--msisdn", "13700137000", "--update"]).await;
    assert!(added.status.success(), "--update adds a new number too: {}", text(&added.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_terminal_flag_has_one_name_for_the_oss_and_the_platform_and_the_old_one_still_works() {
    let system = System::start().await;
    system.bind_a_box("box", "13800138000").await;
    let listed = text(&oss_cli(&system, &["bindings"]).await.stdout);
    let terminal = listed.split_whitespace().nth(2).expect("a binding line").to_owned();
    for flag in ["--terminal-id", "--terminal"] {
        let output = oss_cli(&system, &["bindings", flag, &terminal]).await;
        assert!(
            output.status.success() && text(&output.stdout).contains(&terminal),
            "{flag}: {}",
            text(&output.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_with_the_sms_centre_down_names_the_address_and_what_to_check() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let url = format!("http://{address}");
    let output = numbind()
        .args(["phone", "send", "--from", "13800138000", "--smsc-url", &url, "BIND WDJBMJHT"])
        .output()
        .await
        .unwrap();
    let said = text(&output.stderr);
    assert!(!output.status.success());
    assert!(said.contains(&url) && said.contains("not answering") && said.contains("--smsc-url"), "{said}");
    assert!(!said.contains("13800138000") && !said.contains("error sending request"), "{said}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_platform_data_dir_has_one_variable_and_the_old_one_still_works_with_a_warning() {
    let directory = tempfile::tempdir().unwrap();
    let (new_dir, old_dir) = (directory.path().join("by-new-name"), directory.path().join("by-old-name"));
    for folder in [&new_dir, &old_dir] {
        std::fs::create_dir(folder).unwrap();
    }
    let create = ["operator", "token", "create", "--name", "alice", "--role", "auditor"];
    let by_new = numbind().args(create).env("NUMBIND_PLATFORM_DATA_DIR", &new_dir).output().await.unwrap();
    assert!(by_new.status.success() && new_dir.join("platform.db").is_file(), "{}", text(&by_new.stderr));
    assert!(!text(&by_new.stderr).contains("deprecated"), "{}", text(&by_new.stderr));
    let by_old = numbind().args(create).env("NUMBIND_DATA_DIR", &old_dir).output().await.unwrap();
    assert!(by_old.status.success() && old_dir.join("platform.db").is_file(), "{}", text(&by_old.stderr));
    assert!(text(&by_old.stderr).contains("NUMBIND_DATA_DIR is deprecated"), "{}", text(&by_old.stderr));
}
