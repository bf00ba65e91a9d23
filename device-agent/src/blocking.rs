//! `BlockingAgent`: the agent for embedders without an async runtime; it owns a current-thread runtime.

use crate::config::AgentConfig;
use crate::domain::events::{AgentEvent, BindingStatus, BoundBinding, LocalBindingState};
use crate::error::AgentError;
use crate::Agent;
use numbind_wire::TerminalId;

/// The same operations as [`Agent`], each blocking the calling thread until done.
/// Do not call it from inside an async runtime (it would block that runtime's thread).
#[derive(Debug)]
pub struct BlockingAgent {
    agent: Agent,
    runtime: tokio::runtime::Runtime,
}

impl BlockingAgent {
    /// Builds the runtime, then the agent (see [`Agent::new`]).
    pub fn new(config: AgentConfig) -> Result<BlockingAgent, AgentError> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|source| {
            AgentError::Io { action: "start the runtime for", path: config.state_dir.clone(), source }
        })?;
        let agent = Agent::new(config)?;
        Ok(BlockingAgent { agent, runtime })
    }

    /// See [`Agent::terminal_id`].
    pub fn terminal_id(&self) -> &TerminalId {
        self.agent.terminal_id()
    }

    /// See [`Agent::local_state`].
    pub fn local_state(&self) -> LocalBindingState {
        self.agent.local_state()
    }

    /// See [`Agent::check_status`].
    pub fn check_status(&self) -> Result<BindingStatus, AgentError> {
        self.runtime.block_on(self.agent.check_status())
    }

    /// See [`Agent::run_until_bound`]; `events` is called on this thread.
    pub fn run_until_bound(&self, events: &mut (dyn FnMut(AgentEvent) + Send)) -> Result<BoundBinding, AgentError> {
        self.runtime.block_on(self.agent.run_until_bound(events))
    }

    /// See [`Agent::reset`].
    pub fn reset(&self) -> Result<(), AgentError> {
        self.runtime.block_on(self.agent.reset())
    }

    /// The async agent inside, for callers that mix both styles.
    pub fn agent(&self) -> &Agent {
        &self.agent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_wire::statement::PlatformSigningKey;
    use ring::rand::SystemRandom;

    #[test]
    fn a_blocking_agent_reports_an_unreachable_platform_as_an_http_error() {
        let directory = tempfile::tempdir().unwrap();
        let (key, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
        // Port 9 (discard) on loopback: nothing listens there, the connection is refused.
        let mut config = AgentConfig::new(directory.path(), "http://127.0.0.1:9", vec![key.public_key()]);
        config.request_timeout = std::time::Duration::from_secs(2);
        let agent = BlockingAgent::new(config).unwrap();
        assert!(matches!(agent.check_status(), Err(AgentError::Http(_))));
        assert_eq!(agent.local_state(), LocalBindingState::Unbound);
    }
}
