//! Simulated set-top boxes for the HTTP scenarios: a key pair each, signed raw requests (fresh nonce, current
//! timestamp), session-tagged status checks once a session is open, and bulk registration, session opening and
//! activation over a few keep-alive connections.

use crate::http_load::{request_bytes, send_all, Target};
use anyhow::Context;
use numbind_process::clock::now_unix_seconds;
use numbind_wire::activation_offer::{ActivationOffer, OfferExpectation};
use numbind_wire::api::{ActivationResponse, BindingStatusResponse};
use numbind_wire::request_signing::{
    new_nonce, RequestToSign, TerminalKeyPair, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TERMINAL, HEADER_TIMESTAMP,
};
use numbind_wire::session_handshake::{OpenSessionResponse, SessionOffer};
use numbind_wire::statement::PinnedPlatformKeys;
use numbind_wire::statement::{BindingState, StatementExpectation};
use numbind_wire::terminal_session::{SessionKey, HEADER_SESSION_TAG, HEADER_SESSION_TICKET};
use numbind_wire::TerminalId;
use numbind_wire::{Amount, Currency, ItemDescription, ItemId, MerchantId, PurchaseIntent, SignedPurchaseIntent};
use ring::rand::SystemRandom;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

/// One box: its key and the ID derived from it, and its session once one is open.
pub struct SimulatedTerminal {
    pub terminal_id: TerminalId,
    key_pair: TerminalKeyPair,
    random: SystemRandom,
    session: OnceLock<(String, SessionKey)>,
}

impl SimulatedTerminal {
    pub fn generate() -> anyhow::Result<SimulatedTerminal> {
        let random = SystemRandom::new();
        let (key_pair, _) = TerminalKeyPair::generate(&random).map_err(|error| anyhow::anyhow!("{error}"))?;
        let terminal_id = TerminalId::from_public_key(key_pair.public_key().as_bytes());
        Ok(SimulatedTerminal { terminal_id, key_pair, random, session: OnceLock::new() })
    }

    /// A signed request as the box sends it; the signature is made here (client-side cost).
    pub fn signed_request(&self, method: &str, path: &str, body: &[u8]) -> Vec<u8> {
        self.signed_request_with_nonce(method, path, body).0
    }

    /// A signed request and its nonce (which the answer must name).
    fn signed_request_with_nonce(&self, method: &str, path: &str, body: &[u8]) -> (Vec<u8>, String) {
        let nonce = new_nonce(&self.random).unwrap_or_default();
        let timestamp = now_unix_seconds();
        let to_sign = RequestToSign {
            method,
            path_and_query: path,
            terminal_id: &self.terminal_id,
            timestamp_unix_seconds: timestamp,
            nonce: &nonce,
            body,
        };
        let signature = self.key_pair.sign(&to_sign);
        let headers = [
            (HEADER_TERMINAL, self.terminal_id.to_string()),
            (HEADER_TIMESTAMP, timestamp.to_string()),
            (HEADER_NONCE, nonce.clone()),
            (HEADER_SIGNATURE, signature),
        ];
        (request_bytes(method, path, &headers, body), nonce)
    }

    /// `POST .../sessions` with a fresh ephemeral key: the offer to complete and the request's nonce.
    fn open_session_request(&self) -> anyhow::Result<(SessionOffer, String, Vec<u8>)> {
        let offer = SessionOffer::generate(&self.random)?;
        let body = serde_json::to_vec(&offer.request())?;
        let path = format!("/v1/terminals/{}/sessions", self.terminal_id);
        let (request, nonce) = self.signed_request_with_nonce("POST", &path, &body);
        Ok((offer, nonce, request))
    }

    /// Verifies the platform's grant and keeps the session it opens.
    fn complete_session(
        &self,
        offer: SessionOffer,
        nonce: &str,
        body: &[u8],
        pinned: &PinnedPlatformKeys,
    ) -> anyhow::Result<()> {
        let response: OpenSessionResponse = serde_json::from_slice(body).context("session response")?;
        let grant = pinned.verify_session_grant(&response.grant, &self.terminal_id, nonce, now_unix_seconds())?;
        let session_key = offer.complete(&grant)?;
        let _ = self.session.set((grant.ticket, session_key));
        Ok(())
    }

    /// `GET .../binding-check` tagged with the session key (a box that holds a session sends this at boot);
    /// a box without a session sends the signed `GET .../binding` instead.
    pub fn session_check_request(&self) -> Vec<u8> {
        let path = format!("/v1/terminals/{}/binding-check", self.terminal_id);
        let Some((ticket, session_key)) = self.session.get() else {
            return self.binding_status_request();
        };
        let nonce = new_nonce(&self.random).unwrap_or_default();
        let timestamp = now_unix_seconds();
        let tag = session_key.tag_request(&RequestToSign {
            method: "GET",
            path_and_query: &path,
            terminal_id: &self.terminal_id,
            timestamp_unix_seconds: timestamp,
            nonce: &nonce,
            body: b"",
        });
        let headers = [
            (HEADER_TERMINAL, self.terminal_id.to_string()),
            (HEADER_TIMESTAMP, timestamp.to_string()),
            (HEADER_NONCE, nonce),
            (HEADER_SESSION_TICKET, ticket.clone()),
            (HEADER_SESSION_TAG, tag),
        ];
        request_bytes("GET", &path, &headers, b"")
    }

    pub fn registration_request(&self) -> Vec<u8> {
        let body = serde_json::json!({
            "terminal_id": self.terminal_id,
            "public_key": self.key_pair.public_key().to_string(),
            "device_model": "numbind bench STB",
        });
        self.signed_request("POST", "/v1/terminals", body.to_string().as_bytes())
    }

    pub fn binding_status_request(&self) -> Vec<u8> {
        self.signed_request("GET", &format!("/v1/terminals/{}/binding", self.terminal_id), b"")
    }

    /// `POST .../activations` and its nonce, which the signed offer must name.
    fn activation_request(&self) -> (Vec<u8>, String) {
        self.signed_request_with_nonce("POST", &format!("/v1/terminals/{}/activations", self.terminal_id), b"{}")
    }

    /// A purchase intent for `item` at `amount`, signed with the box's terminal key (the box's cost, made here).
    pub fn sign_purchase_intent(
        &self,
        merchant_id: &MerchantId,
        item: &(ItemId, ItemDescription),
        amount: Amount,
    ) -> anyhow::Result<SignedPurchaseIntent> {
        let intent = PurchaseIntent {
            terminal_id: self.terminal_id.clone(),
            merchant_id: merchant_id.clone(),
            item_id: item.0.clone(),
            item_description: item.1.clone(),
            amount,
            currency: Currency::Cny,
            nonce: new_nonce(&self.random)?,
            signed_at_unix_seconds: now_unix_seconds(),
        };
        Ok(self.key_pair.sign_purchase_intent(&intent))
    }

    pub fn long_poll_request(&self, activation_id: &str, wait_seconds: u64) -> Vec<u8> {
        let path =
            format!("/v1/terminals/{}/activations/{activation_id}?wait_seconds={wait_seconds}", self.terminal_id);
        self.signed_request("GET", &path, b"")
    }
}

/// Makes `count` boxes (key generation is cheap: about 20 µs each).
pub fn generate_terminals(count: usize) -> anyhow::Result<Vec<Arc<SimulatedTerminal>>> {
    (0..count).map(|_| SimulatedTerminal::generate().map(Arc::new)).collect()
}

pub async fn register_all(target: impl Into<Target>, terminals: &[Arc<SimulatedTerminal>]) -> anyhow::Result<()> {
    let requests = terminals.iter().map(|terminal| terminal.registration_request()).collect();
    send_all(target, requests, 32).await.context("registering")?;
    Ok(())
}

/// Opens a session for every terminal (signed handshakes), verifying each grant against `pinned`.
pub async fn open_sessions_all(
    target: impl Into<Target>,
    terminals: &[Arc<SimulatedTerminal>],
    pinned: &PinnedPlatformKeys,
) -> anyhow::Result<()> {
    let mut offers = Vec::with_capacity(terminals.len());
    let mut requests = Vec::with_capacity(terminals.len());
    for terminal in terminals {
        let (offer, nonce, request) = terminal.open_session_request()?;
        offers.push((offer, nonce));
        requests.push(request);
    }
    let bodies = send_all(target, requests, 32).await.context("opening sessions")?;
    for ((terminal, (offer, nonce)), body) in terminals.iter().zip(offers).zip(bodies) {
        terminal.complete_session(offer, &nonce, &body, pinned)?;
    }
    Ok(())
}

/// Asks one activation per terminal and verifies each signed offer as a box would; returns the activation IDs in
/// the terminals' order.
pub async fn activate_all(
    address: SocketAddr,
    terminals: &[Arc<SimulatedTerminal>],
    pinned: &PinnedPlatformKeys,
) -> anyhow::Result<Vec<String>> {
    let offers = activation_offers_all(address, terminals, pinned).await?;
    Ok(offers.into_iter().map(|offer| offer.activation_id.to_string()).collect())
}

/// Asks one activation per terminal; the verified offers (activation ID, the text to send) in the terminals' order.
pub async fn activation_offers_all(
    address: SocketAddr,
    terminals: &[Arc<SimulatedTerminal>],
    pinned: &PinnedPlatformKeys,
) -> anyhow::Result<Vec<ActivationOffer>> {
    let (requests, nonces): (Vec<_>, Vec<_>) = terminals.iter().map(|terminal| terminal.activation_request()).unzip();
    let bodies = send_all(address, requests, 32).await.context("activating")?;
    let now = now_unix_seconds();
    terminals
        .iter()
        .zip(nonces)
        .zip(bodies)
        .map(|((terminal, nonce), body)| {
            let activation: ActivationResponse = serde_json::from_slice(&body).context("activation response")?;
            let expectation =
                OfferExpectation { terminal_id: &terminal.terminal_id, in_reply_to: &nonce, now_unix_seconds: now };
            Ok(pinned.verify_offer(&activation.offer, expectation)?)
        })
        .collect()
}

/// Asks every terminal's binding status (signed, verified as a box verifies it) until each is `bound`; fails
/// after `timeout`.
pub async fn wait_until_bound_all(
    address: SocketAddr,
    terminals: &[Arc<SimulatedTerminal>],
    pinned: &PinnedPlatformKeys,
    timeout: std::time::Duration,
) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + timeout;
    let mut waiting: Vec<Arc<SimulatedTerminal>> = terminals.to_vec();
    while !waiting.is_empty() {
        let (requests, nonces): (Vec<_>, Vec<_>) = waiting
            .iter()
            .map(|terminal| {
                terminal.signed_request_with_nonce(
                    "GET",
                    &format!("/v1/terminals/{}/binding", terminal.terminal_id),
                    b"",
                )
            })
            .unzip();
        let bodies = send_all(address, requests, 32).await.context("binding status")?;
        let now = now_unix_seconds();
        let mut still = Vec::new();
        for ((terminal, nonce), body) in waiting.into_iter().zip(nonces).zip(bodies) {
            let response: BindingStatusResponse = serde_json::from_slice(&body).context("binding status response")?;
            let expectation = StatementExpectation {
                terminal_id: &terminal.terminal_id,
                activation_id: None,
                in_reply_to: Some(&nonce),
                now_unix_seconds: now,
            };
            if pinned.verify_for(&response.statement, expectation)?.state != BindingState::Bound {
                still.push(terminal);
            }
        }
        waiting = still;
        if waiting.is_empty() {
            break;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "{} terminal(s) not bound within {timeout:?}",
            waiting.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    Ok(())
}
