//! A hand-made terminal for attack tests: signs requests with `numbind_wire::request_signing`, or deliberately
//! mis-signs them, and sends them to the real platform.

use numbind_wire::request_signing::{
    new_nonce, RequestToSign, TerminalKeyPair, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TERMINAL, HEADER_TIMESTAMP,
};
use numbind_wire::TerminalId;
use ring::rand::SystemRandom;

pub(crate) struct HandMadeTerminal {
    pub(crate) terminal_id: TerminalId,
    pub(crate) key_pair: TerminalKeyPair,
    pub(crate) platform_url: String,
    pub(crate) http: reqwest::Client,
}

/// One signed request, kept so that a test can send it again unchanged.
#[derive(Clone)]
pub(crate) struct SignedRequest {
    pub(crate) method: reqwest::Method,
    pub(crate) path: String,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
}

pub(crate) use numbind_process::clock::now_unix_seconds;

impl HandMadeTerminal {
    /// A new terminal talking to `system`'s platform (over https, trusting the system's authority).
    pub(crate) fn new(system: &crate::helpers::System) -> HandMadeTerminal {
        let (key_pair, _) = TerminalKeyPair::generate(&SystemRandom::new()).expect("key");
        let terminal_id = TerminalId::from_public_key(key_pair.public_key().as_bytes());
        let (platform_url, http) = (system.platform_url.clone(), system.http.clone());
        HandMadeTerminal { terminal_id, key_pair, platform_url, http }
    }

    /// Signs as `signer` claims to be `self.terminal_id`, at `timestamp`.
    pub(crate) fn sign_with(
        &self,
        signer: &TerminalKeyPair,
        method: reqwest::Method,
        path: &str,
        body: &[u8],
        timestamp: i64,
    ) -> SignedRequest {
        let nonce = new_nonce(&SystemRandom::new()).expect("nonce");
        let to_sign = RequestToSign {
            method: method.as_str(),
            path_and_query: path,
            terminal_id: &self.terminal_id,
            timestamp_unix_seconds: timestamp,
            nonce: &nonce,
            body,
        };
        let signature = signer.sign(&to_sign);
        SignedRequest {
            method,
            path: path.to_owned(),
            headers: vec![
                (HEADER_TERMINAL, self.terminal_id.to_string()),
                (HEADER_TIMESTAMP, timestamp.to_string()),
                (HEADER_NONCE, nonce),
                (HEADER_SIGNATURE, signature),
            ],
            body: body.to_vec(),
        }
    }

    pub(crate) fn sign(&self, method: reqwest::Method, path: &str, body: &[u8]) -> SignedRequest {
        self.sign_with(&self.key_pair, method, path, body, now_unix_seconds())
    }

    /// Sends; returns the status and the JSON body (or `null`).
    pub(crate) async fn send(&self, request: &SignedRequest) -> (u16, serde_json::Value) {
        let mut builder = self
            .http
            .request(request.method.clone(), format!("{}{}", self.platform_url, request.path))
            .header("content-type", "application/json")
            .body(request.body.clone());
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        let response = builder.send().await.expect("send");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub(crate) async fn register(&self) -> (u16, serde_json::Value) {
        let body = serde_json::json!({
            "terminal_id": self.terminal_id,
            "public_key": self.key_pair.public_key().to_string(),
            "device_model": "attack test box",
        });
        let request = self.sign(reqwest::Method::POST, "/v1/terminals", &serde_json::to_vec(&body).unwrap());
        self.send(&request).await
    }
}
