//! The platform's statement-signing key on disk: loaded, or created owner-only with its public key beside it.

use anyhow::Context;
use numbind_wire::statement::PlatformSigningKey;
use ring::rand::SystemRandom;
use std::path::{Path, PathBuf};

/// Loads the PKCS#8 key at `path` (refused when others may read it), or creates it (mode 0600) and writes
/// `<path>.pub` with the public key.
pub fn load_or_create_signing_key(path: &Path) -> anyhow::Result<PlatformSigningKey> {
    if path.exists() {
        numbind_process::data_dir::ensure_private_file(path)?;
    }
    let key = match std::fs::read(path) {
        Ok(pkcs8) => PlatformSigningKey::from_pkcs8(&pkcs8)
            .with_context(|| format!("signing key {} is not an Ed25519 PKCS#8 document", path.display()))?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => create_signing_key(path)?,
        Err(error) => return Err(error).with_context(|| format!("cannot read signing key {}", path.display())),
    };
    let public_path = public_key_path(path);
    let public_text = format!("{}\n", key.public_key());
    if std::fs::read_to_string(&public_path).ok().as_deref() != Some(public_text.as_str()) {
        std::fs::write(&public_path, public_text)
            .with_context(|| format!("cannot write public key {}", public_path.display()))?;
    }
    Ok(key)
}

/// `<path>.pub`
pub fn public_key_path(path: &Path) -> PathBuf {
    let mut text = path.as_os_str().to_owned();
    text.push(".pub");
    PathBuf::from(text)
}

fn create_signing_key(path: &Path) -> anyhow::Result<PlatformSigningKey> {
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let (key, pkcs8) = PlatformSigningKey::generate(&SystemRandom::new()).context("cannot generate a signing key")?;
    numbind_process::data_dir::create_secret_file(path, &pkcs8)?;
    tracing::info!(key_id = key.key_id(), "created the platform signing key");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_wire::statement::PlatformPublicKey;

    #[test]
    fn a_key_is_created_owner_only_once_and_its_public_half_written_beside_it() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("keys").join("platform-signing.key");
        let created = load_or_create_signing_key(&path).unwrap();
        let reloaded = load_or_create_signing_key(&path).unwrap();
        assert_eq!(created.key_id(), reloaded.key_id());
        let public_text = std::fs::read_to_string(public_key_path(&path)).unwrap();
        assert_eq!(PlatformPublicKey::parse(&public_text).unwrap(), created.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    #[cfg(unix)]
    fn a_signing_key_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("platform-signing.key");
        load_or_create_signing_key(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = load_or_create_signing_key(&path).unwrap_err();
        assert!(format!("{refused:#}").contains("chmod 600"), "{refused:#}");
    }
}
