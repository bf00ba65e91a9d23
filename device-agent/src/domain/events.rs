//! What the agent reports while it works (`AgentEvent`) and the binding states it returns.

use crate::domain::connection::ConnectionFailure;
use numbind_wire::statement::DenialReason;
use numbind_wire::{ShortCode, TerminalId};
use std::time::Duration;

/// A binding that is on, as the platform stated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundBinding {
    /// The platform's (and the OSS's) ID of the binding.
    pub binding_id: String,
    /// The paying number, masked (`138****8000`).
    pub msisdn_masked: String,
    /// The activation that made the binding, when known.
    pub activation_id: Option<String>,
    /// When the platform issued the statement that the binding is on.
    pub bound_at_unix_seconds: i64,
}

/// The platform's answer to a status check, verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindingStatus {
    /// The terminal is bound; its flag is on.
    Bound(BoundBinding),
    /// The terminal is not bound; its flag is off.
    Unbound,
}

/// What the flag file in the state directory says (no network involved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalBindingState {
    /// The flag is on, with the binding it names.
    Bound(BoundBinding),
    /// The flag is off, missing, or unreadable (a corrupt flag reads as off and is fixed at the next check).
    Unbound,
}

/// What the box shows while it waits for the user's SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationDisplay {
    pub terminal_id: TerminalId,
    pub activation_id: String,
    /// The code grouped for reading (`WDJB-MJHT`).
    pub code: String,
    /// Where to send the SMS (`10658000`).
    pub short_code: ShortCode,
    /// The exact SMS to send (`BIND WDJBMJHT`).
    pub sms_text: String,
    /// What the QR code encodes (`SMSTO:10658000:BIND WDJBMJHT`).
    pub qr_payload: String,
    pub expires_at_unix_seconds: i64,
}

/// Progress of [`crate::Agent::run_until_bound`], in the order things happen.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AgentEvent {
    /// The platform knows the terminal (`newly_registered` on first contact).
    Registered { terminal_id: TerminalId, newly_registered: bool },
    /// The terminal was bound already; nothing to show.
    AlreadyBound(BoundBinding),
    /// A fresh code to show.
    ActivationShown(ActivationDisplay),
    /// The code is still pending; it lives this much longer.
    StillWaiting { seconds_left: i64 },
    /// The code expired unused; a new one follows.
    Expired,
    /// The OSS refused the number that texted the code; a new code follows after a pause.
    Denied { reason: DenialReason },
    /// The binding is on and the flag is written.
    Bound(BoundBinding),
    /// A watch found the platform says unbound where the flag said bound (operator, SMS or another number's
    /// binding being revoked); the flag is cleared.
    Unbound,
    /// Something failed (network, load shedding, a statement that did not verify); retrying after a wait.
    Retrying { after: Duration, cause: String },
    /// The platform gave no answer at all; reported just before the `Retrying` of the same failure, so that the
    /// screen can say what failed, where, and what to check. `failed_attempts` counts the failures in a row.
    PlatformUnreachable { url: String, failure: ConnectionFailure, failed_attempts: u32 },
    /// A watch started: it learns of every change to this box's binding as the platform makes it.
    Watching { bound: Option<BoundBinding> },
    /// A watch saw the box bound to another binding than its flag held (a change of the paying number).
    BindingChanged(BoundBinding),
}
