//! A full or read-only disk under the platform's database: boxes are told to come back later (503 with
//! Retry-After), nothing is half-written, and everything proceeds once the disk recovers.

use crate::helpers::{next_event, numbind, Component, System, SystemOptions};
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
    assert_every_change_has_its_audit_event(&database, 1);
}

/// A 16 MiB ext4 file system on a loop device, mounted with `errors=remount-ro` for one test (root only, as on CI):
/// `fail` makes the kernel turn it read-only under the running platform, as a failing disk does.
struct FailingDisk {
    image: PathBuf,
    mount_point: PathBuf,
}

impl FailingDisk {
    fn create(directory: &Path) -> FailingDisk {
        let image = directory.join("disk.img");
        std::fs::File::create(&image).unwrap().set_len(16 * 1024 * 1024).unwrap();
        run_as_root("mkfs.ext4", &["-q".as_ref(), image.as_os_str()]);
        let disk = FailingDisk { image, mount_point: directory.join("disk") };
        disk.mount();
        disk
    }

    fn mount(&self) {
        std::fs::create_dir_all(&self.mount_point).unwrap();
        let options = ["-o".as_ref(), "loop,errors=remount-ro".as_ref(), self.image.as_os_str()];
        run_as_root("mount", &[&options[..], &[self.mount_point.as_os_str()]].concat());
    }

    /// Triggers an ext4 error: with `errors=remount-ro` the kernel makes the mounted file system read-only at once,
    /// open files included, and it stays so until it is unmounted.
    fn fail(&self) {
        let output = std::process::Command::new("findmnt").args(["-no", "SOURCE"]).arg(&self.mount_point).output();
        let source = String::from_utf8(output.unwrap().stdout).unwrap();
        let device = Path::new(source.trim()).file_name().unwrap().to_owned();
        let trigger = Path::new("/sys/fs/ext4").join(device).join("trigger_fs_error");
        std::fs::write(&trigger, "1").unwrap_or_else(|error| panic!("{}: {error}", trigger.display()));
        let written = std::fs::write(self.mount_point.join("probe"), b"x");
        assert!(written.is_err(), "the file system turned read-only");
    }

    /// What an operator does after a disk error: unmount, check and mount again.
    fn repair(&self) {
        run_as_root("umount", &[self.mount_point.as_os_str()]);
        let status = std::process::Command::new("e2fsck").arg("-fy").arg(&self.image).status().unwrap();
        assert!(status.code().is_some_and(|code| code <= 1), "e2fsck repaired the file system: {status}");
        self.mount();
    }
}

impl Drop for FailingDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.mount_point).status();
    }
}

fn run_as_root(program: &str, arguments: &[&std::ffi::OsStr]) {
    let status = std::process::Command::new(program).args(arguments).status().unwrap();
    assert!(status.success(), "{program} {arguments:?} failed (this test needs root, as CI has): {status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disk_turned_read_only_answers_retry_later_applies_nothing_and_recovers_after_repair() {
    let scratch = tempfile::tempdir().unwrap();
    let disk = FailingDisk::create(scratch.path());
    let database = disk.mount_point.join("platform.db");
    let mut system =
        System::start_with(SystemOptions { platform_database: Some(database.clone()), ..SystemOptions::default() })
            .await;
    let mut agent = system.agent("box", &["run"]);
    let activation = next_event(&mut agent, &["activation"]).await;

    disk.fail();
    system.phone_sends("13800138000", activation["sms_text"].as_str().unwrap()).await;
    // A second box cannot register (a write): it is told why and to come back later.
    let mut newcomer = system.agent("newcomer", &["run"]);
    let retrying = next_event(&mut newcomer, &["retrying", "activation"]).await;
    assert_eq!(retrying["event"], "retrying", "nothing can be written on a read-only disk: {retrying}");
    let cause = retrying["cause"].as_str().unwrap_or("").to_lowercase();
    assert!(cause.contains("503") && cause.contains("storage"), "the cause says why: {retrying}");
    assert!(retrying["after_ms"].as_u64().unwrap() >= 5000, "the box honours Retry-After: {retrying}");

    // The operator repairs the disk and restarts the platform on the same database.
    system.kill(Component::Platform).await;
    disk.repair();
    system.restart(Component::Platform).await;
    let bound = next_event(&mut agent, &["bound"]).await;
    assert!(bound["binding_id"].as_str().is_some(), "{bound}");
    next_event(&mut newcomer, &["activation"]).await;
    system.wait_for_sms("13800138000", "已绑定").await;
    assert_every_change_has_its_audit_event(&database, 1);
}

/// Every row a flow writes came with its audit event in the same transaction: the counts agree, so nothing was
/// half-applied while the disk refused writes. `bindings` is how many bindings the test made.
fn assert_every_change_has_its_audit_event(database: &Path, bindings: i64) {
    let connection = rusqlite::Connection::open_with_flags(database, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the platform's database read-only");
    let count = |sql: &str| -> i64 { connection.query_row(sql, [], |row| row.get(0)).unwrap() };
    let events = |kind: &str| count(&format!("SELECT count(*) FROM audit_events WHERE kind = '{kind}'"));
    assert_eq!(count("SELECT count(*) FROM terminals"), events("terminal_registered"), "terminals");
    assert_eq!(count("SELECT count(*) FROM activations"), events("activation_issued"), "activations");
    assert_eq!(count("SELECT count(*) FROM bindings"), bindings, "bindings");
    assert_eq!(events("binding_created"), bindings, "binding events");
    assert_eq!(events("code_redeemed"), bindings, "one redemption per binding");
}
