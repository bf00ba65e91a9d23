//! The agent's platform session: the cheap binding check it makes while it holds one, and opening one.
//!
//! A box that rebooted within the session lifetime asks over its stored session: one HMAC-tagged request, no
//! registration, no signature either way. The session answer settles the check only when the flag needs no new
//! proof: unbound, or bound to the binding the flag already names. A binding the flag does not hold yet is fetched
//! signed, because the flag keeps a platform-signed statement as its proof.

use super::{error_chain, Agent};
use crate::domain::events::{BindingStatus, LocalBindingState};
use crate::error::AgentError;
use crate::store::session::StoredSession;
use numbind_process::clock::now_unix_seconds;
use numbind_wire::session_handshake::SessionOffer;
use numbind_wire::statement::{BindingState, StatementExpectation};

impl Agent {
    /// The binding status over a fresh stored session, when it settles the question; `Ok(None)` otherwise (no
    /// session, a session the platform refused, or a binding the flag does not hold yet). Only failures worth
    /// retrying (network, overload) are errors.
    pub(super) async fn check_over_session(&self) -> Result<Option<BindingStatus>, AgentError> {
        let now = now_unix_seconds();
        let Some(session) = self.sessions.load().filter(|session| session.is_fresh_at(now)) else {
            return Ok(None);
        };
        let answered = match self.client.binding_check(&session).await {
            Ok(answered) => answered,
            Err(error) if error.is_retryable() => return Err(error),
            Err(error) => {
                let cause = error_chain(&error);
                tracing::info!(terminal_id = %self.terminal_id(), %cause, "session refused; checking signed");
                self.sessions.forget();
                return Ok(None);
            }
        };
        let expectation = StatementExpectation {
            terminal_id: self.terminal_id(),
            activation_id: None,
            in_reply_to: Some(&answered.request_nonce),
            now_unix_seconds: now_unix_seconds(),
        };
        let statement = match session.key.open_statement(&answered.body.statement, expectation) {
            Ok(statement) => statement,
            Err(error) => {
                tracing::warn!(terminal_id = %self.terminal_id(), %error, "session answer refused; checking signed");
                self.sessions.forget();
                return Ok(None);
            }
        };
        if statement.state != BindingState::Bound {
            self.write_flag(None).await?;
            return Ok(Some(BindingStatus::Unbound));
        }
        match self.local_state() {
            LocalBindingState::Bound(binding) if statement.binding_id.as_ref() == Some(&binding.binding_id) => {
                Ok(Some(BindingStatus::Bound(binding)))
            }
            _ => Ok(None),
        }
    }

    /// Opens a session for the next check unless a fresh one is stored. Failing costs only that the next check is
    /// signed, so it is logged, not returned.
    pub(super) async fn open_session_for_next_time(&self) {
        if self.sessions.load().is_some_and(|session| session.is_fresh_at(now_unix_seconds())) {
            return;
        }
        match self.open_session().await {
            Ok(expires_at) => tracing::info!(terminal_id = %self.terminal_id(), expires_at, "session opened"),
            Err(error) => {
                let cause = error_chain(&error);
                tracing::warn!(terminal_id = %self.terminal_id(), %cause, "cannot open a session; checks stay signed");
            }
        }
    }

    /// The signed handshake: verifies the grant (pinned key, this terminal, this request, not expired), derives
    /// the key and stores the session; returns its expiry.
    async fn open_session(&self) -> Result<i64, AgentError> {
        let offer = SessionOffer::generate(&self.random)?;
        let answered = self.client.open_session(&offer.request()).await?;
        let grant = self.pinned_keys.verify_session_grant(
            &answered.body.grant,
            self.terminal_id(),
            &answered.request_nonce,
            now_unix_seconds(),
        )?;
        let key = offer.complete(&grant)?;
        let session = StoredSession {
            ticket: grant.ticket,
            key,
            issued_at_unix_seconds: grant.issued_at_unix_seconds,
            expires_at_unix_seconds: grant.expires_at_unix_seconds,
        };
        let sessions = self.sessions.clone();
        let path = self.config.state_dir.join(crate::store::session::SESSION_FILE_NAME);
        tokio::task::spawn_blocking(move || sessions.save(&session)).await.map_err(|join_error| AgentError::Io {
            action: "write",
            path,
            source: std::io::Error::other(join_error.to_string()),
        })??;
        Ok(grant.expires_at_unix_seconds)
    }
}
