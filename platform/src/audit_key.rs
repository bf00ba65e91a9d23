//! The audit chain's MAC key on disk: `platform-audit.key` beside the database, 32 random bytes (hex) made
//! owner-only on first start. It is its own key, not one derived from the statement-signing key, so the signing key
//! rotates (a new `--signing-key-file`) without re-keying the chain.

use crate::domain::audit_mac::AuditChainKey;
use anyhow::Context;
use ring::rand::{SecureRandom, SystemRandom};
use std::path::{Path, PathBuf};

/// Where the audit key of the database at `database_path` lives.
pub fn audit_key_path(database_path: &Path) -> PathBuf {
    database_path.with_file_name("platform-audit.key")
}

/// Reads the audit key at `path` (never creates it: a new key would not be the one that keyed the chain); refused
/// when others may read it.
pub fn read_audit_key(path: &Path) -> anyhow::Result<AuditChainKey> {
    let text = numbind_process::data_dir::read_secret_file(path)
        .with_context(|| format!("cannot read the audit key {}", path.display()))?;
    let bytes = hex::decode(text.trim()).ok().filter(|bytes| bytes.len() == 32);
    let secret: [u8; 32] = bytes
        .and_then(|bytes| bytes.try_into().ok())
        .with_context(|| format!("the audit key {} is not 64 hex digits", path.display()))?;
    Ok(AuditChainKey::from_secret(&secret))
}

/// Reads the audit key at `path`, or makes it (mode 0600) when there is none.
pub fn load_or_create_audit_key(path: &Path) -> anyhow::Result<AuditChainKey> {
    if path.exists() {
        return read_audit_key(path);
    }
    let mut secret = [0u8; 32];
    SystemRandom::new().fill(&mut secret).map_err(|_| anyhow::anyhow!("the system random source failed"))?;
    numbind_process::data_dir::create_secret_file(path, hex::encode(secret).as_bytes())?;
    tracing::info!("created the audit chain key");
    Ok(AuditChainKey::from_secret(&secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_audit_key_is_made_owner_only_once_and_read_back_the_same() {
        let directory = tempfile::tempdir().unwrap();
        let path = audit_key_path(&directory.path().join("platform.db"));
        let made = load_or_create_audit_key(&path).unwrap();
        let read = read_audit_key(&path).unwrap();
        assert_eq!(made.mac(b"head"), read.mac(b"head"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "not hex").unwrap();
        assert!(read_audit_key(&path).is_err(), "a malformed key is refused, not replaced");
    }
}
