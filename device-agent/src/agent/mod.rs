//! `Agent`: the terminal's side of the binding, built on its identity, its flag and the platform client.

mod boot;
mod purchase;
mod session;
mod watch;

pub use purchase::{MerchantChannel, MerchantChannelError};

use crate::clients::platform::PlatformClient;
use crate::config::AgentConfig;
use crate::domain::events::{AgentEvent, BindingStatus, BoundBinding, LocalBindingState};
use crate::error::AgentError;
use crate::store::binding_flag::BindingFlag;
use crate::store::identity::TerminalIdentity;
use crate::store::session::SessionFileStore;
use numbind_process::backoff::{Backoff, RetryPolicy};
use numbind_process::clock::now_unix_seconds;
use numbind_wire::api::ApiErrorCode;
use numbind_wire::request_signing::TerminalPublicKey;
use numbind_wire::statement::{BindingState, PinnedPlatformKeys, SignedStatement, StatementExpectation};
use numbind_wire::TerminalId;
use ring::rand::SystemRandom;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The device agent: asks the platform for its binding, shows codes until it is bound, keeps the flag.
#[derive(Debug)]
pub struct Agent {
    config: AgentConfig,
    identity: Arc<TerminalIdentity>,
    pinned_keys: PinnedPlatformKeys,
    client: PlatformClient,
    flag: BindingFlag,
    sessions: SessionFileStore,
    random: SystemRandom,
}

impl Agent {
    /// Loads the identity from the state directory (creating it on first boot) and checks the
    /// configuration. Refuses to start without a pinned platform key. Does sync file I/O.
    pub fn new(config: AgentConfig) -> Result<Agent, AgentError> {
        if config.platform_keys.is_empty() {
            return Err(AgentError::NoPinnedKey);
        }
        let identity =
            Arc::new(TerminalIdentity::load_or_create(&config.state_dir, config.factory_key_path.as_deref())?);
        let client = PlatformClient::new(
            &config.platform_url,
            config.platform_authorities_pem.as_deref(),
            config.allow_insecure_http,
            identity.clone(),
            config.request_timeout,
        )?;
        let pinned_keys = PinnedPlatformKeys::new(config.platform_keys.clone());
        let flag = BindingFlag::new(&config.state_dir);
        let sessions = SessionFileStore::new(&config.state_dir);
        tracing::info!(terminal_id = %identity.terminal_id(), "device agent ready");
        Ok(Agent { config, identity, pinned_keys, client, flag, sessions, random: SystemRandom::new() })
    }

    /// The ID shown on the screen and named in every request.
    pub fn terminal_id(&self) -> &TerminalId {
        self.identity.terminal_id()
    }

    /// The terminal's public key, as registered with the platform.
    pub fn public_key(&self) -> TerminalPublicKey {
        self.identity.public_key()
    }

    /// The configuration the agent runs with.
    pub fn config(&self) -> &AgentConfig {
        &self.config
    }

    /// What the flag file says, without asking the platform. A corrupt flag reads as unbound.
    pub fn local_state(&self) -> LocalBindingState {
        self.flag.read(self.terminal_id(), &self.pinned_keys)
    }

    /// Asks the platform for the binding status and makes the flag match it. Over the stored session when it
    /// settles the question (the flag already names the binding, or the terminal is unbound); otherwise registers
    /// (idempotent), fetches the signed status, verifies it (pinned key, this terminal, this request's nonce, not
    /// expired) and opens a session for next time.
    pub async fn check_status(&self) -> Result<BindingStatus, AgentError> {
        if let Some(status) = self.check_over_session().await? {
            return Ok(status);
        }
        self.client.register(&self.config.device_model).await?;
        self.fetch_signed_status_and_update_flag().await
    }

    /// Signed factory reset: the platform unbinds the terminal, then the flag is cleared. The identity stays.
    pub async fn reset(&self) -> Result<(), AgentError> {
        match self.client.reset().await {
            Ok(answered) => {
                let statement = self.verify_status_statement(&answered.body.statement, &answered.request_nonce)?;
                if statement.state == BindingState::Bound {
                    tracing::warn!(terminal_id = %self.terminal_id(), "platform still states a binding after reset");
                }
            }
            Err(error) if error.api_code() == Some(ApiErrorCode::TerminalNotRegistered) => {
                tracing::info!(terminal_id = %self.terminal_id(), "terminal not registered; nothing to reset remotely");
            }
            Err(error) => return Err(error),
        }
        self.write_flag(None).await?;
        tracing::info!(terminal_id = %self.terminal_id(), "factory reset done");
        Ok(())
    }

    /// Runs the boot flow until the terminal is bound: see the crate documentation.
    pub async fn run_until_bound(
        &self,
        events: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<BoundBinding, AgentError> {
        boot::run_until_bound(self, events).await
    }

    /// Change number: shows codes even when bound (a signed `replace_binding` request) until the OSS confirms a
    /// number; the old binding is revoked (its number told by SMS) and the flag names the new one.
    pub async fn run_until_bound_replacing(
        &self,
        events: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<BoundBinding, AgentError> {
        boot::run_until_bound_replacing(self, events).await
    }

    /// Daemon loop: reports [`AgentEvent::Watching`], then long-polls the signed status (each poll held by the
    /// platform for up to `long_poll_bound` until the binding changes), makes the flag match every answer and
    /// reports a change as it happens: `AgentEvent::Unbound` when a binding the flag held is gone,
    /// `AgentEvent::BindingChanged` when the box is bound to another binding. Retries failures with backoff;
    /// returns only on an error that retrying cannot fix. Stop it by dropping the future (the CLI does on SIGTERM).
    pub async fn watch(
        &self,
        long_poll_bound: Duration,
        events: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<(), AgentError> {
        watch::watch(self, long_poll_bound, events).await
    }

    /// The binding status over the session when that settles it, else signed (see `check_status`).
    async fn current_status(&self) -> Result<BindingStatus, AgentError> {
        match self.check_over_session().await? {
            Some(status) => Ok(status),
            None => self.fetch_signed_status_and_update_flag().await,
        }
    }

    /// The signed status, written to the flag; then a session is opened for the next check if none is fresh.
    async fn fetch_signed_status_and_update_flag(&self) -> Result<BindingStatus, AgentError> {
        let status = self.fetch_status_and_update_flag().await?;
        self.open_session_for_next_time().await;
        Ok(status)
    }

    async fn fetch_status_and_update_flag(&self) -> Result<BindingStatus, AgentError> {
        self.wait_for_status_and_update_flag(Duration::ZERO, None).await
    }

    /// The signed status, once it differs from `held_binding_id` or after `wait` (zero: now), written to the flag.
    async fn wait_for_status_and_update_flag(
        &self,
        wait: Duration,
        held_binding_id: Option<&str>,
    ) -> Result<BindingStatus, AgentError> {
        let answered = self.client.binding_status(wait, held_binding_id).await?;
        let signed = answered.body.statement;
        let statement = self.verify_status_statement(&signed, &answered.request_nonce)?;
        let status = match (statement.state, statement.binding_id, statement.msisdn_masked) {
            (BindingState::Bound, Some(binding_id), Some(msisdn_masked)) => BindingStatus::Bound(BoundBinding {
                binding_id,
                msisdn_masked,
                activation_id: statement.activation_id,
                bound_at_unix_seconds: statement.issued_at_unix_seconds,
            }),
            (BindingState::Bound, _, _) => return Err(numbind_wire::statement::StatementError::Malformed.into()),
            _ => BindingStatus::Unbound,
        };
        match &status {
            BindingStatus::Bound(binding) => self.write_flag(Some((binding.clone(), signed))).await?,
            BindingStatus::Unbound => self.write_flag(None).await?,
        }
        Ok(status)
    }

    fn verify_status_statement(
        &self,
        signed: &SignedStatement,
        request_nonce: &str,
    ) -> Result<numbind_wire::statement::BindingStatement, AgentError> {
        let expectation = StatementExpectation {
            terminal_id: self.terminal_id(),
            activation_id: None,
            in_reply_to: Some(request_nonce),
            now_unix_seconds: now_unix_seconds(),
        };
        Ok(self.pinned_keys.verify_for(signed, expectation)?)
    }

    /// Makes the flag say `bound` (with its statement) or unbound, unless it says so already.
    /// The write runs on a blocking thread: it fsyncs.
    async fn write_flag(&self, bound: Option<(BoundBinding, SignedStatement)>) -> Result<(), AgentError> {
        let wanted = match &bound {
            Some((binding, _)) => LocalBindingState::Bound(binding.clone()),
            None => LocalBindingState::Unbound,
        };
        let flag_file_exists = self.config.state_dir.join(crate::store::binding_flag::FLAG_FILE_NAME).exists();
        if flag_file_exists && self.local_state() == wanted {
            return Ok(());
        }
        let flag = self.flag.clone();
        let written = tokio::task::spawn_blocking(move || match bound {
            Some((binding, signed)) => flag.write_bound(&binding, &signed),
            None => flag.write_unbound(),
        })
        .await;
        match written {
            Ok(outcome) => outcome,
            Err(join_error) => Err(AgentError::Io {
                action: "write",
                path: self.config.state_dir.join(crate::store::binding_flag::FLAG_FILE_NAME),
                source: std::io::Error::other(join_error.to_string()),
            }),
        }
    }

    fn new_backoff(&self) -> Backoff {
        Backoff::new(RetryPolicy::new(self.config.retry_base, self.config.retry_cap))
    }

    /// Runs `operation` until it succeeds or fails for good; waits (and reports) between retries.
    async fn retrying<T, Operation, Attempt>(
        &self,
        events: &mut (dyn FnMut(AgentEvent) + Send),
        backoff: &mut Backoff,
        mut operation: Operation,
    ) -> Result<T, AgentError>
    where
        Operation: FnMut() -> Attempt,
        Attempt: Future<Output = Result<T, AgentError>>,
    {
        loop {
            match operation().await {
                Ok(value) => {
                    backoff.reset();
                    return Ok(value);
                }
                Err(error) if error.is_retryable() => self.wait_before_retry(events, backoff, &error).await,
                Err(error) => return Err(error),
            }
        }
    }

    /// Draws the next full-jitter wait (at least the error's `Retry-After`), reports it, sleeps.
    async fn wait_before_retry(
        &self,
        events: &mut (dyn FnMut(AgentEvent) + Send),
        backoff: &mut Backoff,
        error: &AgentError,
    ) {
        let after = backoff.next_random_delay(error.retry_after());
        let cause = error_chain(error);
        if let Some(failure) = error.connection_failure() {
            let (url, failed_attempts) = (self.config.platform_url.clone(), backoff.attempt());
            events(AgentEvent::PlatformUnreachable { url, failure, failed_attempts });
        }
        tracing::warn!(terminal_id = %self.terminal_id(), after_ms = after.as_millis() as u64, %cause, "retrying");
        events(AgentEvent::Retrying { after, cause });
        tokio::time::sleep(after).await;
    }
}

/// An error and its sources, `outer: inner: innermost`. Agent errors hold no secrets.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_wire::statement::PlatformSigningKey;

    #[test]
    fn an_agent_without_a_pinned_key_refuses_to_start() {
        let directory = tempfile::tempdir().unwrap();
        let config = AgentConfig::new(directory.path(), "http://127.0.0.1:9", Vec::new());
        assert!(matches!(Agent::new(config), Err(AgentError::NoPinnedKey)));
    }

    #[test]
    fn a_new_agent_starts_unbound_with_a_stable_id() {
        let directory = tempfile::tempdir().unwrap();
        let (key, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
        let config = AgentConfig::new(directory.path(), "http://127.0.0.1:9", vec![key.public_key()]);
        let first = Agent::new(config.clone()).unwrap();
        assert_eq!(first.local_state(), LocalBindingState::Unbound);
        let second = Agent::new(config).unwrap();
        assert_eq!(first.terminal_id(), second.terminal_id());
    }

    #[test]
    fn error_chains_name_every_cause() {
        let error = AgentError::Io {
            action: "read",
            path: "/x".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        assert_eq!(error_chain(&error), "cannot read /x: gone");
    }
}
