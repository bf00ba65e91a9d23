//! What a process keeps on disk, kept private: its data directory (0700), the lock that keeps a second process
//! off the same state, and the secret files it reads (refused when others may read them).
//!
//! One process per component state: two platforms on one database would each keep their own in-memory replay
//! guard and each accept a replayed request once. The lock is an advisory `flock` on `<name>.lock` beside the
//! state, held for the life of the process (the kernel drops it when the process ends, even on `kill -9`); the
//! file names the holder so that the refusal can say who it is. Read-only operator commands do not take it.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why a data directory, its lock or a secret file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataDirError {
    #[error("cannot create or restrict the directory {path}")]
    Directory { path: PathBuf, source: std::io::Error },
    #[error("cannot lock {path}")]
    Lock { path: PathBuf, source: std::io::Error },
    #[error(
        "{path} is in use by {holder}: one process per data directory (two would keep two replay guards); \
         stop it or use another data directory"
    )]
    InUse { path: PathBuf, holder: String },
    #[error("cannot read secret file {path}")]
    SecretUnreadable { path: PathBuf, source: std::io::Error },
    #[error("secret file {path} is readable by group or others (mode {mode:o}); chmod 600 it")]
    SecretNotPrivate { path: PathBuf, mode: u32 },
    #[error("cannot create secret file {path}")]
    SecretUnwritable { path: PathBuf, source: std::io::Error },
}

/// Creates `path` (and missing parents) owner-only, or restricts an existing directory to 0700.
pub fn create_private_dir(path: &Path) -> Result<(), DataDirError> {
    let failed = |source| DataDirError::Directory { path: path.to_owned(), source };
    fs::DirBuilder::new().recursive(true).mode(0o700).create(path).map_err(failed)?;
    let mode = fs::metadata(path).map_err(failed)?.permissions().mode();
    if mode & 0o077 != 0 {
        fs::set_permissions(path, fs::Permissions::from_mode(0o700)).map_err(failed)?;
    }
    Ok(())
}

/// The held lock on one component's state; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

/// Takes `<directory>/<name>.lock` for this process, writing `holder` (e.g. `numbind up`) and the PID into it;
/// refuses with [`DataDirError::InUse`], naming the holder, when another process has it.
pub fn lock_state(directory: &Path, name: &str, holder: &str) -> Result<StateLock, DataDirError> {
    let path = directory.join(format!("{name}.lock"));
    let failed = |source| DataDirError::Lock { path: path.clone(), source };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(failed)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let holder = match text.trim() {
                "" => "another process (starting)".to_owned(),
                named => named.to_owned(),
            };
            return Err(DataDirError::InUse { path, holder });
        }
        Err(fs::TryLockError::Error(error)) => return Err(failed(error)),
    }
    file.set_len(0).map_err(failed)?;
    file.rewind().map_err(failed)?;
    writeln!(file, "{holder} (pid {})", std::process::id()).map_err(failed)?;
    file.flush().map_err(failed)?;
    Ok(StateLock { _file: file })
}

/// Reads a secret file, trimmed, refusing a regular file that its group or others may read.
pub fn read_secret_file(path: &Path) -> Result<String, DataDirError> {
    let unreadable = |source| DataDirError::SecretUnreadable { path: path.to_owned(), source };
    let file = File::open(path).map_err(unreadable)?;
    check_private_file(path, &file)?;
    let mut text = String::new();
    (&file).read_to_string(&mut text).map_err(unreadable)?;
    Ok(text.trim().to_owned())
}

/// Writes a new secret file (a key, a password): created owner-only (0600) before a byte is in it, never over an
/// existing file, and on disk before it is used.
pub fn create_secret_file(path: &Path, contents: &[u8]) -> Result<(), DataDirError> {
    let unwritable = |source| DataDirError::SecretUnwritable { path: path.to_owned(), source };
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(unwritable)?;
    file.write_all(contents).map_err(unwritable)?;
    file.sync_all().map_err(unwritable)
}

/// Refuses a secret file (a key, a password) that its group or others may read; call before reading it.
pub fn ensure_private_file(path: &Path) -> Result<(), DataDirError> {
    let file = File::open(path).map_err(|source| DataDirError::SecretUnreadable { path: path.to_owned(), source })?;
    check_private_file(path, &file)
}

/// Only a regular file is a stored secret: a pipe or a device (`/dev/stdin`, `<(...)`) is left to its maker.
fn check_private_file(path: &Path, file: &File) -> Result<(), DataDirError> {
    let metadata =
        file.metadata().map_err(|source| DataDirError::SecretUnreadable { path: path.to_owned(), source })?;
    let mode = metadata.permissions().mode() & 0o777;
    if metadata.is_file() && mode & 0o077 != 0 {
        return Err(DataDirError::SecretNotPrivate { path: path.to_owned(), mode });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_private_directory_is_created_owner_only_and_an_open_one_is_restricted() {
        let scratch = tempfile::tempdir().unwrap();
        let created = scratch.path().join("a/b");
        create_private_dir(&created).unwrap();
        assert_eq!(mode_of(&created), 0o700);
        let open = scratch.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&open).unwrap();
        assert_eq!(mode_of(&open), 0o700);
    }

    #[test]
    fn a_second_lock_on_the_same_state_is_refused_naming_the_holder() {
        let scratch = tempfile::tempdir().unwrap();
        let held = lock_state(scratch.path(), "platform", "numbind up").unwrap();
        let refused = lock_state(scratch.path(), "platform", "numbind platform").unwrap_err();
        let message = refused.to_string();
        assert!(
            message.contains("numbind up") && message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        assert!(lock_state(scratch.path(), "oss", "numbind oss-sim").is_ok(), "another component's state is free");
        assert_eq!(mode_of(&scratch.path().join("platform.lock")), 0o600);
        drop(held);
        lock_state(scratch.path(), "platform", "numbind platform").unwrap();
    }

    #[test]
    fn a_secret_file_readable_by_others_is_refused_and_a_private_one_is_read_trimmed() {
        let scratch = tempfile::tempdir().unwrap();
        let path = scratch.path().join("one.secret");
        fs::write(&path, "  s3cret\n").unwrap();
        for mode in [0o644, 0o640, 0o604] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let refused = read_secret_file(&path).unwrap_err();
            assert!(matches!(refused, DataDirError::SecretNotPrivate { .. }), "mode {mode:o}: {refused}");
            assert!(ensure_private_file(&path).is_err());
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_secret_file(&path).unwrap(), "s3cret");
    }
}
