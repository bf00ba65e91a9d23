//! `NumbindAgent`: the agent behind the C handle, its runtime, its last error and its stop signal; the
//! configuration read from C values; the mapping of agent errors to status codes.

use crate::types::{NumbindAgentConfig, NumbindAgentStatus, NumbindAgentStr};
use numbind_device_agent::{Agent, AgentConfig, AgentError, Language, PlatformPublicKey};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// A failed call: its status code and what to tell the caller.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: NumbindAgentStatus,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: NumbindAgentStatus, message: impl Into<String>) -> Failure {
        Failure { status, message: message.into() }
    }
}

impl From<AgentError> for Failure {
    fn from(error: AgentError) -> Failure {
        let status = match &error {
            AgentError::Io { .. } | AgentError::TerminalIdFile(_) | AgentError::Key(_) => NumbindAgentStatus::Storage,
            AgentError::NoPinnedKey
            | AgentError::PlatformUrl { .. }
            | AgentError::InsecurePlatformUrl { .. }
            | AgentError::NoTrustedAuthority
            | AgentError::TrustedAuthority(_) => NumbindAgentStatus::Config,
            AgentError::Http(_) => NumbindAgentStatus::Network,
            AgentError::MerchantSubmission(_) => NumbindAgentStatus::Merchant,
            _ => NumbindAgentStatus::Platform,
        };
        Failure { status, message: error_chain(&error) }
    }
}

/// An error and its sources, `outer: inner: innermost`. Agent errors hold no secret and no full number.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// What a `NumbindAgent *` points to.
#[derive(Debug)]
pub struct NumbindAgent {
    pub(crate) agent: Agent,
    runtime: tokio::runtime::Runtime,
    last_error: Mutex<String>,
    stop_requested: AtomicBool,
    stop_signal: tokio::sync::Notify,
}

impl NumbindAgent {
    pub(crate) fn new(config: AgentConfig) -> Result<NumbindAgent, Failure> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|error| {
            Failure::new(NumbindAgentStatus::Internal, format!("cannot start the runtime: {error}"))
        })?;
        let agent = Agent::new(config)?;
        Ok(NumbindAgent {
            agent,
            runtime,
            last_error: Mutex::new(String::new()),
            stop_requested: AtomicBool::new(false),
            stop_signal: tokio::sync::Notify::new(),
        })
    }

    /// Runs `work` on this agent's runtime until it ends or `stop` is called.
    pub(crate) fn block_on<T>(&self, work: impl Future<Output = Result<T, AgentError>>) -> Result<T, Failure> {
        self.runtime.block_on(async {
            tokio::select! {
                outcome = work => outcome.map_err(Failure::from),
                () = self.stopped() => Err(Failure::new(NumbindAgentStatus::Stopped, "stopped by numbind_agent_stop")),
            }
        })
    }

    async fn stopped(&self) {
        loop {
            let notified = self.stop_signal.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.stop_requested.swap(false, Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }

    /// Ends the blocking call in progress, or the next one if none is.
    pub(crate) fn stop(&self) {
        self.stop_requested.store(true, Ordering::SeqCst);
        self.stop_signal.notify_waiters();
    }

    pub(crate) fn set_last_error(&self, message: String) {
        if let Ok(mut last_error) = self.last_error.lock() {
            *last_error = message;
        }
    }

    /// The last error's text; the view stays valid until the next call that fails on this agent.
    pub(crate) fn last_error(&self) -> NumbindAgentStr {
        match self.last_error.lock() {
            Ok(last_error) => NumbindAgentStr::of(&last_error),
            Err(_) => NumbindAgentStr::EMPTY,
        }
    }
}

/// Reads the C configuration; `text` turns each C string into `&str` (failing on bad UTF-8).
pub(crate) fn agent_config(
    config: &NumbindAgentConfig,
    text: impl Fn(NumbindAgentStr, &str) -> Result<String, Failure>,
) -> Result<AgentConfig, Failure> {
    let platform_url = text(config.platform_url, "platform_url")?;
    let state_dir = text(config.state_dir, "state_dir")?;
    if platform_url.is_empty() || state_dir.is_empty() {
        return Err(Failure::new(NumbindAgentStatus::InvalidArgument, "platform_url and state_dir are required"));
    }
    let mut keys = parse_keys(&text(config.platform_keys, "platform_keys")?, "platform_keys")?;
    let key_file = text(config.platform_key_file, "platform_key_file")?;
    if !key_file.is_empty() {
        let file_text = std::fs::read_to_string(&key_file)
            .map_err(|error| Failure::new(NumbindAgentStatus::Config, format!("cannot read {key_file}: {error}")))?;
        keys.extend(parse_keys(&file_text, &key_file)?);
    }
    let mut agent_config = AgentConfig::new(state_dir, platform_url, keys);
    let ca_file = text(config.ca_file, "ca_file")?;
    if !ca_file.is_empty() {
        let pem = std::fs::read(&ca_file)
            .map_err(|error| Failure::new(NumbindAgentStatus::Config, format!("cannot read {ca_file}: {error}")))?;
        agent_config.platform_authorities_pem = Some(pem);
    }
    let device_model = text(config.device_model, "device_model")?;
    if !device_model.is_empty() {
        agent_config.device_model = device_model;
    }
    let language = text(config.language, "language")?;
    if !language.is_empty() {
        agent_config.language = Language::parse(&language).ok_or_else(|| {
            Failure::new(NumbindAgentStatus::InvalidArgument, format!("language {language:?} is not zh or en"))
        })?;
    }
    if config.request_timeout_ms > 0 {
        agent_config.request_timeout = Duration::from_millis(u64::from(config.request_timeout_ms));
    }
    Ok(agent_config)
}

/// One `pk-...:<base64url>` per line; blank lines and `#` comments are skipped.
fn parse_keys(text: &str, origin: &str) -> Result<Vec<PlatformPublicKey>, Failure> {
    let mut keys = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = PlatformPublicKey::parse(line).map_err(|error| {
            let message = format!("{origin} line {}: not a platform public key: {error}", index + 1);
            Failure::new(NumbindAgentStatus::Config, message)
        })?;
        keys.push(key);
    }
    Ok(keys)
}
