//! A set-top box talking to the real platform with signed requests: register, ask for an activation.

use numbind_wire::activation_offer::{ActivationOffer, OfferExpectation};
use numbind_wire::api::{ActivationResponse, RegisterTerminalRequest};
use numbind_wire::request_signing::{
    new_nonce, RequestToSign, TerminalKeyPair, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TERMINAL, HEADER_TIMESTAMP,
};
use numbind_wire::statement::PinnedPlatformKeys;
use numbind_wire::TerminalId;
use ring::rand::SystemRandom;

pub(crate) struct TestTerminal {
    pub(crate) terminal_id: TerminalId,
    key_pair: TerminalKeyPair,
    platform_url: String,
    http: reqwest::Client,
}

impl TestTerminal {
    /// A new box with a fresh key, registered with the platform.
    pub(crate) async fn register(platform_url: &str, device_model: &str) -> TestTerminal {
        let (key_pair, _) = TerminalKeyPair::generate(&SystemRandom::new()).expect("key");
        let public_key = key_pair.public_key();
        let terminal = TestTerminal {
            terminal_id: TerminalId::from_public_key(public_key.as_bytes()),
            key_pair,
            platform_url: platform_url.to_owned(),
            http: reqwest::Client::new(),
        };
        let body = RegisterTerminalRequest {
            terminal_id: terminal.terminal_id.clone(),
            public_key: public_key.to_string(),
            device_model: device_model.to_owned(),
        };
        let nonce = new_nonce(&SystemRandom::new()).expect("nonce");
        let response = terminal.signed_post("/v1/terminals", &serde_json::to_vec(&body).expect("json"), &nonce).await;
        assert_eq!(response.status(), 200, "registration: {:?}", response.text().await);
        terminal
    }

    /// Asks for a code to show; returns the platform's offer, verified with `pinned` as a box would.
    pub(crate) async fn activation(&self, pinned: &PinnedPlatformKeys) -> ActivationOffer {
        let path = format!("/v1/terminals/{}/activations", self.terminal_id);
        let nonce = new_nonce(&SystemRandom::new()).expect("nonce");
        let response = self.signed_post(&path, b"{}", &nonce).await;
        assert!(response.status().is_success(), "activation: {}", response.status());
        let answer: ActivationResponse = response.json().await.expect("activation json");
        let now = numbind_process::clock::now_unix_seconds();
        let expectation =
            OfferExpectation { terminal_id: &self.terminal_id, in_reply_to: &nonce, now_unix_seconds: now };
        pinned.verify_offer(&answer.offer, expectation).expect("a genuine offer")
    }

    async fn signed_post(&self, path: &str, body: &[u8], nonce: &str) -> reqwest::Response {
        let timestamp = numbind_process::clock::now_unix_seconds();
        let signature = self.key_pair.sign(&RequestToSign {
            method: "POST",
            path_and_query: path,
            terminal_id: &self.terminal_id,
            timestamp_unix_seconds: timestamp,
            nonce,
            body,
        });
        self.http
            .post(format!("{}{path}", self.platform_url))
            .header(HEADER_TERMINAL, self.terminal_id.as_str())
            .header(HEADER_TIMESTAMP, timestamp.to_string())
            .header(HEADER_NONCE, nonce)
            .header(HEADER_SIGNATURE, signature)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .expect("platform request")
    }
}
