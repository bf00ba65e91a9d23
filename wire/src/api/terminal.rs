//! Bodies exchanged between the device agent and the platform. Every request is signed (`request_signing`),
//! except the session status check, which carries a session tag (`terminal_session`).

use crate::activation_offer::SignedActivationOffer;
use crate::record_ids::BindingId;
use crate::statement::SignedStatement;
use crate::terminal_id::TerminalId;
use crate::terminal_session::SessionStatement;
use serde::{Deserialize, Serialize};

/// First contact: the terminal presents its public key, signed with the matching private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterTerminalRequest {
    pub terminal_id: TerminalId,
    /// base64url of the 32-byte Ed25519 public key.
    pub public_key: String,
    /// The device model, named in the confirmation SMS ("Skyworth E900").
    pub device_model: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterTerminalResponse {
    pub terminal_id: TerminalId,
    /// False when the terminal was already registered with this key.
    pub newly_registered: bool,
}

/// The signed answer to a binding-status check or a reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingStatusResponse {
    pub statement: SignedStatement,
}

/// The answer to a session status check (`GET /v1/terminals/{id}/binding-check`): tagged with the session key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingCheckResponse {
    pub statement: SessionStatement,
}

/// A fresh activation: what the box shows, signed by the platform for this terminal and this request. The box
/// shows nothing of it before `PinnedPlatformKeys::verify_offer` succeeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationResponse {
    pub offer: SignedActivationOffer,
}

/// The answer to a long-poll on an activation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationOutcomeResponse {
    /// Signed; its state is `pending`, `bound`, `expired` or `denied`.
    pub statement: SignedStatement,
    /// When pending: wait at least this long before polling again.
    pub poll_interval_seconds: u32,
}

/// The terminal reports that it verified the statement and wrote its flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgementRequest {
    pub binding_id: BindingId,
}

/// The body of `POST /v1/terminals/{id}/activations`; `{}` (or an empty body) asks for an ordinary activation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateActivationRequest {
    /// The user chose "change number": a bound terminal gets an activation too, and the binding it makes
    /// replaces the current one (the old number is told by SMS).
    #[serde(default)]
    pub replace_binding: bool,
}
