//! The terminal's platform session (`session.json`, 0600): ticket, key and lifetime, so a reboot needs no handshake.
//!
//! Losing the file costs one signed handshake, so it is replaced by a rename but not fsync'd (no flash wear for it)
//! and never trusted blindly: a file that does not parse, or a session the platform no longer accepts, is dropped. The key is as secret as the
//! terminal's own key beside it, and is never logged.

use crate::error::AgentError;
use crate::store::replace_without_sync;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use numbind_wire::terminal_session::SessionKey;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The session file's name in the state directory.
pub const SESSION_FILE_NAME: &str = "session.json";

/// A session as the terminal keeps it.
#[derive(Debug, Clone)]
pub struct StoredSession {
    pub ticket: String,
    pub key: SessionKey,
    pub issued_at_unix_seconds: i64,
    pub expires_at_unix_seconds: i64,
}

impl StoredSession {
    /// Worth using at `now`: more than a quarter of its lifetime left, so it is renewed well before it lapses.
    pub fn is_fresh_at(&self, now_unix_seconds: i64) -> bool {
        let lifetime = self.expires_at_unix_seconds.saturating_sub(self.issued_at_unix_seconds);
        self.expires_at_unix_seconds.saturating_sub(now_unix_seconds) > lifetime / 4
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionFile {
    ticket: String,
    key: String,
    issued_at_unix_seconds: i64,
    expires_at_unix_seconds: i64,
}

/// Reads and writes `session.json` in the state directory.
#[derive(Debug, Clone)]
pub(crate) struct SessionFileStore {
    path: PathBuf,
}

impl SessionFileStore {
    pub(crate) fn new(state_dir: &Path) -> Self {
        SessionFileStore { path: state_dir.join(SESSION_FILE_NAME) }
    }

    /// The stored session, or `None` when there is none or the file is not one (it is then removed).
    pub(crate) fn load(&self) -> Option<StoredSession> {
        let bytes = std::fs::read(&self.path).ok()?;
        let parsed = serde_json::from_slice::<SessionFile>(&bytes).ok().and_then(|file| {
            let key: [u8; 32] = URL_SAFE_NO_PAD.decode(&file.key).ok()?.try_into().ok()?;
            Some(StoredSession {
                ticket: file.ticket,
                key: SessionKey::from_bytes(key),
                issued_at_unix_seconds: file.issued_at_unix_seconds,
                expires_at_unix_seconds: file.expires_at_unix_seconds,
            })
        });
        if parsed.is_none() {
            tracing::warn!(path = %self.path.display(), "session file is not well-formed; dropping it");
            self.forget();
        }
        parsed
    }

    /// Replaces the stored session (by a rename, owner-only, not fsync'd).
    pub(crate) fn save(&self, session: &StoredSession) -> Result<(), AgentError> {
        let file = SessionFile {
            ticket: session.ticket.clone(),
            key: URL_SAFE_NO_PAD.encode(session.key.as_bytes()),
            issued_at_unix_seconds: session.issued_at_unix_seconds,
            expires_at_unix_seconds: session.expires_at_unix_seconds,
        };
        // Serialising strings and integers cannot fail.
        let bytes = serde_json::to_vec(&file).unwrap_or_default();
        replace_without_sync(&self.path, &bytes, 0o600)
    }

    /// Drops the stored session (the platform refused it, or it is malformed). Missing is fine.
    pub(crate) fn forget(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn session(issued: i64, expires: i64) -> StoredSession {
        StoredSession {
            ticket: "ticket-1".into(),
            key: SessionKey::from_bytes([5; 32]),
            issued_at_unix_seconds: issued,
            expires_at_unix_seconds: expires,
        }
    }

    #[test]
    fn a_session_round_trips_owner_only_and_a_malformed_file_is_dropped() {
        let directory = tempfile::tempdir().unwrap();
        let store = SessionFileStore::new(directory.path());
        assert!(store.load().is_none());
        store.save(&session(1000, 2000)).unwrap();
        let loaded = store.load().unwrap();
        assert_eq!((loaded.ticket.as_str(), loaded.key.as_bytes()), ("ticket-1", &[5; 32]));
        let mode = std::fs::metadata(directory.path().join(SESSION_FILE_NAME)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(directory.path().join(SESSION_FILE_NAME), b"{\"ticket\":1}").unwrap();
        assert!(store.load().is_none());
        assert!(!directory.path().join(SESSION_FILE_NAME).exists(), "a malformed file is removed");
    }

    #[test]
    fn a_session_is_renewed_once_less_than_a_quarter_of_its_lifetime_is_left() {
        let stored = session(1000, 2000);
        assert!(stored.is_fresh_at(1000));
        assert!(stored.is_fresh_at(1749));
        assert!(!stored.is_fresh_at(1750));
        assert!(!stored.is_fresh_at(2500));
    }
}
