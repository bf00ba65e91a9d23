//! A full disk under the platform's database: boxes are told to come back later (503 with Retry-After), nothing
//! is half-written, and everything proceeds once there is room again.

use crate::helpers::{next_event, numbind, System, SystemOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A 4 MiB tmpfs mounted for one test, unmounted when dropped (root only, as on CI).
struct TinyDisk {
    mount_point: PathBuf,
}

impl TinyDisk {
    fn mount(mount_point: &Path) -> TinyDisk {
        std::fs::create_dir_all(mount_point).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(mount_point)
            .status()
            .unwrap();
        assert!(status.success(), "mounting a tmpfs needs root, as CI has");
        TinyDisk { mount_point: mount_point.to_owned() }
    }

    /// Writes a filler file until the disk refuses; returns its path.
    fn fill(&self) -> PathBuf {
        let filler = self.mount_point.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 16 * 1024];
        while file.write_all(&chunk).and_then(|()| file.sync_all()).is_ok() {}
        filler
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.mount_point).status();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_answers_retry_later_loses_nothing_and_recovers_when_space_returns() {
    let scratch = tempfile::tempdir().unwrap();
    let disk = TinyDisk::mount(&scratch.path().join("tiny"));
    let database = disk.mount_point.join("platform.db");
    let system =
        System::start_with(SystemOptions { platform_database: Some(database.clone()), ..SystemOptions::default() })
            .await;

    let filler = disk.fill();
    let mut agent = system.agent("box", &["run"]);
    let retrying = next_event(&mut agent, &["retrying", "activation"]).await;
    assert_eq!(retrying["event"], "retrying", "a box cannot register while the platform's disk is full: {retrying}");
    assert!(
        retrying["cause"].as_str().unwrap_or("").to_lowercase().contains("storage"),
        "the cause says why: {retrying}"
    );
    assert!(retrying["after_ms"].as_u64().unwrap() >= 5000, "the box honours Retry-After: {retrying}");

    std::fs::remove_file(filler).unwrap();
    let activation = next_event(&mut agent, &["activation"]).await;
    system.phone_sends("13800138000", activation["sms_text"].as_str().unwrap()).await;
    next_event(&mut agent, &["bound"]).await;

    let verify = numbind()
        .args(["audit", "verify", "--data-dir"])
        .arg(system.directory.path())
        .env("NUMBIND_PLATFORM_DATABASE", &database)
        .output()
        .await
        .unwrap();
    let report = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "the audit trail is whole after the outage: {report}");
}
