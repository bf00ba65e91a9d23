//! Child processes and /proc: finding sibling binaries, reading a process's VmRSS and VmHWM.

use anyhow::Context;
use std::path::{Path, PathBuf};

/// `explicit`, else `name` next to the running executable (cargo puts a package's binaries together).
pub fn locate_binary(explicit: Option<&Path>, name: &str) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        anyhow::ensure!(path.is_file(), "{} does not exist", path.display());
        return Ok(path.to_owned());
    }
    let current = std::env::current_exe().context("cannot find the running executable")?;
    let mut directories = Vec::new();
    if let Some(directory) = current.parent() {
        directories.push(directory.to_owned());
        if let Some(parent) = directory.parent() {
            directories.push(parent.to_owned());
        }
    }
    directories
        .iter()
        .map(|directory| directory.join(name))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("{name} not found next to {}: build it (see docs/PERFORMANCE.md)", current.display()))
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in bytes.
pub fn status_field_bytes(pid: u32, field: &str) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).with_context(|| format!("process {pid}"))?;
    parse_status_field(&text, field).with_context(|| format!("no {field} in /proc/{pid}/status"))
}

fn parse_status_field(text: &str, field: &str) -> Option<u64> {
    let line = text.lines().find(|line| line.split(':').next() == Some(field))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_status_field_is_read_in_bytes() {
        let text = "Name:\tx\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\n";
        assert_eq!(parse_status_field(text, "VmRSS"), Some(1024 * 1024));
        assert_eq!(parse_status_field(text, "VmHWM"), Some(2048 * 1024));
        assert_eq!(parse_status_field(text, "VmSwap"), None);
    }

    #[test]
    fn this_process_has_a_resident_size() {
        assert!(status_field_bytes(std::process::id(), "VmRSS").unwrap() > 0);
    }
}
