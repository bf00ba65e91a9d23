//! Console sessions, kept in memory: an opaque random ID (the cookie) maps to the token's hash and a CSRF token.
//!
//! The bearer token itself is never kept nor put in the cookie; each request looks the hash up again, so a revoked
//! token ends its sessions at once. Sessions expire after a fixed lifetime and do not survive a restart.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SecureRandom;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long a session lasts after sign-in.
pub(crate) const SESSION_LIFETIME_SECONDS: i64 = 8 * 3600;
/// Most sessions held at once (expired ones are dropped first).
pub(crate) const MAX_SESSIONS: usize = 10_000;
const RANDOM_BYTES: usize = 32;

/// One signed-in browser.
#[derive(Clone)]
pub(crate) struct ConsoleSession {
    pub session_id: String,
    pub token_hash: [u8; 32],
    pub csrf_token: String,
    pub expires_at: i64,
}

impl std::fmt::Debug for ConsoleSession {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ConsoleSession").field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

/// Why no session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum SessionError {
    #[error("the system random source failed")]
    RandomFailed,
    #[error("too many console sessions are open")]
    TooManySessions,
}

/// The live sessions; cheap to clone, shared by every console handler.
#[derive(Clone, Default)]
pub(crate) struct ConsoleSessions {
    by_id: Arc<Mutex<HashMap<String, ConsoleSession>>>,
}

fn random_text(random: &dyn SecureRandom) -> Result<String, SessionError> {
    let mut bytes = [0u8; RANDOM_BYTES];
    random.fill(&mut bytes).map_err(|_| SessionError::RandomFailed)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Compares two secrets in time independent of where they differ.
pub(crate) fn secrets_match(expected: &str, presented: &str) -> bool {
    expected.len() == presented.len()
        && expected.bytes().zip(presented.bytes()).fold(0u8, |difference, (left, right)| difference | (left ^ right))
            == 0
}

impl ConsoleSessions {
    /// Opens a session for the holder of the token with `token_hash`.
    pub(crate) fn open(
        &self,
        random: &dyn SecureRandom,
        token_hash: [u8; 32],
        now: i64,
    ) -> Result<ConsoleSession, SessionError> {
        let session = ConsoleSession {
            session_id: random_text(random)?,
            token_hash,
            csrf_token: random_text(random)?,
            expires_at: now + SESSION_LIFETIME_SECONDS,
        };
        let mut by_id = self.by_id.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        by_id.retain(|_, open| open.expires_at > now);
        if by_id.len() >= MAX_SESSIONS {
            return Err(SessionError::TooManySessions);
        }
        by_id.insert(session.session_id.clone(), session.clone());
        Ok(session)
    }

    /// The live session with this ID, if it has not expired.
    pub(crate) fn find(&self, session_id: &str, now: i64) -> Option<ConsoleSession> {
        let by_id = self.by_id.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        by_id.get(session_id).filter(|session| session.expires_at > now).cloned()
    }

    /// Ends a session (sign-out, or a token found revoked).
    pub(crate) fn close(&self, session_id: &str) {
        let mut by_id = self.by_id.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        by_id.remove(session_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn a_session_is_found_until_it_expires_or_is_closed() {
        let sessions = ConsoleSessions::default();
        let session = sessions.open(&SystemRandom::new(), [7; 32], 100).unwrap();
        assert_eq!(session.session_id.len(), 43);
        assert_ne!(session.session_id, session.csrf_token);
        assert!(sessions.find(&session.session_id, 100 + SESSION_LIFETIME_SECONDS - 1).is_some());
        assert!(sessions.find(&session.session_id, 100 + SESSION_LIFETIME_SECONDS).is_none());
        sessions.close(&session.session_id);
        assert!(sessions.find(&session.session_id, 101).is_none());
        assert!(!format!("{session:?}").contains(&session.csrf_token));
    }

    #[test]
    fn secrets_match_only_when_equal() {
        assert!(secrets_match("abc", "abc"));
        assert!(!secrets_match("abc", "abd"));
        assert!(!secrets_match("abc", "ab"));
    }
}
