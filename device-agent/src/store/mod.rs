//! The agent's durable state: its identity, its bound flag and its platform session, as files written atomically
//! and owner-only.

pub mod binding_flag;
pub mod identity;
pub mod session;

use crate::error::AgentError;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Creates `directory` (and its parents) and makes it owner-only (0700).
pub(crate) fn create_private_directory(directory: &Path) -> Result<(), AgentError> {
    fs::create_dir_all(directory).map_err(AgentError::io("create directory", directory))?;
    fs::set_permissions(directory, fs::Permissions::from_mode(0o700))
        .map_err(AgentError::io("restrict permissions of", directory))
}

/// Replaces `path` with `bytes` so that a power cut leaves either the old or the new file, never a mix:
/// write a temporary file in the same directory, fsync it, rename it over `path`, fsync the directory.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<(), AgentError> {
    replace_file(path, bytes, mode, true)
}

/// Replaces `path` with `bytes` through a temporary file and a rename, without fsync: for files whose loss or
/// damage after a power cut costs nothing but a redo (the session), so a box's flash is not worn for them.
/// Readers of such files must treat a damaged one as missing.
pub(crate) fn replace_without_sync(path: &Path, bytes: &[u8], mode: u32) -> Result<(), AgentError> {
    replace_file(path, bytes, mode, false)
}

fn replace_file(path: &Path, bytes: &[u8], mode: u32, durable: bool) -> Result<(), AgentError> {
    let directory = path.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = directory.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let _ = fs::remove_file(&temporary);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&temporary)
        .map_err(AgentError::io("create", &temporary))?;
    let written = file.write_all(bytes).and_then(|()| if durable { file.sync_all() } else { Ok(()) });
    if let Err(source) = written {
        let _ = fs::remove_file(&temporary);
        return Err(AgentError::Io { action: "write", path: temporary, source });
    }
    drop(file);
    if let Err(source) = fs::rename(&temporary, path) {
        let _ = fs::remove_file(&temporary);
        return Err(AgentError::Io { action: "rename into", path: path.to_path_buf(), source });
    }
    if !durable {
        return Ok(());
    }
    File::open(directory).and_then(|handle| handle.sync_all()).map_err(AgentError::io("fsync directory", directory))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_file_and_leaves_no_temporary_behind() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("flag.json");
        write_atomically(&path, b"first", 0o600).unwrap();
        write_atomically(&path, b"second", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(directory.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("flag.json")]);
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
