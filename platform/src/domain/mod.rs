//! Pure types and rules of the platform: the activation state machine, identifiers, notification texts, time.

pub mod activation;
pub mod audit_chain;
pub mod audit_mac;
pub mod audit_verifier;
pub mod audit_witness;
pub mod ids;
pub mod manifest;
pub mod notification_text;
pub mod operator;
pub mod oss_revocation;
pub mod redemption_limits;
