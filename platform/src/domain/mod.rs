//! Pure types and rules of the platform: the activation state machine, identifiers, notification texts, time.

pub(crate) mod activation;
pub mod audit_chain;
pub mod audit_mac;
pub(crate) mod audit_verifier;
pub(crate) mod audit_witness;
pub(crate) mod dispute_text;
pub mod hub_checks;
pub(crate) mod ids;
pub(crate) mod manifest;
pub mod merchant;
pub(crate) mod notification_text;
pub(crate) mod operator;
pub(crate) mod oss_revocation;
pub(crate) mod payment;
pub mod payment_reconciliation;
pub(crate) mod payment_text;
pub(crate) mod redemption_limits;
pub mod statement_schedule;
pub(crate) mod statement_text;
