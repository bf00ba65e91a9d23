//! The shared secrets of a whole system (`numbind up`, the bench): made on first start, kept owner-only in the
//! data directory.

use anyhow::Context;
use ring::rand::{SecureRandom, SystemRandom};
use std::fs;
use std::path::Path;

/// How long a made secret is. SMPP 3.4 caps a bind password at 8 characters; HTTP secrets have no such cap.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SecretLength {
    /// 64 characters (about 380 bits): the OSS-platform HMAC secret.
    Long,
    /// 8 characters (about 47 bits): the most an SMPP 3.4 `bind` carries.
    SmppPassword,
}

impl SecretLength {
    fn characters(self) -> usize {
        match self {
            SecretLength::Long => 64,
            SecretLength::SmppPassword => 8,
        }
    }
}

/// The secrets the components share, each in its own file of `<data-dir>/secrets`.
pub(crate) struct SystemSecrets {
    pub(crate) oss_platform: String,
    pub(crate) oss_admin_token: String,
    pub(crate) smsc_oss_password: String,
    pub(crate) smsc_platform_password: String,
}

impl SystemSecrets {
    pub(crate) fn load_or_create(directory: &Path) -> anyhow::Result<SystemSecrets> {
        Ok(SystemSecrets {
            oss_platform: load_or_create(&directory.join("oss-platform.secret"), SecretLength::Long)?,
            // Where `numbind oss-sim subscriber` finds it by default (`numbind_oss_sim::cli::UP_ADMIN_TOKEN_FILE`).
            oss_admin_token: load_or_create(&directory.join("oss-admin.token"), SecretLength::Long)?,
            smsc_oss_password: load_or_create(&directory.join("smsc-oss.password"), SecretLength::SmppPassword)?,
            smsc_platform_password: load_or_create(
                &directory.join("smsc-platform.password"),
                SecretLength::SmppPassword,
            )?,
        })
    }
}

const SECRET_ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Reads the secret at `path`, or makes a new one (random letters and digits) and writes it with mode 0600.
pub(crate) fn load_or_create(path: &Path, length: SecretLength) -> anyhow::Result<String> {
    match fs::metadata(path) {
        Ok(_) => Ok(numbind_process::data_dir::read_secret_file(path)?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => create(path, length),
        Err(error) => Err(error).with_context(|| format!("reading secret file {}", path.display())),
    }
}

fn random_secret(length: SecretLength) -> anyhow::Result<String> {
    let random = SystemRandom::new();
    let mut secret = String::with_capacity(length.characters());
    let mut buffer = [0u8; 64];
    while secret.len() < length.characters() {
        random.fill(&mut buffer).map_err(|_| anyhow::anyhow!("the system random source failed"))?;
        // 248 is the largest multiple of 62 below 256: no modulo bias.
        for byte in buffer.iter().filter(|byte| **byte < 248) {
            if secret.len() < length.characters() {
                secret.push(char::from(SECRET_ALPHABET[usize::from(*byte % 62)]));
            }
        }
    }
    Ok(secret)
}

fn create(path: &Path, length: SecretLength) -> anyhow::Result<String> {
    let secret = random_secret(length)?;
    if let Some(parent) = path.parent() {
        numbind_process::data_dir::create_private_dir(parent)?;
    }
    numbind_process::data_dir::create_secret_file(path, secret.as_bytes())?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_secret_is_made_once_owner_only_and_then_reused() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("secrets/one.secret");
        let first = load_or_create(&path, SecretLength::Long).unwrap();
        assert_eq!(first.len(), 64);
        assert!(first.bytes().all(|byte| byte.is_ascii_alphanumeric()));
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(load_or_create(&path, SecretLength::Long).unwrap(), first);
        let password = load_or_create(&directory.path().join("smpp.password"), SecretLength::SmppPassword).unwrap();
        assert_eq!(password.len(), 8, "fits an SMPP 3.4 bind");
    }

    #[test]
    fn a_secret_readable_by_others_is_refused() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("open.secret");
        fs::write(&path, "0123456789abcdef0123456789abcdef").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(load_or_create(&path, SecretLength::Long).is_err());
    }
}
