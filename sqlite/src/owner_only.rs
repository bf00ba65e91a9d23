//! Database files are owner-only: they hold personal data (numbers, bindings), whatever the process's umask.

use std::path::Path;

/// Creates the database file with mode 0600 if it is missing, and takes group and other access away from it and
/// its `-wal` and `-shm` files if they have any (a file from a build that did not do this).
#[cfg(unix)]
pub(crate) fn make_owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    // Only a missing file is created (`create_new` opens nothing when the file exists): opening and closing an
    // existing database file here would drop every POSIX lock this process holds on it through SQLite (closing
    // any descriptor of a file releases the process's locks on it), so another process's connection could then
    // checkpoint and truncate the WAL under this process's readers (SQLITE_IOERR_SHORT_READ).
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(error),
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::metadata(&name) {
            Ok(metadata) if metadata.permissions().mode() & 0o077 != 0 => {
                std::fs::set_permissions(&name, std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn make_owner_only(_path: &Path) -> std::io::Result<()> {
    Ok(())
}
