//! Background loops: the SMS notification outbox, the OSS revocation outbox and the audit checkpoint sender.

pub(crate) mod audit_checkpoints;
pub(crate) mod billing;
pub(crate) mod merchant_events;
pub(crate) mod notifications;
pub(crate) mod oss_revocations;
mod retry;
