//! `BlockingAgent`: the agent for embedders without an async runtime; it owns a current-thread runtime.

use crate::config::AgentConfig;
use crate::domain::events::{AgentEvent, BindingStatus, BoundBinding, LocalBindingState};
use crate::domain::purchase::{PurchaseOutcome, PurchaseProgress, PurchaseRequest, SignedPurchase};
use crate::error::AgentError;
use crate::{Agent, MerchantChannel};
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

    /// See [`Agent::sign_purchase`] (no network, no runtime needed).
    pub fn sign_purchase(&self, request: PurchaseRequest) -> Result<SignedPurchase, AgentError> {
        self.agent.sign_purchase(request)
    }

    /// See [`Agent::await_purchase`]; `progress` is called on this thread.
    pub fn await_purchase(
        &self,
        intent_nonce: &str,
        progress: impl FnMut(PurchaseProgress) + Send,
    ) -> Result<PurchaseOutcome, AgentError> {
        self.runtime.block_on(self.agent.await_purchase(intent_nonce, progress))
    }

    /// See [`Agent::purchase`]; the channel's future and `progress` run on this thread.
    pub fn purchase(
        &self,
        request: PurchaseRequest,
        channel: &impl MerchantChannel,
        progress: impl FnMut(PurchaseProgress) + Send,
    ) -> Result<PurchaseOutcome, AgentError> {
        self.runtime.block_on(self.agent.purchase(request, channel, progress))
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

    struct TakingChannel(std::sync::Mutex<Vec<String>>);

    impl MerchantChannel for TakingChannel {
        async fn submit(&self, purchase: &SignedPurchase) -> Result<(), crate::MerchantChannelError> {
            self.0.lock().map_err(|_| "poisoned")?.push(purchase.intent_nonce.clone());
            Ok(())
        }
    }

    /// A platform on a loopback port that answers every purchase long-poll with `status`, signed by `key` for the
    /// terminal, intent and request nonce it reads from the request (one HTTP/1.1 answer per connection).
    fn platform_answering(key: PlatformSigningKey, status: numbind_wire::api::PurchaseStatus) -> String {
        use numbind_wire::purchase_status::{PurchaseStatusResponse, PurchaseStatusStatement};
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let (mut line, mut lines) = (String::new(), Vec::new());
                while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                    lines.push(std::mem::take(&mut line));
                }
                let path = lines.first().and_then(|first| first.split(' ').nth(1)).unwrap_or_default().to_owned();
                let segments: Vec<&str> = path.split(['/', '?']).collect();
                let header = |name: &str| {
                    lines.iter().find_map(|line| {
                        let (key, value) = line.split_once(':')?;
                        key.eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
                    })
                };
                let statement = PurchaseStatusStatement {
                    terminal_id: numbind_wire::TerminalId::parse(segments.get(3).copied().unwrap_or_default()).unwrap(),
                    intent_nonce: segments.get(5).copied().unwrap_or_default().to_owned(),
                    in_reply_to: header("x-numbind-nonce").unwrap_or_default(),
                    issued_at_unix_seconds: 0,
                    status: status.clone(),
                };
                let body =
                    serde_json::to_string(&PurchaseStatusResponse { statement: key.sign_purchase_status(&statement) })
                        .unwrap();
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        url
    }

    #[test]
    fn a_blocking_purchase_signs_submits_and_follows_the_payment_on_its_current_thread_runtime() {
        let directory = tempfile::tempdir().unwrap();
        let (key, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
        let public_key = key.public_key();
        let succeeded = serde_json::from_str(
            r#"{"payment_id":"pay-1","state":"succeeded","denial_reason":null,"cancellation_reason":null,"confirmation_expires_at_unix_seconds":null,"poll_interval_seconds":1}"#,
        )
        .unwrap();
        let url = platform_answering(key, succeeded);
        let mut config = AgentConfig::new(directory.path(), url, vec![public_key]);
        config.request_timeout = std::time::Duration::from_secs(5);
        let agent = BlockingAgent::new(config).unwrap();
        let request = crate::PurchaseRequest {
            merchant_id: numbind_wire::MerchantId::parse("demo-films").unwrap(),
            item_id: numbind_wire::ItemId::parse("film-4412").unwrap(),
            item_description: numbind_wire::ItemDescription::parse("《流浪地球》高清").unwrap(),
            amount: numbind_wire::Amount::from_minor_units(500).unwrap(),
            currency: numbind_wire::Currency::Cny,
        };
        let signed = agent.sign_purchase(request.clone()).unwrap();
        assert!(signed.signed_intent.verify(&agent.agent().public_key()).is_ok());
        let channel = TakingChannel(std::sync::Mutex::new(Vec::new()));
        let mut stages = Vec::new();
        let outcome = agent.purchase(request, &channel, |progress| stages.push(progress)).unwrap();
        assert_eq!(
            outcome,
            PurchaseOutcome::Succeeded { payment_id: numbind_wire::PaymentId::parse("pay-1").unwrap() }
        );
        assert_eq!(channel.0.lock().unwrap().len(), 1, "the merchant got the signed intent once");
        assert!(stages.is_empty(), "a payment final at the first answer shows no stage: {stages:?}");
    }
}
