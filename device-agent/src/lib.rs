//! numbind device agent: the set-top box's side of binding a phone number to the box.
//!
//! A library first, for device makers to embed: [`Agent`] (async) or [`blocking::BlockingAgent`], configured
//! with an [`AgentConfig`]. The CLI/daemon (`numbind-agent`, or `numbind agent`) sits behind the `cli` feature.
//! The library emits `tracing` events (IDs and masked numbers only) and never installs a subscriber.
//!
//! ## State directory
//! - `terminal.key`: the terminal's Ed25519 key (PKCS#8, mode 0600; the directory is 0700), made on first
//!   boot or imported from [`AgentConfig::factory_key_path`].
//! - `terminal-id` (optional): the ID a factory assigned; otherwise the ID derives from the public key.
//! - `binding.json`: the bound flag, replaced atomically (temp file, fsync, rename, fsync directory), holding
//!   the platform's signed statement; a corrupt or unverifiable flag reads as unbound.
//!
//! ## Buying ([`Agent::purchase`])
//! A billed service asks to buy ([`PurchaseRequest`]); the agent signs the intent with the terminal key
//! ([`Agent::sign_purchase`]), hands it to the service's [`MerchantChannel`], and long-polls the platform
//! ([`Agent::await_purchase`]) reporting [`PurchaseProgress`] until the [`PurchaseOutcome`] is final.
//!
//! ## Boot flow ([`Agent::run_until_bound`])
//! 1. Register (`POST /v1/terminals`, idempotent).
//! 2. Signed status check; if bound, write the flag, report [`AgentEvent::AlreadyBound`] and return.
//! 3. Get an activation, report [`AgentEvent::ActivationShown`], long-poll its outcome (never closer than the
//!    platform's interval). Each statement must verify with a pinned key and name this terminal, this
//!    activation and this request's nonce; one that does not is reported as [`AgentEvent::Retrying`] and
//!    ignored. `bound`: write the flag, acknowledge, return. `expired`: a new code. `denied`: a pause, then
//!    a new code. `409 terminal_already_bound`: back to 2.
//! 4. Network errors, 5xx, `overloaded`, `rate_limited`, `slow_down`: full-jitter exponential backoff (base
//!    500 ms, cap 30 s), never shorter than `Retry-After`. A request that got no answer is reported first as
//!    [`AgentEvent::PlatformUnreachable`] (what failed, the URL, failures in a row). A long-poll cut after it
//!    connected resets the backoff and polls again at once. A statement that does not verify at the status
//!    check of step 2 is an error (a wrong pinned key would never verify anything).
//!
//! ## Watching ([`Agent::watch`])
//! Reports [`AgentEvent::Watching`], then long-polls the signed status with the binding its flag holds; the
//! platform answers as soon as that binding is revoked or replaced, and the agent reports
//! [`AgentEvent::Unbound`] or [`AgentEvent::BindingChanged`] after making the flag match.

mod agent;
pub mod blocking;
pub mod clients;
pub mod config;
pub mod display;
pub mod domain;
pub mod error;
pub mod store;

#[cfg(feature = "cli")]
pub mod cli;

pub use agent::{Agent, MerchantChannel, MerchantChannelError};
pub use config::{AgentConfig, Language};
pub use domain::events::{ActivationDisplay, AgentEvent, BindingStatus, BoundBinding, LocalBindingState};
pub use domain::purchase::{PurchaseOutcome, PurchaseProgress, PurchaseRequest, SignedPurchase};
pub use error::AgentError;
pub use numbind_wire::statement::{DenialReason, PlatformPublicKey};
pub use store::identity::TerminalIdentity;
