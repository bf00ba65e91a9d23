//! Database files are owner-only: they hold personal data (numbers, bindings), whatever the process's umask.

use std::path::Path;

/// Creates the database file with mode 0600 if it is missing, and takes group and other access away from it and
/// its `-wal` and `-shm` files if they have any (a file from a build that did not do this).
#[cfg(unix)]
pub(crate) fn make_owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(path)?;
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
