//! The terminal's identity: its Ed25519 key (`terminal.key`, PKCS#8, 0600) and its ID, created once.

use crate::error::AgentError;
use crate::store::{create_private_directory, write_atomically};
use numbind_wire::request_signing::{TerminalKeyPair, TerminalPublicKey};
use numbind_wire::TerminalId;
use ring::rand::SystemRandom;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The key file's name in the state directory.
pub const KEY_FILE_NAME: &str = "terminal.key";
/// The optional file in which a factory sets the terminal ID.
pub const TERMINAL_ID_FILE_NAME: &str = "terminal-id";

/// A terminal's key pair and ID. `Debug` never prints the private key.
#[derive(Debug)]
pub struct TerminalIdentity {
    key_pair: TerminalKeyPair,
    terminal_id: TerminalId,
}

impl TerminalIdentity {
    /// Loads the identity from `state_dir`, or creates it on first boot: imports `factory_key` when given,
    /// otherwise generates a key. The ID is read from `terminal-id` if the factory wrote one, otherwise it
    /// is derived from the public key. Sync file I/O: call it at start-up, not on a busy async thread.
    pub fn load_or_create(state_dir: &Path, factory_key: Option<&Path>) -> Result<Self, AgentError> {
        create_private_directory(state_dir)?;
        let key_path = state_dir.join(KEY_FILE_NAME);
        let key_pair = if key_path.exists() {
            load_key(&key_path)?
        } else if let Some(factory_key) = factory_key {
            import_factory_key(factory_key, &key_path)?
        } else {
            let (key_pair, pkcs8) = TerminalKeyPair::generate(&SystemRandom::new())?;
            write_atomically(&key_path, &pkcs8, 0o600)?;
            tracing::info!(public_key = %key_pair.public_key(), "generated a new terminal key");
            key_pair
        };
        let terminal_id = read_terminal_id(state_dir)?
            .unwrap_or_else(|| TerminalId::from_public_key(key_pair.public_key().as_bytes()));
        Ok(TerminalIdentity { key_pair, terminal_id })
    }

    /// The ID shown on the screen and named in every request.
    pub fn terminal_id(&self) -> &TerminalId {
        &self.terminal_id
    }

    /// The public key the platform registers.
    pub fn public_key(&self) -> TerminalPublicKey {
        self.key_pair.public_key()
    }

    pub(crate) fn key_pair(&self) -> &TerminalKeyPair {
        &self.key_pair
    }
}

fn load_key(key_path: &Path) -> Result<TerminalKeyPair, AgentError> {
    let metadata = fs::metadata(key_path).map_err(AgentError::io("inspect", key_path))?;
    if metadata.permissions().mode() & 0o077 != 0 {
        tracing::warn!(path = %key_path.display(), "terminal key was readable by others; restricting it to 0600");
        fs::set_permissions(key_path, fs::Permissions::from_mode(0o600))
            .map_err(AgentError::io("restrict permissions of", key_path))?;
    }
    let pkcs8 = fs::read(key_path).map_err(AgentError::io("read", key_path))?;
    Ok(TerminalKeyPair::from_pkcs8(&pkcs8)?)
}

fn import_factory_key(factory_key: &Path, key_path: &Path) -> Result<TerminalKeyPair, AgentError> {
    let pkcs8 = fs::read(factory_key).map_err(AgentError::io("read factory key", factory_key))?;
    let key_pair = TerminalKeyPair::from_pkcs8(&pkcs8)?;
    write_atomically(key_path, &pkcs8, 0o600)?;
    tracing::info!(public_key = %key_pair.public_key(), "imported the factory terminal key");
    Ok(key_pair)
}

fn read_terminal_id(state_dir: &Path) -> Result<Option<TerminalId>, AgentError> {
    let path = state_dir.join(TERMINAL_ID_FILE_NAME);
    match fs::read_to_string(&path) {
        Ok(text) => TerminalId::parse(&text).map(Some).map_err(AgentError::TerminalIdFile),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(AgentError::Io { action: "read", path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_is_created_once_and_reloaded_with_the_same_id() {
        let directory = tempfile::tempdir().unwrap();
        let state_dir = directory.path().join("state");
        let first = TerminalIdentity::load_or_create(&state_dir, None).unwrap();
        let second = TerminalIdentity::load_or_create(&state_dir, None).unwrap();
        assert_eq!(first.terminal_id(), second.terminal_id());
        assert_eq!(first.public_key(), second.public_key());
        assert_eq!(first.terminal_id(), &TerminalId::from_public_key(first.public_key().as_bytes()));
    }

    #[test]
    fn the_key_file_is_owner_only_and_so_is_the_state_directory() {
        let directory = tempfile::tempdir().unwrap();
        let state_dir = directory.path().join("state");
        TerminalIdentity::load_or_create(&state_dir, None).unwrap();
        let key_mode = fs::metadata(state_dir.join(KEY_FILE_NAME)).unwrap().permissions().mode();
        assert_eq!(key_mode & 0o777, 0o600);
        assert_eq!(fs::metadata(&state_dir).unwrap().permissions().mode() & 0o777, 0o700);
    }

    #[test]
    fn a_key_file_readable_by_others_is_restricted_on_load() {
        let directory = tempfile::tempdir().unwrap();
        TerminalIdentity::load_or_create(directory.path(), None).unwrap();
        let key_path = directory.path().join(KEY_FILE_NAME);
        fs::set_permissions(&key_path, fs::Permissions::from_mode(0o644)).unwrap();
        TerminalIdentity::load_or_create(directory.path(), None).unwrap();
        assert_eq!(fs::metadata(&key_path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_factory_key_and_terminal_id_are_imported_on_first_boot() {
        let directory = tempfile::tempdir().unwrap();
        let (factory_pair, pkcs8) = TerminalKeyPair::generate(&SystemRandom::new()).unwrap();
        let factory_key = directory.path().join("factory.key");
        fs::write(&factory_key, &pkcs8).unwrap();
        let state_dir = directory.path().join("state");
        fs::create_dir(&state_dir).unwrap();
        fs::write(state_dir.join(TERMINAL_ID_FILE_NAME), "stb-0042ab\n").unwrap();
        let identity = TerminalIdentity::load_or_create(&state_dir, Some(&factory_key)).unwrap();
        assert_eq!(identity.public_key(), factory_pair.public_key());
        assert_eq!(identity.terminal_id().as_str(), "STB-0042AB");
        assert_eq!(fs::read(state_dir.join(KEY_FILE_NAME)).unwrap(), pkcs8);
    }

    #[test]
    fn a_corrupt_key_file_is_an_error_not_a_new_identity() {
        let directory = tempfile::tempdir().unwrap();
        fs::write(directory.path().join(KEY_FILE_NAME), b"junk").unwrap();
        let outcome = TerminalIdentity::load_or_create(directory.path(), None);
        assert!(matches!(outcome, Err(AgentError::Key(_))), "{outcome:?}");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            /// A damaged key file is an error, never a panic and never a silently new identity (which would strand
            /// the box's registration).
            #[test]
            fn a_damaged_key_file_is_an_error_not_a_new_identity(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
                let directory = tempfile::tempdir().unwrap();
                std::fs::write(directory.path().join("terminal.key"), &bytes).unwrap();
                prop_assert!(TerminalIdentity::load_or_create(directory.path(), None).is_err());
                prop_assert_eq!(std::fs::read(directory.path().join("terminal.key")).unwrap(), bytes);
            }

            /// A factory terminal-ID file holds a valid ID or is refused with a typed error; never a panic.
            #[test]
            fn a_terminal_id_file_is_parsed_or_refused(text in "\\PC{0,60}") {
                let directory = tempfile::tempdir().unwrap();
                std::fs::write(directory.path().join(TERMINAL_ID_FILE_NAME), &text).unwrap();
                match read_terminal_id(directory.path()) {
                    Ok(Some(id)) => prop_assert_eq!(Some(id.clone()), TerminalId::parse(&text).ok()),
                    Ok(None) => prop_assert!(false, "a present file is never absent"),
                    Err(error) => prop_assert!(matches!(error, AgentError::TerminalIdFile(_))),
                }
            }
        }
    }
}
